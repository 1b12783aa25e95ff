"""Fax and modem answer tones: CNG (T.30 calling) and CED / ANS, ANS/, ANSam (T.30, V.25, V.8)."""

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from dsp import blocks
from dsp.levels import RATE, dbm0_to_amplitude

# Analysis: 20 ms frames (one tick) cut into 8 sub-blocks of 2.5 ms. Per tone, the sub-block DFTs at
# the nominal frequency give a lag product whose angle is the frequency error (unambiguous to
# +-200 Hz) and whose magnitude is the power of a steady tone near that frequency; noise and speech
# decorrelate from one sub-block to the next and score low.
FRAME = blocks.FRAME
SUB = 20
SUBS = FRAME // SUB
FREQ_HZ = np.array([1100.0, 2100.0])
# docs/standards.md §5 (spandsp modem_connect_tones.c after T.30 / V.25): CNG 1100 +- 38 Hz, CED/ANS
# 2100 +- 15 Hz; spandsp's tests accept 8 Hz more ("for FDM"). The limit sits 10 Hz beyond that so
# the estimate's own error (a few Hz at -43 dBm0) does not cut into the accept range.
FREQ_TOL_HZ = np.array([38.0 + 8.0, 15.0 + 8.0]) + 10.0
# spandsp reports a tone above about -43 dBm0 (channel level > 70) and its tests require no
# detection at -44; Asterisk (ASTERISK-26237, §8) added such a floor after noise gave fax hits.
LEVEL_MIN_DBM0 = -43.0
# spandsp: "tone present" when the notch residue x 6 is under the channel power, i.e. the tone
# holds 5/6 of it.
TONE_FRACTION = 5.0 / 6.0
# T.30 CNG: 0.5 s on +- 15 % (§5), in whole frames (an edge frame counts when the tone fills half).
CNG_MIN_FRAMES = int(0.5 * 0.85 * RATE / FRAME)
CNG_MAX_FRAMES = int(np.ceil(0.5 * 1.15 * RATE / FRAME))
# CED / ANS is 2.6-4.0 s (T.30, V.25); spandsp reports ANS after 550 ms of tone, early enough for the
# call engine to tell a fax or modem from a person while the tone still plays.
CED_REPORT_FRAMES = int(np.ceil(0.55 * RATE / FRAME))
# V.25 ANS/ reverses phase every 450 ms: the frame holding a reversal and the next fail the lag
# test, so a run survives gaps of up to two frames (40 ms; far shorter than CNG's 3 s pause).
GAP_FRAMES = 2

_MIN_ENERGY = FRAME * dbm0_to_amplitude(LEVEL_MIN_DBM0) ** 2 / 2.0
# For a steady sine of amplitude A: each sub-block DFT is A SUB / 2, so the sum of their powers is
# SUBS (A SUB / 2)^2, |lag| is (SUBS - 1) (A SUB / 2)^2, and the frame energy FRAME A^2 / 2.
_POWER_SCALE = 2.0 / SUB
_LAG_SCALE = 2.0 * SUBS / ((SUBS - 1) * SUB)
# |lag| adds the products of neighbouring sub-blocks' correlations, each at most the mean of their
# powers, so it never exceeds the frame's sub-block powers with the first and last counted at a half
# (_SCREEN_ENDS: a little more, to spare rounding). A frame whose power near the tone, so counted, is
# under TONE_FRACTION * _POWER_SCALE / _LAG_SCALE of its energy cannot pass; the exact test runs on
# the rest. Counting the ends in full let most frames of DTMF, whose column tone leaks into the
# 1100 Hz correlation, through to the exact test (measured with firmware/tools/bench_dsp.py's dialling).
_SCREEN = TONE_FRACTION * _POWER_SCALE / _LAG_SCALE
_SCREEN_ENDS = 0.6
# The frequency limit as the lag's phase per sub-block (under a half turn), by its cosine.
_COS_TOL = np.cos(2.0 * np.pi * FREQ_TOL_HZ * SUB / RATE).astype(np.float32)
_OMEGA = 2.0 * np.pi * FREQ_HZ / RATE

_HALVES = blocks.SUB // SUB


