"""A simulated exchange at the far end of an E1 span running MFC-R2 (China or ITU), with faults.

It plays the network's side of the box's span: callers who seize a timeslot, send the hotline's
number and their own by compelled MF, wait, press keys and talk; subscribers the box calls, free,
busy or unallocated, who answer and hang up. Its register signalling is drivers/r2.py's, the same
code as the box's, in the other role. Faults: span alarms mid-call, a slow register, a seize never
acknowledged, glare, callers who hang up during the address.

The card between the box and the exchange is simulated in-process (`SimE1Card`, `SimSpanAudio`), in
step with the box's ticks, so a scenario runs in fast time and gives the same result every run; the
control protocol on a pseudo-terminal is drivers/e1_emulator.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dsp import g711, tonegen

from .channel import TICK_SAMPLES, TICK_SECONDS
from .e1_card import CardEvent, CardEventKind, LinkState
from .e1_proto import BLOCKED, VOICE_TIMESLOTS, check_abcd
from .r2 import R2Span, R2State
from .r2_variant import R2Variant
from .sim import VOICE_DBM0, DtmfStyle, SimCaller
from .sim_signals import Loop, steady_tone

log = logging.getLogger(__name__)

# docs/e1-card.md §4: the card reports a received ABCD value steady for 20 ms.
CAS_DEBOUNCE_S = 0.02
# A called subscriber who is free answers after this long and talks this long, unless told otherwise.
ANSWER_AFTER_S = 2.0
TALK_S = 30.0
# A call the box never answers is released by the network (the sim's Q.118-style release).
NO_ANSWER_RELEASE_S = 60.0


class SimE1Card:
    """The card's control link as drivers/e1_card.E1Card presents it, without a port: CAS, defects, link."""

    def __init__(self, now: Callable[[], float]):
        self._now = now
        self.state = LinkState.OFFLINE
        self.reason = "not started"
        self.defects: frozenset[str] = frozenset()
        self.rx = dict.fromkeys(VOICE_TIMESLOTS, BLOCKED)
        self.tx = dict.fromkeys(VOICE_TIMESLOTS, BLOCKED)
        self._line = dict.fromkeys(VOICE_TIMESLOTS, BLOCKED)
        self._since = dict.fromkeys(VOICE_TIMESLOTS, 0.0)
        self._changed: set[int] = set()
        self._events: list[CardEvent] = []
        self.plugged = True
        self.on_transmit: Callable[[int, str], None] | None = None

    def start(self) -> None:
        self._up()

    def _up(self) -> None:
        self.state, self.reason = LinkState.UP, "configured"
        self._events.append(CardEvent(CardEventKind.LINK, value="up"))
        self._events.append(CardEvent(CardEventKind.DEFECTS, defects=self.defects))

    def poll(self) -> list[CardEvent]:
        now = self._now()
        # A line in red or blue alarm carries no multiframe: the received CAS bits hold their last values.
        dead = bool(self.defects & {"LOS", "LOF", "LMFA", "AIS"})
        for ts in sorted(self._changed) if not dead else ():
            if now - self._since[ts] >= CAS_DEBOUNCE_S:
                self._changed.discard(ts)
                if self._line[ts] != self.rx[ts]:
                    self.rx[ts] = self._line[ts]
                    if self.state == LinkState.UP:
                        self._events.append(CardEvent(CardEventKind.CAS, ts=ts, value=self.rx[ts]))
        events, self._events = self._events, []
        return events

    def set_cas(self, ts: int, abcd: str) -> None:
        check_abcd(abcd)
        self.tx[ts] = abcd
        if self.on_transmit is not None and self.state == LinkState.UP:
            self.on_transmit(ts, abcd)

    def status(self) -> dict:
        return {"link": self.state.value, "reason": self.reason, "defects": sorted(self.defects),
                "line_counters": {}, "card": {"model": "simulated"}}

    def close(self) -> None:
        self.state = LinkState.OFFLINE

    # --- the far end's side -----------------------------------------------------------------------
    def far_cas(self, ts: int, abcd: str) -> None:
        if self._line[ts] != abcd:
            self._line[ts] = abcd
            self._since[ts] = self._now()
            self._changed.add(ts)

    def set_defects(self, defects: frozenset[str]) -> None:
        if defects != self.defects:
            self.defects = defects
            self._events.append(CardEvent(CardEventKind.DEFECTS, defects=defects))

    def unplug(self) -> None:
        self.state, self.reason = LinkState.OFFLINE, "port lost: unplugged"
        self._events.append(CardEvent(CardEventKind.LINK, value="down", reason=self.reason))

    def replug(self) -> None:
        self._up()


