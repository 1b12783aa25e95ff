"""The appliance daemon: tick loop, call engine, IVR, ACD, recording, store, control socket, CLI."""
import os

# One thread per numpy matrix product, set before numpy loads: the tick loop owns a core, and
# OpenBLAS's thread pool only contends with it on a 2-4 core board (measured: DTMF at 1,000
# channels ran 4-5x slower with the pool).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
