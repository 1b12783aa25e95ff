"""DTMF receiver for many channels at once: int16 blocks in, one event per key press out."""

from dataclasses import dataclass

import numpy as np

from dsp.levels import RATE, dbm0_to_amplitude
from dsp.tonegen import DTMF_HIGH, DTMF_KEYS, DTMF_LOW

# Analysis grid: 5 ms sub-blocks (40 samples, so a 20 ms tick is exactly four), decided every
# sub-block on a sliding window of the last four (20 ms, 160 samples).
SUB = 40
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
# Phase advance per sub-block at the frequency-tolerance limit, per tone.
_PHASE_TOL = (2.0 * np.pi * SUB / RATE) * FREQ_TOL * _FREQS

# Sub-block correlators: a real (SUB, 16) matrix whose columns interleave cos and -sin of the 8 tones,
# so one BLAS call for all channels and sub-blocks yields float32 pairs that view as complex64 sums
# of x[n] * exp(-j w n).
_OMEGA = 2.0 * np.pi * _FREQS / RATE
_BASIS = np.stack([np.cos(np.outer(np.arange(SUB), _OMEGA)), -np.sin(np.outer(np.arange(SUB), _OMEGA))],
                  axis=-1).reshape(SUB, 16).astype(np.float32)
# Phase of each tone at the start of sub-block m: f * SUB / RATE = f / 200 cycles per sub-block, so
# the rotation repeats every 200 sub-blocks for the integer Q.23 frequencies.
_ROT_PERIOD = RATE // SUB
_ROT = np.exp(-1j * np.outer(np.arange(2 * _ROT_PERIOD) * SUB, _OMEGA)).astype(np.complex64)
_STEPS = np.arange(WIN_SUBS)
# OpenBLAS hands a large GEMM to its thread pool; on a shared 2-core box the hand-off costs more than
# it saves (measured: 4000x40 @ 40x16 took 375 us of CPU threaded, 81 us in 400-row blocks), so the
# product is taken in row blocks small enough to stay on the calling thread.
_GEMM_ROWS = 400


@dataclass(frozen=True)
class DtmfEvent:
    """One key press: `start` is the estimated first sample of the tone on that channel's stream."""

    channel: int
    digit: str
    start: int


