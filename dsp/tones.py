"""Call-progress tone detection (dial, ringback, busy, congestion, SIT, silence) to a tone plan."""

import dataclasses
import functools
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from dsp import blocks
from dsp.levels import RATE, dbm0_to_amplitude

TONE_NAMES = ("dial", "ringback", "busy", "congestion", "sit")

# Analysis: 20 ms frames (one tick), one DFT per plan frequency: bins 50 Hz apart resolve the precise
# plan's 440 / 480 Hz pair (Asterisk uses 183 samples for it, docs/standards.md §3.4).
FRAME = blocks.FRAME
FRAME_S = FRAME / RATE
# spandsp super_tone_rx (§3.4): a frame under -42 dBm0 is silence; the two strongest plan frequencies
# must hold -3 dB (half) of the frame power; the second counts as a tone of a pair only when within
# 6 dB of the first; a segment changes only after two frames agree.
LEVEL_MIN_DBM0 = -42.0
TONE_FRACTION = 0.5
PAIR_RATIO = 10.0 ** (-6.0 / 10.0)
CONFIRM_FRAMES = 2
# A segment's measured length is off by up to a frame at either end (a tone filling less than half
# of an edge frame does not count), so two frames of slack are added to the plan's tolerance.
SLACK_FRAMES = 2
# Distinct frequencies a plan may use: the per-frame tone set is packed into one byte.
MAX_FREQS = 8

_MIN_ENERGY = FRAME * dbm0_to_amplitude(LEVEL_MIN_DBM0) ** 2 / 2.0


class TonePlanError(ValueError):
    """A tone plan file that cannot be used; the message names the file, the key and the reason."""


@dataclasses.dataclass(frozen=True)
class ToneSpec:
    name: str
    segments: tuple  # ((frequencies, seconds), ...); no frequencies = a pause
    confirm: int  # segments that must match before the tone is reported (0: continuous)
    tolerance: float
    min_s: float | None  # continuous tones: reported after this long


@dataclasses.dataclass(frozen=True)
class TonePlan:
    name: str
    source: str
    tones: tuple
    frequency_tolerance_hz: float
    silence_s: float


@dataclasses.dataclass(frozen=True)
class ToneEvent:
    """`tone` began at sample `start` of `channel`'s stream (counted from the detector's creation);
    `cycles`: whole cadence periods heard in a row so far (0: a continuous tone, or silence)."""

    channel: int
    tone: str
    start: int
    cycles: int = 0


# ---------------------------------------------------------------- plans (firmware/config reads the files)

