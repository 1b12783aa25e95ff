"""The simulated board: trunk lines fed by a simulated PSTN of scripted callers, and agent handsets.

Everything the box hears is audio: callers' key presses are real DTMF tones (level, twist and
timing configurable) mixed with line noise, caller ID is an FSK or DTMF burst, busy and ringback are
the tone plan's cadences, so the box's own detectors have to find them (drivers/sim_signals.py).
Time is the driver's tick count, so a run is the same whatever the clock's pace.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import numpy as np

from dsp import tonegen
from dsp.dialtone import DialToneListener
from dsp.levels import dbm0_to_amplitude
from dsp.tones import TonePlan, TonePlanError

from .channel import (RATE, TICK_SAMPLES, TICK_SECONDS, ChannelError, ChannelEvent, ChannelKind,
                      ChannelSpec, Driver, EventKind, LineTest)
from .sim_signals import (AFTER_RING_GAP_S, BEFORE_RING, BEFORE_RING_GAP_S, CALLER_ID_SCHEMES, Loop, beep,
                          caller_id_burst, fax_answer, fax_calling_tone, make_loop, progress_tone, speech,
                          steady_tone)

log = logging.getLogger(__name__)

# China's ringing cadence (YD/T 1277 style, docs/standards.md §3.1): 1 s on, 4 s off.
RING_ON_S, RING_PERIOD_S = 1.0, 5.0
# A ringing line the box never answers is given up by the PSTN after this long (ITU-T Q.118
# style no-answer release is 60-240 s; 60 s keeps simulated days short).
NO_ANSWER_RELEASE_S = 60.0
_NOISE_BANK_S = 4.0
# Voices are test tones at about the nominal active speech level (-19 dBm0, ITU-T G.169).
VOICE_DBM0 = -20.0


@dataclass
class DtmfStyle:
    """How simulated callers press keys."""
    level_dbm0: float = -10.0    # per tone; spandsp's generator default (docs/standards.md §1.1)
    twist_db: float = 0.0        # high-group minus low-group level
    on_s: float = 0.08
    off_s: float = 0.08


@dataclass
class SimCaller:
    """One scripted caller: who they are and what they do once the box answers."""
    number: str
    name: str = ""
    keys: list[tuple[float, str]] = field(default_factory=list)  # (s after answer, digits)
    patience: float = 120.0    # s from arrival before hanging up if no agent has answered
    talk: float = 60.0         # s of conversation before hanging up
    voice_hz: float | None = None   # a steady tone while talking to an agent, to trace audio paths
    speak: list[tuple[float, float]] = field(default_factory=list)  # (s after answer, s of talking): a message
    fax: bool = False          # a fax machine: sends the T.30 calling tone once answered
    garbled_id: bool = False   # the line garbles this caller's caller ID burst (its checksum fails)
    clear: str = "signal"      # how the exchange tells the box they hung up (CLEARS)
    tag: object = None         # the scenario's own reference
    # Filled in as the call goes:
    line: int | None = None
    arrived: float | None = None
    answered: float | None = None     # the box picked up
    connected: float | None = None    # an agent is on the line
    ended: float | None = None
    ended_by: str | None = None       # caller | box | pstn
    pressed: str = ""


# How an exchange tells the box the far end hung up on an answered call: a line signal (loop-current
# drop, an E1 clear-back: a CLEAR event), or on many analog lines only its busy or congestion tone,
# or nothing at all (silence) (docs/architecture.md §20).
CLEARS = ("signal", "busy", "congestion", "silence")


# What a number out on the PSTN is (docs/architecture.md §20): a plain telephone (a voice tone while
# off hook, to trace audio paths), a person who says a word and waits, a person somewhere noisy (a
# word, then clatter: sounds too short for words, too close together for silence), an answering
# machine (a greeting, its beep, then silence while it records), a fax machine (CED, then V.21 flags),
# or a number whose exchange answers every call with busy or congestion tone.
PHONE_KINDS = ("phone", "person", "noisy", "machine", "fax", "busy", "congestion")
# A person picking up says a word ("喂?") and waits; a machine's greeting is a dozen words.
PERSON_WORDS = [(0.6, 0.0)]
NOISY_WORDS = [(0.5, 0.4)] + [(0.06, 0.44)] * 16
MACHINE_WORDS = [(0.45, 0.15)] * 11 + [(0.5, 0.6)]


@dataclass
class Phone:
    """A telephone the box can ring: an agent's handset, or a subscriber out on the PSTN."""
    answer_after: float = 2.0       # s of ringing before pick-up
    talk: float = 60.0              # s off hook before hanging up
    voice_hz: float | None = None   # a steady tone while off hook, to trace audio paths
    answers: bool = True            # False: lets it ring
    clear: str = "signal"           # how the exchange tells the box it hung up (CLEARS)
    kind: str = "phone"             # what answers (PHONE_KINDS)
    # State:
    ringing_since: float | None = None
    off_hook: bool = False
    answered_at: float | None = None
    answer_at: float = float("inf")
    hangup_at: float = float("inf")
    calls: int = 0

    @property
    def busy(self) -> bool:
        return self.off_hook or self.ringing_since is not None

    def ring(self, now: float) -> None:
        self.ringing_since = now
        self.answer_at = now + self.answer_after if self.answers else float("inf")

    def on_hook(self) -> None:
        self.ringing_since, self.off_hook = None, False
        self.answer_at = self.hangup_at = float("inf")


