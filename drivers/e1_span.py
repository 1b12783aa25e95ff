"""One E1 span as 30 trunk channels: the card's control port, its 32-timeslot PCM, MFC-R2 signalling, alarms."""
# The span driver joins three parts, each testable alone: the card's control link (drivers/e1_card.py,
# or the simulator's in-process card), the timeslots' audio (an ALSA PCM of 32 channels, A-law through
# dsp/g711 in drivers/alsa_pcm.PcmPort, or the simulator's), and the R2 signalling of every channel
# (drivers/r2.py). The card's raw defects become span alarms as DAHDI debounces them
# (drivers/e1_alarms.py); a span alarm is every channel's alarm: the engine ends their calls with
# their records, and refuses new ones until the span is back by itself.

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .alsa_pcm import AlsaError, PcmPort
from .channel import TICK_SAMPLES, ChannelError, ChannelEvent, ChannelKind, ChannelSpec, Driver, EventKind
from .e1_alarms import SpanAlarms
from .e1_card import CardEvent, CardEventKind, LinkState
from .e1_proto import VOICE_TIMESLOTS
from .r2 import R2Error, R2Out, R2Span, R2State
from .r2_variant import R2Variant

log = logging.getLogger(__name__)

TIMESLOTS = 32
RECONNECT_MIN_S, RECONNECT_MAX_S = 1.0, 30.0


class E1SpanError(Exception):
    """A span that cannot be set up as asked; the message names the span."""


class Control(Protocol):
    """The card's control link (drivers/e1_card.E1Card, or the simulator's)."""
    state: LinkState
    reason: str
    defects: frozenset[str]
    rx: dict[int, str]

    def start(self) -> None: ...
    def poll(self) -> list[CardEvent]: ...
    def set_cas(self, ts: int, abcd: str) -> None: ...
    def status(self) -> dict: ...
    def close(self) -> None: ...


class SpanAudio(Protocol):
    """The 32 timeslots' audio, one tick at a time: (32, 160) int16 each way."""

    def open(self) -> None: ...
    def exchange(self, tx: np.ndarray, rx: np.ndarray) -> None: ...
    def status(self) -> dict: ...
    def close(self) -> None: ...


class AlsaSpanAudio:
    """The card's PCM: 32 channels, channel k = timeslot k, A-law (E1) decoded by dsp/g711."""

    def __init__(self, capture: str, playback: str, fmt: str = "A_LAW", module=None,
                 clock: Callable[[], float] = time.monotonic):
        self.capture = PcmPort("capture", capture, TIMESLOTS, fmt, module, clock)
        self.playback = PcmPort("playback", playback, TIMESLOTS, fmt, module, clock)

    def open(self) -> None:
        try:
            self.capture.open()
            self.playback.open()
        except AlsaError:
            self.close()
            raise

    def exchange(self, tx: np.ndarray, rx: np.ndarray) -> None:
        aa = self.capture.alsaaudio
        try:
            rx[:] = self.capture.read()
            self.playback.write(tx)
        except aa.ALSAAudioError as exc:
            self.close()
            raise AlsaError(f"alsa {self.capture.device}: failed: {exc}") from None

    def status(self) -> dict:
        return {"capture": self.capture.device, "playback": self.playback.device, "format": self.capture.fmt,
                "overruns": self.capture.overruns, "underruns": self.playback.underruns}

    def close(self) -> None:
        self.capture.close()
        self.playback.close()


@dataclass(frozen=True)
class SpanLine:
    name: str
    timeslot: int


