"""systemd notifications (sd_notify) over the NOTIFY_SOCKET datagram socket, and the engine's watchdog pings."""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import Engine

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
    # sd_notify(3): a leading "@" names a socket in the abstract namespace (reference drivers.md §6).
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
    """READY=1 once the engine runs, then WATCHDOG=1 from the loop while its worker threads make progress.

    The ping is a timer on the engine's loop, so a stuck loop stops it; before each ping the store
    writer and the recorder must have worked off their queues or moved since the last ping
    (reference §6: ping only after checking the worker threads).
    """

    def __init__(self, engine: "Engine", env: Mapping[str, str] = os.environ):
        self.engine, self.env = engine, env
        self.interval = watchdog_interval(env)
        self.pings = self.withheld = 0
        self._last: tuple | None = None

    def start(self) -> None:
        notify(f"READY=1\nSTATUS={self._status()}", self.env)
        if self.interval is not None:
            self.engine.later(self.interval, self._ping)

    def _status(self) -> str:
        lines = len(self.engine.board)
        alarms = len(self.engine.alarms)
        return f"board {self.engine.board_name}: {lines} channels, {alarms} in alarm"

    def _progress(self) -> tuple:
        store, recorder = self.engine.store.status(), self.engine.recorder.status()
        return store["committed"], store["backlog"], recorder["backlog"]

    def healthy(self) -> bool:
        now = self._progress()
        committed, store_backlog, rec_backlog = now
        if self._last is None:
            ok = True
        else:
            before_committed, before_store, before_rec = self._last
            store_ok = store_backlog == 0 or committed > before_committed
            rec_ok = rec_backlog == 0 or rec_backlog < before_rec
            ok = store_ok and rec_ok
        self._last = now
        return ok

    def _ping(self) -> None:
        if self.healthy():
            notify(f"WATCHDOG=1\nSTATUS={self._status()}", self.env)
            self.pings += 1
        else:
            self.withheld += 1
            log.error("watchdog ping withheld: the store writer or the recorder made no progress")
        self.engine.later(self.interval, self._ping)

    def stop(self) -> None:
        notify("STOPPING=1", self.env)
