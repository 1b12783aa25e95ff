"""MFC-R2 register signals (ITU-T Q.441 2-out-of-6 tone pairs): a receiver for many channels at once
and the generator; the figures and their clauses are in docs/standards.md §6."""

import dataclasses
from typing import Literal

import numpy as np
import numpy.typing as npt

from dsp import blocks
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
_WEIGHTS32 = _WEIGHTS.astype(np.float32)
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
_GATE_LEVEL = np.float32(2.0 * _GATE_LOSS * _LEVEL_POWER)
_GATE_SHARE = np.float32(_GATE_LOSS * ENERGY_FRACTION * _ENERGY_SCALE)
_WINDOW_AT = 6 * np.arange(WINDOW_SUBS)[None, :]  # each sub-block's first frequency in a window's row


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


@dataclasses.dataclass(frozen=True)
class R2Event:
    """On `channel`, signal `signal` (1-15) recognised, or the signal ended (`None`), at stream sample
    `sample` (the sample after the last one the decision used)."""

    channel: int
    signal: int | None
    sample: int


def _confirm(subs: npt.NDArray[np.complex64], power: npt.NDArray[np.float32], energy: npt.NDArray[np.float32],
             weighted_energy: npt.NDArray[np.float32]) -> npt.NDArray[np.int8]:
    """The signal of gated windows that pass every test (0: none), from their sub-block correlations
    `subs` (rows, sub-block, frequency) on one phase reference, the weighted sums' `power` (rows,
    frequency), the sub-block energies and their weighted sum. Elementwise over the rows wherever it
    can be: numpy reduces along a short axis row by row."""
    n = power.shape[0]
    rows = np.arange(n)
    order = np.argsort(power, axis=1)
    pair = order[:, -2:]
    # (rows, sub-block, tone), by flat index: a gather by three index arrays costs several times more.
    tones = subs.reshape(-1).take(_WINDOW_AT[:, :, None] + pair[:, None, :] + (6 * WINDOW_SUBS) * rows[:, None, None])
    # Frequency: the phase advance from the first two sub-blocks to the last two, within the
    # tolerance, as a cosine (the advance is under a half turn for any offset under 66 Hz).
    lag = (tones[:, -1] + tones[:, -2]) * (tones[:, 0] + tones[:, 1]).conj()  # (rows, tone)
    near = lag.real >= _COS_TOL * np.abs(lag)
    ok = near[:, 0] & near[:, 1]
    # Each tone's power with its measured frequency error turned back sub-block by sub-block, so
    # level, twist and share judge the whole tone.
    back = np.arctan2(lag.imag, lag.real) * np.float32(-1.0 / _LAG_SUBS)
    step = np.empty(back.shape, np.complex64)
    np.cos(back, out=step.real)
    np.sin(back, out=step.imag)
    weighted = tones * _WEIGHTS32[:, None]
    turned = weighted[:, -1].copy()
    for i in range(WINDOW_SUBS - 2, -1, -1):  # Horner in the step
        turned *= step
        turned += weighted[:, i]
    square = np.square(turned.view(np.float32))
    both = square[:, 0::2] + square[:, 1::2]  # (rows, tone)
    weak = np.minimum(both[:, 0], both[:, 1])
    strong = np.maximum(both[:, 0], both[:, 1])
    ok &= weak >= _LEVEL_POWER
    ok &= strong <= _TWIST * weak
    ok &= power[rows, order[:, -3]] <= _THIRD * weak
    ok &= weak + strong >= ENERGY_FRACTION * _ENERGY_SCALE * weighted_energy
    least = np.minimum(energy[:, 0], energy[:, 1])
    for i in range(2, WINDOW_SUBS):
        np.minimum(least, energy[:, i], out=least)
    ok &= least >= (FILL_FRACTION / WINDOW_SUBS) * np.einsum("ri->r", energy)
    return np.where(ok, _SIGNAL_OF_PAIR[pair[:, 0], pair[:, 1]], 0).astype(np.int8)


def _check_direction(direction: object, owner: str) -> Direction:
    if direction == "forward":
        return "forward"
    if direction == "backward":
        return "backward"
    raise ValueError(f"{owner}: expected direction 'forward' or 'backward', got {direction!r}")


