"""DTMF receiver for many channels at once: int16 blocks in, one event per key press out."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dsp import blocks
from dsp.blocks import SUB
from dsp.dtmf_tables import CHUNK, DigitMachine
from dsp.levels import RATE, dbm0_to_amplitude
from dsp.tonegen import DTMF_HIGH, DTMF_KEYS, DTMF_LOW

# Analysis grid: 5 ms sub-blocks (40 samples, so a 20 ms tick is exactly four), decided every
# sub-block on a sliding window of the last four (20 ms, 160 samples).
WIN_SUBS = 4
WIN = SUB * WIN_SUBS

_FREQS = np.array(DTMF_LOW + DTMF_HIGH)
_DIGITS = "".join(DTMF_KEYS)

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
_PHASE_TOL = ((2.0 * np.pi * SUB / RATE) * FREQ_TOL * _FREQS).astype(np.float32)

# Sub-block correlators: per sub-block s of the stream, a real (SUB, 16) matrix whose columns
# interleave cos and -sin of the 8 tones, so its product with the sub-block's samples gives float32
# pairs that view as complex64 sums of x[n] * exp(-j w n), n counted from the stream's first sample
# (one phase reference for every sub-block). The tones advance f * SUB / RATE = f / 200 cycles per
# sub-block, so the matrices repeat every 200 sub-blocks for the integer Q.23 frequencies; the
# WIN_SUBS - 1 after a period let any WIN_SUBS consecutive ones be a plain slice.
_OMEGA = 2.0 * np.pi * _FREQS / RATE
_PERIOD = RATE // SUB
_PHASES = np.multiply.outer(np.arange(_PERIOD + WIN_SUBS - 1)[:, None] * SUB + np.arange(SUB), _OMEGA)
_BASES = np.stack([np.cos(_PHASES), -np.sin(_PHASES)], axis=-1).reshape(-1, SUB, 16).astype(np.float32)

# The receiver keeps, per channel and sub-block major, the WIN_SUBS - 1 sub-blocks before the new
# ones and the new ones: the 8 rotated tone phasors and a ninth complex column (energy, _UNIT). A
# window's sum of _UNIT is 1, which brings the level floor into the gate's product.
_COLS = 9
_UNIT = 1.0 / WIN_SUBS


def _gate_matrix() -> npt.NDArray[np.float32]:
    """(2 * _COLS, 16): from a window's squared sums (re, im of the 8 tones, energy, unit) to each
    tone's power less _PEAK_SHARE of its group's, then each tone's power less the level floor."""
    power = np.repeat(np.eye(8), 2, axis=0)  # (re^2, im^2) of each tone -> its power
    group = power @ np.kron(np.eye(2), np.ones((4, 4)))  # -> the power of the tone's group
    gate = np.zeros((2 * _COLS, 16))
    gate[:16, :8] = power - _PEAK_SHARE * group
    gate[:16, 8:] = power
    gate[-1, 8:] = -_LEVEL_POWER
    return gate.astype(np.float32)


_GATE = _gate_matrix()


def _flag_labels() -> tuple[int, npt.NDArray[np.int8]]:
    """(modulus, table): a window's 16 gate flags (both tests of tone 0..7) as two little-endian
    int64 whose AND has one byte set per passing tone; the table at that AND % modulus is the window's
    label, 1 + its digit if one tone of each group passes (the peak share, over one half, lets at most
    one per group), else 0."""
    rows = [1 << 8 * i for i in range(4)]
    cols = [1 << 8 * (4 + i) for i in range(4)]
    pairs = {r + c: 1 + 4 * i + j for i, r in enumerate(rows) for j, c in enumerate(cols)}
    others = [0] + rows + cols
    modulus = len(pairs) + len(others)
    while True:
        spots = {v % modulus for v in pairs}
        if len(spots) == len(pairs) and not spots & {v % modulus for v in others}:
            table = np.zeros(modulus, np.int8)
            table[[v % modulus for v in pairs]] = list(pairs.values())
            return modulus, table
        modulus += 1