def _number(source: str, key: str, value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise TonePlanError(f"{source}: {key}: expected a number in [{lo}, {hi}], got {value!r}")
    return float(value)


def _freqs(source: str, key: str, value: object) -> frozenset[float]:
    if not isinstance(value, list) or len(value) > 2:
        raise TonePlanError(f"{source}: {key}: expected a list of at most 2 frequencies, got {value!r}")
    return frozenset(_number(source, key, f, 100.0, 3400.0) for f in value)


def _tone(source: str, index: int, raw: object, plan_tolerance: float) -> ToneSpec:
    where = f"tone[{index}]"
    if not isinstance(raw, dict):
        raise TonePlanError(f"{source}: {where}: expected a table, got {raw!r}")
    unknown = set(raw) - {"name", "freqs", "segments", "cadence", "confirm", "tolerance", "min_s"}
    if unknown:
        raise TonePlanError(f"{source}: {where}.{sorted(unknown)[0]}: unknown key")
    name = raw.get("name")
    if name not in TONE_NAMES:
        raise TonePlanError(f"{source}: {where}.name: expected one of {', '.join(TONE_NAMES)}, got {name!r}")
    where = f"tone[{index}] ({name})"
    if ("freqs" in raw) == ("segments" in raw):
        raise TonePlanError(f"{source}: {where}: expected exactly one of freqs or segments")
    cadence = raw.get("cadence", [])
    if not isinstance(cadence, list):
        raise TonePlanError(f"{source}: {where}.cadence: expected a list of seconds, got {cadence!r}")
    durations = [_number(source, f"{where}.cadence", s, 0.02, 30.0) for s in cadence]
    tolerance = _number(source, f"{where}.tolerance", raw.get("tolerance", plan_tolerance), 0.0, 0.5)
    if "segments" in raw:
        if not isinstance(raw["segments"], list) or len(raw["segments"]) != len(durations) or not durations:
            raise TonePlanError(f"{source}: {where}.segments: expected one frequency list per cadence entry")
        freqs = [_freqs(source, f"{where}.segments", f) for f in raw["segments"]]
    else:
        on = _freqs(source, f"{where}.freqs", raw["freqs"])
        if not on:
            raise TonePlanError(f"{source}: {where}.freqs: expected at least one frequency")
        if len(durations) % 2:
            raise TonePlanError(
                f"{source}: {where}.cadence: expected (on, off) pairs, got {len(durations)} entries")
        freqs = [on if i % 2 == 0 else frozenset() for i in range(len(durations))] or [on]
    if not durations:
        for key in ("confirm", "tolerance"):
            if key in raw:
                raise TonePlanError(f"{source}: {where}.{key}: a continuous tone has no cadence to match")
        if "min_s" not in raw:
            raise TonePlanError(f"{source}: {where}.min_s: required for a continuous tone")
        min_s = _number(source, f"{where}.min_s", raw["min_s"], 0.1, 30.0)
        return ToneSpec(name, ((freqs[0], math.inf),), 0, tolerance, min_s)
    if "min_s" in raw:
        raise TonePlanError(f"{source}: {where}.min_s: only a continuous tone (no cadence) has min_s")
    confirm = raw.get("confirm")
    if isinstance(confirm, bool) or not isinstance(confirm, int) or not 1 <= confirm <= 2 * len(durations):
        raise TonePlanError(
            f"{source}: {where}.confirm: expected an int in [1, {2 * len(durations)}], got {confirm!r}")
    if not any(freqs):
        raise TonePlanError(f"{source}: {where}: expected at least one segment with a tone")
    return ToneSpec(name, tuple(zip(freqs, durations)), confirm, tolerance, None)


def _upper(spec: ToneSpec, seconds: float) -> float:
    return seconds * (1.0 + spec.tolerance) + SLACK_FRAMES * FRAME_S


def plan_from_dict(data: dict[str, Any], source: str) -> TonePlan:
    """TonePlan named after `source`'s file name (without its suffix) from parsed TOML `data`;
    TonePlanError naming `source`, the key and the reason. Pure: firmware/config/tone_plans.py reads
    the files."""
    unknown = set(data) - {"tolerance", "frequency_tolerance_hz", "silence_s", "tone"}
    if unknown:
        raise TonePlanError(f"{source}: {sorted(unknown)[0]}: unknown key")
    for key in ("tolerance", "frequency_tolerance_hz", "silence_s", "tone"):
        if key not in data:
            raise TonePlanError(f"{source}: {key}: required")
    tolerance = _number(source, "tolerance", data["tolerance"], 0.0, 0.5)
    ftol = _number(source, "frequency_tolerance_hz", data["frequency_tolerance_hz"], 0.0, 50.0)
    silence_s = _number(source, "silence_s", data["silence_s"], 0.5, 60.0)
    if not isinstance(data["tone"], list) or not data["tone"]:
        raise TonePlanError(f"{source}: tone: expected one or more [[tone]] tables")
    tones = tuple(_tone(source, i, raw, tolerance) for i, raw in enumerate(data["tone"]))
    freqs = {f for t in tones for fs, _ in t.segments for f in fs}
    if len(freqs) > MAX_FREQS:
        raise TonePlanError(
            f"{source}: tone: {len(freqs)} distinct frequencies, expected at most {MAX_FREQS}")
    names = [t.name for t in tones]
    for name in names:
        if names.count(name) > 1:
            raise TonePlanError(f"{source}: tone ({name}): defined twice")
    for t in tones:
        if t.min_s is None:
            continue
        # A burst of a cadenced tone on the same frequencies must end before min_s, or it reads as this.
        for other in tones:
            for freqs, seconds in other.segments if other.min_s is None else ():
                if freqs == t.segments[0][0] and _upper(other, seconds) >= t.min_s:
                    raise TonePlanError(
                        f"{source}: tone ({t.name}).min_s: {t.min_s} s is not longer than a "
                        f"{seconds} s burst of {other.name} can last ({_upper(other, seconds):.2f} s)")
    for t in tones:
        for freqs, seconds in t.segments if t.min_s is None else ():
            if not freqs and _upper(t, seconds) >= silence_s:
                raise TonePlanError(
                    f"{source}: silence_s: {silence_s} s is not longer than the {seconds} s pause of "
                    f"{t.name} can last ({_upper(t, seconds):.2f} s)")
    base = source.rsplit("/", 1)[-1]
    return TonePlan(base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base, source, tones, ftol, silence_s)


class Probes:
    """A plan's frequency probes: correlation columns on a frame and how to read them; one per plan,
    shared by its detectors and the front end (dsp.frontend.TickAnalyser)."""

    def __init__(self, plan: TonePlan):
        freqs = sorted({f for t in plan.tones for fs, _ in t.segments for f in fs})
        tol = plan.frequency_tolerance_hz
        probed = [(k, f + d) for k, f in enumerate(freqs) for d in ((-tol, 0.0, tol) if tol else (0.0,))]
        n = np.arange(FRAME)
        omega = 2.0 * np.pi * np.array([p for _, p in probed]) / RATE
        # Columns: cos and -sin per probe, scaled so that the squares of a pair add up to a sine's
        # share of the frame energy (|X|^2 * 2 / N) over TONE_FRACTION.
        scale = np.sqrt(2.0 / FRAME / TONE_FRACTION)
        self.basis = np.zeros((FRAME, 2 * len(probed)), np.float32)
        self.basis[:, 0::2] = scale * np.cos(np.outer(n, omega))
        self.basis[:, 1::2] = -scale * np.sin(np.outer(n, omega))
        # Adds each probe's cos and sin squares.
        self.pairs = np.repeat(np.eye(len(probed), dtype=np.float32), 2, axis=0)
        self.groups = np.flatnonzero(np.diff([-1] + [k for k, _ in probed])) if tol else None
        self.ones = np.ones(2 * len(probed), np.float32)
        self.freq_ones = np.ones(len(freqs), np.float32)
        self.bits = 1 << np.arange(len(freqs))  # a set of plan frequencies as the index of by_mask
        index = {f: k for k, f in enumerate(freqs)}
        sigs = sorted({fs for t in plan.tones for fs, _ in t.segments if fs}, key=sorted)
        self.sig_id = {fs: i + 1 for i, fs in enumerate(sigs)}
        self.by_mask = np.zeros(1 << MAX_FREQS, np.int64)
        for fs, i in self.sig_id.items():
            self.by_mask[sum(1 << index[f] for f in fs)] = i

    def classify(self, z: npt.NDArray[np.float32],
                 energy: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """(signature, silent) per frame, both (C, F), from the frames' correlations `z` (C, F, columns)
        and energies without DC (C, F); signature 0 is no plan tone."""
        c, f = energy.shape
        energy = energy.ravel()
        square = np.square(z).reshape(c * f, -1)
        loud = energy >= _MIN_ENERGY
        # The tone is the set of plan frequencies within 6 dB of the strongest; a set of more than two
        # is no plan tone (the lookup holds only the plan's singles and pairs); it must hold
        # TONE_FRACTION of the energy (folded into the basis scale). All probes together hold at
        # least as much as that set, so only frames where they reach it are looked at.
        rows = (loud & (square @ self.ones >= energy)).nonzero()[0]
        sig = np.zeros(c * f, np.int64)
        if rows.size:
            power = square[rows] @ self.pairs
            if self.groups is not None:
                power = np.maximum.reduceat(power, self.groups, axis=1)
            near = power >= PAIR_RATIO * np.maximum.reduce(power, axis=1)[:, None]
            held = (power * near) @ self.freq_ones >= energy[rows]
            sig[rows] = np.where(held, self.by_mask[near @ self.bits], 0)
        return sig.reshape(c, f), ~loud.reshape(c, f)


@functools.lru_cache(maxsize=16)
def probes(plan: TonePlan) -> Probes:
    """The Probes of TonePlan `plan` (the same object for equal plans)."""
    return Probes(plan)


# ---------------------------------------------------------------- detector

class CallProgressDetector(blocks.FramedDetector[ToneEvent]):
    """Call-progress tones on many channels to a TonePlan: per-frame tone classification and segment
    changes vectorised over channels, cadence matched in Python only where a segment ended."""

    def __init__(self, channels: int, plan: TonePlan, repeat: bool = False):
        """`repeat`: a cadenced tone is reported again after each further whole period heard in a row
        (ToneEvent.cycles counting up), for disconnect supervision on answered calls, which waits for
        more periods than the plan's `confirm` before it believes a far end has gone."""
        if not isinstance(plan, TonePlan):
            raise ValueError(f"CallProgressDetector: expected a TonePlan, got {plan!r}")
        self.plan = plan
        self.repeat = repeat
        self._framer = blocks.Framer(channels, FRAME, "CallProgressDetector")
        c = self._framer.channels
        self._probes = probes(plan)
        self._analyser = blocks.Analyser(self._probes.basis)
        self._build_cadences()
        self._frame = 0  # frames seen on every channel
        self._cur = np.zeros(c, np.int64)  # signature of the current segment (0: no plan tone)
        self._seg_start = np.zeros(c, np.int64)  # its first frame
        # An unconfirmed change of segment: the last frame's signature (the segment's own where it did
        # not change), frames it has been seen in a row (0: none), its first frame.
        self._change = np.zeros(c, np.int64)
        self._change_count = np.zeros(c, np.int64)
        self._change_start = np.zeros(c, np.int64)
        self._changing = False  # any unconfirmed change
        self._due = np.full(c, -1, np.int64)  # frame at which a continuous tone becomes reportable
        self._continuing: set[int] = set()  # channels in a continuous-tone segment
        self._quiet = np.zeros(c, np.int64)  # silent frames in a row
        self._reported = np.full(c, -1, np.int64)  # tone index last reported, while its pattern holds
        self._run = np.zeros(c, np.int64)  # segments of the reported tone's cadence heard in a row
        self._history: list[list[tuple[int, int, int]]] = [[] for _ in range(c)]

    def _build_cadences(self) -> None:
        plan = self.plan
        sig_id = self._probes.sig_id
        self._names = [t.name for t in plan.tones]
        self._silence_frames = int(math.ceil(plan.silence_s / FRAME_S))
        # signature -> (tone index, frames before it is reported)
        self._continuous: dict[int, tuple[int, int]] = {}
        # (tone index, confirm, every rotation's first `confirm` (signature, lo, hi))
        self._cadenced: list[tuple[int, int, list[list[tuple[int, float, float]]]]] = []
        self._period = [len(t.segments) for t in plan.tones]  # segments in a cadence period
        # signature -> [(lo, hi), ...] of every cadence step on it
        self._fits: dict[int, list[tuple[float, float]]] = {}
        for i, t in enumerate(plan.tones):
            if t.min_s is not None:
                self._continuous[sig_id[t.segments[0][0]]] = (i, int(math.ceil(t.min_s / FRAME_S)))
                continue
            pattern = [
                (sig_id.get(fs, 0),
                 s * (1.0 - t.tolerance) / FRAME_S - SLACK_FRAMES,
                 s * (1.0 + t.tolerance) / FRAME_S + SLACK_FRAMES)
                for fs, s in t.segments]
            m = len(pattern)
            rotations = [[pattern[(r + k) % m] for k in range(t.confirm)] for r in range(m)]
            self._cadenced.append((i, t.confirm, rotations))
            for sig, lo, hi in pattern:
                self._fits.setdefault(sig, []).append((lo, hi))
        self._history_len = max([confirm for _, confirm, _ in self._cadenced] + [1])

    def reset(self, channel: int) -> None:
        """Forget `channel`'s tone history (its sample index keeps counting)."""
        ch = blocks.check_channel(channel, self.channels, "CallProgressDetector.reset")
        self._cur[ch] = 0
        self._change[ch] = 0
        self._change_count[ch] = 0
        self._seg_start[ch] = self._frame
        self._due[ch] = -1
        self._continuing.discard(ch)
        self._quiet[ch] = 0
        self._reported[ch] = -1
        self._run[ch] = 0
        self._history[ch] = []

    def _detect(self, analysis: blocks.Analysis) -> list[ToneEvent]:
        sig, silent = self._probes.classify(analysis.product(self._probes.basis, "CallProgressDetector"),
                                            analysis.ac_energy)
        events = []
        for f in range(sig.shape[1]):
            events += self._step(sig[:, f], silent[:, f])
            self._frame += 1
        return events

    def _step(self, sig: npt.NDArray[np.int64], silent: npt.NDArray[np.bool_]) -> list[ToneEvent]:
        t = self._frame
        events = []
        changed = sig != self._cur
        if self._changing or np.count_nonzero(changed):
            # A change of segment needs CONFIRM_FRAMES frames in a row that agree (spandsp
            # super_tone_rx); Python runs only for the channels whose change is confirmed.
            agree = changed & (sig == self._change)
            self._change_start = np.where(agree, self._change_start, t)
            self._change_count = np.where(agree, self._change_count + 1, changed)
            self._change = sig
            confirmed = (self._change_count >= CONFIRM_FRAMES).nonzero()[0]
            self._change_count[confirmed] = 0
            self._changing = bool(np.count_nonzero(self._change_count))
            for ch in confirmed.tolist():
                events += self._segment_ended(ch, int(sig[ch]), int(self._change_start[ch]))
        if self._continuing:
            for ch in (self._due == t).nonzero()[0]:
                i, _ = self._continuous[self._cur[ch]]
                if self._reported[ch] != i:
                    self._reported[ch] = i
                    events.append(ToneEvent(int(ch), self._names[i], int(self._seg_start[ch]) * FRAME))
        # Silence: reported once, when a run of silent frames reaches silence_s.
        self._quiet = (self._quiet + 1) * silent
        for ch in (self._quiet == self._silence_frames).nonzero()[0]:
            events.append(ToneEvent(int(ch), "silence", (t + 1 - self._silence_frames) * FRAME))
        return events

    def _segment_ended(self, ch: int, new: int, start: int) -> list[ToneEvent]:
        """The segment on `ch` ended at frame `start`, where one of signature `new` began."""
        history = self._history[ch]
        history.append((int(self._cur[ch]), start - int(self._seg_start[ch]), int(self._seg_start[ch])))
        del history[:-self._history_len]
        self._cur[ch] = new
        self._seg_start[ch] = start
        if new in self._continuous:
            self._due[ch] = start + self._continuous[new][1] - 1
            self._continuing.add(ch)
        else:
            self._due[ch] = -1
            self._continuing.discard(ch)
        match = self._match(history)
        if match is None:
            self._reported[ch] = -1
            return []
        i, first = match
        period = self._period[i]
        if self._reported[ch] == i:
            self._run[ch] += 1
            if not self.repeat or self._run[ch] % period:
                return []
            return [ToneEvent(int(ch), self._names[i], first * FRAME, int(self._run[ch]) // period)]
        self._reported[ch] = i
        self._run[ch] = self.plan.tones[i].confirm
        return [ToneEvent(int(ch), self._names[i], first * FRAME, self.plan.tones[i].confirm // period)]

    def _match(self, history: list[tuple[int, int, int]]) -> tuple[int, int] | None:
        """(tone index, first frame of its first burst) of the first cadence the history ends with."""
        sig, d, _ = history[-1]
        if not any(lo <= d <= hi for lo, hi in self._fits.get(sig, ())):
            return None  # the segment just ended fits no step of any cadence
        for i, confirm, rotations in self._cadenced:
            if len(history) < confirm:
                continue
            tail = history[-confirm:]
            for steps in rotations:
                if all(s == sig and lo <= d <= hi for (sig, d, _), (s, lo, hi) in zip(tail, steps)):
                    return i, next(start for sig, _, start in tail if sig)
        return None

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels, "plan": self.plan.name}