def _basis() -> npt.NDArray[np.float32]:
    # Correlators on the shared 5 ms sub-blocks (blocks.SUB samples, two of ours): columns (tone,
    # half, cos / -sin), phase counted from the sub-block's first sample.
    n = np.arange(blocks.SUB)
    basis = np.zeros((blocks.SUB, len(FREQ_HZ), _HALVES, 2), np.float32)
    for j, w in enumerate(_OMEGA):
        basis[n, j, n // SUB, 0] = np.cos(w * n)
        basis[n, j, n // SUB, 1] = -np.sin(w * n)
    return basis.reshape(blocks.SUB, -1)


BASIS = _basis()
# Phase of each tone's reference moving on by one shared sub-block.
_ACROSS = np.exp(-1j * _OMEGA * blocks.SUB).astype(np.complex64)


def _screen_sum() -> npt.NDArray[np.float32]:
    # Sums the squared columns (shared sub-block, tone, half, cos / sin) of each tone over a frame,
    # the first and last of our sub-blocks at _SCREEN_ENDS, scaled for the screen's comparison.
    weight = np.ones((blocks.SUBS, len(FREQ_HZ), _HALVES, 2))
    weight[0, :, 0] = weight[-1, :, -1] = _SCREEN_ENDS
    tone = np.tile(np.repeat(np.eye(len(FREQ_HZ)), 2 * _HALVES, axis=0), (blocks.SUBS, 1))
    return (tone * weight.reshape(-1, 1) * (_POWER_SCALE / _SCREEN)).astype(np.float32)


_SCREEN_SUM = _screen_sum()


@dataclasses.dataclass(frozen=True)
class FaxToneEvent:
    """`tone` ('cng' or 'ced') began at sample `start` of `channel`'s stream."""

    channel: int
    tone: str
    start: int


class FaxToneDetector(blocks.FramedDetector[FaxToneEvent]):
    """CNG and CED/ANS on many channels, vectorised over channels and tones."""

    def __init__(self, channels: int):
        self._framer = blocks.Framer(channels, FRAME, "FaxToneDetector")
        self._analyser = blocks.Analyser(BASIS)
        c = self._framer.channels
        self._frame = 0
        self._in_run = np.zeros((c, 2), bool)
        self._run_start = np.zeros((c, 2), np.int64)
        self._last_on = np.zeros((c, 2), np.int64)
        self._reported = np.zeros((c, 2), bool)
        self._running = False  # any run in progress

    def reset(self, channel: int) -> None:
        """Forget `channel`'s tone runs (its sample index keeps counting)."""
        ch = blocks.check_channel(channel, self.channels, "FaxToneDetector.reset")
        self._in_run[ch] = False
        self._reported[ch] = False

    def _detect(self, analysis: blocks.Analysis) -> list[FaxToneEvent]:
        hits = self._hits(analysis.product(BASIS, "FaxToneDetector"), analysis.ac_energy)
        events = []
        for f in range(hits.shape[1]):
            if self._running or np.count_nonzero(hits[:, f]):
                events += self._step(hits[:, f])
            self._frame += 1
        return events

    def _hits(self, z: npt.NDArray[np.float32], energy: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """(C, F, 2) bool: the frame holds CNG / CED by level, purity and frequency, from the shared
        sub-block correlations `z` (C, 4 F, 8) and the frames' energies (C, F)."""
        c, f = energy.shape
        # Quiet frames get an infinite energy, which fails the screen and so every test.
        energy = np.where(energy >= _MIN_ENERGY, energy, np.inf).reshape(-1, 1)
        # Screen, then the exact test on the rest.
        hit = np.square(z).reshape(c * f, -1) @ _SCREEN_SUM >= energy
        rows = (hit[:, 0] | hit[:, 1]).nonzero()[0]
        if rows.size:
            # (frames, shared sub-blocks, tone, half): the lag products within each shared sub-block,
            # and across them, where the phase reference moves on by one shared sub-block.
            y = z.reshape(c * f, blocks.SUBS, -1)[rows].view(np.complex64).reshape(
                rows.size, blocks.SUBS, len(FREQ_HZ), _HALVES)
            # numpy's stubs give the vecdot gufunc no `axis` keyword.
            lag = (np.vecdot(y[..., 0], y[..., 1], axis=1)  # type: ignore[call-overload]
                   + np.vecdot(y[:, :-1, :, 1], y[:, 1:, :, 0], axis=1) * _ACROSS)  # type: ignore[call-overload]
            size = np.abs(lag)
            # |angle(lag)| <= tolerance (under a half turn), as its cosine.
            hit[rows] &= (size >= (TONE_FRACTION / _LAG_SCALE) * energy[rows]) & (lag.real >= size * _COS_TOL)
        return hit.reshape(c, f, 2)

    def _step(self, hit: npt.NDArray[np.bool_]) -> list[FaxToneEvent]:
        t = self._frame
        events = []
        # A run ends once it has missed more than GAP_FRAMES frames; CNG counts only if its burst
        # length fits T.30's 0.5 s +- 15 %.
        ended = self._in_run & ~hit & (t - self._last_on > GAP_FRAMES)
        length = self._last_on - self._run_start + 1
        cng = ended[:, 0] & (length[:, 0] >= CNG_MIN_FRAMES) & (length[:, 0] <= CNG_MAX_FRAMES)
        events += [FaxToneEvent(int(ch), "cng", int(self._run_start[ch, 0]) * FRAME)
                   for ch in cng.nonzero()[0]]
        self._in_run &= ~ended
        fresh = hit & ~self._in_run
        self._run_start[fresh] = t
        self._reported[fresh] = False
        self._in_run |= hit
        self._last_on[hit] = t
        ced = self._in_run[:, 1] & ~self._reported[:, 1] & (
            t - self._run_start[:, 1] + 1 >= CED_REPORT_FRAMES)
        self._reported[ced, 1] = True
        events += [FaxToneEvent(int(ch), "ced", int(self._run_start[ch, 1]) * FRAME)
                   for ch in ced.nonzero()[0]]
        self._running = bool(np.count_nonzero(self._in_run))
        return events

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels}
