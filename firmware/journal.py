"""Append-only daily text journals (the queue_log), written by one thread so the loop never waits."""
from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

from .handoff import Handoff

log = logging.getLogger(__name__)

QUEUE_LINES = 10_000
_STOP = object()


class Journal:
    """`write(day, line)` from the loop thread; lines land in `<directory>/<prefix>-<day>.log` in order."""

    def __init__(self, directory: str | Path, prefix: str):
        self.directory = Path(directory)
        self.prefix = prefix
        self.handoff = Handoff(QUEUE_LINES)
        self._thread: threading.Thread | None = None
        self._pending: list[tuple[str, str]] = []   # lines a failed write keeps for the next try
        self.errors = 0

    def path(self, day: str) -> Path:
        return self.directory / f"{self.prefix}-{day}.log"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name=f"journal-{self.prefix}", daemon=True)
        self._thread.start()

    def write(self, day: str, line: str) -> None:
        self.handoff.put((day, line))

    def close(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        while self.handoff.backlog > self.handoff.queue.qsize():
            self.handoff.pump()
        self.handoff.queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        q = self.handoff.queue
        while True:
            item = q.get()
            batch = []
            while item is not _STOP:
                batch.append(item)
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            self._append(batch)
            if item is _STOP:
                return

    def _append(self, batch: list[tuple[str, str]]) -> None:
        by_day: dict[str, list[str]] = {}
        for day, line in self._pending + batch:
            by_day.setdefault(day, []).append(line)
        self._pending = []
        for day, lines in by_day.items():
            try:
                with open(self.path(day), "a", encoding="utf-8") as f:
                    f.write("".join(line + "\n" for line in lines))
            except OSError as exc:
                self.errors += 1
                self._pending += [(day, line) for line in lines]
                log.error("journal %s: %d lines wait for the next write: %s", self.path(day), len(lines), exc)
