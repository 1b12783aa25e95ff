"""DTMF digit timing: the receiver's hit/miss rules over its analysis windows, and the reference that
steps them one window at a time (dsp/dtmf_kernel.c runs the same rules; tests hold it to this)."""
# A window is one 20 ms analysis of dsp.dtmf, decided every 5 ms sub-block; its label is the digit
# whose tones passed every test in it, or none. The rules below turn labels into key presses.

from __future__ import annotations

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


class Track:
    """Hit/miss state of many rows, stepped one analysis window at a time (the reference the receiver's
    kernel follows): digits and starts are whatever values the caller uses."""

    def __init__(self, n: int):
        self.cur = np.full(n, -1, np.int64)  # digit being timed or reported (-1: none)
        self.hits = np.zeros(n, np.int64)
        self.misses = np.zeros(n, np.int64)
        self.reported = np.zeros(n, bool)
        self.cand = np.full(n, -1, np.int64)  # after the report: a different digit trying to take over
        self.cand_hits = np.zeros(n, np.int64)
        self.start = np.zeros(n, np.int64)
        self.cand_start = np.zeros(n, np.int64)

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
