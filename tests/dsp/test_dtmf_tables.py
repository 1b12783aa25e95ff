"""The DTMF receiver's digit timing, as its kernel (dsp/dtmf_kernel.c) runs it over any number of
windows at a time and as dsp.dtmf_tables.Track steps it, against a plain state machine written here
from the timing rules and stepped one analysis window at a time."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp import dtmf_kernel
from dsp.dtmf import _KERNEL_CONSTANTS, _STATE, WIN_SUBS
from dsp.dtmf_tables import Track

# The rules, in analysis windows (one per 5 ms sub-block, each 20 ms long), from ETSI ES 201 235-3
# (a signal > 40 ms shall be recognised, < 20 ms shall not; a digit shall end after > 40 ms without
# the signal and shall not for < 20 ms) and the AT&T column of ITU-T Q.24 (reject <= 23 ms):
# a digit is reported once 4 windows carried it (a tone of 30-35 ms gives 4);
HITS = 4
# before its report one window without it is ridden over, the second in a row drops it;
MISSES_BEFORE_REPORT = 2
# after its report it ends after 9 windows in a row without it (a gap of about 30 ms);
MISSES_AFTER_REPORT = 9
# and another digit heard after the report must last as long as a new digit on its own (HITS windows
# in a row) to be the next key press, reported from where its tone began.


class PlainReceiver:
    """One channel's digit timing, one window at a time, in plain Python."""

    def __init__(self):
        self.digit = None           # the digit being timed or reported
        self.start = None           # where its tone began
        self.count = 0              # windows it was heard in (counted up to HITS)
        self.missing = 0            # windows in a row it was not heard in
        self.reported = False
        self.rival = None           # after the report: another digit heard in a row
        self.rival_count = 0
        self.rival_start = None

    def window(self, digit, start):
        """One window: the digit it carried (None: no valid signal) and where that tone began. Returns
        the key press (digit, start) completed at this window, if one is."""
        heard = False
        rival = digit is not None and digit != self.digit and self.reported
        if rival:
            if digit == self.rival:
                self.rival_count += 1
            else:
                self.rival, self.rival_count, self.rival_start = digit, 1, start
            if self.rival_count >= HITS:
                self.digit, self.start, self.count = self.rival, self.rival_start, HITS - 1
                self.reported = False
                self.rival, self.rival_count = None, 0
                heard = True
        else:
            self.rival, self.rival_count = None, 0
            if digit is not None and digit == self.digit:
                heard = True
            elif digit is not None:
                # Before the report another digit simply takes over, from where its tone began.
                self.digit, self.start, self.count = digit, start, 0
                heard = True
        if heard:
            self.count = min(self.count + 1, HITS)
            self.missing = 0
            if not self.reported and self.count >= HITS:
                self.reported = True
                return self.digit, self.start
            return None
        if self.digit is not None:
            self.missing += 1
            if self.missing >= (MISSES_AFTER_REPORT if self.reported else MISSES_BEFORE_REPORT):
                self.digit, self.start, self.count, self.missing, self.reported = None, None, 0, 0, False
        return None


def plain(labels, starts):
    """Key presses (channel, digit, start) of labels (channels x windows, -1: none), in window then
    channel order, and each channel's digit (-1: none) and its start at the end."""
    receivers = [PlainReceiver() for _ in labels]
    presses = []
    for j in range(labels.shape[1]):
        for c, rx in enumerate(receivers):
            label = int(labels[c, j])
            press = rx.window(None if label < 0 else label, int(starts[c, j]))
            if press is not None:
                presses.append((c, *press))
    return presses, [(-1 if rx.digit is None else rx.digit, rx.start) for rx in receivers]


def kernel(labels, starts, chunks):
    """The same through the receiver's kernel, fed `chunks` windows at a time (cycled)."""
    state = np.zeros(len(labels), _STATE)
    presses = []
    j = 0
    for k in chunks_cycle(chunks, labels.shape[1]):
        # The kernel takes (windows, channels), labels as 1 + the digit.
        got = dtmf_kernel.track(state, np.ascontiguousarray(labels[:, j:j + k].T + 1),
                                np.ascontiguousarray(starts[:, j:j + k].T), _KERNEL_CONSTANTS)
        presses += [(c, label - 1, start) for c, label, start in got]
        j += k
    ends = [(int(d) - 1, int(s) if d else None) for d, s in zip(state["cur"], state["start"])]
    return presses, ends


