"""A bounded queue the loop thread can always put into: overflow spills to a local list, never blocks."""
from __future__ import annotations

import collections
import queue


class Handoff:
    """Loop thread -> worker thread. `put` never blocks and never drops.

    When the worker falls behind and the queue is full, items wait in a spill list owned by the
    loop thread and move over, in order, on the next `put` or `pump`.
    """

    def __init__(self, maxsize: int):
        self.queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._spill: collections.deque = collections.deque()
        self.spilled = 0  # items that had to wait in the spill list (a sign of a slow disk)

    def put(self, item) -> None:
        if self._spill:
            self.pump()
        if self._spill:
            self._spill.append(item)
            self.spilled += 1
            return
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self._spill.append(item)
            self.spilled += 1

    def pump(self) -> None:
        """Move spilled items into the queue while it has room."""
        while self._spill:
            try:
                self.queue.put_nowait(self._spill[0])
            except queue.Full:
                return
            self._spill.popleft()

    @property
    def backlog(self) -> int:
        return self.queue.qsize() + len(self._spill)
