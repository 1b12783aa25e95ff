"""The appliance daemon: tick loop, call engine, IVR, ACD, recording, store, control socket, CLI."""
