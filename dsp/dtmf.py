"""DTMF receiver for many channels at once: int16 blocks in, one event per key press out."""

import itertools
from dataclasses import dataclass

import numpy as np

from dsp import blocks
from dsp.blocks import SUB
from dsp.levels import RATE, dbm0_to_amplitude
from dsp.tonegen import DTMF_HIGH, DTMF_KEYS, DTMF_LOW

# Analysis grid: 5 ms sub-blocks (40 samples, so a 20 ms tick is exactly four), decided every
# sub-block on a sliding window of the last four (20 ms, 160 samples).
WIN_SUBS = 4
WIN = SUB * WIN_SUBS

_FREQS = np.array(DTMF_LOW + DTMF_HIGH)
_DIGITS = "".join(DTMF_KEYS)

# Level: spandsp src/dtmf.c dtmf_threshold = goertzel_threshold_dbm0(102, -42) and Asterisk
# DTMF_THRESHOLD (about -42.3 dBm0) reject below -42 dBm0 per tone; reference/dsp.md §1.2 asks for
# acceptance down to -36 dBm0 and no digit at -50. Applied to the nominal-frequency power, which loses
# at most 3.8 dB for a tone 1.5 % off, so -36 dBm0 stays above it.
LEVEL_MIN_DBM0 = -42.0
# Relative peak: spandsp/Asterisk DTMF_RELATIVE_PEAK_ROW/COL 6.3 (8 dB). Here the chosen tone of each
# group must exceed the sum of the other three by 8 dB, at least as strict as the peers' test against
# each of them.
RELATIVE_PEAK_DB = 8.0
# Twist (high-group level minus low-group level): Q.24 AT&T column, as in spandsp/Asterisk
# (reference/dsp.md §1.2), must accept [-8, +4] dB. The lower limit is AMBE-2000 Table 5-K's reject
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
# ETSI ES 201 235-3 (quoted in Asterisk main/dsp.c): a signal > 40 ms shall be recognised, < 20 ms shall
# not; AT&T rejects <= 23 ms. Four valid windows need a tone of 6 to 7 sub-blocks (30-35 ms): a 25 ms
# tone yields at most 3 windows, a 35 ms tone at least 4.
HITS_TO_REPORT = 4
# Before the report, two consecutive invalid windows drop the candidate (a single dropout in noise is
# ridden over, as spandsp's two-block debounce does).
MISSES_TO_DROP = 2
# ETSI ES 201 235-3: a digit shall end after > 40 ms without the signal and shall not for < 20 ms. A gap
# of g samples makes about g/SUB + WIN_SUBS - 1 windows invalid (2*g/SUB below one window): 7 for
# 20 ms, 11 for 40 ms, so the digit ends after 9 (a gap of about 30 ms).
MISSES_TO_END = 9

_LEVEL_POWER = (dbm0_to_amplitude(LEVEL_MIN_DBM0) * WIN / 2.0) ** 2
# best >= ratio * (total - best)  <=>  best >= ratio / (1 + ratio) * total
_PEAK_SHARE = 1.0 / (1.0 + 10.0 ** (-RELATIVE_PEAK_DB / 10.0))
_TWIST_MIN = 10.0 ** (TWIST_MIN_DB / 10.0)
_TWIST_MAX = 10.0 ** (TWIST_MAX_DB / 10.0)
# Phase advance per sub-block at the frequency-tolerance limit, per tone (all under a quarter turn,
# which the frequency test relies on).
_PHASE_TOL = ((2.0 * np.pi * SUB / RATE) * FREQ_TOL * _FREQS).astype(np.float32)

# Sub-block correlators: a real (SUB, 16) matrix whose columns interleave cos and -sin of the 8 tones,
# so one product for all channels and sub-blocks yields float32 pairs that view as complex64 sums
# of x[n] * exp(-j w n), n counted from each sub-block's first sample.
_OMEGA = 2.0 * np.pi * _FREQS / RATE
BASIS = np.stack([np.cos(np.outer(np.arange(SUB), _OMEGA)), -np.sin(np.outer(np.arange(SUB), _OMEGA))],
                 axis=-1).reshape(SUB, 16).astype(np.float32)
