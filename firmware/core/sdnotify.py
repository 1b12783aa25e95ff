"""systemd notifications (sd_notify) over the NOTIFY_SOCKET datagram socket, and the engine's watchdog pings.

What a ping means: WATCHDOG=1 says "the tick loop runs, and every worker thread the loop hands
records to (the store writer, the queue_log journal, the recorder) is alive and not stuck in our
own code". The ping is a timer on the loop, so a frozen loop stops it; a worker that died, or whose
heartbeat (firmware/core/heartbeat.py) is older than STUCK_SECONDS, withholds it, and systemd restarts
the engine after WatchdogSec (board/systemd/branchline-engine.service). A worker that waits on
something outside the engine (another process's write lock, a full SD card) is alive: it beats
between tries and its wait shows in `status()`. A restart would not release that lock; it would
only drop the calls the engine is carrying, and lose the rows still waiting in memory.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firmware.core.engine import Engine

log = logging.getLogger(__name__)


class SdNotifyError(Exception):
    """The environment systemd gave is malformed (NOTIFY_SOCKET, WATCHDOG_USEC)."""


def notify(message: str, env: Mapping[str, str] = os.environ) -> bool:
    """Send `message` ("READY=1", "WATCHDOG=1", ...) to systemd; False when not run by systemd."""
    addr = env.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr[0] not in "/@":
        raise SdNotifyError(f"NOTIFY_SOCKET={addr!r} is neither a path nor an abstract socket (@name)")
    # sd_notify(3): a leading "@" names a socket in the abstract namespace (docs/standards.md §16).
    target = "\0" + addr[1:] if addr[0] == "@" else addr
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(target)
            s.sendall(message.encode())
    except OSError as exc:
        log.warning("sd_notify to %s failed: %s", addr, exc)
        return False
    return True


def watchdog_interval(env: Mapping[str, str] = os.environ) -> float | None:
    """Seconds between pings: half of WatchdogSec (sd_watchdog_enabled(3)); None when it is off or not ours."""
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        raise SdNotifyError(f"WATCHDOG_USEC={usec!r} is not a number of microseconds") from None
    if value <= 0:
        raise SdNotifyError(f"WATCHDOG_USEC={usec!r} must be positive")
    return value / 2e6


class Watchdog:
    """READY=1 once the engine runs, then WATCHDOG=1 from the loop while every worker thread is alive
    (the meaning in the module docstring; docs/standards.md §16: ping only after checking the worker threads)."""

    def __init__(self, engine: "Engine", env: Mapping[str, str] = os.environ):
        self.engine, self.env = engine, env
        self.interval = watchdog_interval(env)
        self.pings = self.withheld = 0

    def start(self) -> None:
        notify(f"READY=1\nSTATUS={self._status()}", self.env)
        if self.interval is not None:
            self.engine.later(self.interval, self._ping)

    def _status(self, workers: dict[str, dict] | None = None) -> str:
        lines = len(self.engine.board)
        alarms = len(self.engine.alarms)
        text = f"board {self.engine.board_name}: {lines} channels, {alarms} in alarm"
        for name, status in (workers or {}).items():
            if status.get("waiting"):
                text += f"; {name} waits: {status['waiting']['reason']}"
        return text

    def _workers(self) -> dict[str, dict]:
        engine = self.engine
        found = {"store": engine.store.status(), "recorder": engine.recorder.status()}
        if engine.queue_log is not None:
            found["journal"] = engine.queue_log.status()
        return found

    def faults(self, workers: dict[str, dict] | None = None) -> list[str]:
        """What stops the ping: each worker that is dead or stuck, in its own words."""
        workers = self._workers() if workers is None else workers
        return [status["fault"] or f"{name} not alive" for name, status in workers.items() if not status["alive"]]

    def healthy(self) -> bool:
        return not self.faults()

    def _ping(self) -> None:
        workers = self._workers()
        faults = self.faults(workers)
        if not faults:
            notify(f"WATCHDOG=1\nSTATUS={self._status(workers)}", self.env)
            self.pings += 1
        else:
            self.withheld += 1
            log.error("watchdog ping withheld: %s", "; ".join(faults))
            notify(f"STATUS=watchdog ping withheld: {'; '.join(faults)}", self.env)
        if self.interval is not None:     # always, as start() pings only with an interval
            self.engine.later(self.interval, self._ping)

    def stop(self) -> None:
        notify("STOPPING=1", self.env)