class SimSpanAudio:
    """The timeslots' audio between the box and the exchange, A-law both ways as on the line (G.711)."""

    def __init__(self, exchange: SimExchange):
        self.exchange_ = exchange
        self.ticks = 0

    def now(self) -> float:
        """The simulated time: the ticks exchanged so far (the box and the exchange share it)."""
        return self.ticks * TICK_SECONDS

    def open(self) -> None:
        """Nothing to open."""

    def exchange(self, tx: np.ndarray, rx: np.ndarray) -> None:
        heard = g711.alaw_decode(g711.alaw_encode(tx))
        sent = self.exchange_.tick(heard)
        rx[:] = g711.alaw_decode(g711.alaw_encode(sent))
        self.ticks += 1

    def status(self) -> dict:
        return {"format": "A_LAW", "overruns": 0, "underruns": 0, "ticks": self.ticks}

    def close(self) -> None:
        """Nothing to close."""


@dataclass
class Subscriber:
    """A number the box may call: its line's state (the B meaning), and what it does when free."""
    meaning: str = "free_charge"
    answer_after: float = ANSWER_AFTER_S
    talk: float = TALK_S
    answers: bool = True


@dataclass
class _Call:
    caller: SimCaller | None           # inbound (to the box): the caller; outbound: None
    dnis: str
    started: float
    give_up_at: float = float("inf")
    hangup_at: float = float("inf")
    answer_at: float = float("inf")
    keys: list[tuple[float, str]] = field(default_factory=list)
    clear_after_digits: int | None = None
    subscriber: Subscriber | None = None


