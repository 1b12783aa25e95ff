"""DTMF receiver for many channels at once: int16 blocks in, one event per key press out."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dsp import blocks, dtmf_kernel
from dsp.blocks import SUB
from dsp.dtmf_tables import HITS_TO_REPORT, MISSES_TO_DROP, MISSES_TO_END
from dsp.levels import RATE, dbm0_to_amplitude
from dsp.tonegen import DTMF_HIGH, DTMF_KEYS, DTMF_LOW

# Analysis grid: 5 ms sub-blocks (40 samples, so a 20 ms tick is exactly four), decided every
# sub-block on a sliding window of the last four (20 ms, 160 samples).
WIN_SUBS = 4
WIN = SUB * WIN_SUBS

_FREQS = np.array(DTMF_LOW + DTMF_HIGH)

# Level: spandsp src/dtmf.c dtmf_threshold = goertzel_threshold_dbm0(102, -42) and Asterisk
# DTMF_THRESHOLD (about -42.3 dBm0) reject below -42 dBm0 per tone; docs/standards.md §1.2 asks for
# acceptance down to -36 dBm0 and no digit at -50. Applied to the nominal-frequency power, which loses
# at most 3.8 dB for a tone 1.5 % off, so -36 dBm0 stays above it.
LEVEL_MIN_DBM0 = -42.0
# Relative peak: spandsp/Asterisk DTMF_RELATIVE_PEAK_ROW/COL 6.3 (8 dB). Here the chosen tone of each
# group must exceed the sum of the other three by 8 dB, at least as strict as the peers' test against
# each of them.
RELATIVE_PEAK_DB = 8.0
# Twist (high-group level minus low-group level): Q.24 AT&T column, as in spandsp/Asterisk
# (docs/standards.md §1.2), must accept [-8, +4] dB. The lower limit is AMBE-2000 Table 5-K's reject
# point (10 dB); both sit 2 dB outside the accept range, the measurement error of the weaker tone at
# 12 dB S/N.
TWIST_MIN_DB = -10.0
TWIST_MAX_DB = 6.0
# Frequency: Q.24 AT&T column must accept +-1.5 % and must reject +-3.5 % (spandsp dtmf.h, Asterisk
# dsp.c, DECvoice); the limit is the midpoint, judged on a frequency estimated from phase advance.
FREQ_TOL = 0.025
# Fraction of the window's energy the two (frequency-corrected) tones must hold: spandsp src/dtmf.c asks
# -0.85 dB (0.82) on a 102-sample block; 0.8 (-0.97 dB) keeps 12 dB S/N (tones hold 0.94) with margin.
ENERGY_FRACTION = 0.8
# Edge coverage: a window counts only if the tone fills at least half of its first and last sub-block
# (amplitude ratio 0.5, power 0.25), so the number of valid windows measures the tone's duration:
# a tone of D samples gives (D - 3*SUB) / SUB valid windows, give or take one.
EDGE_POWER_RATIO = 0.25
_LEVEL_POWER = (dbm0_to_amplitude(LEVEL_MIN_DBM0) * WIN / 2.0) ** 2
# best >= ratio * (total - best)  <=>  best >= ratio / (1 + ratio) * total
_PEAK_SHARE = 1.0 / (1.0 + 10.0 ** (-RELATIVE_PEAK_DB / 10.0))
_TWIST_MIN = 10.0 ** (TWIST_MIN_DB / 10.0)
_TWIST_MAX = 10.0 ** (TWIST_MAX_DB / 10.0)
# Phase advance per sub-block at the frequency-tolerance limit, per tone (all under a quarter turn,
# which the frequency test relies on).
_PHASE_TOL = (2.0 * np.pi * SUB / RATE) * FREQ_TOL * _FREQS

# Sub-block correlators: per sub-block s of the stream, a real (SUB, 16) matrix whose columns are cos,
# then -sin, of the 8 tones, so its product with the sub-block's samples gives the tones' phasors (real
# parts, then imaginary), sums of x[n] * exp(-j w n), n counted from the stream's first sample (one
# phase reference for every sub-block). The tones advance f * SUB / RATE = f / 200 cycles per
# sub-block, so the matrices repeat every 200 sub-blocks for the integer Q.23 frequencies; the
# WIN_SUBS - 1 after a period let any WIN_SUBS consecutive ones be a plain slice.
_OMEGA = 2.0 * np.pi * _FREQS / RATE
_PERIOD = RATE // SUB
_PHASES = np.multiply.outer(np.arange(_PERIOD + WIN_SUBS - 1)[:, None] * SUB + np.arange(SUB), _OMEGA)
_BASES = np.concatenate([np.cos(_PHASES), -np.sin(_PHASES)], axis=-1).astype(np.float32)

# Energy share: twice the two tones' phasor power against the window energy, as a sine of amplitude A
# gives A^2 WIN^2 / 4 of the one and A^2 WIN / 2 of the other.
_TONE_SHARE = ENERGY_FRACTION * WIN / 2.0
# Samples of its first sub-block a tone did not fill: filling a fraction f of it, the tone gives it
# f^2 of the middle two's mean power, and round(SUB * (1 - f)) reaches u once the middle two's power
# is 2 / (1 - (u - 1/2) / SUB)^2 times the first's. The edge test keeps f >= 1/2, so u <= SUB / 2.
_UNFILLED_AT = 2.0 / (1.0 - (np.arange(1, SUB // 2 + 1) - 0.5) / SUB) ** 2
# The windows' tests and the digit timing run in dsp/dtmf_kernel.c, with these figures.
_KERNEL_CONSTANTS = dtmf_kernel.constants(
    sub=SUB, win_subs=WIN_SUBS, peak_share=_PEAK_SHARE, level_power=_LEVEL_POWER,
    cos_tol=np.cos(_PHASE_TOL).tolist(), twist_min=_TWIST_MIN, twist_max=_TWIST_MAX,
    tone_share=_TONE_SHARE, edge_ratio=EDGE_POWER_RATIO, unfilled_at=_UNFILLED_AT.tolist(),
    hits_to_report=HITS_TO_REPORT, misses_to_drop=MISSES_TO_DROP, misses_to_end=MISSES_TO_END)
# One channel's state as the kernel keeps it (its struct channel, the same layout): the energies of the
# last WIN_SUBS - 1 sub-blocks (their phasors stay in the receiver's store); dsp.dtmf_tables.Track's
# fields, digits as labels (1 + the digit, 0: none); the sample the channel's reset came at.
_STATE = np.dtype([("energy", np.float64, (WIN_SUBS - 1,)),
                   ("cur", np.int32), ("hits", np.int32), ("misses", np.int32), ("reported", np.int32),
                   ("cand", np.int32), ("cand_hits", np.int32),
                   ("start", np.int64), ("cand_start", np.int64), ("origin", np.int64)], align=True)
_DIGITS = tuple("".join(DTMF_KEYS))  # by the kernel's label less 1 (a label is 1 + 4 * row tone + column tone)


@dataclass(frozen=True)
class DtmfEvent:
    """One key press: `start` is the estimated first sample of the tone on that channel's stream."""

    channel: int
    digit: str
    start: int