class R2Receiver(blocks.FramedDetector[R2Event]):
    """Q.455 receiver of one direction's R2 signals on `channels` 8 kHz streams, all at once."""

    def __init__(self, channels: int, direction: Direction = "forward"):
        self.direction = _check_direction(direction, "R2Receiver")
        self._framer = blocks.Framer(channels, blocks.FRAME, "R2Receiver")
        self._basis = BASES[self.direction]
        self._analyser = blocks.Analyser(self._basis)
        self._turn = _TURN[self.direction]
        c = self._framer.channels
        self._sub_count = 0  # sub-blocks analysed on every channel
        # The last WINDOW_SUBS - 1 sub-blocks: turned correlations (channel, sub-block, frequency)
        # and energies; the new ones follow them on each call.
        self._subs = np.zeros((c, WINDOW_SUBS - 1, 6), np.complex64)
        self._energy = np.zeros((c, WINDOW_SUBS - 1), np.float32)
        self._current = np.zeros(c, np.int8)  # signal recognised (0: none)
        self._misses = np.zeros(c, np.int16)  # windows in a row without it (counted to the release)
        # The last HITS_TO_OPERATE - 1 windows' signals (0: none), oldest first: (window, channel).
        self._recent = np.zeros((HITS_TO_OPERATE - 1, c), np.int8)
        self._busy = False  # some channel has a current signal or a recent one

    def reset(self, channel: int) -> None:
        """Forget `channel`'s audio and signal (its sample index keeps counting)."""
        ch = blocks.check_channel(channel, self.channels, "R2Receiver.reset")
        self._subs[ch] = 0.0
        self._energy[ch] = 0.0
        self._current[ch] = 0
        self._misses[ch] = 0
        self._recent[:, ch] = 0
        self._busy = bool(np.count_nonzero(self._current) or np.count_nonzero(self._recent))

    @property
    def signals(self) -> npt.NDArray[np.int8]:
        """Per channel: the signal recognised now (0: none)."""
        return self._current.copy()

    def status(self) -> dict[str, int | str]:
        return {"channels": self.channels, "direction": self.direction,
                "receiving": int(np.count_nonzero(self._current))}

    def _detect(self, analysis: blocks.Analysis) -> list[R2Event]:
        z = analysis.product(self._basis, "R2Receiver")
        labels = self._labels(z, analysis.sub_energy)
        first = self._sub_count
        self._sub_count += labels.shape[1]
        if not self._busy and not np.count_nonzero(labels):
            return []
        return self._step(labels, first)

    def _labels(self, z: npt.NDArray[np.float32], energy: npt.NDArray[np.float32]) -> npt.NDArray[np.int8]:
        """(C, k): the signal each of the k new windows holds by every Q.455 test (0: none), from the
        new sub-blocks' correlations `z` (C, k, 12) and energies (C, k)."""
        c, k = energy.shape
        keep = WINDOW_SUBS - 1
        if self._subs.shape[1] != keep + k:  # the same arrays tick after tick
            subs = np.zeros((c, keep + k, 6), np.complex64)
            sub_energy = np.zeros((c, keep + k), np.float32)
            subs[:, :keep] = self._subs[:, -keep:]
            sub_energy[:, :keep] = self._energy[:, -keep:]
            self._subs, self._energy = subs, sub_energy
        q, e = self._subs, self._energy
        turn = self._turn.take(np.arange(self._sub_count, self._sub_count + k) % _PERIOD, axis=0)
        np.multiply(np.ascontiguousarray(z).view(np.complex64), turn, out=q[:, keep:])
        e[:, keep:] = energy
        # Window sums on the stream's phase reference: 1, 2, 3, 2, 1 is a run of three summed in threes.
        q3 = q[:, :-2] + q[:, 1:-1]
        q3 += q[:, 2:]
        weighted = q3[:, :-2] + q3[:, 1:-1]
        weighted += q3[:, 2:]  # (C, k, frequency)
        e3 = e[:, :-2] + e[:, 1:-1]
        e3 += e[:, 2:]
        e_weighted = e3[:, :-2] + e3[:, 1:-1]
        e_weighted += e3[:, 2:]  # (C, k)
        square = np.square(weighted.view(np.float32))
        power = square[..., 0::2] + square[..., 1::2]  # (C, k, frequency)
        # Gate on the sum of the six nominal-frequency powers, which is at least the pair's, less
        # _GATE_LOSS for a tone at the frequency limit: above two tones at the level floor, and near
        # the pair's share of the window's energy.
        # Sums by einsum, not by a product with a column of ones: such a product over these few
        # columns was seen to warn now and then of an invalid value among finite, positive inputs
        # (floating-point flags left set inside BLAS, by all appearances).
        total = np.einsum("cki->ck", power)
        gated = (total >= _GATE_LEVEL) & (total >= _GATE_SHARE * e_weighted)
        labels = np.zeros((c, k), np.int8)
        ch, j = gated.nonzero()
        if ch.size:
            at = ch * (keep + k) + j  # each window's first sub-block, as a row of q and e
            span = at[:, None] + np.arange(WINDOW_SUBS)
            flat = j + ch * k
            labels[ch, j] = _confirm(q.reshape(-1, 6).take(span, axis=0), power.reshape(-1, 6).take(flat, axis=0),
                                     e.reshape(-1).take(span), e_weighted.reshape(-1).take(flat))
        q[:, :keep] = q[:, k:]
        e[:, :keep] = e[:, k:]
        return labels

    def _step(self, labels: npt.NDArray[np.int8], first: int) -> list[R2Event]:
        """Run the recognition timing over the windows (C, k); `first` is the first new sub-block.

        A signal operates at the window ending HITS_TO_OPERATE in a row that hold it, unless it is
        the current one; the current one releases after MISSES_TO_RELEASE in a row without it, or
        when another operates. The channels are taken together from one event to the next: the
        current signal is the same for all of a channel's windows up to its next event. Arrays are
        window by channel, so that what runs along the windows runs over all channels at each step."""
        c, k = labels.shape
        every = np.ascontiguousarray(labels.T)  # (window, channel)
        runs = np.concatenate((self._recent, every))
        held = every != 0
        for back in range(1, HITS_TO_OPERATE):
            held &= every == runs[HITS_TO_OPERATE - 1 - back:HITS_TO_OPERATE - 1 - back + k]
        self._recent = runs[k:].copy()
        windows = np.arange(k)[:, None]
        found: list[tuple[int, int, int]] = []  # (window, channel, signal or 0 for the end)
        todo = np.arange(c)
        start = np.zeros(c, np.int64)  # each channel's first window not yet run
        while todo.size:
            cur = self._current[todo]
            lab = every[:, todo]
            from_ = start[todo]
            live = windows >= from_
            same = (lab == cur) & live
            # Windows without the current signal so far: since the last with it, or on from before.
            last = np.maximum.accumulate(np.where(same, windows, -1), axis=0)
            misses = np.where(last >= 0, windows - last, self._misses[todo] + windows + 1 - from_)
            operate = live & held[:, todo] & (lab != cur)
            release = live & (cur != 0) & (misses >= MISSES_TO_RELEASE)
            event = operate | release
            has = event.any(axis=0)
            quiet = ~has
            self._misses[todo[quiet]] = np.minimum(misses[-1, quiet], MISSES_TO_RELEASE)
            if not has.any():
                break
            at = event[:, has].argmax(axis=0)
            chans = todo[has]
            lab = lab[:, has]
            n = np.arange(chans.size)
            signal = np.where(operate[:, has][at, n], lab[at, n], 0)
            old = self._current[chans]
            found += [(w, ch, 0) for w, ch in zip(at[old != 0].tolist(), chans[old != 0].tolist())]
            found += [(w, ch, s) for w, ch, s in zip(at.tolist(), chans.tolist(), signal.tolist()) if s]
            self._current[chans] = signal
            # After its event, a channel needs another round only if another signal operates later
            # in the block, or enough windows are left to release the new one (never in a tick of
            # four); the others need only their misses.
            after = windows > at
            again = ((after & held[:, chans] & (lab != signal)).any(axis=0)
                     | ((signal != 0) & (k - 1 - at >= MISSES_TO_RELEASE)))
            last_with = np.where(~after | (lab == signal), windows, -1).max(axis=0)
            self._misses[chans] = np.where(again | (signal == 0), 0, k - 1 - last_with)  # again: next round
            start[chans] = at + 1
            todo = chans[again]
        self._busy = bool(np.count_nonzero(self._current) or np.count_nonzero(self._recent))
        # In window order; at a window, the ends first, then the signals, each by channel.
        found.sort(key=lambda e: (e[0], e[2] != 0, e[1]))
        return [R2Event(ch, s or None, (first + w + 1) * SUB) for w, ch, s in found]


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