class DtmfDetector:
    """Q.23 / Q.24 DTMF receiver for `channels` 8 kHz streams, fed int16 blocks shaped (channels, n)."""

    def __init__(self, channels):
        if int(channels) != channels or channels < 1:
            raise ValueError(f"DtmfDetector: expected a positive channel count, got {channels!r}")
        self.channels = int(channels)
        c = self.channels
        self._pending = np.zeros((c, 0), np.float32)
        self._sub_count = 0
        self._hist = np.zeros((c, WIN_SUBS - 1, 8), np.complex64)
        # The samples of those sub-blocks, for the energy of the few windows that pass the gate.
        self._tail = np.zeros((c, WIN - SUB), np.float32)
        self._origin = np.zeros(c, np.int64)
        self._cur = np.full(c, -1, np.int8)
        self._hits = np.zeros(c, np.int16)
        self._misses = np.zeros(c, np.int16)
        self._reported = np.zeros(c, bool)
        self._start = np.zeros(c, np.int64)
        self._cand = np.full(c, -1, np.int8)
        self._cand_hits = np.zeros(c, np.int16)
        self._cand_start = np.zeros(c, np.int64)
        # Channels inside a digit or candidate (cur >= 0): when none are and no window is valid, the
        # state machine has nothing to do.
        self._busy = 0

    def reset(self, channel):
        """Forget channel `channel`'s audio and digit state; its sample index restarts at 0."""
        if not 0 <= channel < self.channels:
            raise ValueError(
                f"DtmfDetector.reset: expected a channel in 0..{self.channels - 1}, got {channel}")
        self._pending[channel] = 0.0
        self._hist[channel] = 0.0
        self._tail[channel] = 0.0
        self._origin[channel] = self._sub_count * SUB + self._pending.shape[1]
        self._cur[channel] = -1
        self._hits[channel] = 0
        self._misses[channel] = 0
        self._reported[channel] = False
        self._cand[channel] = -1
        self._cand_hits[channel] = 0
        self._busy = int(np.count_nonzero(self._cur >= 0))

    def process(self, block):
        """Feed int16 samples shaped (channels, n); return the DtmfEvents completed in this block."""
        block = np.asarray(block)
        if block.dtype != np.int16:
            raise ValueError(f"DtmfDetector.process: expected an int16 array, got {block.dtype}")
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(
                f"DtmfDetector.process: expected shape ({self.channels}, n), got {block.shape}")
        x = block.astype(np.float32)
        if self._pending.shape[1]:
            x = np.concatenate([self._pending, x], axis=1)
        k = x.shape[1] // SUB
        self._pending = x[:, k * SUB:].copy()
        if k == 0:
            return []
        first_sub = self._sub_count
        self._sub_count += k
        labels, edge_phi, hit_channels = self._analyse(x[:, :k * SUB], first_sub)
        if not hit_channels.size and not self._busy:
            return []
        active = np.union1d(hit_channels, np.flatnonzero(self._cur >= 0))
        if labels is None:
            labels = np.full((self.channels, k), -1, np.int8)
            edge_phi = np.zeros((self.channels, k), np.float32)
        return self._track(active, labels[active], edge_phi[active], first_sub)

    def _analyse(self, x, first_sub):
        """Per-window digit labels (channels, k) (-1: no valid signal), first-edge fill estimates, and
        the channels with at least one valid window; labels and estimates are None if no window passed
        the gate."""
        c = self.channels
        k = x.shape[1] // SUB
        frames = x.reshape(c * k, SUB)
        out = np.empty((c * k, 16), np.float32)
        for row in range(0, c * k, _GEMM_ROWS):
            np.matmul(frames[row:row + _GEMM_ROWS], _BASIS, out=out[row:row + _GEMM_ROWS])
        sub = out.view(np.complex64).reshape(c, k, 8)
        # The table holds two periods, so up to one period of sub-blocks is a plain slice.
        phase = first_sub % _ROT_PERIOD
        sub *= _ROT[phase:phase + k] if k <= _ROT_PERIOD else _ROT[(phase + np.arange(k)) % _ROT_PERIOD]
        full = np.concatenate([self._hist, sub], axis=1)
        self._hist = full[:, k:]
        tail = self._tail
        if k >= WIN_SUBS - 1:
            self._tail = x[:, -(WIN - SUB):]
        else:
            self._tail = np.concatenate([tail, x], axis=1)[:, k * SUB:]

        # Nominal-frequency power over each 20 ms window, gated on level and relative peak; the finer
        # tests below run only for the few (channel, window) pairs that pass.
        pairs = full[:, :-1] + full[:, 1:]
        z = pairs[:, :k] + pairs[:, 2:k + 2]
        square = np.square(z.view(np.float32))
        power = square[..., 0::2] + square[..., 1::2]
        # Max and sum over each group of four by pairwise halving (tone order is low 0-3, high 4-7).
        best = np.maximum(power[..., 0::2], power[..., 1::2])
        best = np.maximum(best[..., 0::2], best[..., 1::2])
        total = power[..., 0::2] + power[..., 1::2]
        total = total[..., 0::2] + total[..., 1::2]
        gate = (best >= _LEVEL_POWER) & (best >= _PEAK_SHARE * total)
        ci, hi = np.nonzero(gate[..., 0] & gate[..., 1])
        if ci.size == 0:
            return None, None, ci
        labels = np.full((c, k), -1, np.int8)
        edge_phi = np.zeros((c, k), np.float32)

        pick = np.argmax(power[ci, hi].reshape(-1, 2, 4), axis=-1)
        tone = pick + np.array([0, 4])
        first = ci * (k + WIN_SUBS - 1) + hi
        steps = _STEPS[:, None]
        # (WIN_SUBS sub-blocks, candidates, 2 tones) sub-block phasors of the chosen row and column.
        ph = full.ravel()[((first + steps) * 8)[..., None] + tone]
        # Phase advance per sub-block. Coarse: from consecutive 5 ms sub-blocks, unambiguous to +-100 Hz
        # but 40 samples do not separate the row tone from the column tone, so up to 8 dB of twist
        # pulls it. Fine: between the two 10 ms halves of the window, where the other tone leaks in
        # about 20 dB lower, but ambiguous beyond +-50 Hz; the coarse value picks the branch.
        coarse = np.angle((ph[1:] * ph[:-1].conj()).sum(axis=0))
        half = np.angle((ph[2] + ph[3]) * (ph[0] + ph[1]).conj()) / 2.0
        advance = half + np.pi * np.rint((coarse - half) / np.pi)
        # Derotate by the measured frequency offset (Horner in the unit phasor) so twist and energy
        # use the tone's full power.
        unit = np.exp(-1j * advance)
        zc = ph[3]
        for i in (2, 1, 0):
            zc = ph[i] + unit * zc
        pc = zc.real ** 2 + zc.imag ** 2
        sub_pow = (ph.real ** 2 + ph.imag ** 2).sum(axis=-1)
        mid = 0.5 * (sub_pow[1] + sub_pow[2])
        samples = np.concatenate([tail, x], axis=1)
        window = samples[ci[:, None], (hi * SUB)[:, None] + np.arange(WIN)]
        win_energy = np.einsum("ij,ij->i", window, window)
        ok = (
            (np.abs(advance) <= _PHASE_TOL[tone]).all(axis=-1)
            & (pc[:, 1] >= _TWIST_MIN * pc[:, 0]) & (pc[:, 1] <= _TWIST_MAX * pc[:, 0])
            & (2.0 * (pc[:, 0] + pc[:, 1]) >= ENERGY_FRACTION * WIN * win_energy)
            & (sub_pow[0] >= EDGE_POWER_RATIO * mid)
            & (sub_pow[-1] >= EDGE_POWER_RATIO * mid)
        )
        labels[ci[ok], hi[ok]] = pick[ok, 0] * 4 + pick[ok, 1]
        edge_phi[ci, hi] = np.sqrt(np.minimum(sub_pow[0], mid) / np.maximum(mid, 1e-30))
        return labels, edge_phi, ci[ok]

    def _track(self, active, labels, edge_phi, first_sub):
        """Run the hit/miss state machine over the window labels of the channels that need it."""
        cur = self._cur[active]
        hits = self._hits[active]
        misses = self._misses[active]
        reported = self._reported[active]
        start = self._start[active]
        cand = self._cand[active]
        cand_hits = self._cand_hits[active]
        cand_start = self._cand_start[active]
        origin = self._origin[active]
        events = []
        for h in range(labels.shape[1]):
            lab = labels[:, h]
            # The window ending at this sub-block began WIN_SUBS - 1 sub-blocks earlier; the tone began
            # inside its first sub-block, after the part it did not fill.
            unfilled = np.rint((1.0 - edge_phi[:, h]) * SUB).astype(np.int64)
            est = np.maximum((first_sub + h - (WIN_SUBS - 1)) * SUB + unfilled - origin, 0)
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
            for i in np.flatnonzero(fire):
                events.append(DtmfEvent(int(active[i]), _DIGITS[cur[i]], int(start[i])))
        self._cur[active] = cur
        self._hits[active] = hits
        self._misses[active] = misses
        self._reported[active] = reported
        self._start[active] = start
        self._cand[active] = cand
        self._cand_hits[active] = cand_hits
        self._cand_start[active] = cand_start
        self._busy = int(np.count_nonzero(self._cur >= 0))
        return events
