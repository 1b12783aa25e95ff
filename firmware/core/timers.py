"""Timers on the tick clock: callbacks due at a simulated time, run by the loop thread."""
from __future__ import annotations

import heapq
import itertools
from typing import Callable


class Timer:
    __slots__ = ("due", "fn", "args", "cancelled")

    def __init__(self, due: float, fn: Callable, args: tuple):
        self.due, self.fn, self.args, self.cancelled = due, fn, args, False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """A heap of timers; `run_due(now)` fires the due ones in order. Cost is nothing when idle."""

    def __init__(self):
        self._heap: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()

    def at(self, due: float, fn: Callable, *args) -> Timer:
        timer = Timer(due, fn, args)
        heapq.heappush(self._heap, (due, next(self._order), timer))
        return timer

    def run_due(self, now: float, on_error: Callable[[Exception, Timer], None] | None = None) -> None:
        """Fire due timers; with `on_error`, a failing callback is reported and the rest still run."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, timer = heapq.heappop(heap)
            if timer.cancelled:
                continue
            if on_error is None:
                timer.fn(*timer.args)
                continue
            try:
                timer.fn(*timer.args)
            except Exception as exc:
                on_error(exc, timer)

    def __len__(self) -> int:
        return len(self._heap)
