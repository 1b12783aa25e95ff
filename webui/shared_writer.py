"""The web process's one connection for writing the records, shared by every part that writes.

Each open SQLite connection parses and keeps its own copy of the schema (over 200 tables, indexes and
triggers: about 300 kB) and its own page cache. A connection for each part of the web UI that writes
(accounts, audit, cards, tickets, the knowledge base, ...) cost the process 5 MB of its 40 MB budget
(docs/requirements.md D1). SQLite lets one writer in at a time anyway (BEGIN IMMEDIATE), so the parts
share one connection and one lock: a part holds the lock around each of its statements and around a
whole write transaction, so no part's statement ever lands inside another part's transaction. The lock
is re-entrant: a part holding it may read through another part."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Iterator

from firmware.store import connect, write_transaction

# The page cache, in kB (SQLite's default is 2,000): the parts' statements each touch a few pages (a user,
# a ticket, an audit row); the pages' reading has connections of its own.
CACHE_KB = 256
_guard = threading.Lock()
# Weak: a part dropped without close() no longer holds the connection open once it is collected (as its
# own connection would have been closed with it).
_open: weakref.WeakValueDictionary[Path, _Shared] = weakref.WeakValueDictionary()


class _Shared:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.lock = threading.RLock()
        self.holders = 0


class SharedWriter:
    """One part's hold on the process's writing connection to `db_path`: `conn`, and `lock` to hold
    around each use of it. close() lets go; the last holder to let go closes the connection."""

    def __init__(self, db_path: str | Path):
        self._key = Path(db_path).resolve()
        with _guard:
            shared = _open.get(self._key)
            if shared is None:
                shared = _open[self._key] = _Shared(connect(db_path))
                shared.conn.execute(f"PRAGMA cache_size = -{CACHE_KB}")
            shared.holders += 1
        self._shared: _Shared | None = shared
        self.conn, self.lock = shared.conn, shared.lock

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (firmware.store.write_transaction) with the lock held throughout."""
        with self.lock, write_transaction(self.conn) as conn:
            yield conn

    def close(self) -> None:
        with _guard:
            shared, self._shared = self._shared, None
            if shared is None:
                return
            shared.holders -= 1
            if shared.holders == 0:
                if _open.get(self._key) is shared:
                    del _open[self._key]
                shared.conn.close()
