"""MFC-R2 register signals (ITU-T Q.441 2-out-of-6 tone pairs): a receiver for many channels at once
and the generator; the figures and their clauses are in docs/standards.md §6."""

import dataclasses
from typing import Literal

import numpy as np
import numpy.typing as npt

from dsp import blocks, mfr2_kernel
from dsp.blocks import SUB
from dsp.levels import RATE, dbm0_to_amplitude
from dsp.tonegen import to_int16
from dsp.tonegen import tone as _sines

Direction = Literal["forward", "backward"]

# ---------------------------------------------------------------- the signal code (Q.441)

# Q.441: forward signals (groups I and II) use 1380-1980 Hz, backward signals (groups A and B)
# 540-1140 Hz, 120 Hz apart; f0..f5 in the order of the code (backward f0 is the highest).
FREQUENCIES_HZ: dict[str, tuple[float, ...]] = {
    "forward": (1380.0, 1500.0, 1620.0, 1740.0, 1860.0, 1980.0),
    "backward": (1140.0, 1020.0, 900.0, 780.0, 660.0, 540.0),
}
# Q.441 table of combinations: signal n (1-15) is the pair (fi, fj), numbered with j, then i, rising.
PAIRS: tuple[tuple[int, int], ...] = tuple((i, j) for j in range(1, 6) for i in range(j))
SIGNALS = range(1, len(PAIRS) + 1)

# ---------------------------------------------------------------- sending (Q.454)

# Q.454: each frequency sent at -11.5 +- 1 dBm0, within +-4 Hz of nominal.
SEND_LEVEL_DBM0 = -11.5

# ---------------------------------------------------------------- receiving (Q.455)

# Q.455 (as quoted by spandsp bell_r2_mf.h and the Nortel XMFC receiver table, docs/standards.md §6.2):
# operate on each frequency within +-10 Hz. Q.455 names no reject point (Nortel's XMFC rejects at
# 60 Hz, half the spacing); the receiver rejects 20 Hz and the limit sits between. Synthetic vowels
# whose harmonics fall near two of the backward frequencies come 12-17 Hz off them.
FREQ_TOL_HZ = 15.0
# Q.455: operate from -5 to -35 dBm0 per frequency; Nortel's XMFC table rejects -38.5 dBm0 (the Blue
# Book's figure). The floor sits between, 2 dB under -35 dBm0: each frequency is measured after its
# frequency error is turned back, and the other frequencies leak in under 0.4 dB.
LEVEL_MIN_DBM0 = -37.0
# Q.455: operate with the two frequencies up to 5 dB apart (adjacent) or 7 dB (non-adjacent); not
# recognise a pair 20 dB apart. Nortel's XMFC rejects 12 dB (a Norwegian requirement); the limit
# sits between 7 and 12.
TWIST_MAX_DB = 10.0
# Two and only two frequencies: every other frequency of the group at least this far under the
# weaker of the pair (spandsp and openr2 ask 11 dB under the stronger).
THIRD_TONE_DB = 11.0
# The pair, measured at its own frequencies, holds this share of the window's energy (-0.7 dB):
# Nortel's XMFC works at 18 dB S/N, where noise holds 1.6 %; speech and music spread their energy
# wider (0.7 and 0.8 let synthetic vowels through on the backward frequencies, where voiced speech
# is strongest).
ENERGY_FRACTION = 0.85
# Each 5 ms sub-block of a window carries at least this share of the window's mean sub-block energy:
# the pair fills the window. Two tones 120 Hz apart beat, so a filled sub-block holds half the mean at
# worst; a tone that fills a quarter to a half of an edge sub-block fails.
FILL_FRACTION = 0.25
# Q.455: no operation on signals shorter than 7 ms (at -5 dBm0); no release on interruptions of up
# to 7 ms; operate time plus release time at most 80 ms. A window is 25 ms (5 sub-blocks) stepped by
# 5 ms, valid only when the pair fills it, so a tone under 15 ms gives none. The receiver operates on
# HITS_TO_OPERATE valid windows in a row with the same signal (about 35 ms after the tone begins;
# two let steady synthetic vowels through) and releases after MISSES_TO_RELEASE windows in a row
# without it (35-40 ms after it ends: a gap of up to 7 ms spoils at most 6 windows).
WINDOW_SUBS = 5
HITS_TO_OPERATE = 3
MISSES_TO_RELEASE = 7

# ---------------------------------------------------------------- analysis

