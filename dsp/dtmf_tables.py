"""DTMF digit timing: the receiver's hit/miss state machine over its analysis windows, and the tables
that run it a tick of windows per lookup, built from a window-at-a-time reference."""
# A window is one 20 ms analysis of dsp.dtmf, decided every 5 ms sub-block; its label is the digit
# whose tones passed every test in it, or none. The rules below turn labels into key presses.

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

# ETSI ES 201 235-3 (quoted in Asterisk main/dsp.c): a signal > 40 ms shall be recognised, < 20 ms shall
# not; AT&T rejects <= 23 ms. Four valid windows need a tone of 6 to 7 sub-blocks (30-35 ms): a 25 ms
# tone yields at most 3 windows, a 35 ms tone at least 4.
HITS_TO_REPORT = 4
# Before the report, two consecutive invalid windows drop the candidate (a single dropout in noise is
# ridden over, as spandsp's two-block debounce does).
MISSES_TO_DROP = 2
# ETSI ES 201 235-3: a digit shall end after > 40 ms without the signal and shall not for < 20 ms. A gap
# of g samples makes about g/SUB + WIN_SUBS - 1 windows invalid (2*g/SUB below one window; dsp.dtmf's
# grid: SUB = 40 samples, WIN_SUBS = 4): 7 for 20 ms, 11 for 40 ms, so the digit ends after 9 (a gap of
# about 30 ms).
MISSES_TO_END = 9

# The receiver labels four windows per 20 ms tick (one per 5 ms sub-block); a lookup runs a chunk of
# up to this many.
CHUNK = 4


class Track:
    """Hit/miss state of many rows, stepped one analysis window at a time (the reference the
    receiver's tables are built from): digits and starts are whatever values the caller uses."""

    def __init__(self, n: int):
        self.cur = np.full(n, -1, np.int64)  # digit being timed or reported (-1: none)
        self.hits = np.zeros(n, np.int64)
        self.misses = np.zeros(n, np.int64)
        self.reported = np.zeros(n, bool)
        self.cand = np.full(n, -1, np.int64)  # after the report: a different digit trying to take over
        self.cand_hits = np.zeros(n, np.int64)
        self.start = np.zeros(n, np.int64)
        self.cand_start = np.zeros(n, np.int64)

    def key(self) -> npt.NDArray[np.int64]:
        """Counters and flags (no digits, no starts) as one int per row."""
        return ((((self.cur >= 0) * (HITS_TO_REPORT + 1) + self.hits) * MISSES_TO_END + self.misses) * 2
                + self.reported) * 2 * HITS_TO_REPORT + (self.cand >= 0) * HITS_TO_REPORT + self.cand_hits

    def step(self, lab: npt.NDArray[np.int64], est: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
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
# form the table's state; window j's label is coded by the first of (no signal, the current digit,
# the candidate, window 0's label, ..., window j's label) it equals, so code 3 + j means first seen at
# window j. An entry (a row) gives the next state, then where the new start, candidate start, no
# signal, digit and candidate, and any reported digit and start come from, as rows of the receiver's
# machine (state, start, candidate start, no signal, digit, candidate) followed by the chunk's labels
# and start estimates (digits and labels as 1 + the digit, 0: none); last, 1 + the window of the
# report (0: none). A chunk of four windows reports at most one digit per channel (checked on
# building).
_STATE, _START, _CAND_START, _NONE, _DIGIT, _CAND = range(6)
_LABELS = _CAND + 1  # the first of the chunk's labels, after the machine's rows
_CODES = 3 + CHUNK
_POWERS = _CODES ** np.arange(CHUNK)
_NEXT, _SOURCES, _REPORT = 0, slice(1, 8), 8
_KEPT = _LABELS - _START  # sources of rows _START.._CAND; the report's digit and start follow
_WINDOW_NUMBERS = np.arange(1, CHUNK + 1)  # in _REPORT
_OLD_CUR, _OLD_CAND, _NO_DIGIT, _NEW_DIGIT = 100, 101, -1, 200  # stand-in digits while tabulating
_OLD_START, _OLD_CAND_START, _EST = 1000, 1001, 2000  # stand-in starts


def _patterns(m: int) -> npt.NDArray[np.int64]:
    """Every coding of m windows: a window refers back only to a window where a digit was first seen."""
    out = []
    for codes in itertools.product(range(3 + m), repeat=m):
        if all(c < 3 + j and (c < 3 or codes[c - 3] == c) or c == 3 + j for j, c in enumerate(codes)):
            out.append(codes)
    return np.array(out, np.int64)


def _tabulate() -> dict[int, npt.NDArray[np.int16]]:
    """{m: table (states * _CODES**m, 9)} for chunks of 1..CHUNK windows; state 0 is idle."""
    keys = [Track(1).key()[0]]
    tables = {}
    # One window at a time reaches every state, so m = 1 finds them all and longer chunks none new.
    for m in range(1, CHUNK + 1):
        patterns = _patterns(m)
        index = 0
        entries = []
        while index < len(keys):
            states = np.array(keys[index:])
            index = len(keys)
            s = np.repeat(states, len(patterns))
            p = np.tile(patterns, (len(states), 1))
            t = Track(s.size)
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
                lab = np.select([p[:, j] == 0, p[:, j] == 1, p[:, j] == 2],
                                [_NO_DIGIT, _OLD_CUR, _OLD_CAND], _NEW_DIGIT + p[:, j] - 3)
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
                                  [_DIGIT, _CAND, _NONE], _LABELS + digits - _NEW_DIGIT)
            start_src = np.select([starts == _OLD_START, starts == _OLD_CAND_START],
                                  [_START, _CAND_START], _LABELS + m + starts - _EST)
            entries.append(np.column_stack([s, p @ _POWERS[:m], t.key(), start_src[0], start_src[1],
                                            digit_src[0], digit_src[1], digit_src[2], digit_src[3],
                                            start_src[2], report_at + 1])[possible])
        tables[m] = np.concatenate(entries)
    lookup = np.zeros(max(keys) + 1, np.int64)
    lookup[keys] = np.arange(len(keys))
    out = {}
    for m, e in tables.items():
        table = np.zeros((len(keys), _CODES ** m, 9), np.int16)
        table[lookup[e[:, 0]], e[:, 1]] = np.column_stack([lookup[e[:, 2]], e[:, 3:]])
        out[m] = table.reshape(-1, 9)
    return out


