"""Pure numpy/scipy telephony signal processing: no I/O, no clocks, no threads."""
