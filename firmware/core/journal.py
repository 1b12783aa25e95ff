"""Append-only daily text journals (the queue_log), written by one thread so the loop never waits."""
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from firmware.core.handoff import Handoff
from firmware.core.heartbeat import BEAT_SECONDS, Heartbeat

log = logging.getLogger(__name__)

QUEUE_LINES = 10_000
_STOP = object()
# One write is one line: a line break inside a value would forge a second queue_log line.
_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r"})


class Journal:
    """`write(day, line)` from the loop thread; lines land in `<directory>/<prefix>-<day>.log` in order.

    The thread never dies on a line: text that is not valid Unicode (a lone surrogate has no UTF-8
    form) is written with the offending code points as backslash escapes, so the event keeps its
    line for the tools that read the journal; a failed write keeps its lines and tries again.
    """

    def __init__(self, directory: str | Path, prefix: str):
        self.directory = Path(directory)
        self.prefix = prefix
        self.handoff = Handoff(QUEUE_LINES)
        self.heartbeat = Heartbeat(f"journal-{prefix}")
        self._stop = threading.Event()
        self._pending: list[tuple[str, str]] = []   # lines a failed write keeps for the next try
        self.written = 0
        self.errors = 0                              # failed writes and faults of our own, all logged

    def path(self, day: str) -> Path:
        return self.directory / f"{self.prefix}-{day}.log"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.heartbeat.start(self._run)

    def write(self, day: str, line: str) -> None:
        self.handoff.put((day, line))

    def close(self, timeout: float = 10.0) -> None:
        thread = self.heartbeat.thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        while self.handoff.backlog > self.handoff.queue.qsize() and thread.is_alive() \
                and time.monotonic() < deadline:
            self.handoff.pump()
            time.sleep(0.01)
        self._stop.set()
        try:
            self.handoff.queue.put_nowait(_STOP)
        except queue.Full:
            pass   # the thread is busy and sees the stop flag after this batch
        thread.join(max(0.0, deadline - time.monotonic()))

    def status(self) -> dict:
        return {"written": self.written, "backlog": self.handoff.backlog + len(self._pending),
                "spilled": self.handoff.spilled, "errors": self.errors, **self.heartbeat.status()}

    def _run(self) -> None:
        q = self.handoff.queue
        stop = False
        while not stop:
            self.heartbeat.beat()
            batch = []
            try:
                item = q.get(timeout=BEAT_SECONDS)
            except queue.Empty:
                item = None
                stop = self._stop.is_set()
            while item is not None:
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    item = None
            if batch or self._pending:
                self._guarded(batch)

    def _guarded(self, batch: list[tuple[str, str]]) -> None:
        try:
            self._append(batch)
        except Exception as exc:
            # A fault of our own: the thread carries on; the lines stay in the system journal.
            self.errors += 1
            self.heartbeat.error(f"journal {self.directory}: {len(batch)} lines", exc)
            log.error("journal %s: lines not written: %r", self.directory, batch)

    def _append(self, batch: list[tuple[str, str]]) -> None:
        by_day: dict[str, list[str]] = {}
        for day, line in self._pending + batch:
            by_day.setdefault(day, []).append(line)
        self._pending = []
        failed = None
        for day, lines in by_day.items():
            text = "".join(str(line).translate(_BREAKS) + "\n" for line in lines)
            try:
                with open(self.path(day), "a", encoding="utf-8", errors="backslashreplace") as f:
                    f.write(text)
            except OSError as exc:
                self.errors += 1
                self._pending += [(day, line) for line in lines]
                failed = f"{type(exc).__name__}: {exc}"
                if not self.heartbeat.is_waiting:   # once per outage, not once a second
                    log.error("journal %s: %d lines wait for the next write: %s", self.path(day), len(lines), exc)
            else:
                self.written += len(lines)
        if failed:
            self.heartbeat.waiting(failed)
        elif self.heartbeat.is_waiting:
            log.warning("journal %s: written again", self.directory)
            self.heartbeat.resumed()
