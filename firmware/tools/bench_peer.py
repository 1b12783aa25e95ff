"""spandsp's DTMF and MFC-R2 receivers (libspandsp through ctypes) on the DSP benchmark's streams, for
a side-by-side ratio; absent when the library is not installed (Debian: libspandsp2)."""

import ctypes
import ctypes.util

import numpy as np
import numpy.typing as npt

TICK = 160


def load() -> ctypes.CDLL | None:
    """libspandsp with the receivers' prototypes, or None where it is not installed."""
    name = ctypes.util.find_library("spandsp")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    p, i = ctypes.c_void_p, ctypes.c_int
    lib.dtmf_rx_init.restype = p
    lib.dtmf_rx_init.argtypes = [p, p, p]
    lib.dtmf_rx.argtypes = [p, p, i]
    lib.dtmf_rx_free.argtypes = [p]
    lib.dtmf_rx_get.restype = ctypes.c_size_t
    lib.dtmf_rx_get.argtypes = [p, ctypes.c_char_p, i]
    lib.r2_mf_rx_init.restype = p
    lib.r2_mf_rx_init.argtypes = [p, i, p, p]
    lib.r2_mf_rx.argtypes = [p, p, i]
    lib.r2_mf_rx_free.argtypes = [p]
    return lib


class Receivers:
    """`channels` spandsp receivers of one kind ('dtmf', 'r2-forward') fed as the box feeds its own: one
    tick of every channel per process() call, one library call per channel (the calls through ctypes
    are part of what the box would pay)."""

    def __init__(self, lib: ctypes.CDLL, kind: str, channels: int):
        self._lib = lib
        self.kind = kind
        if kind == "dtmf":
            self._states = [lib.dtmf_rx_init(None, None, None) for _ in range(channels)]
            self._rx, self._free = lib.dtmf_rx, lib.dtmf_rx_free
        elif kind == "r2-forward":
            self._states = [lib.r2_mf_rx_init(None, 1, None, None) for _ in range(channels)]
            self._rx, self._free = lib.r2_mf_rx, lib.r2_mf_rx_free
        else:
            raise ValueError(f"bench_peer: expected kind 'dtmf' or 'r2-forward', got {kind!r}")

    def process(self, block: npt.NDArray[np.int16]) -> list[None]:
        if block.dtype != np.int16 or block.strides[1] != 2:
            raise ValueError("bench_peer: expected int16 rows of contiguous samples")
        base, stride, n, rx = block.ctypes.data, block.strides[0], block.shape[1], self._rx
        for c, state in enumerate(self._states):
            rx(state, base + c * stride, n)
        return []

    def digits(self, channel: int) -> str:
        """The DTMF digits channel `channel`'s receiver holds, taken out of it."""
        buf = ctypes.create_string_buffer(128)
        n = self._lib.dtmf_rx_get(self._states[channel], buf, 128)
        return buf.raw[:n].decode()

    def __del__(self) -> None:
        for state in getattr(self, "_states", []):
            self._free(state)
