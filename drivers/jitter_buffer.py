"""The jitter buffer: audio received in bursts played out one tick at a time, over- and underruns counted."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .channel import TICK_SAMPLES

# Playout starts once 3 ticks are buffered (USB CDC delivers in bursts of a few ms to tens of ms);
# above 12 ticks the oldest audio is dropped down to the start level.
JITTER_START = 3 * TICK_SAMPLES
JITTER_LIMIT = 12 * TICK_SAMPLES


class JitterBuffer:
    """Received audio held back a few ticks so bursty delivery plays out evenly; xruns counted."""

    def __init__(self, start: int = JITTER_START, limit: int = JITTER_LIMIT):
        self.start, self.limit = start, limit
        self._data = np.zeros(0, np.int16)
        self._playing = False
        self.overruns = self.underruns = 0

    @property
    def level(self) -> int:
        return self._data.size

    def reset(self) -> None:
        self._data = np.zeros(0, np.int16)
        self._playing = False

    def push(self, samples: npt.NDArray[np.int16]) -> None:
        self._data = np.concatenate([self._data, samples])
        if self._data.size > self.limit:
            self.overruns += 1
            self._data = self._data[-self.start:]

    def pop(self, out: npt.NDArray[np.int16]) -> None:
        """Fill `out` (one tick) from the buffer, or with silence while it refills."""
        n = out.size
        if not self._playing:
            if self._data.size < self.start:
                out[:] = 0
                return
            self._playing = True
        if self._data.size < n:
            self.underruns += 1
            k = self._data.size
            out[:k] = self._data
            out[k:] = 0
            self._data = self._data[:0]
            self._playing = False
            return
        out[:] = self._data[:n]
        self._data = self._data[n:]
