"""Input checks, fixed-length framing and the shared sub-block analysis of the streaming detectors."""

import abc
import functools
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

# The analysis grid every detector shares: 5 ms sub-blocks (the DTMF receiver's step), four to the
# 20 ms frame that is one engine tick (the call-progress, fax, caller ID and VAD decision period).
SUB = 40
FRAME = 160
SUBS = FRAME // SUB
HALF = FRAME // 2
# OpenBLAS hands a large GEMM to its thread pool; on a shared 2-core box the hand-off costs more than
# it saves (measured without OPENBLAS_NUM_THREADS: 4000x40 @ 40x16 took 111 us of CPU whole, 56 us in
# 512-row blocks), so a product is taken in row blocks small enough to stay on the calling thread.
GEMM_ROWS = 512

_SUB_ONES = np.ones(SUB, np.float32)
# Sums four sub-blocks' values into their frame's (column 0) and its first half's (column 1).
_SPANS = np.array([[1, 1], [1, 1], [1, 0], [1, 0]], np.float32)
# The same from a frame's samples.
_SAMPLE_SPANS = np.repeat(_SPANS, SUB, axis=0)
_SPAN_SAMPLES = np.array([FRAME, HALF], np.float32)


def check_channels(channels: int, owner: str) -> int:
    """Return `channels` as an int >= 1 or raise ValueError naming `owner`."""
    if isinstance(channels, (bool, np.bool_)) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ValueError(f"{owner}: expected a channel count (int >= 1), got {channels!r}")
    return int(channels)


def check_block(block: object, channels: int, owner: str) -> None:
    """Raise ValueError unless `block` is an int16 array shaped (channels, n)."""
    if not isinstance(block, np.ndarray):
        raise ValueError(
            f"{owner}: expected a numpy int16 array (channels, samples), got {type(block).__name__}")
    if block.dtype != np.int16:
        raise ValueError(f"{owner}: expected dtype int16, got {block.dtype}")
    if block.ndim != 2:
        raise ValueError(f"{owner}: expected ndim 2 (channels, samples), got ndim {block.ndim}")
    if block.shape[0] != channels:
        raise ValueError(f"{owner}: expected {channels} channels (rows), got {block.shape[0]}")


def check_channel(channel: int, channels: int, owner: str) -> int:
    """Return `channel` as an int index in [0, channels) or raise ValueError."""
    if isinstance(channel, (bool, np.bool_)) or not isinstance(channel, (int, np.integer)):
        raise ValueError(f"{owner}: expected a channel index (int), got {channel!r}")
    if not 0 <= channel < channels:
        raise ValueError(f"{owner}: expected a channel in 0..{channels - 1}, got {channel}")
    return int(channel)


def check_analysis(analysis: object, channels: int, owner: str) -> None:
    """Raise ValueError unless `analysis` is an Analysis of `channels` channels."""
    if not isinstance(analysis, Analysis):
        raise ValueError(f"{owner}: expected a blocks.Analysis (dsp.frontend.TickAnalyser), "
                         f"got {type(analysis).__name__}")
    if analysis.channels != channels:
        raise ValueError(f"{owner}: expected an analysis of {channels} channels, got {analysis.channels}")


class Framer:
    """Cuts a stream of (channels, n) int16 blocks into (channels, frames, length) int16 frames.

    Frame boundaries are fixed on the stream (every `length` samples from the first), so a detector
    that decides per frame gives the same answers whatever block sizes the caller uses.
    """

    def __init__(self, channels: int, length: int, owner: str):
        self.channels = check_channels(channels, owner)
        self.length = int(length)
        self.owner = owner
        self.position = 0  # stream index of the first sample of the next frame
        self._pending = np.zeros((self.channels, 0), dtype=np.int16)

    def frames(self, block: npt.NDArray[np.int16]) -> tuple[npt.NDArray[np.int16], int]:
        """Return (frames, first) for the complete frames now available and the stream index of the first."""
        check_block(block, self.channels, self.owner)
        first = self.position
        if not self._pending.shape[1] and block.shape[1] == self.length:
            # The engine's tick is one frame: no copy.
            self.position += self.length
            return block.reshape(self.channels, 1, self.length), first
        if self._pending.shape[1]:
            block = np.concatenate((self._pending, block), axis=1)
        count = block.shape[1] // self.length
        used = count * self.length
        self._pending = block[:, used:].copy()
        self.position += used
        return block[:, :used].reshape(self.channels, count, self.length), first

    def tick(self) -> int:
        """Account for one frame analysed elsewhere (the shared front end); return its stream index."""
        if self._pending.shape[1]:
            raise ValueError(f"{self.owner}: a tick must start on the frame grid, but "
                             f"{self._pending.shape[1]} samples of an earlier block are pending")
        self.position += self.length
        return self.position - self.length