def reference(labels, starts):
    """The same through dsp.dtmf_tables.Track, one window at a time."""
    track = Track(len(labels))
    presses = []
    for j in range(labels.shape[1]):
        fire = track.step(labels[:, j], starts[:, j])
        presses += [(int(c), int(track.cur[c]), int(track.start[c])) for c in np.flatnonzero(fire)]
    ends = [(int(d), int(s) if d >= 0 else None) for d, s in zip(track.cur, track.start)]
    return presses, ends


def chunks_cycle(chunks, total):
    done, i = 0, 0
    while done < total:
        k = min(chunks[i % len(chunks)], total - done)
        yield k
        done += k
        i += 1


def windows(runs, length):
    """Label sequence of `length` windows from (label, run length) pairs, padded with no signal."""
    out = [label for label, n in runs for _ in range(n)][:length]
    return out + [-1] * (length - len(out))


# Runs of a few digits and of no signal, long and short, so that reports, bridged drop-outs, drops,
# repeats, takeovers before the report and rivals after it all happen.
RUNS = st.lists(st.tuples(st.sampled_from([-1, -1, 0, 1, 5, 15]), st.one_of(st.integers(1, 5), st.integers(1, 14))),
                max_size=30)


@settings(max_examples=300, deadline=None)
@given(channels=st.lists(RUNS, min_size=1, max_size=4), chunks=st.lists(st.integers(1, 2 * WIN_SUBS + 1),
                                                                         min_size=1, max_size=6),
       seed=st.integers(0, 2**32 - 1))
def test_kernel_and_reference_report_what_the_plain_state_machine_reports(channels, chunks, seed):
    length = max(1, max(sum(n for _, n in runs) for runs in channels))
    labels = np.array([windows(runs, length) for runs in channels], np.int64)
    starts = np.random.default_rng(seed).integers(0, 10**6, labels.shape)
    presses, ends = plain(labels, starts)
    for got, got_ends in (kernel(labels, starts, chunks), reference(labels, starts)):
        assert got == presses
        assert [d for d, _ in got_ends] == [d for d, _ in ends]
        assert [s for (d, s) in got_ends if d >= 0] == [s for (d, s) in ends if d >= 0]


def test_kernel_follows_the_plain_state_machine_on_long_noisy_runs():
    # Many channels at once, in the receiver's own chunks (a tick of four windows, then the rest of a
    # longer block), digits switching with and without gaps and single windows flipped by noise.
    rng = np.random.default_rng(7)
    n, length = 48, 600
    lengths = rng.integers(1, 16, (n, length))
    values = rng.choice([-1, -1, -1, 0, 3, 7, 11], (n, length))
    labels = np.stack([np.repeat(v, k)[:length] for v, k in zip(values, lengths)])
    noise = rng.random((n, length)) < 0.06
    labels[noise] = rng.choice([-1, 0, 3, 7, 11], noise.sum())
    starts = rng.integers(0, 10**6, (n, length))
    presses, ends = plain(labels, starts)
    assert len(presses) > 500       # the run exercises the reports, not only silence
    for chunks in ([WIN_SUBS], [1], [3, 5, 2, 9], [length]):
        got, got_ends = kernel(labels, starts, chunks)
        assert got == presses
        assert [d for d, _ in got_ends] == [d for d, _ in ends]


def test_timing_of_one_digit_by_the_rules():
    # Spelled out, so the plain machine itself is held to the rules: 3 windows are not a digit, 4 are;
    # one missing window is bridged before the report, two drop it; after the report 8 missing windows
    # keep it (no second report), 9 end it (the same digit again is a new key press).
    def presses(seq):
        labels = np.array([seq], np.int64)
        starts = np.arange(labels.size, dtype=np.int64).reshape(labels.shape) * 40
        got, _ = kernel(labels, starts, [WIN_SUBS])
        assert got == plain(labels, starts)[0]
        return [(d, s // 40) for _, d, s in got]

    assert presses([5] * 3 + [-1] * 12) == []
    assert presses([5] * 4 + [-1] * 12) == [(5, 0)]
    assert presses([5, 5, -1, 5, 5] + [-1] * 12) == [(5, 0)]
    assert presses([5, 5, -1, -1, 5, 5] + [-1] * 12) == []
    assert presses([5] * 4 + [-1] * 8 + [5] * 4 + [-1] * 12) == [(5, 0)]
    assert presses([5] * 4 + [-1] * 9 + [5] * 4 + [-1] * 12) == [(5, 0), (5, 13)]
    # A different digit after the report: 3 windows are not a key press, 4 are, from their start.
    assert presses([5] * 4 + [1] * 3 + [5] + [-1] * 12) == [(5, 0)]
    assert presses([5] * 4 + [1] * 4 + [-1] * 12) == [(5, 0), (1, 4)]
