"""Live events for the control socket's subscribers: published on the loop, sent by each subscriber's
own connection thread.

The loop publishes `{"seq", "run", "type", "at", ...fields}` as things change; `events.subscribe`
turns a control connection into a stream of them, one JSON line each. The loop never waits and never
writes to a socket for a subscriber: it appends to the subscriber's bounded queue and goes on. A
subscriber that falls that far behind is cut off (its last line `{"type": "overflow"}`); it
subscribes again and reads the state it missed from `status`.
"""
from __future__ import annotations

import collections
import threading
import uuid
from typing import Callable, Hashable

# Events a subscriber may have waiting before it is cut off. The web process is the subscriber and
# reads as fast as the engine writes; a busy minute of a 30-line box is about 1,500 events (`make
# bench`), so this is a stalled reader's few minutes, and bounds what one holds (a few MB).
QUEUE_LIMIT = 4096
# A subscriber that has had nothing for this long is sent a keepalive line, which also finds a
# reader that has gone away (its socket fails) and tells the reader the engine is alive.
KEEPALIVE_S = 5.0


class Subscriber:
    """One subscriber's queue: the loop appends, the subscriber's thread takes (thread-safe)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._events: collections.deque[dict] = collections.deque()
        self._ready = threading.Condition(threading.Lock())
        self.cut = False        # fell behind: no more events, only the overflow line
        self.closed = False

    def offer(self, event: dict) -> bool:
        """Queue an event (loop thread); False, and the subscriber cut off, if its queue is full."""
        with self._ready:
            if len(self._events) >= self.limit:
                self.cut = True
                self._ready.notify()
                return False
            self._events.append(event)
            if len(self._events) == 1:
                self._ready.notify()
        return True

    def take(self, timeout: float) -> list[dict]:
        """Every waiting event, after waiting up to `timeout` for one; [] when none came."""
        with self._ready:
            if not self._events and not self.cut and not self.closed:
                self._ready.wait(timeout)
            taken = list(self._events)
            self._events.clear()
        return taken

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify()


class EventBus:
    """Numbers and hands out the loop's events; costs the loop one check while nobody subscribes."""

    def __init__(self, now: Callable[[], float], limit: int = QUEUE_LIMIT, run: str | None = None):
        self.now = now
        self.limit = limit
        # Ids are per engine run: a subscriber seeing another run knows the sequence started again.
        self.run = run or uuid.uuid4().hex
        self.seq = 0
        self._subscribers: tuple[Subscriber, ...] = ()   # replaced whole, so the loop reads it without a lock
        self._lock = threading.Lock()
        self._pending: dict[Hashable, Callable[[], tuple[str, dict] | None]] = {}
        # channel -> ("line", the line's status): the loop's own view of a line, set by the engine.
        self.lines: Callable[[int], tuple[str, dict] | None] = lambda channel: None

    @property
    def subscribed(self) -> bool:
        return bool(self._subscribers)

    def publish(self, type_: str, fields: dict) -> None:
        """An event now (loop thread). `fields` must be a fresh dict of JSON values: it is sent later,
        from another thread, and never copied."""
        subscribers = self._subscribers
        if not subscribers:
            return
        self.seq += 1
        event = {"seq": self.seq, "run": self.run, "type": type_, "at": self.now(), **fields}
        for sub in subscribers:
            if not sub.offer(event):
                self.unsubscribe(sub)

    def later(self, key: Hashable, build: Callable[[], tuple[str, dict] | None]) -> None:
        """An event built once at the end of the tick however often its subject changed in it (a
        queue's figures, a line's status): `build()` -> (type, fields), or None for no event."""
        if self._subscribers:
            self._pending[key] = build

    def line_changed(self, channel: int) -> None:
        """A line's status changed: its `line` event goes out at the end of the tick."""
        if self._subscribers:
            self._pending[("line", channel)] = lambda: self.lines(channel)

    def flush(self) -> None:
        """Publish what `later` gathered this tick (loop thread, at the end of the tick)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for build in pending.values():
            built = build()
            if built is not None:
                self.publish(*built)

    def subscribe(self, subscriber: Subscriber) -> dict:
        """Start sending events to `subscriber` (the `events.subscribe` command, on the loop thread, so
        the sequence number it answers is exactly the last event the subscriber will not get)."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)
        return {"run": self.run, "seq": self.seq}

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscribers = tuple(s for s in self._subscribers if s is not sub)
        sub.close()

    def close(self) -> None:
        for sub in self._subscribers:
            self.unsubscribe(sub)
