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
from dsp.amd import AmdEvent
from dsp.callerid import CallerIdEvent
from dsp.dtmf import DtmfEvent
from dsp.energy import VadEvent
from dsp.faxtone import FaxToneEvent
from dsp.frontend import DetectorSet
from dsp.tones import ToneEvent, TonePlan

from firmware.core.application import Application


class Listener:
    """The detectors of the real lines, and apart from them those of the virtual lines (the load test's,
    numbered after the real ones), which run only while a load test uses them: idle, they cost nothing."""

    def __init__(self, board: Board, plan: TonePlan):
        self.live = board.live
        self.detectors = DetectorSet(board.live, plan)
        self.virtual = DetectorSet(len(board) - board.live, plan) if len(board) > board.live else None
        self.virtual_on = False
        self._trunk = np.array([c.kind == ChannelKind.TRUNK for c in board.channels], bool)
        self._levels = np.full(len(board), -np.inf)

    @property
    def levels(self) -> np.ndarray:
        """Each channel's level in dBm0 over the last tick (-inf on the virtual lines while they rest)."""
        return self._levels

    def _part(self, channel: int) -> tuple[DetectorSet, int]:
        if channel < self.live or self.virtual is None:
            return self.detectors, channel
        return self.virtual, channel - self.live

    def retune(self, plan: TonePlan) -> None:
        """The network's tone plan changed (site reload): call progress is heard by it from the next tick."""
        self.detectors.retune(plan)

    def receiving_caller_id(self, channel: int) -> bool:
        """A caller ID burst is arriving on the line and has not been decoded yet."""
        detectors, local = self._part(channel)
        return local in detectors.callerid.status()["receiving"]

    def reset(self, channel: int) -> None:
        """A new call on the line: what was heard before it does not count, except the caller ID
        burst that may be announcing this very call."""
        d, local = self._part(channel)
        for detector in (d.dtmf, d.progress, d.fax, d.vad, d.amd, d.v21):
            detector.reset(local)

    def screen(self, channel: int) -> None:
        """A number dialled on the line answered: hear what answered it (DetectorSet.screen)."""
        d, local = self._part(channel)
        d.screen(local)

    def use_virtual(self, on: bool) -> None:
        """Run the virtual lines' detectors from the next tick (a load test starts), or rest them."""
        self.virtual_on = on and self.virtual is not None
        if not self.virtual_on:
            self._levels[self.live:] = -np.inf

    def hear(self, rx: np.ndarray, app_for: Callable[[int], Application | None], guarded: Callable[..., None]) -> None:
        """Run every detector over the tick; hand what the trunks carried to the application
        `app_for(channel)` names (none: nobody listens there), each through `guarded` (stations are
        agents' handsets: their keys are not a caller's input)."""
        live = self.live
        self._dispatch(self.detectors.process(rx[:live]), 0, app_for, guarded)
        self._levels[:live] = self.detectors.levels
        if self.virtual_on and self.virtual is not None:
            self._dispatch(self.virtual.process(rx[live:]), live, app_for, guarded)
            self._levels[live:] = self.virtual.levels

    def _dispatch(self, events: list, offset: int, app_for: Callable[[int], Application | None],
                  guarded: Callable[..., None]) -> None:
        for ev in events:
            ch = ev.channel + offset
            if not self._trunk[ch]:
                continue
            app = app_for(ch)
            if app is None:
                continue
            if isinstance(ev, DtmfEvent):
                guarded(ch, app.on_digit, ch, ev.digit)
            elif isinstance(ev, CallerIdEvent):
                guarded(ch, app.on_caller_id, ch, ev.message)
            elif isinstance(ev, ToneEvent):
                guarded(ch, app.on_progress, ch, ev.tone, ev.cycles)
            elif isinstance(ev, FaxToneEvent):
                guarded(ch, app.on_fax, ch, ev.tone)
            elif isinstance(ev, VadEvent):
                guarded(ch, app.on_voice, ch, ev.active)
            elif isinstance(ev, AmdEvent):
                guarded(ch, app.on_amd, ch, ev.result, ev.cause)
            else:
                raise TypeError(f"no handler for detector event {type(ev).__name__}")
