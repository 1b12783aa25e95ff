"""A worker thread's heartbeat: alive, stuck in our own code, or waiting on something outside the box's code.

The store writer, the journal and the recorder each run one thread fed by the loop. Each beats at
least every BEAT_SECONDS while idle and on every retry while it waits on a lock or a full disk, so
`status()` tells three things apart: a thread that works or waits (alive), a thread that has
stopped (dead: its queue is never worked off again), and a thread whose last beat is older than
STUCK_SECONDS (stuck inside one call of our own code). The watchdog (firmware/core/sdnotify.py) pings
only while every worker is alive.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)

# A worker blocks on its queue at most this long before it beats again.
BEAT_SECONDS = 1.0
# One step of a worker may legitimately last several seconds without a beat: sqlite's own busy wait
# (firmware/store BUSY_TIMEOUT_MS, 5 s), the fsync of a 2,000-row batch or of a recording on a slow
# SD card, hashing an hour-long recording (115 MB). Four times the busy wait is past all of them;
# with pings every WatchdogSec/2 = 15 s (board/systemd/branchline-engine.service), systemd restarts
# an engine with a stuck worker within about a minute.
STUCK_SECONDS = 20.0


class Heartbeat:
    """The liveness of one worker thread, written by that thread and read by the loop (plain
    attribute stores and loads, atomic in CPython, so no lock is taken on either side)."""

    def __init__(self, name: str, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time):
        self.name = name
        self.monotonic, self.wall = monotonic, wall   # injectable, so tests age a beat without sleeping
        self.thread: threading.Thread | None = None
        self.errors = 0
        self.last_error: str | None = None
        self._beat = monotonic()
        self._waiting: tuple[float, str] | None = None   # (since, epoch seconds; reason)
        self._died: str | None = None

    def start(self, target: Callable[[], None]) -> threading.Thread:
        self.beat()
        self.thread = threading.Thread(target=self._main, args=(target,), name=self.name, daemon=True)
        self.thread.start()
        return self.thread

    def _main(self, target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:
            # Only what a worker's own guard cannot catch (SystemExit, a bug in the guard) ends up here.
            self._died = f"{type(exc).__name__}: {exc}"
            log.critical("%s thread died: %s", self.name, self._died, exc_info=exc)

    # --- worker side --------------------------------------------------------------------------
    def beat(self) -> None:
        self._beat = self.monotonic()

    def waiting(self, reason: str) -> None:
        """The worker is held up by something outside our code (a lock, a full disk) and will retry."""
        self.beat()
        if self._waiting is None or self._waiting[1] != reason:
            self._waiting = (self.wall(), reason)

    @property
    def is_waiting(self) -> bool:
        return self._waiting is not None

    def resumed(self) -> None:
        self.beat()
        self._waiting = None

    def error(self, what: str, exc: BaseException) -> None:
        """An unexpected exception the worker survived: logged with its traceback, counted, shown."""
        self.errors += 1
        self.last_error = f"{what}: {type(exc).__name__}: {exc}"
        log.error("%s: %s", self.name, self.last_error, exc_info=exc)

    # --- loop side ----------------------------------------------------------------------------
    def fault(self) -> str | None:
        """Why the worker cannot be counted on, or None while it works or waits on something outside."""
        if self.thread is None:
            return f"{self.name} thread not started"
        if not self.thread.is_alive():
            return f"{self.name} thread died ({self._died})" if self._died else f"{self.name} thread stopped"
        age = self.monotonic() - self._beat
        if age > STUCK_SECONDS:
            return f"{self.name} thread stuck for {age:.0f} s"
        return None

    def status(self) -> dict:
        fault = self.fault()
        waiting = self._waiting
        return {"alive": fault is None, "fault": fault,
                "waiting": {"since": waiting[0], "reason": waiting[1]} if waiting else None,
                "last_error": self.last_error}
