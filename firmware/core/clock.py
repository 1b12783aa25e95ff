"""The tick clock: the only time the engine reads. Paced (wall clock), fast (virtual), or hardware."""
from __future__ import annotations

import time

from drivers.channel import TICK_SECONDS


class TickClock:
    """Counts ticks; `time()` is the epoch at tick 0 plus the ticks elapsed.

    `wait()` returns when the next tick is due. The fast clock never waits (tests replay hours in
    seconds); the paced clock follows the monotonic wall clock; the hardware clock leaves pacing to
    a driver whose reads block for one audio period.
    """

    mode = "fast"

    def __init__(self, epoch: float | None = None):
        self.epoch = time.time() if epoch is None else epoch
        self.tick = 0

    def time(self) -> float:
        # Rounded to the millisecond: records carry no float noise from the tick multiplication.
        return round(self.epoch + self.tick * TICK_SECONDS, 3)

    @property
    def seconds(self) -> float:
        """Seconds since the clock started."""
        return self.tick * TICK_SECONDS

    def wait(self) -> None:
        """Block until the next tick is due (never, on the fast clock)."""

    def advance(self) -> None:
        self.tick += 1


class PacedClock(TickClock):
    mode = "paced"
    # After a stall longer than this (a suspended process, a debugger) the clock resynchronises
    # instead of racing through the missed ticks.
    MAX_BEHIND = 1.0

    def __init__(self, epoch: float | None = None):
        super().__init__(epoch)
        self._start = time.monotonic()
        self.late_ticks = 0

    def wait(self) -> None:
        due = self._start + (self.tick + 1) * TICK_SECONDS
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > self.MAX_BEHIND:
            self.late_ticks += 1
            self._start = now - (self.tick + 1) * TICK_SECONDS


class HardwareClock(TickClock):
    mode = "hardware"


CLOCKS = {"fast": TickClock, "paced": PacedClock, "hardware": HardwareClock}