class E1SpanDriver(Driver):
    """30 trunks on one E1 span with MFC-R2 (China or ITU)."""

    name = "e1"
    answer_rings = 1

    def __init__(self, span: str, control: Control, audio: SpanAudio, variant: R2Variant,
                 lines: list[SpanLine] | None = None, dnis_digits: int = 4, ani: str = "",
                 clock: Callable[[], float] = time.monotonic):
        self.span = span
        self.lines = lines or [SpanLine(f"{span}-ts{ts:02d}", ts) for ts in VOICE_TIMESLOTS]
        slots = [ln.timeslot for ln in self.lines]
        if len(set(slots)) != len(slots) or not all(ts in VOICE_TIMESLOTS for ts in slots):
            raise E1SpanError(f"E1 {span}: timeslots {slots} must be distinct voice timeslots (1-15, 17-31)")
        self.control, self.audio, self.variant = control, audio, variant
        self.ani = ani
        self._clock = clock
        self._ts = np.array(slots, np.intp)
        self._ch_of_ts = {ts: i for i, ts in enumerate(slots)}
        self.r2 = R2Span(len(self.lines), variant, self._set_cas, dnis_digits=dnis_digits, name=span)
        self.alarms = SpanAlarms()
        self._tx32 = np.zeros((TIMESLOTS, TICK_SAMPLES), np.int16)
        self._rx32 = np.zeros((TIMESLOTS, TICK_SAMPLES), np.int16)
        self._tx = np.zeros((len(self.lines), TICK_SAMPLES), np.int16)
        self._last_rx = np.zeros((len(self.lines), TICK_SAMPLES), np.int16)
        self._events: list[ChannelEvent] = []
        self._alarm: str | None = "starting"     # the span's alarm as the channels carry it
        self._audio_alarm: str | None = None
        self._audio_retry = 0.0
        self._audio_backoff = RECONNECT_MIN_S
        self._blocked: set[int] = set()
        self.counters = {"calls_in": 0, "calls_out": 0, "alarms": 0, "audio_reopens": 0}
        self.last_caller_id: list[dict | None] = [None] * len(self.lines)
        # The simulated exchange behind a simulated span, and the number its callers dial (scenarios).
        self.simulator: object | None = None
        self.hotline = ""

    # --- the Driver interface ---------------------------------------------------------------------
    def specs(self) -> list[ChannelSpec]:
        return [ChannelSpec(ln.name, ChannelKind.TRUNK, f"{self.span}:TS{ln.timeslot}") for ln in self.lines]

    def start(self) -> None:
        self._events += [ChannelEvent(i, EventKind.ALARM, {"active": True, "reason": f"E1 {self.span}: starting"})
                         for i in range(len(self.lines))]
        self.control.start()
        self._open_audio()

    def exchange(self, tx: np.ndarray, rx: np.ndarray) -> list[ChannelEvent]:
        now = self._clock()
        for ev in self.control.poll():
            self._on_card(ev, now)
        self.alarms.update(now)
        self._check_service(now)
        # R2 runs on what the previous tick received (a tick's latency, 20 ms): its tones replace the
        # voice of the channels in register signalling before this tick's audio goes out.
        self._tx[:] = tx
        if self._alarm is None:
            for out in self.r2.tick(self._last_rx, self._tx, now):
                self._on_r2(out)
        self._rx32[:] = 0
        if self._audio_alarm is None:
            try:
                self._tx32[self._ts] = self._tx
                self.audio.exchange(self._tx32, self._rx32)
            except AlsaError as exc:
                self._audio_failed(str(exc), now)
        elif now >= self._audio_retry:
            self.counters["audio_reopens"] += 1
            self._open_audio()
        rx[:] = self._rx32[self._ts]
        self._last_rx[:] = rx
        events, self._events = self._events, []
        return events

    def answer(self, channel: int) -> None:
        try:
            self.r2.answer(channel)
        except R2Error as exc:
            raise ChannelError(str(exc)) from None

    def hangup(self, channel: int) -> None:
        self.r2.hangup(channel)

    def dial(self, channel: int, number: str) -> None:
        if self._alarm is not None:
            raise ChannelError(f"E1 {self.span}: {self.lines[channel].name} is in alarm: {self._alarm}")
        try:
            self.r2.seize(channel, number, self.ani)
        except R2Error as exc:
            raise ChannelError(str(exc)) from None
        self.counters["calls_out"] += 1

    def status(self) -> dict:
        span = self.span_status()
        state = "alarm" if self._alarm else "up"
        return {"driver": self.name, "span": span,
                "lines": [{"line": ln.name, "kind": "trunk", "driver": self.name,
                           "device": f"{self.span}:TS{ln.timeslot}",
                           "state": f"{state} · {self.r2.chans[i].state.value}", **self.r2.status(i),
                           "alarm": self._alarm or ("blocked by the far end" if i in self._blocked else None),
                           "last_caller_id": self.last_caller_id[i], "span": span,
                           "counters": {"resets": self.counters["audio_reopens"],
                                        "overruns": self.audio.status().get("overruns")}}
                          for i, ln in enumerate(self.lines)]}

    def span_status(self) -> dict:
        card = self.control.status()
        return {"name": self.span, "state": "alarm" if self._alarm else "up", "alarm": self._alarm,
                "alarms": self.alarms.names, "defects": sorted(self.alarms.defects), "link": card.get("link"),
                "variant": self.variant.name, "line_counters": card.get("line_counters", {}),
                "counters": {**self.counters, **self.r2.counters}, "audio": self.audio.status()}

    def close(self) -> None:
        self.control.close()
        self.audio.close()

    # --- the card ---------------------------------------------------------------------------------
    def _set_cas(self, ch: int, abcd: str) -> None:
        self.control.set_cas(self.lines[ch].timeslot, abcd)

    def _on_card(self, ev: CardEvent, now: float) -> None:
        if ev.kind == CardEventKind.CAS:
            ch = self._ch_of_ts.get(ev.ts)
            if ch is not None and self._alarm is None:
                self.r2.cas(ch, ev.value)
        elif ev.kind == CardEventKind.DEFECTS:
            self.alarms.update(now, ev.defects)

    def _check_service(self, now: float) -> None:
        """The span carries calls when the link is up, the PCM runs and no alarm is in force."""
        reason = None
        if self.control.state != LinkState.UP:
            reason = f"E1 {self.span}: control port {self.control.state.value}: {self.control.reason}"
        elif self._audio_alarm is not None:
            reason = self._audio_alarm
        elif not self.alarms.in_service:
            defects = ",".join(sorted(self.alarms.defects)) or "clearing"
            reason = f"E1 {self.span}: {' '.join(self.alarms.names)} alarm ({defects})"
        if reason == self._alarm:
            return
        if reason is not None and self._alarm is not None:
            self._alarm = reason      # still down, for another reason: no new events
            return
        if reason is not None:
            log.error("%s: every channel out of service", reason)
            self.counters["alarms"] += 1
            self.r2.reset_all(reason)
            self._events += [ChannelEvent(i, EventKind.ALARM, {"active": True, "reason": reason})
                             for i in range(len(self.lines))]
        else:
            log.warning("E1 %s: back in service", self.span)
            self._events += [ChannelEvent(i, EventKind.ALARM, {"active": False, "reason": ""})
                             for i in range(len(self.lines))]
            self.r2.reset_all("span up")
            for i, ln in enumerate(self.lines):
                self.r2.cas(i, self.control.rx[ln.timeslot])
        self._alarm = reason

    def _open_audio(self) -> None:
        try:
            self.audio.open()
        except AlsaError as exc:
            self._audio_failed(str(exc), self._clock())
            return
        self._audio_alarm = None
        self._audio_backoff = RECONNECT_MIN_S

    def _audio_failed(self, reason: str, now: float) -> None:
        if reason != self._audio_alarm:
            log.error("E1 %s: %s", self.span, reason)
        self._audio_alarm = reason
        self._audio_retry = now + self._audio_backoff
        self._audio_backoff = min(self._audio_backoff * 2, RECONNECT_MAX_S)

    # --- the signalling ---------------------------------------------------------------------------
    def _on_r2(self, out: R2Out) -> None:
        ch, d = out.channel, out.data
        if out.kind == "offered":
            self.counters["calls_in"] += 1
            cid = {"number": d["ani"] or None, "name": None, "when": None,
                   "absence": None if d["ani"] else "O", "dnis": d["dnis"], "category": d["category"]}
            self.last_caller_id[ch] = {"number": d["ani"], "dnis": d["dnis"]}
            self._events.append(ChannelEvent(ch, EventKind.CALLER_ID, cid))
            self._events.append(ChannelEvent(ch, EventKind.RING, {"dnis": d["dnis"]}))
        elif out.kind == "answered":
            self._events.append(ChannelEvent(ch, EventKind.ANSWER, {}))
        elif out.kind == "failed":
            self._events.append(ChannelEvent(ch, EventKind.PROGRESS, {"tone": d["tone"], "reason": d["reason"]}))
        elif out.kind == "cleared":
            self._events.append(ChannelEvent(ch, EventKind.CLEAR, dict(d)))
        elif out.kind == "blocked":
            (self._blocked.add if d["active"] else self._blocked.discard)(ch)
        # "accepted" (ringing at the far end) and "abandoned" (no call was offered yet) need no event.

    def line_state(self, channel: int) -> R2State:
        return self.r2.chans[channel].state