# The window weighs its sub-blocks 1, 2, 3, 2, 1 (a triangle over 25 ms): the other frequencies of
# the code, 120 Hz apart and more, leak in 27 dB down or less, and a frequency 60 Hz off (between two
# of the code) 37 dB down.
_WEIGHTS = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
# The frequency error comes from the phase advance between the first two sub-blocks and the last two,
# 3 sub-blocks (15 ms) apart: unambiguous to +-66 Hz; the limit as the cosine of that phase.
_LAG_SUBS = WINDOW_SUBS - 2
_COS_TOL = float(np.cos(2.0 * np.pi * FREQ_TOL_HZ * _LAG_SUBS * SUB / RATE))
# A sine of amplitude A gives each sub-block correlation A SUB / 2, the weighted sum A SUB / 2 times
# the weights' sum, and the weighted sum of sub-block energies A^2 SUB / 2 times the weights' sum.
_AMPLITUDE_SCALE = SUB / 2.0 * _WEIGHTS.sum()
_ENERGY_SCALE = _AMPLITUDE_SCALE ** 2 / (SUB / 2.0 * _WEIGHTS.sum())
_LEVEL_POWER = (dbm0_to_amplitude(LEVEL_MIN_DBM0) * _AMPLITUDE_SCALE) ** 2
_TWIST = 10.0 ** (TWIST_MAX_DB / 10.0)
# The weighted window's power response to a tone at the frequency limit (1.4 dB down).
_GATE_LOSS = float(abs(np.repeat(_WEIGHTS, SUB)
                       @ np.exp(2j * np.pi * FREQ_TOL_HZ * np.arange(WINDOW_SUBS * SUB) / RATE))
                   / (SUB * _WEIGHTS.sum())) ** 2
_THIRD = 10.0 ** (-THIRD_TONE_DB / 10.0)
# Gate on the sum of the six nominal-frequency powers, which is at least the pair's, less _GATE_LOSS for
# a tone at the frequency limit: above two tones at the level floor, and near the pair's share of the
# window's energy.
_GATE_LEVEL = 2.0 * _GATE_LOSS * _LEVEL_POWER
_GATE_SHARE = _GATE_LOSS * ENERGY_FRACTION * _ENERGY_SCALE


def _signal_of_pair() -> npt.NDArray[np.int8]:
    table = np.zeros((6, 6), np.int8)
    for n, (i, j) in enumerate(PAIRS, start=1):
        table[i, j] = table[j, i] = n
    return table


_SIGNAL_OF_PAIR = _signal_of_pair()


def _basis(freqs: tuple[float, ...]) -> npt.NDArray[np.float32]:
    # Sub-block correlators on the shared 5 ms grid: columns (frequency, cos / -sin), the phase counted
    # from the sub-block's first sample.
    n = np.arange(SUB)[:, None]
    w = 2.0 * np.pi * np.array(freqs) / RATE
    return np.stack([np.cos(w * n), -np.sin(w * n)], axis=-1).reshape(SUB, -1).astype(np.float32)


BASES = {d: _basis(f) for d, f in FREQUENCIES_HZ.items()}
# Each sub-block's correlation turned to one phase reference for the whole stream (the sub-block
# correlations count phase from their own first sample): sub-block s by exp(-j w SUB s), which repeats
# every _PERIOD sub-blocks (the code's frequencies advance a whole number of tenths of a turn per
# sub-block: f SUB / RATE = f / 200 cycles, f a multiple of 60 Hz).
_PERIOD = 10
_TURN = {d: np.exp(-1j * np.outer(np.arange(_PERIOD) * SUB, 2.0 * np.pi * np.array(f) / RATE)).astype(np.complex64)
         for d, f in FREQUENCIES_HZ.items()}


# A channel's recognition timing as dsp/mfr2_kernel.c keeps it (its struct timing, the same layout):
# the windows in a row without the current signal, the signal recognised (0: none), the last window's
# signal and the windows in a row that held it.
_TIMING = np.dtype([("misses", np.int32), ("current", np.int32), ("last", np.int32), ("run", np.int32)])
# The receiving figures above as the kernel takes them, for each direction.
_KERNEL_CONSTANTS = {
    d: mfr2_kernel.constants(
        sub_samples=SUB, window_subs=WINDOW_SUBS, lag_subs=_LAG_SUBS, hits_to_operate=HITS_TO_OPERATE,
        misses_to_release=MISSES_TO_RELEASE, weights=_WEIGHTS, turn=_TURN[d], signal_of_pair=_SIGNAL_OF_PAIR,
        cos_tol=_COS_TOL, level_power=_LEVEL_POWER, twist=_TWIST, third=_THIRD,
        share=ENERGY_FRACTION * _ENERGY_SCALE, fill=FILL_FRACTION / WINDOW_SUBS, gate_level=_GATE_LEVEL,
        gate_share=_GATE_SHARE)
    for d in FREQUENCIES_HZ}


