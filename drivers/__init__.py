"""Hardware drivers and their simulators, all behind one channel interface."""