TABLES = _tabulate()


class DigitMachine:
    """The state machine of many channels run by table lookup: the receiver writes a chunk's labels
    (1 + the digit, 0: none) and start estimates into `rows(m)`, then `step(m)` moves every channel on
    and returns the key presses completed, as (channel, label, start) in window, then channel order."""

    def __init__(self, channels: int):
        self.channels = channels
        self._channel_ids = np.arange(channels)
        # Rows _STATE.._CAND (see the tables above) by channel, then room for a chunk's labels and
        # start estimates.
        self._values = np.zeros((_LABELS + 2 * CHUNK, channels), np.int64)
        self._machine = self._values[:_LABELS]

    @property
    def busy(self) -> bool:
        """Some channel is inside a digit (timing, reported or ending); if none is and no window has a
        label, a step changes nothing."""
        return bool(np.count_nonzero(self._machine[_STATE]))

    @property
    def labels(self) -> npt.NDArray[np.int64]:
        """Per channel: 1 + the digit being timed or reported, 0: none."""
        return self._machine[_DIGIT]

    @property
    def starts(self) -> npt.NDArray[np.int64]:
        """Per channel: where that digit's tone began (meaningful where `labels` is not 0)."""
        return self._machine[_START]

    def reset(self, channel: int) -> None:
        self._machine[:, channel] = 0

    def rows(self, m: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The rows (views, windows x channels) for a chunk of m <= CHUNK windows' labels and start
        estimates."""
        return self._values[_LABELS:_LABELS + m], self._values[_LABELS + m:_LABELS + 2 * m]

    def track(self, labels: npt.NDArray[np.int64], ests: npt.NDArray[np.int64]) -> list[tuple[int, int, int]]:
        """Run any number of windows' labels and start estimates (windows x channels), a lookup per
        CHUNK windows."""
        reports = []
        for a in range(0, len(labels), CHUNK):
            chunk = labels[a:a + CHUNK]
            row_labels, row_ests = self.rows(len(chunk))
            row_labels[...] = chunk
            row_ests[...] = ests[a:a + CHUNK]
            reports += self.step(len(chunk))
        return reports

    def step(self, m: int) -> list[tuple[int, int, int]]:
        """One table lookup for the chunk of m windows in the rows: the machine moves on, the reports
        come out."""
        machine, values = self._machine, self._values
        # The first ref each label equals: window j's own label is ref 3 + j, so none comes later (one
        # argmax over the few refs of each channel costs less than weighing the matches and a max).
        codes = (values[_LABELS:_LABELS + m, None] == values[None, _NONE:_LABELS + m]).argmax(axis=1)
        entry = TABLES[m].take(machine[_STATE] * _CODES ** m + _POWERS[:m] @ codes, axis=0).T
        got = values[entry[_SOURCES], self._channel_ids]
        machine[_STATE] = entry[_NEXT]
        machine[_START:] = got[:_KEPT]
        # In window order, then channel order, as one window at a time would give them.
        _, reported = (entry[_REPORT] == _WINDOW_NUMBERS[:m, None]).nonzero()
        if not reported.size:
            return []
        digits, starts = got[_KEPT:, reported]
        return list(zip(reported.tolist(), digits.tolist(), starts.tolist()))