@dataclasses.dataclass(frozen=True)
class R2Event:
    """On `channel`, signal `signal` (1-15) recognised, or the signal ended (`None`), at stream sample
    `sample` (the sample after the last one the decision used)."""

    channel: int
    signal: int | None
    sample: int


def _check_direction(direction: object, owner: str) -> Direction:
    if direction == "forward":
        return "forward"
    if direction == "backward":
        return "backward"
    raise ValueError(f"{owner}: expected direction 'forward' or 'backward', got {direction!r}")


class R2Receiver(blocks.FramedDetector[R2Event]):
    """Q.455 receiver of one direction's R2 signals on `channels` 8 kHz streams, all at once.

    The sub-block correlations are numpy's (one product for every channel); the sub-block energies,
    the windows, their tests, the recognition timing and the events are dsp/mfr2_kernel.c's, one call
    per block."""

    def __init__(self, channels: int, direction: Direction = "forward"):
        self.direction = _check_direction(direction, "R2Receiver")
        self._framer = blocks.Framer(channels, blocks.FRAME, "R2Receiver")
        self._basis = BASES[self.direction]
        self._analyser = blocks.Analyser(self._basis)
        self._constants = _KERNEL_CONSTANTS[self.direction]
        self._sub_count = 0  # sub-blocks analysed on every channel
        c = self._framer.channels
        # The last WINDOW_SUBS - 1 sub-blocks, a ring by sub-block index: their correlations on the
        # stream's phase reference (6 real parts, 6 imaginary) and energies, by channel.
        self._history = np.zeros((WINDOW_SUBS - 1, 13, c), np.float32)
        self._timing = np.zeros(c, _TIMING)

    def reset(self, channel: int) -> None:
        """Forget `channel`'s audio and signal (its sample index keeps counting)."""
        ch = blocks.check_channel(channel, self.channels, "R2Receiver.reset")
        self._history[:, :, ch] = 0.0
        self._timing[ch] = 0

    @property
    def signals(self) -> npt.NDArray[np.int8]:
        """Per channel: the signal recognised now (0: none)."""
        return self._timing["current"].astype(np.int8)

    def status(self) -> dict[str, int | str]:
        return {"channels": self.channels, "direction": self.direction,
                "receiving": int(np.count_nonzero(self._timing["current"]))}

    def _detect(self, analysis: blocks.Analysis) -> list[R2Event]:
        z = analysis.product(self._basis, "R2Receiver")
        first = self._sub_count
        self._sub_count += z.shape[1]
        return mfr2_kernel.receive(self._history, self._timing, z, analysis.x, self._constants, first, R2Event)


# ---------------------------------------------------------------- generator

def tone(signal: int, direction: Direction, n: int, level_dbm0: float = SEND_LEVEL_DBM0, twist_db: float = 0.0,
         offset_hz: tuple[float, float] = (0.0, 0.0), start: int = 0) -> npt.NDArray[np.int16]:
    """int16 (n,): R2 signal `signal` (1-15) of `direction`, its pair (fi, fj) in Q.441 order with fi at
    `level_dbm0` and fj `twist_db` above it, each off nominal by `offset_hz`; `start` is the first
    sample's index in the tone, so consecutive calls continue it."""
    if isinstance(signal, bool) or not isinstance(signal, (int, np.integer)) or signal not in SIGNALS:
        raise ValueError(f"mfr2.tone: expected a signal in 1..15, got {signal!r}")
    freqs = FREQUENCIES_HZ[_check_direction(direction, "mfr2.tone")]
    if int(n) != n or n < 0:
        raise ValueError(f"mfr2.tone: expected a sample count >= 0, got {n!r}")
    i, j = PAIRS[int(signal) - 1]
    f = np.array([freqs[i] + offset_hz[0], freqs[j] + offset_hz[1]])
    x = _sines(f, (level_dbm0, level_dbm0 + twist_db), int(n), phase=2.0 * np.pi * f * int(start) / RATE)
    return to_int16(x)