def sub_energy(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """float32 (channels, sub-blocks): sum of squares of each sub-block of `x` (channels, n)."""
    return (np.square(x).reshape(-1, SUB) @ _SUB_ONES).reshape(x.shape[0], -1)


def _product(rows: npt.NDArray[np.float32], basis: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    if rows.shape[0] <= GEMM_ROWS:
        return rows @ basis
    out = np.empty((rows.shape[0], basis.shape[1]), np.float32)
    for row in range(0, rows.shape[0], GEMM_ROWS):
        np.matmul(rows[row:row + GEMM_ROWS], basis, out=out[row:row + GEMM_ROWS])
    return out


class Analysis:
    """What the detectors read from whole 5 ms sub-blocks of every channel, computed once and shared.

    `product(basis)` is the correlation of each sub-block, frame or frame first half (by the basis's
    length) with the columns of `basis`, a detector's own array; energies are taken on first use.
    Frame-level values need a whole number of frames.
    """

    def __init__(self, samples: npt.NDArray[np.number], x: npt.NDArray[np.float32],
                 products: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]):
        self.samples = samples  # int16 (channels, n)
        self.x = x  # the same as float32
        self.channels = x.shape[0]
        self._products = products  # ((basis, product), ...)
        self._sub_energy: npt.NDArray[np.float32] | None = None

    def product(self, basis: npt.NDArray[np.float32], owner: str) -> npt.NDArray[np.float32]:
        """float32 (channels, sub-blocks or frames, columns): the correlation with `basis`."""
        for b, p in self._products:
            if b is basis:
                return p
        raise ValueError(f"{owner}: this analysis was not made with the detector's columns")

    @property
    def sub_energy(self) -> npt.NDArray[np.float32]:
        """float32 (channels, sub-blocks): sum of squares of each sub-block."""
        # Taken on first use by hand: functools.cached_property takes a lock on every first use
        # (Python 3.11), a microsecond of a 30-channel tick.
        if self._sub_energy is None:
            self._sub_energy = sub_energy(self.x)
        return self._sub_energy

    @functools.cached_property
    def _spans(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        # (frames, 2) energies of each frame and of its first half: with the DC, and without it
        # (a DC offset carries no signal).
        energy = self.sub_energy.reshape(-1, SUBS) @ _SPANS
        total = self.x.reshape(-1, FRAME) @ _SAMPLE_SPANS
        return energy, energy - np.square(total) / _SPAN_SAMPLES

    @property
    def frame_energy(self) -> npt.NDArray[np.float32]:
        """float32 (channels, frames): sum of squares of each frame."""
        return self._spans[0][:, 0].reshape(self.channels, -1)

    @property
    def ac_energy(self) -> npt.NDArray[np.float32]:
        """float32 (channels, frames): each frame's energy without its DC part."""
        return self._spans[1][:, 0].reshape(self.channels, -1)

    @property
    def half_ac_energy(self) -> npt.NDArray[np.float32]:
        """float32 (channels, frames): the energy of each frame's first half without its DC part."""
        return self._spans[1][:, 1].reshape(self.channels, -1)


class Analyser:
    """Correlates every channel's sub-blocks, frames or frame first halves (by the basis's length)
    with the columns of the detectors it serves, one product per detector's basis."""

    def __init__(self, *bases: npt.NDArray[np.float32]):
        for b in bases:
            if b.shape[0] not in (SUB, FRAME, HALF) or b.dtype != np.float32:
                raise ValueError(f"Analyser: expected float32 bases of {SUB}, {FRAME} or {HALF} rows, "
                                 f"got {b.dtype} {b.shape}")
        self._bases = bases

    def analyse(self, samples: npt.NDArray[np.number]) -> Analysis:
        """Analysis of int16 `samples` (channels, n) or (channels, frames, FRAME); n a multiple of SUB,
        of FRAME if a basis is a frame's or a half frame's."""
        c = samples.shape[0]
        x = samples.reshape(c, -1).astype(np.float32)
        products = []
        for basis in self._bases:
            length = basis.shape[0]
            rows = x.reshape(-1, FRAME)[:, :HALF] if length == HALF else x.reshape(-1, length)
            products.append((basis, _product(rows, basis).reshape(c, -1, basis.shape[1])))
        return Analysis(samples.reshape(c, -1), x, products)


# The event a detector reports.
Event = TypeVar("Event")


class FramedDetector(abc.ABC, Generic[Event]):
    """`process(block)` and `process_tick(analysis)` for a detector whose work is `_detect(analysis)`
    on whole frames; the detector sets `_framer` (a Framer) and `_analyser` (an Analyser)."""

    _framer: Framer
    _analyser: Analyser

    @property
    def channels(self) -> int:
        return self._framer.channels

    @abc.abstractmethod
    def _detect(self, analysis: Analysis) -> list[Event]:
        """The detector's events for the whole frames of `analysis`."""

    def process(self, block: npt.NDArray[np.int16]) -> list[Event]:
        """Feed int16 (channels, n); returns the detector's events for the frames this block completes."""
        frames, _ = self._framer.frames(block)
        if not frames.shape[1]:
            return []
        return self._detect(self._analyser.analyse(frames))

    def process_tick(self, analysis: Analysis) -> list[Event]:
        """Feed one tick analysed by the shared front end; returns the same events as process()."""
        check_analysis(analysis, self.channels, f"{type(self).__name__}.process_tick")
        self._framer.tick()
        return self._detect(analysis)