# Phase of each tone at the start of sub-block m: f * SUB / RATE = f / 200 cycles per sub-block, so
# the rotation repeats every 200 sub-blocks for the integer Q.23 frequencies.
_ROT_PERIOD = RATE // SUB
_ROT = np.exp(-1j * np.outer(np.arange(2 * _ROT_PERIOD) * SUB, _OMEGA)).astype(np.complex64)
_STEPS = np.arange(WIN_SUBS)
_GROUP_FIRST = np.array([0, 4])
_DIGIT_OF_PICK = np.array([4, 1])  # (row, column) -> index in DTMF_KEYS
_ONES4 = np.ones(4, np.float32)
_ONES2 = np.ones(2, np.float32)
# Sums each group's four tone powers.
_GROUPS = np.repeat(np.eye(2, dtype=np.float32), 4, axis=0)
# Margins from (row power, column power, window energy, 4 sub-block powers): column over row above
# the twist minimum and below the maximum; twice their sum (a sine of amplitude A gives A^2 WIN^2 / 4
# here and A^2 WIN / 2 of energy) against ENERGY_FRACTION of the window energy; first and last
# sub-block against EDGE_POWER_RATIO of the middle two's mean.
_TESTS = np.array([
    [-_TWIST_MIN, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [_TWIST_MAX, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [2.0, 2.0, -ENERGY_FRACTION * WIN, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 1.0, -EDGE_POWER_RATIO / 2, -EDGE_POWER_RATIO / 2, 0.0],
    [0.0, 0.0, 0.0, 0.0, -EDGE_POWER_RATIO / 2, -EDGE_POWER_RATIO / 2, 1.0],
], np.float32)


@dataclass(frozen=True)
class DtmfEvent:
    """One key press: `start` is the estimated first sample of the tone on that channel's stream."""

    channel: int
    digit: str
    start: int


# ---------------------------------------------------------------- hit/miss state machine

class _Track:
    """Hit/miss state of many rows, stepped one analysis window at a time (the reference the
    receiver's tables are built from): digits and starts are whatever values the caller uses."""

    def __init__(self, n):
        self.cur = np.full(n, -1, np.int64)  # digit being timed or reported (-1: none)
        self.hits = np.zeros(n, np.int64)
        self.misses = np.zeros(n, np.int64)
        self.reported = np.zeros(n, bool)
        self.cand = np.full(n, -1, np.int64)  # after the report: a different digit trying to take over
        self.cand_hits = np.zeros(n, np.int64)
        self.start = np.zeros(n, np.int64)
        self.cand_start = np.zeros(n, np.int64)

    def key(self):
        """Counters and flags (no digits, no starts) as one int per row."""
        return ((((self.cur >= 0) * (HITS_TO_REPORT + 1) + self.hits) * MISSES_TO_END + self.misses) * 2
                + self.reported) * 2 * HITS_TO_REPORT + (self.cand >= 0) * HITS_TO_REPORT + self.cand_hits

    def step(self, lab, est):
        """One window: `lab` its digit (-1: no valid signal), `est` where such a tone began. Returns
        the rows whose digit is reported at this window."""
        cur, hits, misses, reported = self.cur, self.hits, self.misses, self.reported
        cand, cand_hits, start, cand_start = self.cand, self.cand_hits, self.start, self.cand_start
        valid = lab >= 0
        same = valid & (lab == cur)
        other = valid & ~same
        # Before the report a different digit simply takes over; after it, it must win on its own.
        takeover = other & ~reported
        cur[takeover] = lab[takeover]
        hits[takeover] = 0
        start[takeover] = est[takeover]
        rival = other & reported
        grow = rival & (lab == cand)
        cand_hits[grow] += 1
        fresh = rival & ~grow
        cand[fresh] = lab[fresh]
        cand_hits[fresh] = 1
        cand_start[fresh] = est[fresh]
        cand[~rival] = -1
        cand_hits[~rival] = 0
        switch = rival & (cand_hits >= HITS_TO_REPORT)
        cur[switch] = cand[switch]
        hits[switch] = cand_hits[switch] - 1
        start[switch] = cand_start[switch]
        reported[switch] = False
        cand[switch] = -1
        cand_hits[switch] = 0

        hit = same | takeover | switch
        # Hits only matter up to the report; the cap keeps a stuck tone from overflowing.
        hits[hit] = np.minimum(hits[hit] + 1, HITS_TO_REPORT)
        misses[hit] = 0
        miss = ~hit & (cur >= 0)
        misses[miss] += 1
        drop = miss & ((reported & (misses >= MISSES_TO_END)) | (~reported & (misses >= MISSES_TO_DROP)))
        cur[drop] = -1
        hits[drop] = 0
        misses[drop] = 0
        reported[drop] = False
        fire = hit & ~reported & (hits >= HITS_TO_REPORT)
        reported[fire] = True
        return fire


# The state machine runs a tick (four windows) at a time by table lookup. Only its counters and flags
# form the table's state; window j's digit is coded by the first of (no signal, the current digit,
# the candidate, window 0's digit, ..., window j's digit) it equals, so code 3 + j means first seen at
# window j. An entry gives the next state, then where the new start, candidate start, -1, digit and
# candidate, and any reported digit and start come from, as columns of the channel's row (state,
# start, candidate start, -1, digit, candidate) followed by the chunk's labels and start estimates;
# last, the window of the report (-1: none). A chunk of four windows reports at most one digit per
# channel (checked on building).
_STATE, _START, _CAND_START, _NONE, _DIGIT, _CAND = range(6)
_REFS = slice(_NONE, _CAND + 1)  # what a window's digit is compared with, before the windows
_CODES = 3 + WIN_SUBS
_POWERS = _CODES ** np.arange(WIN_SUBS)
# Window j may refer to windows 0..j only.
_ALLOWED = {m: np.hstack((np.ones((m, 3), bool), np.tri(m, m, dtype=bool))) for m in range(1, WIN_SUBS + 1)}
_NEXT, _SOURCES, _REPORT_AT = 0, slice(1, 8), 8
_OLD_CUR, _OLD_CAND, _NO_DIGIT, _NEW_DIGIT = 100, 101, -1, 200  # stand-in digits while tabulating
_OLD_START, _OLD_CAND_START, _EST = 1000, 1001, 2000  # stand-in starts


def _patterns(m):
    """Every coding of m windows: a window refers back only to a window where a digit was first seen."""
    out = []
    for codes in itertools.product(range(3 + m), repeat=m):
        if all(c < 3 + j and (c < 3 or codes[c - 3] == c) or c == 3 + j for j, c in enumerate(codes)):
            out.append(codes)
    return np.array(out, np.int64)


def _tabulate():
    """{m: table (states, _CODES**m, 9)} for chunks of 1..WIN_SUBS windows; state 0 is idle."""
    keys = [_Track(1).key()[0]]
    tables = {}
    # One window at a time reaches every state, so m = 1 finds them all and longer chunks none new.
    for m in range(1, WIN_SUBS + 1):
        patterns = _patterns(m)
        index = 0
        entries = []
        while index < len(keys):
            states = np.array(keys[index:])
            index = len(keys)
            s = np.repeat(states, len(patterns))
            p = np.tile(patterns, (len(states), 1))
            t = _Track(s.size)
            t.cand_hits, rest = s % HITS_TO_REPORT, s // HITS_TO_REPORT
            cand_set, rest = rest % 2, rest // 2
            t.reported, rest = (rest % 2).astype(bool), rest // 2
            t.misses, rest = rest % MISSES_TO_END, rest // MISSES_TO_END
            t.hits, cur_set = rest % (HITS_TO_REPORT + 1), rest // (HITS_TO_REPORT + 1)
            t.cur = np.where(cur_set == 1, _OLD_CUR, _NO_DIGIT)
            t.cand = np.where(cand_set == 1, _OLD_CAND, _NO_DIGIT)
            t.start[:] = _OLD_START
            t.cand_start[:] = _OLD_CAND_START
            # A pattern naming a current digit or candidate the state does not have never occurs.
            possible = ((p == 1).any(axis=1) <= (cur_set == 1)) & ((p == 2).any(axis=1) <= (cand_set == 1))
            report_at = np.full(s.size, -1)
            report_digit = np.full(s.size, _NO_DIGIT)
            report_start = np.full(s.size, _OLD_START)
            for j in range(m):
                lab = np.choose(np.minimum(p[:, j], 3),
                                (_NO_DIGIT, _OLD_CUR, _OLD_CAND, _NEW_DIGIT + p[:, j] - 3))
                fire = t.step(lab, np.full(s.size, _EST + j))
                if (fire & (report_at >= 0) & possible).any():
                    raise AssertionError("DTMF state machine: two reports in one tick")
                report_at[fire] = j
                report_digit[fire] = t.cur[fire]
                report_start[fire] = t.start[fire]
            for key in np.unique(t.key()[possible]).tolist():
                if key not in keys:
                    if m > 1:
                        raise AssertionError("DTMF state machine: a state one window at a time misses")
                    keys.append(key)
            digits = np.stack([np.full(s.size, _NO_DIGIT), t.cur, t.cand, report_digit])
            starts = np.stack([t.start, t.cand_start, report_start])
            digit_src = np.select([digits == _OLD_CUR, digits == _OLD_CAND, digits == _NO_DIGIT],
                                  [_DIGIT, _CAND, _NONE], _CAND + 1 + digits - _NEW_DIGIT)
            start_src = np.select([starts == _OLD_START, starts == _OLD_CAND_START],
                                  [_START, _CAND_START], _CAND + 1 + m + starts - _EST)
            entries.append(np.column_stack([s, p @ _POWERS[:m], t.key(), start_src[0], start_src[1],
                                            digit_src[0], digit_src[1], digit_src[2], digit_src[3],
                                            start_src[2], report_at])[possible])
        tables[m] = np.concatenate(entries)
    lookup = np.zeros(max(keys) + 1, np.int64)
    lookup[keys] = np.arange(len(keys))
    out = {}
    for m, e in tables.items():
        table = np.zeros((len(keys), _CODES ** m, 9), np.int16)
        table[lookup[e[:, 0]], e[:, 1]] = np.column_stack([lookup[e[:, 2]], e[:, 3:]])
        out[m] = table
    return out


_TABLES = _tabulate()


# ---------------------------------------------------------------- receiver

class DtmfDetector:
    """Q.23 / Q.24 DTMF receiver for `channels` 8 kHz streams, fed int16 blocks shaped (channels, n)."""

    def __init__(self, channels):
        if int(channels) != channels or channels < 1:
            raise ValueError(f"DtmfDetector: expected a positive channel count, got {channels!r}")
        self.channels = int(channels)
        c = self.channels
        self._analyser = blocks.Analyser(BASIS)
        self._pending = np.zeros((c, 0), np.int16)
        self._sub_count = 0
        self._hist = np.zeros((c, WIN_SUBS - 1, 8), np.complex64)
        self._hist_energy = np.zeros((c, WIN_SUBS - 1), np.float32)
        self._origin = np.zeros(c, np.int64)
        # Per channel: state-machine table row, start, candidate start, -1, current digit, candidate.
        self._machine = np.zeros((c, 6), np.int64)
        self._machine[:, _REFS] = -1
        # Where each channel's row starts in the flattened (machine, labels, estimates) of m windows.
        self._rows = {m: np.arange(c)[:, None] * (6 + 2 * m) for m in range(1, WIN_SUBS + 1)}
        # Any channel inside a digit: when none is and no window is valid, the state machine has
        # nothing to do.
        self._busy = False

    def reset(self, channel):
        """Forget channel `channel`'s audio and digit state; its sample index restarts at 0."""
        if not 0 <= channel < self.channels:
            raise ValueError(
                f"DtmfDetector.reset: expected a channel in 0..{self.channels - 1}, got {channel}")
        self._pending[channel] = 0
        self._hist[channel] = 0.0
        self._hist_energy[channel] = 0.0
        self._origin[channel] = self._sub_count * SUB + self._pending.shape[1]
        self._machine[channel] = 0
        self._machine[channel, _REFS] = -1
        self._busy = np.count_nonzero(self._machine[:, _DIGIT] >= 0) > 0

    def process(self, block):
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
        self._pending = block[:, k * SUB:].copy()
        if k == 0:
            return []
        return self._detect(self._analyser.analyse(block[:, :k * SUB]))

    def process_tick(self, analysis):
        """Feed one tick analysed by the shared front end (dsp.frontend.TickAnalyser); returns the same
        events as process() of that tick."""
        blocks.check_analysis(analysis, self.channels, "DtmfDetector.process_tick")
        if self._pending.shape[1]:
            raise ValueError(f"DtmfDetector.process_tick: a tick must start on the sub-block grid, but "
                             f"{self._pending.shape[1]} samples of an earlier block are pending")
        return self._detect(analysis)

    def _detect(self, analysis):
        energy = analysis.sub_energy
        k = energy.shape[1]
        sub = analysis.product(BASIS, "DtmfDetector").view(np.complex64)
        first_sub = self._sub_count
        self._sub_count += k
        # The table holds two periods, so up to one period of sub-blocks is a plain slice.
        phase = first_sub % _ROT_PERIOD
        rot = _ROT[phase:phase + k] if k <= _ROT_PERIOD else _ROT[(phase + np.arange(k)) % _ROT_PERIOD]
        full = np.concatenate([self._hist, sub * rot], axis=1)
        self._hist = full[:, k:]
        energies = np.concatenate([self._hist_energy, energy], axis=1)
        self._hist_energy = energies[:, k:]

        # Nominal-frequency power over each 20 ms window, gated on level and relative peak; the finer
        # tests below run only for the few (channel, window) pairs that pass.
        pairs = full[:, :-1] + full[:, 1:]
        z = pairs[:, :k] + pairs[:, 2:k + 2]
        square = np.square(z.view(np.float32))
        power = square[..., 0::2] + square[..., 1::2]
        # Max over each group of four by pairwise halving (tone order is low 0-3, high 4-7).
        best = np.maximum(power[..., 0::2], power[..., 1::2])
        best = np.maximum(best[..., 0::2], best[..., 1::2])
        gate = best >= np.maximum(_PEAK_SHARE * (power.reshape(-1, 8) @ _GROUPS).reshape(best.shape),
                                  _LEVEL_POWER)
        ci, hi = (gate[..., 0] & gate[..., 1]).nonzero()
        labels = unfilled = ci
        if ci.size:
            ci, hi, labels, unfilled = self._confirm(full, energies, power, ci, hi)
        if not ci.size and not self._busy:
            return []
        lab = np.full((self.channels, k), -1, np.int64)
        lab[ci, hi] = labels
        # The window ending at sub-block first_sub + h began WIN_SUBS - 1 sub-blocks earlier; the tone
        # began inside its first sub-block, after the part it did not fill.
        est = np.zeros((self.channels, k), np.int64)
        est[ci, hi] = np.maximum((first_sub + hi - (WIN_SUBS - 1)) * SUB + unfilled - self._origin[ci], 0)
        return self._track(lab, est)

    def _confirm(self, full, energies, power, ci, hi):
        """(channels, windows, digits, unfilled samples of the first sub-block) of the gated windows
        that pass frequency, twist, energy and edge tests."""
        k = power.shape[1]
        w = ci * k + hi
        pick = power.reshape(-1, 8)[w].reshape(-1, 2, 4).argmax(axis=-1)
        first = ci * (k + WIN_SUBS - 1) + hi  # the window's first sub-block in `full` and `energies`
        # (WIN_SUBS sub-blocks, row / column, candidates): sub-block phasors of the chosen tones.
        ph = full.ravel()[pick.T + (first * 8 + _GROUP_FIRST[:, None]) + _STEPS[:, None, None] * 8]
        square = np.square(ph.view(np.float32))
        sub_pow = (square[:, 0] + square[:, 1]).reshape(WIN_SUBS, -1, 2) @ _ONES2
        pairs = energies[:, :-1] + energies[:, 1:]
        win_energy = (pairs[:, :k] + pairs[:, 2:k + 2]).ravel()[w]
        # Screen for the energy test below: the frequency-corrected sum of four sub-block phasors has
        # at most 4 times their summed power (Cauchy-Schwarz), so a window failing this fails that.
        keep = _ONES4 @ sub_pow >= (ENERGY_FRACTION * WIN / 8.0) * win_energy
        if np.count_nonzero(keep) < keep.size:
            ci, hi, pick, win_energy = ci[keep], hi[keep], pick[keep], win_energy[keep]
            ph, sub_pow = ph[..., keep], sub_pow[:, keep]
            if not ci.size:
                return ci, hi, ci, ci
        # Phase advance per sub-block. Fine: between the two 10 ms halves of the window, where the other
        # tone leaks in about 20 dB lower, but ambiguous beyond +-50 Hz. Coarse: from consecutive 5 ms
        # sub-blocks, unambiguous to +-100 Hz but 40 samples do not separate the row tone from the
        # column tone, so up to 8 dB of twist pulls it. The advance is the fine value on the branch
        # nearest the coarse one; any other branch is more than the tolerance (under a quarter turn)
        # away from zero, so a window passes only if the coarse value lies within a quarter turn of
        # the fine one and the fine one within the tolerance.
        lags = ph[1:] * ph[:-1].conj()
        lag = lags[0] + lags[1] + lags[2]
        coarse = np.arctan2(lag.imag, lag.real)
        halves = (ph[2] + ph[3]) * (ph[0] + ph[1]).conj()
        advance = np.arctan2(halves.imag, halves.real) / 2.0
        # Derotate by the measured frequency offset (Horner in the unit phasor) so twist and energy
        # use the tone's full power.
        unit = np.empty(advance.shape, np.complex64)
        unit.real = np.cos(advance)
        unit.imag = -np.sin(advance)
        zc = ph[3]
        for i in (2, 1, 0):
            zc = ph[i] + unit * zc
        tones = np.square(zc.view(np.float32)).reshape(2, -1, 2) @ _ONES2
        # Every test as a margin that must not be negative: frequency of each tone (both estimates),
        # then twist both ways, share of the window energy and fill of the first and last sub-block,
        # linear in (row, column, window energy, sub-block powers).
        margins = np.concatenate((_PHASE_TOL[pick + _GROUP_FIRST].T - np.abs(advance),
                                  np.pi / 2 - np.abs(coarse - advance),
                                  _TESTS @ np.concatenate((tones, win_energy[None], sub_pow))))
        ok = np.minimum.reduce(margins) >= 0.0
        sub_pow = sub_pow[:, ok]
        mid = 0.5 * (sub_pow[1] + sub_pow[2])
        fill = np.sqrt(np.minimum(sub_pow[0], mid) / np.maximum(mid, 1e-30))
        unfilled = np.rint((1.0 - fill) * SUB).astype(np.int64)
        return ci[ok], hi[ok], pick[ok] @ _DIGIT_OF_PICK, unfilled

    def _track(self, lab, est):
        """Run the state machine over every channel's window labels (and start estimates), a table
        lookup per four windows; a channel without a digit and without valid windows stays as it is."""
        machine = self._machine
        events = []
        for a in range(0, lab.shape[1], WIN_SUBS):
            chunk = lab[:, a:a + WIN_SUBS]
            m = chunk.shape[1]
            values = np.concatenate((machine, chunk, est[:, a:a + m]), axis=1)
            refs = values[:, _NONE:_CAND + 1 + m]
            codes = ((chunk[:, :, None] == refs[:, None, :]) & _ALLOWED[m]).argmax(axis=2)
            entry = _TABLES[m][machine[:, _STATE], codes @ _POWERS[:m]]
            got = values.ravel()[self._rows[m] + entry[:, _SOURCES]]
            machine[:, _STATE] = entry[:, _NEXT]
            machine[:, _START:] = got[:, :5]
            reported = (entry[:, _REPORT_AT] >= 0).nonzero()[0]
            if reported.size:
                # In window order, then channel order, as one window at a time would give them.
                reported = reported[entry[reported, _REPORT_AT].argsort(kind="stable")]
                events += map(DtmfEvent, reported.tolist(), [_DIGITS[d] for d in got[reported, 5].tolist()],
                              got[reported, 6].tolist())
        self._busy = np.count_nonzero(machine[:, _DIGIT] >= 0) > 0
        return events