class SimExchange:
    """The far end of one span: `tick(box_tx)` once per box tick returns what the box receives."""

    def __init__(self, variant: R2Variant, number_digits: int = 8, dtmf: DtmfStyle | None = None,
                 seed: int = 0):
        """Time is the ticks the box has exchanged (`audio.now`): the box's span driver takes it as its
        clock, so both ends run in step at any speed."""
        self.variant = variant
        self.audio = SimSpanAudio(self)
        self._now = self.audio.now
        self.card = SimE1Card(self._now)
        self.card.on_transmit = self._from_box
        self.lines = list(VOICE_TIMESLOTS)
        self._ch_of_ts = {ts: i for i, ts in enumerate(self.lines)}
        n = len(self.lines)
        self.r2 = R2Span(n, variant, self._to_box, dnis_digits=number_digits, decide=self._decide,
                         name="exchange", yield_on_glare=False)
        self.dtmf = dtmf or DtmfStyle()
        self.directory: dict[str, Subscriber] = {}
        self.calls: dict[int, _Call] = {}
        self.finished: list[SimCaller] = []
        self.results: list[dict] = []          # every call's outcome, in and out
        self._box_cas: list[tuple[int, str]] = []
        self._box_tx = dict.fromkeys(range(n), BLOCKED)
        self._audio: dict[int, tuple[np.ndarray, int]] = {}
        # A connected caller's voice, a steady tone (as drivers/sim.py), to trace the audio path.
        self._voices: dict[int, Loop] = {}
        self._tx = np.zeros((n, TICK_SAMPLES), np.int16)
        self._rng = np.random.default_rng(seed)
        self.no_seize_ack: set[int] = set()
        self.glare: dict[int, tuple[SimCaller, str]] = {}
        self.counters = {"placed": 0, "refused": 0, "answered_by_box": 0, "box_calls": 0}
        for ch in range(n):
            self.r2.chans[ch].rx = ""
            self._to_box(ch, variant.abcd("idle"))

    # --- the callers' side --------------------------------------------------------------------------
    def idle_channels(self) -> list[int]:
        idle_ab = self.variant.line["idle"]
        return [ch for ch in range(len(self.lines)) if self.r2.chans[ch].state == R2State.IDLE
                and ch not in self.calls and self._box_tx[ch][:2] == idle_ab]

    def place_call(self, caller: SimCaller, dnis: str, channel: int | None = None,
                   clear_after_digits: int | None = None) -> bool:
        """`caller` calls the box's number `dnis`: False if no timeslot is free (all busy or alarmed)."""
        now = self._now()
        caller.arrived = now
        free = self.idle_channels() if self.card.state == LinkState.UP and self._in_service() else []
        if channel is not None:
            free = [channel] if channel in free else []
        if not free:
            caller.ended, caller.ended_by = now, "busy"
            self.counters["refused"] += 1
            self.finished.append(caller)
            self.results.append({"direction": "in", "ani": caller.number, "dnis": dnis, "outcome": "no circuit"})
            return False
        ch = free[0]
        caller.line = ch
        self.calls[ch] = _Call(caller, dnis, now, give_up_at=now + min(caller.patience, NO_ANSWER_RELEASE_S),
                               clear_after_digits=clear_after_digits)
        self.r2.seize(ch, dnis, caller.number)
        self.counters["placed"] += 1
        return True

    def caller_on(self, channel: int) -> SimCaller | None:
        call = self.calls.get(channel)
        return call.caller if call is not None else None

    def connected(self, channel: int) -> None:
        """The caller on `channel` now hears an agent: their talk time starts."""
        call = self.calls.get(channel)
        if call is not None and call.caller is not None and call.caller.connected is None:
            now = self._now()
            call.caller.connected = now
            call.give_up_at = float("inf")
            call.hangup_at = now + call.caller.talk
            if call.caller.voice_hz:
                self._voices[channel] = steady_tone([call.caller.voice_hz], VOICE_DBM0,
                                                    round(now / TICK_SECONDS), TICK_SAMPLES)

    def busy(self) -> bool:
        return bool(self.calls)

    def hang_up(self, channel: int) -> None:
        """The caller on `channel` hangs up now (clear-forward)."""
        if channel in self.calls:
            self._end(channel, "caller", "caller hung up")
            self.r2.hangup(channel)

    # --- faults -------------------------------------------------------------------------------------
    def set_defects(self, defects: set[str] | frozenset[str]) -> None:
        """The line's raw defects from now on (LOS, LOF, LMFA, AIS, RAI): an alarm mid-call and its end."""
        self.card.set_defects(frozenset(defects))
        if defects & {"LOS", "LOF", "LMFA", "AIS"}:
            # A broken line carries nothing: the exchange's circuits go down with it.
            for ch in list(self.calls):
                self._end(ch, "pstn", "span alarm")
            self.r2.reset_all("span alarm")

    def slow_mf(self, seconds: float, channels: list[int] | None = None) -> None:
        """The exchange's register answers each signal `seconds` late."""
        for ch in channels if channels is not None else range(len(self.lines)):
            self.r2.set_slow(ch, seconds)

    # --- the box's side -----------------------------------------------------------------------------
    def _from_box(self, ts: int, abcd: str) -> None:
        ch = self._ch_of_ts.get(ts)
        if ch is not None:
            self._box_cas.append((ch, abcd))

    def _to_box(self, ch: int, abcd: str) -> None:
        self.card.far_cas(self.lines[ch], abcd)

    def _in_service(self) -> bool:
        return not (self.card.defects & {"LOS", "LOF", "LMFA", "AIS"})

    def _decide(self, ch: int, dnis: str, ani: str, category: int) -> str:
        sub = self.directory.get(dnis)
        if sub is None:
            return "unallocated"
        call = self.calls.get(ch)
        if call is not None:
            call.subscriber = sub
        return sub.meaning

    def tick(self, box_tx: np.ndarray) -> np.ndarray:
        """One tick: hear the box's timeslots (32, 160), act, return what the box receives (32, 160)."""
        now = self._now()
        heard = box_tx[self.lines]
        if self._in_service():
            for ch, abcd in self._box_cas:
                self._box_cas_changed(ch, abcd, now)
        self._box_cas.clear()
        self._tx[:] = 0
        for ch, (samples, pos) in list(self._audio.items()):
            part = samples[pos:pos + TICK_SAMPLES]
            self._tx[ch, :part.size] = part
            if pos + TICK_SAMPLES >= samples.size:
                del self._audio[ch]
            else:
                self._audio[ch] = (samples, pos + TICK_SAMPLES)
        tick = round(now / TICK_SECONDS)
        for ch, voice in self._voices.items():
            if ch not in self._audio:
                self._tx[ch] = np.round(voice.read(tick, TICK_SAMPLES)).astype(np.int16)
        if self._in_service():
            for out in self.r2.tick(heard, self._tx, now):
                self._on_r2(out.channel, out.kind, out.data, now)
            self._advance(now)
        sent = np.zeros((32, TICK_SAMPLES), np.int16)
        sent[self.lines] = self._tx
        return sent

    def _box_cas_changed(self, ch: int, abcd: str, now: float) -> None:
        self._box_tx[ch] = abcd
        seize = self.variant.line["seize"]
        if abcd[:2] == seize and ch in self.no_seize_ack:
            return                                   # the fault: this seize is never acknowledged
        if abcd[:2] == seize and ch in self.glare and self.r2.chans[ch].state == R2State.IDLE:
            caller, dnis = self.glare.pop(ch)
            caller.arrived, caller.line = now, ch
            self.calls[ch] = _Call(caller, dnis, now, give_up_at=now + caller.patience)
            self.r2.seize(ch, dnis, caller.number)   # both ends seized: the exchange keeps its call
            self.counters["placed"] += 1
        if abcd[:2] == seize and ch not in self.calls and self.r2.chans[ch].state == R2State.IDLE:
            self.calls[ch] = _Call(None, "", now)
            self.counters["box_calls"] += 1
        self.r2.cas(ch, abcd)

    def _on_r2(self, ch: int, kind: str, data: dict, now: float) -> None:
        call = self.calls.get(ch)
        if call is None:
            return
        if kind == "answered" and call.caller is not None:          # the box answered our caller
            self.counters["answered_by_box"] += 1
            call.caller.answered = now
            assert call.caller.arrived is not None, "a placed caller has arrived"
            call.give_up_at = call.caller.arrived + call.caller.patience
            call.keys = sorted((now + at, digits) for at, digits in call.caller.keys)
        elif kind == "offered" and call.caller is None:              # the box's call rings a subscriber
            call.dnis = data["dnis"]
            sub = call.subscriber or Subscriber()
            call.answer_at = now + sub.answer_after if sub.answers else float("inf")
            call.give_up_at = now + NO_ANSWER_RELEASE_S
            self.results.append({"direction": "out", "dnis": data["dnis"], "ani": data["ani"], "outcome": "offered"})
        elif kind in ("cleared", "failed", "abandoned"):
            self._end(ch, "box" if kind == "cleared" else "pstn", data.get("reason", kind))
            if self.r2.chans[ch].state in (R2State.IN_CLEARING, R2State.RELEASING):
                return
            self.r2.hangup(ch)

    def _advance(self, now: float) -> None:
        for ch, call in list(self.calls.items()):
            c = self.r2.chans[ch]
            if c.state in (R2State.IDLE, R2State.BLOCKED):
                self._end(ch, "pstn", "circuit released")
                continue
            if call.clear_after_digits is not None and c.state == R2State.OUT_DIALING and \
                    c.index >= call.clear_after_digits:
                self._end(ch, "caller", "hung up while dialling")
                self.r2.hangup(ch)
                continue
            if call.caller is None:
                if now >= call.answer_at and c.state == R2State.IN_OFFERED:
                    call.answer_at = float("inf")
                    self.r2.answer(ch)
                    call.hangup_at = now + (call.subscriber.talk if call.subscriber else TALK_S)
                elif now >= call.hangup_at or now >= call.give_up_at:
                    self._end(ch, "pstn", "subscriber hung up")
                    self.r2.hangup(ch)
                continue
            if now >= call.give_up_at or now >= call.hangup_at:
                self._end(ch, "caller", "caller hung up")
                self.r2.hangup(ch)
                continue
            while call.keys and call.keys[0][0] <= now:
                _, digits = call.keys.pop(0)
                style = self.dtmf
                audio = tonegen.dtmf_string(digits, on_s=style.on_s, off_s=style.off_s,
                                            level_dbm0=style.level_dbm0, twist_db=style.twist_db)
                self._audio[ch] = (np.round(audio).astype(np.int16), 0)
                call.caller.pressed += digits
        for ch in range(len(self.lines)):
            if ch not in self.calls and self.r2.chans[ch].state == R2State.IN_OFFERED:
                self.r2.hangup(ch)

    def _end(self, ch: int, by: str, why: str) -> None:
        call = self.calls.pop(ch, None)
        self._audio.pop(ch, None)
        self._voices.pop(ch, None)
        if call is None:
            return
        if call.caller is not None:
            caller = call.caller
            if caller.ended is None:
                caller.ended, caller.ended_by = self._now(), by
            self.finished.append(caller)
            self.results.append({"direction": "in", "ani": caller.number, "dnis": call.dnis,
                                 "answered": caller.answered is not None, "outcome": why})

    def status(self) -> dict:
        return {"calls": len(self.calls), **self.counters, "r2": dict(self.r2.counters)}