_FLAG_MODULUS, _LABEL_OF_FLAGS = _flag_labels()
_ONES8 = np.ones(2 * WIN_SUBS, np.float32)
_SCREEN = ENERGY_FRACTION * WIN / 8.0  # see DtmfDetector._label
_KEYS = " " + _DIGITS  # by label
# Per label: the row and column tone's column in the sub-block store.
_TONES_OF_LABEL = np.array([[0] + [d // 4 for d in range(16)], [0] + [4 + d % 4 for d in range(16)]])
# Frequency-test limits per label: the cosine of each tone's phase tolerance (unit phasor's real
# part), then 0 (the coarse lag turned back).
_FREQ_LIMITS = np.concatenate([np.cos(_PHASE_TOL[_TONES_OF_LABEL]), np.zeros((2, 17))]).astype(np.float32)
# Samples of its first sub-block a tone did not fill: filling a fraction f of it, the tone gives it
# f^2 of the middle two's mean power, and round(SUB * (1 - f)) reaches u once the middle two's power
# is 2 / (1 - (u - 1/2) / SUB)^2 times the first's. The edge test keeps f >= 1/2, so u <= SUB / 2.
_UNFILLED_AT = 2.0 / (1.0 - (np.arange(1, SUB // 2 + 1) - 0.5) / SUB) ** 2
# Margins from (row power, column power, window energy, 4 sub-block powers): column over row above
# the twist minimum and below the maximum; twice their sum (a sine of amplitude A gives A^2 WIN^2 / 4
# here and A^2 WIN / 2 of energy) against ENERGY_FRACTION of the window energy; first and last
# sub-block against EDGE_POWER_RATIO of the middle two's mean. Then, no tests, the middle two
# sub-blocks' power less each _UNFILLED_AT times the first's: the unfilled samples are the u whose
# margin is not negative (a first sub-block with no power counts as empty).
_TESTS = np.array([
    [-_TWIST_MIN, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [_TWIST_MAX, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [2.0, 2.0, -ENERGY_FRACTION * WIN, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 1.0, -EDGE_POWER_RATIO / 2, -EDGE_POWER_RATIO / 2, 0.0],
    [0.0, 0.0, 0.0, 0.0, -EDGE_POWER_RATIO / 2, -EDGE_POWER_RATIO / 2, 1.0],
] + [[0.0, 0.0, 0.0, -at, 1.0, 1.0, 0.0] for at in _UNFILLED_AT])
# The receiver measures each sub-block's power tone by tone (row, column): each sub-block column
# taken twice.
_MARGINS = np.repeat(_TESTS, [1, 1, 1, 2, 2, 2, 2], axis=1).astype(np.float32)
_TESTED = 4 + len(_TESTS) - len(_UNFILLED_AT)  # margins that are tests: frequency (4), then _TESTS'
_TINY = np.float32(1e-30)  # keeps a zero phasor's normalisation finite


@dataclass(frozen=True)
class DtmfEvent:
    """One key press: `start` is the estimated first sample of the tone on that channel's stream."""

    channel: int
    digit: str
    start: int


_new_event = object.__new__


def _event(channel: int, digit: str, start: int) -> DtmfEvent:
    """DtmfEvent(channel, digit, start) without the frozen dataclass's checked __init__ (a dozen key
    presses a tick on a busy box): its fields go straight into the instance."""
    event = _new_event(DtmfEvent)
    fields = event.__dict__
    fields["channel"] = channel
    fields["digit"] = digit
    fields["start"] = start
    return event


# ---------------------------------------------------------------- receiver

def _gate(subs: npt.NDArray[np.complex64]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Window sums (windows, channels * 2 * _COLS) of the sub-block store `subs` (WIN_SUBS - 1 +
    windows sub-blocks), and each window's label by the nominal-frequency level and relative-peak
    tests."""
    rows = subs.view(np.float32).reshape(subs.shape[0], -1)
    pairs = rows[:-1] + rows[1:]
    sums = pairs[:-2] + pairs[2:]
    flags = (np.square(sums).reshape(-1, 2 * _COLS) @ _GATE >= 0.0).view("<i8")
    return _LABEL_OF_FLAGS[(flags[:, 0] & flags[:, 1]) % _FLAG_MODULUS], sums


def _sub_powers(ph: npt.NDArray[np.complex64], out: npt.NDArray[np.float32]) -> None:
    """Into `out` (WIN_SUBS * 2, n): the power of each tone in each sub-block, from the phasors `ph`
    (WIN_SUBS, row / column, n)."""
    square = np.square(ph.view(np.float32))
    np.add(square[..., 0::2], square[..., 1::2], out=out.reshape(ph.shape))


def _confirm(ph: npt.NDArray[np.complex64], measured: npt.NDArray[np.float32],
             label: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.bool_] | np.bool_, npt.NDArray[np.intp]]:
    """Frequency, twist, energy and edge tests of gated windows from their tones' sub-block phasors
    `ph` (WIN_SUBS, row / column, n), `measured` (row and column power, filled in here, then window
    energy and the power of each tone in each sub-block) and labels: (passed, unfilled samples of the first
    sub-block)."""
    n = label.size
    # Phase advance per sub-block. Fine: between the two 10 ms halves of the window, where the other
    # tone leaks in about 20 dB lower, but ambiguous beyond +-50 Hz. Coarse: from consecutive 5 ms
    # sub-blocks, unambiguous to +-100 Hz but 40 samples do not separate the row tone from the
    # column tone, so up to 8 dB of twist pulls it. The advance is the fine value on the branch
    # nearest the coarse one; any other branch is more than the tolerance (under a quarter turn)
    # away from zero, so a window passes only if the coarse value lies within a quarter turn of
    # the fine one and the fine one within the tolerance. Both as cosines: the coarse lag turned back
    # by the fine advance keeps a real part >= 0, and the turn back has a cosine of at least the
    # tolerance's (the fine advance, half a principal angle, stays within a quarter turn).
    # Rows: the unit phasor of each tone (below), then its coarse lag turned back by it.
    turned = np.empty((4, n), np.complex64)
    unit, lag = turned[:2], turned[2:]
    np.add.reduce(ph[1:] * ph[:-1].conj(), axis=0, out=lag)
    halves = ph[0::2] + ph[1::2]
    # The fine advance turned back, halved without trigonometry: the first half times the second's
    # conjugate is |f| exp(-j a), a the advance over two sub-blocks in (-pi, pi]; its sum with |f|
    # is 2 |f| cos(a / 2) exp(-j a / 2), on the bisector, so normalised it is the unit phasor
    # exp(-j a / 2) (cos(a / 2) >= 0). A window with an empty half has none: a zero phasor, which
    # fails the frequency test.
    np.multiply(halves[0], halves[1].conj(), out=unit)
    unit += np.abs(unit)
    size = np.abs(unit)
    size += _TINY
    np.divide(unit, size, out=unit)
    # Derotate by the measured frequency offset (Horner in the unit phasor) so twist and energy
    # use the tone's full power.
    tone = unit * ph[3]
    for i in (2, 1):
        np.add(ph[i], tone, out=tone)
        np.multiply(unit, tone, out=tone)
    np.add(ph[0], tone, out=tone)
    square = np.square(tone.view(np.float32))
    np.add(square[:, 0::2], square[:, 1::2], out=measured[:2])
    # Every test as a margin that must not be negative: frequency of each tone (both estimates),
    # then twist both ways, share of the window energy and fill of the first and last sub-block;
    # then those that count the unfilled samples.
    lag *= unit
    margins = np.empty((4 + len(_MARGINS), n), np.float32)
    np.subtract(turned.real, _FREQ_LIMITS.take(label, axis=1), out=margins[:4])
    np.matmul(_MARGINS, measured, out=margins[4:])
    met = margins >= 0.0
    return met[:_TESTED].all(axis=0), np.add.reduce(met[_TESTED:], axis=0, dtype=np.intp)


class DtmfDetector:
    """Q.23 / Q.24 DTMF receiver for `channels` 8 kHz streams, fed int16 blocks shaped (channels, n)."""

    def __init__(self, channels: int):
        if int(channels) != channels or channels < 1:
            raise ValueError(f"DtmfDetector: expected a positive channel count, got {channels!r}")
        self.channels = int(channels)
        c = self.channels
        self._pending = self._none_pending = np.zeros((c, 0), np.int16)
        self._sub_count = 0
        self._origin = np.zeros(c, np.int64)  # the sample each channel's reset came at
        self._subs = np.zeros((WIN_SUBS - 1, c, _COLS), np.complex64)
        self._subs[..., -1] = 1j * _UNIT
        self._window_at: npt.NDArray[np.int64] | None = None  # see _store
        # Flat index in the store of a window's tone phasors, by sub-block, group and label, less
        # that of its first sub-block.
        self._tone_at = np.arange(WIN_SUBS)[:, None, None] * c * _COLS + _TONES_OF_LABEL
        # Digit timing, starts counted from each channel's origin.
        self._machine = DigitMachine(c)
        # Any channel inside a digit: when none is and no window is confirmed, the state machine has
        # nothing to do.
        self._busy = False

    def reset(self, channel: int) -> None:
        """Forget channel `channel`'s audio and digit state; its sample index restarts at 0."""
        if not 0 <= channel < self.channels:
            raise ValueError(
                f"DtmfDetector.reset: expected a channel in 0..{self.channels - 1}, got {channel}")
        self._pending[channel] = 0
        self._subs[:, channel] = 1j * _UNIT
        origin = self._sub_count * SUB + self._pending.shape[1]
        if self._window_at is not None:
            self._window_at[channel::self.channels] += self._origin[channel] - origin
        self._origin[channel] = origin
        self._machine.reset(channel)
        self._busy = self._machine.busy

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
        k = block.shape[1] // SUB
        self._pending = block[:, k * SUB:].copy() if block.shape[1] > k * SUB else self._none_pending
        if k == 0:
            return []
        # Alone, the receiver needs no shared analysis: the samples as float32 and their sub-block
        # energies, as blocks.Analysis gives them.
        x = (block if k * SUB == block.shape[1] else block[:, :k * SUB]).astype(np.float32)
        return self._detect(x, blocks.sub_energy(x))

    def process_tick(self, analysis: blocks.Analysis) -> list[DtmfEvent]:
        """Feed one tick analysed by the shared front end (dsp.frontend.TickAnalyser); returns the same
        events as process() of that tick."""
        blocks.check_analysis(analysis, self.channels, "DtmfDetector.process_tick")
        if self._pending.shape[1]:
            raise ValueError(f"DtmfDetector.process_tick: a tick must start on the sub-block grid, but "
                             f"{self._pending.shape[1]} samples of an earlier block are pending")
        return self._detect(analysis.x, analysis.sub_energy)

    def _detect(self, x: npt.NDArray[np.float32], energy: npt.NDArray[np.float32]) -> list[DtmfEvent]:
        """The events of the sub-blocks of `x` (channels, k * SUB) with their `energy` (channels, k)."""
        k = energy.shape[1]
        subs = self._store(k)
        self._correlate(x, energy, subs[WIN_SUBS - 1:])
        first = self._sub_count * SUB
        self._sub_count += k
        label, sums = _gate(subs)
        gated = label.nonzero()[0]
        # A tick's windows are labelled straight into the machine's rows, a longer block's chunk by chunk.
        direct = k <= CHUNK
        labels, ests = self._machine.rows(k) if direct else np.empty((2, k, self.channels), np.int64)
        labels.fill(0)
        confirmed = gated.size > 0 and self._label(subs, gated, label[gated], sums, labels, ests, first)
        subs[:WIN_SUBS - 1] = subs[k:]
        if not confirmed and not self._busy:
            return []
        reports = self._machine.step(k) if direct else self._machine.track(labels, ests)
        self._busy = self._machine.busy
        # A tone that began before the channel's reset is reported from the reset.
        return [_event(channel, _KEYS[label], start if start > 0 else 0) for channel, label, start in reports]

    def _store(self, k: int) -> npt.NDArray[np.complex64]:
        """The sub-block store for k new sub-blocks (see _COLS), the last WIN_SUBS - 1 before them
        first; the same array while k stays the same, as it does tick after tick."""
        if self._subs.shape[0] != WIN_SUBS - 1 + k:
            store = np.empty((WIN_SUBS - 1 + k, self.channels, _COLS), np.complex64)
            store[:WIN_SUBS - 1] = self._subs[:WIN_SUBS - 1]
            store[WIN_SUBS - 1:, :, -1] = 1j * _UNIT
            self._subs = store
            # Each window's first sample relative to the first new sub-block, less its channel's origin.
            self._window_at = ((np.arange(k)[:, None] - (WIN_SUBS - 1)) * SUB - self._origin).ravel()
        return self._subs

    def _correlate(self, x: npt.NDArray[np.float32], energy: npt.NDArray[np.float32],
                   new: npt.NDArray[np.complex64]) -> None:
        """Fill the store's rows `new` with the tone phasors and energies of the sub-blocks of `x`."""
        k = energy.shape[1]
        phase = self._sub_count % _PERIOD
        bases = (_BASES[phase:phase + k] if phase + k <= len(_BASES)
                 else _BASES.take(np.arange(phase, phase + k) % _PERIOD, axis=0))
        rows = new.view(np.float32)
        np.matmul(x.reshape(self.channels, k, SUB).transpose(1, 0, 2), bases, out=rows[..., :16])
        rows[..., 16] = energy.T

    def _label(self, subs: npt.NDArray[np.complex64], gated: npt.NDArray[np.int64], label: npt.NDArray[np.int8],
               sums: npt.NDArray[np.float32], labels: npt.NDArray[np.int64],
               ests: npt.NDArray[np.int64], first: int) -> bool:
        """Put the labels of the gated windows that the fine tests confirm (the others stay 0) into
        `labels`, and where the tone began into `ests` (both windows x channels); whether any window
        was confirmed (or the machine is busy and runs anyway)."""
        # Window major, as the gate gives them, a window's flat index is its first sub-block's.
        ph = subs.ravel().take(self._tone_at.take(label, axis=2) + gated * _COLS)
        measured = np.empty((3 + 2 * WIN_SUBS, gated.size), np.float32)  # see _confirm
        measured[2] = sums.reshape(-1, 2 * _COLS)[:, 16][gated]
        _sub_powers(ph, measured[3:])
        # Screen for the energy test (speech passes the gate now and then, but rarely this): the
        # frequency-corrected sum of four sub-block phasors has at most 4 times their summed power
        # (Cauchy-Schwarz), so a window failing this fails that.
        if not self._busy and not np.any(_ONES8 @ measured[3:] >= _SCREEN * measured[2]):
            return False
        ok, unfilled = _confirm(ph, measured, label)
        np.put(labels, gated, label * ok)
        # The window began WIN_SUBS - 1 sub-blocks before its last; the tone began inside its first
        # sub-block, after the part it did not fill (the machine reads the estimate of labelled
        # windows only).
        assert self._window_at is not None, "_store sets it before any window is labelled"
        at = ests.reshape(-1)  # a view: the rows either caller passes are contiguous
        np.add(self._window_at, first, out=at)
        at[gated] += unfilled
        return self._busy or bool(np.count_nonzero(ok))  # busy: the machine runs anyway
