"""A second application on the loop: the load test's call center on the board's virtual lines.

It shares the loop's clock, detectors and mixing with the live call center (what a load test is
there to load) and has its own timers, events, records and recorder, so that nothing it does reaches
the live call center, its queue journal or the records HQ pulls."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from drivers.channel import LineView

from firmware.core.application import Application, RecordSink
from firmware.core.timers import Timers

if TYPE_CHECKING:
    from firmware.core.recorder import Recorder


class Guest:
    """What the loop keeps of a hosted application: its lines, timers, observers, records, recorder."""

    def __init__(self, lines: LineView, records: RecordSink, recorder: Recorder):
        self.lines, self.records, self.recorder = lines, records, recorder
        self.timers = Timers()
        self.observers: list[Callable[[str, dict], None]] = []
        self.app: Application | None = None

    def emit(self, event: str, /, **data) -> None:
        for observer in self.observers:
            observer(event, data)