# ---------------------------------------------------------------- receiver

class DtmfDetector:
    """Q.23 / Q.24 DTMF receiver for `channels` 8 kHz streams, fed int16 blocks shaped (channels, n).

    The sub-block correlations are numpy's (one product for every channel); the sub-block energies,
    the windows, their tests and the digit timing are dsp/dtmf_kernel.c's, one call per block."""

    def __init__(self, channels: int):
        if int(channels) != channels or channels < 1:
            raise ValueError(f"DtmfDetector: expected a positive channel count, got {channels!r}")
        self.channels = int(channels)
        c = self.channels
        self._pending = self._none_pending = np.zeros((c, 0), np.int16)
        self._sub_count = 0  # sub-blocks analysed on every channel
        self._state = np.zeros(c, _STATE)
        # The tone phasors (sub-blocks, channels, 16) of the WIN_SUBS - 1 sub-blocks before the new ones
        # (the kernel moves the last ones here), then of the new ones (_new, a view); see _resize_store.
        self._store = np.zeros((WIN_SUBS - 1, c, 16), np.float32)
        self._new = self._store[WIN_SUBS - 1:]
        # process()'s samples as float32: the same array while blocks keep their length (a fresh one a
        # tick is a page-faulting allocation at a thousand channels).
        self._x = np.zeros((c, 0), np.float32)

    def reset(self, channel: int) -> None:
        """Forget channel `channel`'s audio and digit state; its sample index restarts at 0."""
        if not 0 <= channel < self.channels:
            raise ValueError(
                f"DtmfDetector.reset: expected a channel in 0..{self.channels - 1}, got {channel}")
        self._pending[channel] = 0
        self._store[:WIN_SUBS - 1, channel] = 0
        self._state[channel] = 0
        self._state["origin"][channel] = self._sub_count * SUB + self._pending.shape[1]

    def process(self, block: npt.ArrayLike) -> list[DtmfEvent]:
        """Feed int16 samples shaped (channels, n); return the DtmfEvents completed in this block."""
        block = np.asarray(block)
        if block.dtype != np.int16:
            raise ValueError(f"DtmfDetector.process: expected an int16 array, got {block.dtype}")
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(
                f"DtmfDetector.process: expected shape ({self.channels}, n), got {block.shape}")
        if self._pending.shape[1]:
            block = np.concatenate([self._pending, block], axis=1)
        n = block.shape[1]
        used = n - n % SUB
        self._pending = block[:, used:].copy() if used < n else self._none_pending
        if not used:
            return []
        # Alone, the receiver needs no shared analysis: the samples as float32, as blocks.Analysis gives them.
        if self._x.shape[1] != used:
            self._x = np.empty((self.channels, used), np.float32)
        self._x[...] = block if used == n else block[:, :used]
        return self._detect(self._x)

    def process_tick(self, analysis: blocks.Analysis) -> list[DtmfEvent]:
        """Feed one tick analysed by the shared front end (dsp.frontend.TickAnalyser); returns the same
        events as process() of that tick."""
        blocks.check_analysis(analysis, self.channels, "DtmfDetector.process_tick")
        if self._pending.shape[1]:
            raise ValueError(f"DtmfDetector.process_tick: a tick must start on the sub-block grid, but "
                             f"{self._pending.shape[1]} samples of an earlier block are pending")
        return self._detect(analysis.x)

    def _detect(self, x: npt.NDArray[np.float32]) -> list[DtmfEvent]:
        """The events of the sub-blocks of `x` (channels, k * SUB, C-contiguous)."""
        k = x.shape[1] // SUB
        if self._new.shape[0] != k:
            self._resize_store(k)
        phase = self._sub_count % _PERIOD
        bases = (_BASES[phase:phase + k] if phase + k <= len(_BASES)
                 else _BASES.take(np.arange(phase, phase + k) % _PERIOD, axis=0))
        np.matmul(x.reshape(self.channels, k, SUB).transpose(1, 0, 2), bases, out=self._new)
        events = dtmf_kernel.detect(self._state, self._store, x, _KERNEL_CONSTANTS, self._sub_count, DtmfEvent,
                                    _DIGITS)
        self._sub_count += k
        return events

    def _resize_store(self, k: int) -> None:
        """Room for k new sub-blocks after the kept ones; the same array while k stays the same, as it
        does tick after tick."""
        store = np.empty((WIN_SUBS - 1 + k, self.channels, 16), np.float32)
        store[:WIN_SUBS - 1] = self._store[:WIN_SUBS - 1]
        self._store, self._new = store, store[WIN_SUBS - 1:]
