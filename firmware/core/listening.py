"""What the box hears on its lines each tick: every detector run once over every channel, and each
detection handed to the application as the line's event.

Keys pressed, caller ID sent between rings, busy or unobtainable tone on a number being dialled and
a fax machine's calling tone all arrive as audio; drivers whose hardware decodes some of them
(a modem's caller ID, an E1 trunk's line signalling) report those as channel events instead, and
the application handles both in the same form.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from drivers.channel import Board, ChannelKind
from dsp.callerid import CallerIdEvent
from dsp.dtmf import DtmfEvent
from dsp.energy import VadEvent
from dsp.faxtone import FaxToneEvent
from dsp.frontend import DetectorSet
from dsp.tones import ToneEvent, TonePlan

from firmware.core.application import Application


class Listener:
    def __init__(self, board: Board, plan: TonePlan):
        self.detectors = DetectorSet(len(board), plan)
        self._trunk = np.array([c.kind == ChannelKind.TRUNK for c in board.channels], bool)

    @property
    def levels(self) -> np.ndarray:
        """Each channel's level in dBm0 over the last tick."""
        return self.detectors.levels

    def retune(self, plan: TonePlan) -> None:
        """The network's tone plan changed (site reload): call progress is heard by it from the next tick."""
        self.detectors.retune(plan)

    def receiving_caller_id(self, channel: int) -> bool:
        """A caller ID burst is arriving on the line and has not been decoded yet."""
        return channel in self.detectors.callerid.status()["receiving"]

    def reset(self, channel: int) -> None:
        """A new call on the line: what was heard before it does not count, except the caller ID
        burst that may be announcing this very call."""
        d = self.detectors
        for detector in (d.dtmf, d.progress, d.fax, d.vad):
            detector.reset(channel)

    def hear(self, rx: np.ndarray, app: Application, guarded: Callable[..., None]) -> None:
        """Run every detector over the tick; hand what the trunks carried to `app`, each through
        `guarded` (stations are agents' handsets: their keys are not a caller's input)."""
        for ev in self.detectors.process(rx):
            if not self._trunk[ev.channel]:
                continue
            if isinstance(ev, DtmfEvent):
                guarded(ev.channel, app.on_digit, ev.channel, ev.digit)
            elif isinstance(ev, CallerIdEvent):
                guarded(ev.channel, app.on_caller_id, ev.channel, ev.message)
            elif isinstance(ev, ToneEvent):
                guarded(ev.channel, app.on_progress, ev.channel, ev.tone)
            elif isinstance(ev, FaxToneEvent):
                guarded(ev.channel, app.on_fax, ev.channel, ev.tone)
            elif not isinstance(ev, VadEvent):
                raise TypeError(f"no handler for detector event {type(ev).__name__}")
