"""What the box hears on its lines each tick: every detector run once over every channel, and what
each detection means for the line's call.

Keys pressed, caller ID sent between rings, busy or unobtainable tone on a number being dialled and
a fax machine's calling tone all arrive as audio; drivers whose hardware decodes some of them
(a modem's caller ID, an E1 trunk's line signalling) report those as channel events instead, and
both reach the engine's handlers in the same form.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from drivers.channel import ChannelEvent, ChannelKind, EventKind
from dsp.callerid import CallerIdEvent
from dsp.dtmf import DtmfEvent
from dsp.energy import VadEvent
from dsp.faxtone import FaxToneEvent
from dsp.frontend import DetectorSet
from dsp.tones import ToneEvent, TonePlan

from firmware.callcenter.calls import CallState, Disposition

if TYPE_CHECKING:
    from firmware.core.engine import Engine

log = logging.getLogger(__name__)

# A dialled number that cannot be reached: the tones a leg gives up on (ITU-T Q.35).
FAILURE_TONES = frozenset(("busy", "congestion", "sit"))
# A fax machine is only told apart from a caller while nobody is talking to it yet.
FAX_STATES = frozenset((CallState.IVR, CallState.QUEUED))


class Listener:
    def __init__(self, engine: "Engine", plan: TonePlan):
        self.engine = engine
        board = engine.board
        self.detectors = DetectorSet(len(board), plan)
        self._trunk = np.array([c.kind == ChannelKind.TRUNK for c in board.channels], bool)
        # Caller ID bursts per line that failed their checks (checksum, framing): a line fault to show.
        self.unreadable = [0] * len(board)
        self._handlers = {DtmfEvent: self._digit, CallerIdEvent: self._caller_id, ToneEvent: self._tone,
                          FaxToneEvent: self._fax, VadEvent: None}

    @property
    def levels(self) -> np.ndarray:
        """Each channel's level in dBm0 over the last tick."""
        return self.detectors.levels

    def receiving_caller_id(self, channel: int) -> bool:
        """A caller ID burst is arriving on the line and has not been decoded yet."""
        return channel in self.detectors.callerid.status()["receiving"]

    def reset(self, channel: int) -> None:
        """A new call on the line: what was heard before it does not count, except the caller ID
        burst that may be announcing this very call."""
        d = self.detectors
        for detector in (d.dtmf, d.progress, d.fax, d.vad):
            detector.reset(channel)

    def hear(self, rx: np.ndarray) -> None:
        """Run every detector over the tick; act on what the trunks carried (stations are agents'
        handsets: their keys are not a caller's input)."""
        for ev in self.detectors.process(rx):
            handler = self._handlers[type(ev)]
            if handler is not None and self._trunk[ev.channel]:
                self.engine._guarded(ev.channel, handler, ev)

    def _digit(self, ev: DtmfEvent) -> None:
        self.engine._on_digit(ev.channel, ev.digit)

    def _caller_id(self, ev: CallerIdEvent) -> None:
        eng, msg = self.engine, ev.message
        call = eng.calls.get(ev.channel)
        if call is not None and call.state != CallState.RINGING:
            return  # sent on-hook only: once the line is answered, an FSK-like sound is not caller ID
        if not msg.valid:
            self.unreadable[ev.channel] += 1
            eng.last_caller_id[ev.channel] = {"valid": False, "at": eng.clock.time()}
            log.warning("caller ID on %s unreadable: the burst failed its checks",
                        eng.board.channels[ev.channel].name)
            return
        eng._on_channel_event(ChannelEvent(ev.channel, EventKind.CALLER_ID, {
            "number": msg.number, "name": msg.name, "when": msg.when, "absence": msg.absence}))

    def _tone(self, ev: ToneEvent) -> None:
        # Only a number being dialled out listens for call progress (Operations.leg_event).
        if ev.tone in FAILURE_TONES and ev.channel in self.engine.ops.legs:
            self.engine._on_channel_event(ChannelEvent(ev.channel, EventKind.PROGRESS, {"tone": ev.tone}))

    def _fax(self, ev: FaxToneEvent) -> None:
        call = self.engine.calls.get(ev.channel)
        if ev.tone == "cng" and call is not None and call.direction == "inbound" and call.state in FAX_STATES:
            call.event("call:fax")
            self.engine.end_call(call, Disposition.FAX, "box")
