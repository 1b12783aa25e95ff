"""The box's records: one SQLite database in WAL mode, schema from numbered migrations."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.store import migrations
from firmware.store.migrations import SYNCED_TABLES

if TYPE_CHECKING:
    from sqlite_utils import Database

__all__ = ["StoreError", "connect", "connect_readonly", "open_db", "open_readonly", "SYNCED_TABLES"]


# How long one statement waits inside sqlite for another connection's write lock before it answers
# SQLITE_BUSY: a reader never waits on the writer in WAL; a writer from another process (the web
# process, a technician's sqlite3 shell) waits briefly. The engine's writer retries beyond this on
# its own (firmware/store/writer.py), beating its heartbeat between tries.
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database cannot be opened or written."""


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One explicit write transaction on a connection in autocommit mode: BEGIN IMMEDIATE takes the
    write lock before anything the write depends on is read; COMMIT on leaving, ROLLBACK on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _tune(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating and migrating) the database for writing, as a plain sqlite3 connection."""
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        _tune(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        # docs/architecture.md §6: a finished call is durable within about a second; FULL syncs the WAL
        # at every commit, and the writer commits in batches, so the cost stays small.
        conn.execute("PRAGMA synchronous = FULL")
        migrations.apply(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"database {path}: {exc}") from exc
    return conn


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """Open the database read-only, as a plain sqlite3 connection (the web process)."""
    uri = f"file:{Path(path).resolve()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        _tune(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"database {path}: {exc}") from exc
    return conn


# The engine and the tools work through sqlite_utils' table API; it is imported only here because it
# loads numpy whenever numpy is installed, and the web process, which has no use for either, opens
# the database through connect() and connect_readonly().
def open_db(path: str | Path) -> Database:
    """Open (creating and migrating) the database for writing."""
    from sqlite_utils import Database

    return Database(connect(path), recursive_triggers=False)


def open_readonly(path: str | Path) -> Database:
    """Open the database read-only (reports, the scenario runner)."""
    from sqlite_utils import Database

    return Database(connect_readonly(path), recursive_triggers=False)
