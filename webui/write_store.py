"""A part's own writes from the web process (webhook endpoints, the mail outbox): one connection behind a
lock, each change in one write transaction."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable


from .shared_writer import SharedWriter


class WriteStore:
    """Installed on the app as a plugin that changes no route, so that app.close() closes it; `name` is the
    plugin's, one per part."""

    api = 2

    def __init__(self, db_path: str | Path, clock=time.time, name: str = "write-store"):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.clock, self.name = clock, name

    def apply(self, callback, route):
        return callback

    def write(self, change: Callable[..., object], *args):
        """`change(conn, *args, now)` inside one write transaction."""
        with self.writer.transaction():
            return change(self.conn, *args, self.clock())

    def close(self) -> None:
        self.writer.close()