class LineState(str, enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"       # an inbound call rings the box
    ANSWERED = "answered"     # the box took the inbound call
    DIALING = "dialing"       # the box dialled out; the far phone rings (or the number fails)
    OUTBOUND = "outbound"     # the far phone answered the box's call
    TESTING = "testing"       # off-hook for a line test: callers find it busy
    CLEARED = "cleared"       # the far end hung up without a line signal: its tone (or nothing) until the box hangs up


@dataclass
class _Trunk:
    state: LineState = LineState.IDLE
    caller: SimCaller | None = None
    ring_started: float = 0.0
    next_ring: float = 0.0
    give_up_at: float = float("inf")
    hangup_at: float = float("inf")
    keys: list[tuple[float, str]] = field(default_factory=list)
    speech: list[tuple[float, float]] = field(default_factory=list)
    number: str = ""                      # dialled number, outbound
    progress_at: float = float("inf")     # when the PSTN reports busy / unobtainable
    progress: str = ""
    callerid_at: float = float("inf")     # when the exchange sends caller ID between rings
    test: LineTest | None = None
    test_until: float = float("inf")
    listener: DialToneListener | None = None   # judges the line's audio while it is tested


# What the PSTN answers a call that cannot complete (ITU-T Q.35 tones; docs/standards.md §3).
BUSY_AFTER_S = 1.0
UNOBTAINABLE_AFTER_S = 3.0


class SimDriver(Driver):
    name = "sim"

    def __init__(self, trunks: int = 8, stations: int = 4, seed: int = 0,
                 noise_dbm0: float = -65.0, dtmf: DtmfStyle | None = None, callerid: str = "v23",
                 tones: TonePlan | None = None, prefix: str = ""):
        """`callerid`: how the exchange sends caller ID (sim_signals.CALLER_ID_SCHEMES); `tones`: the
        plan whose dial tone it gives a line taken off-hook and whose busy, ringback and unobtainable
        tones it plays when the box dials out, or None for an exchange that plays no tones (it reports
        call progress out of band, PROGRESS events, and a line test hears no dial tone). `prefix` starts
        every channel's name (the load test's virtual lines: "vtrunk1", "vstation1")."""
        if trunks < 0 or stations < 0:
            raise ValueError("sim: trunk and station counts must be >= 0")
        if callerid not in CALLER_ID_SCHEMES:
            raise ValueError(f"sim: callerid {callerid!r}: expected one of {', '.join(CALLER_ID_SCHEMES)}")
        self.n_trunks, self.n_stations, self.prefix = trunks, stations, prefix
        self.dtmf = dtmf or DtmfStyle()
        self.callerid = callerid
        self.tone_plan = tones
        # Caller ID sent after the first ring is only heard if the box lets that ring pass.
        self.answer_rings = 2 if callerid == "bell202" else 1
        self._rng = np.random.default_rng(seed)
        n = trunks + stations
        # Line noise: a bank of white noise read at a different offset per channel each tick,
        # so the per-tick cost is one gather, whatever the channel count.
        bank = self._rng.standard_normal(int(_NOISE_BANK_S / TICK_SECONDS) * TICK_SAMPLES)
        # White noise at a level in dBm0 has the rms of a sine at that level: amplitude / sqrt(2).
        self._noise = (bank * dbm0_to_amplitude(noise_dbm0) * np.sqrt(0.5)).astype(np.float32)
        self._noise_pos = self._rng.integers(0, self._noise.size - TICK_SAMPLES, size=n)
        self._ramp = np.arange(TICK_SAMPLES)
        self.trunks = [_Trunk() for _ in range(trunks)]
        self.handsets = [Phone() for _ in range(stations)]
        self.directory: dict[str, Phone] = {}          # numbers the PSTN can ring
        self._phones: dict[int, Phone] = {}            # channel -> phone ringing or off hook there
        self._busy_trunks: set[int] = set()
        self._audio: dict[int, tuple[np.ndarray, int]] = {}   # channel -> (samples, position)
        self._loops: dict[int, Loop] = {}              # channel -> a voice's test tone, a progress tone
        self._events: list[ChannelEvent] = []
        self.tick = 0
        self.finished: list[SimCaller] = []
        self.blocked: list[SimCaller] = []     # found every line busy
        self.alarmed: dict[int, str] = {}      # channel -> reason, from fault injection
        # Fault injection: what a trunk carries off-hook instead of dial tone (a line stuck on busy
        # tone, noise, a crossed line's speech), int16-scale samples repeated.
        self.off_hook_audio: dict[int, np.ndarray] = {}
        self.counters = {"calls": 0, "blocked": 0, "digits": 0, "outbound": 0}

    # --- Driver interface ---------------------------------------------------------------------
    def specs(self) -> list[ChannelSpec]:
        p = self.prefix
        return ([ChannelSpec(f"{p}trunk{i + 1}", ChannelKind.TRUNK, f"sim:{p}trunk{i + 1}")
                 for i in range(self.n_trunks)]
                + [ChannelSpec(f"{p}station{i + 1}", ChannelKind.STATION, f"sim:{p}station{i + 1}")
                   for i in range(self.n_stations)])

    @property
    def now(self) -> float:
        return self.tick * TICK_SECONDS

    def exchange(self, tx: np.ndarray, rx: np.ndarray) -> list[ChannelEvent]:
        self._advance()
        n = rx.shape[0]
        idx = self._noise_pos[:n, None] + self._ramp
        frame = self._noise[idx]
        self._noise_pos = (self._noise_pos + TICK_SAMPLES) % (self._noise.size - TICK_SAMPLES)
        for ch in list(self._audio):
            samples, pos = self._audio[ch]
            chunk = samples[pos:pos + TICK_SAMPLES]
            frame[ch, :chunk.size] += chunk
            if pos + TICK_SAMPLES >= samples.size:
                del self._audio[ch]
            else:
                self._audio[ch] = (samples, pos + TICK_SAMPLES)
        for ch, loop in self._loops.items():
            frame[ch] += loop.read(self.tick, TICK_SAMPLES)
        np.copyto(rx, np.clip(frame, -32768, 32767), casting="unsafe")
        for ch in self._busy_trunks:
            listener = self.trunks[ch].listener
            if listener is not None:
                listener.feed(rx[ch])
        self.tick += 1
        events, self._events = self._events, []
        return events

    def answer(self, channel: int) -> None:
        if channel >= self.n_trunks:
            raise ChannelError(f"sim: station{channel - self.n_trunks + 1} cannot be answered, only rung")
        line = self.trunks[channel]
        if line.state != LineState.RINGING:
            raise ChannelError(f"sim: trunk{channel + 1} is not ringing ({line.state.value})")
        caller = line.caller
        assert caller is not None and caller.arrived is not None, "a ringing trunk has the caller who arrived"
        line.state = LineState.ANSWERED
        caller.answered = self.now
        line.give_up_at = caller.arrived + caller.patience
        line.keys = sorted((self.now + at, digits) for at, digits in caller.keys)
        line.speech = sorted((self.now + at, seconds) for at, seconds in caller.speak)
        if caller.fax:
            self._loops[channel] = fax_calling_tone(self.tick, TICK_SAMPLES)

    def hangup(self, channel: int) -> None:
        self._audio.pop(channel, None)
        self._loops.pop(channel, None)
        phone = self._phones.pop(channel, None)
        if phone is not None:
            phone.on_hook()
        if channel < self.n_trunks:
            line = self.trunks[channel]
            if line.caller is not None:
                self._end(channel, "box")
            elif line.state != LineState.IDLE:
                if line.test is not None:
                    line.test.finish(None, None, f"sim: trunk{channel + 1}: test stopped, the line was hung up")
                self._free(channel)

    def dial(self, channel: int, number: str) -> None:
        """Ring a station's handset, or dial `number` out on a trunk."""
        if channel >= self.n_trunks:
            handset = self.handsets[channel - self.n_trunks]
            if handset.busy:
                raise ChannelError(f"sim: station{channel - self.n_trunks + 1} is busy")
            handset.ring(self.now)
            self._phones[channel] = handset
            return
        line = self.trunks[channel]
        if line.state != LineState.IDLE:
            raise ChannelError(f"sim: trunk{channel + 1} is in use ({line.state.value})")
        if channel in self.alarmed:
            raise ChannelError(f"sim: trunk{channel + 1} is down ({self.alarmed[channel]}): no dial tone")
        if not number or not all(c in "0123456789*#" for c in number):
            raise ChannelError(f"sim: trunk{channel + 1}: cannot dial {number!r}")
        self.counters["outbound"] += 1
        line.state, line.number = LineState.DIALING, number
        self._busy_trunks.add(channel)
        phone = self.directory.get(number)
        if phone is None:
            line.progress, line.progress_at = "sit", self.now + UNOBTAINABLE_AFTER_S
        elif phone.kind in ("busy", "congestion"):
            line.progress, line.progress_at = phone.kind, self.now + BUSY_AFTER_S
        elif phone.busy or self._on_a_line(number):
            line.progress, line.progress_at = "busy", self.now + BUSY_AFTER_S
        else:
            phone.ring(self.now)
            self._phones[channel] = phone
            if self.tone_plan is not None:
                self._loops[channel] = progress_tone(self.tone_plan, "ringback", self.tick, TICK_SAMPLES)

    def test_line(self, channel: int, seconds: float, plan: TonePlan) -> LineTest:
        """Off-hook for `seconds` of simulated time, listening for `plan`'s dial tone: the exchange gives
        its own plan's dial tone on a working trunk, nothing on one in alarm (or an injected sound)."""
        if channel >= self.n_trunks:
            raise ChannelError(f"sim: station{channel - self.n_trunks + 1} is a handset: only trunks have a "
                               "line to test")
        if not 0.5 <= seconds <= 60.0:
            raise ChannelError(f"sim: line test of {seconds} s: use 0.5-60 s")
        line = self.trunks[channel]
        if line.state != LineState.IDLE:
            raise ChannelError(f"sim: trunk{channel + 1} is in use ({line.state.value})")
        try:
            listener = DialToneListener(plan)
        except TonePlanError as exc:
            raise ChannelError(f"sim: trunk{channel + 1}: {exc}") from None
        if seconds < listener.seconds_needed:
            raise ChannelError(f"sim: line test of {seconds} s: the {plan.name} plan's dial tone is told from its "
                               f"other tones in {listener.seconds_needed:.2f} s; listen at least that long")
        line.state, line.test, line.test_until = LineState.TESTING, LineTest(seconds), self.now + seconds
        line.listener = listener
        self._busy_trunks.add(channel)
        sound = self._off_hook_sound(channel)
        if sound is not None:
            self._loops[channel] = sound
        return line.test

    def status(self) -> dict:
        return {"driver": self.name, "trunks": self.n_trunks, "stations": self.n_stations,
                "busy_trunks": sum(t.state != LineState.IDLE for t in self.trunks), **self.counters}

    # --- the PSTN side: scripted callers and subscribers ---------------------------------------
    def place_call(self, caller: SimCaller) -> bool:
        """A caller dials the hotline: the PSTN picks an idle trunk (False: all busy)."""
        caller.arrived = self.now
        self.counters["calls"] += 1
        for ch, line in enumerate(self.trunks):
            # A line in alarm is down: the exchange routes no call to it until it is back.
            if line.state == LineState.IDLE and ch not in self.alarmed:
                line.state, line.caller = LineState.RINGING, caller
                line.ring_started = line.next_ring = self.now
                line.give_up_at = min(self.now + caller.patience, self.now + NO_ANSWER_RELEASE_S)
                line.hangup_at = float("inf")
                caller.line = ch
                self._busy_trunks.add(ch)
                self._send_caller_id(ch, line, caller)
                return True
        caller.ended, caller.ended_by = self.now, "busy"
        self.counters["blocked"] += 1
        self.blocked.append(caller)
        return False

    def _send_caller_id(self, ch: int, line: _Trunk, caller: SimCaller) -> None:
        """Caller ID the way this exchange sends it (docs/standards.md §4)."""
        if self.callerid == "event":
            self._events.append(ChannelEvent(ch, EventKind.CALLER_ID, {"number": caller.number, "name": caller.name}))
        elif self.callerid in BEFORE_RING:
            burst = caller_id_burst(self.callerid, caller.number, caller.name, caller.garbled_id)
            self._queue_audio(ch, burst)
            line.next_ring = self.now + burst.size / RATE + BEFORE_RING_GAP_S
        else:
            line.callerid_at = self.now + RING_ON_S + AFTER_RING_GAP_S

    def subscriber(self, number: str, phone: Phone) -> Phone:
        """Make `number` reachable on the PSTN (an expert center, a caller waiting for a callback)."""
        self.directory[number] = phone
        return phone

    def connected(self, channel: int) -> None:
        """The caller on trunk `channel` hears an agent: their talk time starts."""
        line = self.trunks[channel]
        caller = line.caller
        if caller is not None and caller.connected is None:
            caller.connected = self.now
            line.give_up_at = float("inf")
            line.hangup_at = self.now + caller.talk
            if caller.voice_hz:
                self._loops[channel] = steady_tone([caller.voice_hz], VOICE_DBM0, self.tick, TICK_SAMPLES)

    def alarm(self, channel: int, active: bool = True, reason: str = "loss of line") -> None:
        """Fault injection: the line (or station) fails, or comes back."""
        if active:
            self.alarmed[channel] = reason
            test = self.trunks[channel].test if channel < self.n_trunks else None
            if test is not None:
                test.finish(False, None, f"sim: trunk{channel + 1}: no dial tone: the line went down ({reason})")
            self.hangup(channel)
        else:
            self.alarmed.pop(channel, None)
        self._events.append(ChannelEvent(channel, EventKind.ALARM, {"active": active, "reason": reason}))

    def handset(self, station: int) -> Phone:
        return self.handsets[station]

    def _on_a_line(self, number: str) -> bool:
        return any(t.caller is not None and t.caller.number == number for t in self.trunks)

    # --- time ---------------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.now
        # Only lines and phones in use are visited: an idle channel costs nothing per tick.
        for ch in sorted(self._busy_trunks):
            line = self.trunks[ch]
            if line.state == LineState.DIALING and now >= line.progress_at:
                self._progress(ch, line)
                continue
            if line.state == LineState.TESTING:
                if now >= line.test_until:
                    self._test_done(ch, line)
                continue
            if line.caller is None:
                continue
            if line.state == LineState.RINGING and now >= line.callerid_at:
                line.callerid_at = float("inf")
                self._queue_audio(ch, caller_id_burst(self.callerid, line.caller.number, line.caller.name,
                                                      line.caller.garbled_id))
            if line.state == LineState.RINGING and now >= line.next_ring:
                self._events.append(ChannelEvent(ch, EventKind.RING, {}))
                line.next_ring += RING_PERIOD_S
            if now >= line.give_up_at or now >= line.hangup_at:
                unanswered = line.state == LineState.RINGING and now >= line.ring_started + NO_ANSWER_RELEASE_S
                clear = line.caller.clear if line.state == LineState.ANSWERED else "signal"
                self._end(ch, "pstn" if unanswered else "caller")
                self._cleared(ch, clear)
                continue
            while line.keys and line.keys[0][0] <= now:
                _, digits = line.keys.pop(0)
                self._press(ch, line.caller, digits)
            while line.speech and line.speech[0][0] <= now:
                _, seconds = line.speech.pop(0)
                self._say(ch, line.caller, seconds)
        for ch, phone in sorted(self._phones.items()):
            if phone.ringing_since is not None and now >= phone.answer_at:
                phone.ringing_since, phone.off_hook, phone.answered_at = None, True, now
                phone.answer_at, phone.hangup_at = float("inf"), now + phone.talk
                phone.calls += 1
                if ch < self.n_trunks:
                    self.trunks[ch].state = LineState.OUTBOUND
                self._loops.pop(ch, None)   # the ringback stops
                self._answered_by(ch, phone)
                self._events.append(ChannelEvent(ch, EventKind.ANSWER, {}))
            elif phone.off_hook and now >= phone.hangup_at:
                phone.on_hook()
                del self._phones[ch]
                self._loops.pop(ch, None)
                if ch < self.n_trunks:
                    self._free(ch)
                    self._cleared(ch, phone.clear)
                else:
                    self._events.append(ChannelEvent(ch, EventKind.CLEAR, {}))

    def _answered_by(self, ch: int, phone: Phone) -> None:
        """What the box hears once `phone` has picked up on channel `ch` (PHONE_KINDS)."""
        if phone.kind in ("person", "noisy"):
            self._queue_audio(ch, speech(PERSON_WORDS if phone.kind == "person" else NOISY_WORDS, seed=self.tick))
        elif phone.kind == "machine":
            self._queue_audio(ch, np.concatenate([speech(MACHINE_WORDS, seed=self.tick), beep()]))
        elif phone.kind == "fax":
            self._queue_audio(ch, fax_answer())
        elif phone.voice_hz:
            self._loops[ch] = steady_tone([phone.voice_hz], VOICE_DBM0, self.tick, TICK_SAMPLES)

    def _cleared(self, ch: int, how: str) -> None:
        """The far end on trunk `ch` hung up (the trunk is free on its side): the exchange signals it,
        or plays its tone, or nothing, until the box hangs up."""
        plan = self.tone_plan
        if how == "signal" or (how != "silence" and plan is None):
            self._events.append(ChannelEvent(ch, EventKind.CLEAR, {}))
            return
        self.trunks[ch].state = LineState.CLEARED
        self._busy_trunks.add(ch)
        if plan is not None and how != "silence":
            self._loops[ch] = progress_tone(plan, how, self.tick, TICK_SAMPLES)

    def _progress(self, ch: int, line: _Trunk) -> None:
        """The call cannot complete: the exchange plays its tone, or reports it out of band."""
        line.progress_at = float("inf")
        if self.tone_plan is None:
            self._events.append(ChannelEvent(ch, EventKind.PROGRESS, {"tone": line.progress}))
        else:
            self._loops[ch] = progress_tone(self.tone_plan, line.progress, self.tick, TICK_SAMPLES)

    def _off_hook_sound(self, ch: int) -> Loop | None:
        """What the exchange gives trunk `ch` off-hook: nothing on a line in alarm (a dead line), an
        injected fault's sound, or its plan's dial tone."""
        if ch in self.alarmed:
            return None
        if ch in self.off_hook_audio:
            return make_loop(self.off_hook_audio[ch], self.tick, TICK_SAMPLES)
        if self.tone_plan is None or not any(t.name == "dial" for t in self.tone_plan.tones):
            return None
        return progress_tone(self.tone_plan, "dial", self.tick, TICK_SAMPLES)

    def _test_done(self, ch: int, line: _Trunk) -> None:
        listener, test = line.listener, line.test
        assert listener is not None and test is not None, "test_line gives a testing trunk both"
        seconds = test.seconds
        level = listener.level_dbm0
        heard = "no signal" if level is None else f"line at {level:.1f} dBm0"
        if listener.heard:
            test.finish(True, level, f"sim: trunk{ch + 1}: {listener.plan.name} dial tone heard in "
                                     f"{seconds:.1f} s ({heard})")
        else:
            reason = self.alarmed.get(ch)
            down = f"; the line is down ({reason})" if reason is not None else ""
            test.finish(False, level, f"sim: trunk{ch + 1}: no {listener.plan.name} dial tone in "
                                      f"{seconds:.1f} s ({heard}){down}")
        self._free(ch)

    def _say(self, ch: int, caller: SimCaller, seconds: float) -> None:
        """The caller talks (a message): their voice tone for `seconds`."""
        voice = tonegen.tone(round(caller.voice_hz or 624), VOICE_DBM0, int(seconds * RATE)).astype(np.float32)
        self._queue_audio(ch, voice)

    def _queue_audio(self, ch: int, audio: np.ndarray) -> None:
        samples, pos = self._audio.get(ch, (np.zeros(0, np.float32), 0))
        self._audio[ch] = (np.concatenate([samples[pos:], audio.astype(np.float32)]), 0)

    def _press(self, ch: int, caller: SimCaller, digits: str) -> None:
        style = self.dtmf
        audio = tonegen.dtmf_string(digits, on_s=style.on_s, off_s=style.off_s,
                                    level_dbm0=style.level_dbm0, twist_db=style.twist_db)
        self._queue_audio(ch, audio)
        caller.pressed += digits
        self.counters["digits"] += len(digits)

    def _end(self, ch: int, by: str) -> None:
        line = self.trunks[ch]
        caller = line.caller
        assert caller is not None, "only a trunk with a caller has a call to end"
        caller.ended, caller.ended_by = self.now, by
        self.finished.append(caller)
        self._free(ch)

    def _free(self, ch: int) -> None:
        self.trunks[ch] = _Trunk()
        self._busy_trunks.discard(ch)
        self._audio.pop(ch, None)
        self._loops.pop(ch, None)
