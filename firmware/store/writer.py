"""The one thread that writes the engine's records, fed through a Handoff so the loop never waits.

The thread never dies and never gives up on a lock. Each failure is sorted by what it says about
the row. A condition of the box (another process holds the write lock, the SD card is full or
failing) says nothing about the row: the batch waits whole, with backoff, for as long as it takes,
and `status()` says since when and why. A row the database or the driver refuses for its content
(a duplicate id, a value SQLite cannot hold, text that is not valid Unicode) is set aside alone in
the dead-letter file with its reason, and the rest of its batch commits.
"""
from __future__ import annotations

import json
import logging
import queue
import re
import sqlite3
import threading
import time
from pathlib import Path

from firmware.core.handoff import Handoff
from firmware.core.heartbeat import BEAT_SECONDS, Heartbeat
from firmware.store import open_db

log = logging.getLogger(__name__)

# Up to this many operations share one transaction; the writer commits at least every BATCH_SECONDS
# so a finished call is durable within about a second (docs/architecture.md §6).
BATCH_OPS = 2000
BATCH_SECONDS = 0.25
QUEUE_SIZE = 100_000
# Between tries on a lock or a full disk: from 50 ms, doubling, to at most 1 s, so a batch lands
# within about a second of the lock clearing (the durability above) while a long wait costs a retry
# per BUSY_TIMEOUT_MS (firmware/store/__init__.py) plus 1 s, not a busy loop.
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 1.0
# A long wait is logged when it starts, then at most this often.
WAIT_LOG_SECONDS = 30.0
_STOP = object()
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

# SQLite primary result codes (sqlite.org/rescode.html; the low byte of exc.sqlite_errorcode, so the
# extended codes such as SQLITE_BUSY_SNAPSHOT or SQLITE_IOERR_FSYNC fall in with their family) that
# describe the box, not the row: waiting and trying the same batch again is right.
# - BUSY, LOCKED, PROTOCOL: another connection holds or is taking the write lock.
# - FULL, IOERR, CANTOPEN, READONLY, NOMEM: the SD card is full, failing or remounted read-only, or
#   memory is short. Setting rows aside would not save them (the dead-letter file is on the same
#   card) and a full card is often brief (retention, log rotation); a record lost because the card
#   was full for a minute is worse than a record written a minute late. The wait shows in status.
# Everything else (CONSTRAINT, MISMATCH, TOOBIG, a bad name, a value the driver cannot bind; also
# CORRUPT, where the dead-letter file is the only safe place left) refuses the row itself.
_WAIT_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PROTOCOL,
                         sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
                         sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOMEM})


def wait_reason(exc: BaseException) -> str | None:
    """Why a batch must wait and be tried again, or None when `exc` refuses a row for its content."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in _WAIT_CODES:
        return f"{exc.sqlite_errorname}: {exc}"
    return None


class _Retry(Exception):
    """A refused row ended the transaction (SQLite keeps it open after a statement error, but we
    do not rely on it): the batch starts again without that row."""


def _names(*names: str) -> None:
    for name in names:
        if not _NAME.match(name):
            raise sqlite3.DatabaseError(f"not a column or table name: {name!r}")


def _sql(op: tuple) -> tuple[str, list]:
    """The statement and parameters for one writer operation."""
    kind, table = op[0], op[1]
    if kind == "update":
        pk, changes = op[2], op[3]
        _names(table, *changes)
        sets = ", ".join(f"{c} = ?" for c in changes)
        return f"UPDATE {table} SET {sets} WHERE id = ?", [*changes.values(), pk]
    row = op[2]
    _names(table, *row)
    cols = ", ".join(row)
    marks = ", ".join("?" * len(row))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
    if kind == "upsert":
        sets = ", ".join(f"{c} = excluded.{c}" for c in row if c != "id")
        sql += f" ON CONFLICT(id) DO UPDATE SET {sets}" if sets else " ON CONFLICT(id) DO NOTHING"
    return sql, list(row.values())


class StoreWriter:
    """Applies ("insert"|"upsert", table, row) and ("update", table, id, changes) operations."""

    def __init__(self, db_path: str | Path, dead_letter: str | Path | None = None):
        self.db_path = Path(db_path)
        self.dead_letter = Path(dead_letter) if dead_letter else self.db_path.with_suffix(".rejected.jsonl")
        self.handoff = Handoff(QUEUE_SIZE)
        self.heartbeat = Heartbeat("store-writer")
        self.committed = 0
        self.rejected = 0
        self._submitted = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._aside_lock = threading.Lock()
        self.db = open_db(self.db_path)

    def start(self) -> None:
        self.heartbeat.start(self._run)

    # --- loop-thread side -------------------------------------------------------------------
    def insert(self, table: str, row: dict) -> None:
        self._submit(("insert", table, row))

    def upsert(self, table: str, row: dict) -> None:
        self._submit(("upsert", table, row))

    def update(self, table: str, pk: str, changes: dict) -> None:
        self._submit(("update", table, pk, changes))

    def _submit(self, op: tuple) -> None:
        self._submitted += 1
        self.handoff.put(op)

    def pump(self) -> None:
        self.handoff.pump()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every operation submitted so far is committed (tests, shutdown)."""
        target = self._submitted
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.committed + self.rejected < target:
                self.handoff.pump()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is queued; what still waits on a lock after `timeout` is set aside, not lost."""
        self.flush(timeout)
        self._stop.set()
        try:
            self.handoff.queue.put_nowait(_STOP)   # wakes an idle thread; a full queue means it is busy
        except queue.Full:
            pass
        thread = self.heartbeat.thread
        if thread is not None:
            thread.join(timeout)
        left = []
        while self.handoff.backlog:
            self.handoff.pump()
            try:
                op = self.handoff.queue.get_nowait()
            except queue.Empty:    # a thread that came unstuck took it
                break
            if op is not _STOP:
                left.append(op)
        if left:
            why = self.heartbeat.status()["waiting"] or {"reason": "the writer did not finish"}
            self._set_aside([(op, f"engine stopped before commit ({why['reason']})") for op in left])
        self.db.conn.close()

    def status(self) -> dict:
        return {"submitted": self._submitted, "committed": self.committed, "backlog": self.handoff.backlog,
                "spilled": self.handoff.spilled, "rejected": self.rejected, "errors": self.heartbeat.errors,
                **self.heartbeat.status()}

    # --- writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        q = self.handoff.queue
        while not self._stop.is_set():
            self.heartbeat.beat()
            try:
                first = q.get(timeout=BEAT_SECONDS)
            except queue.Empty:
                continue
            if first is _STOP:
                return
            batch = [first]
            deadline = time.monotonic() + BATCH_SECONDS
            stop = False
            while len(batch) < BATCH_OPS:
                try:
                    op = q.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if op is _STOP:
                    stop = True
                    break
                batch.append(op)
            self._guarded(batch)
            if stop:
                return

    def _guarded(self, batch: list[tuple]) -> None:
        try:
            self._commit(batch)
        except Exception as exc:
            # A fault of our own, not of a row or of the database: the thread carries on, and the
            # batch, whose fate is unknown, is kept in the dead-letter file rather than dropped.
            self.heartbeat.error(f"store {self.db_path}: batch of {len(batch)}", exc)
            self._set_aside([(op, f"writer fault: {type(exc).__name__}: {exc}") for op in batch])
            self._done(rejected=len(batch))

    def _commit(self, batch: list[tuple]) -> None:
        aside: dict[int, str] = {}    # index in batch -> why the database refused that row
        delay, waited_from, logged_at = BACKOFF_FIRST, None, 0.0
        while True:
            try:
                self._apply(batch, aside)
                break
            except _Retry:
                continue
            except sqlite3.Error as exc:
                reason = wait_reason(exc)
                if reason is None:
                    raise
                now = time.monotonic()
                if waited_from is None:
                    waited_from = now
                if self._stop.is_set():
                    # Shutting down with the lock still held: the rows go where a person can replay them.
                    keep = [(op, f"engine stopped before commit ({reason})") for op in batch]
                    self._set_aside(keep)
                    self._done(rejected=len(batch))
                    return
                self.heartbeat.waiting(reason)
                if now - logged_at >= WAIT_LOG_SECONDS:
                    logged_at = now
                    log.warning("store %s: batch of %d waits (%s) for %.0f s so far",
                                self.db_path, len(batch), reason, now - waited_from)
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
        if waited_from is not None:
            self.heartbeat.resumed()
            log.warning("store %s: batch of %d committed after waiting %.1f s",
                        self.db_path, len(batch), time.monotonic() - waited_from)
        if aside:
            self._set_aside([(batch[i], reason) for i, reason in aside.items()])
        self._done(committed=len(batch) - len(aside), rejected=len(aside))

    def _apply(self, batch: list[tuple], aside: dict[int, str]) -> None:
        """One transaction for the batch; a row refused for its content is noted in `aside`, its
        statement undone by SQLite alone (ON CONFLICT ABORT), and the others go on."""
        # Plain SQL in one explicit transaction: sqlite-utils' helpers commit on their own.
        conn = self.db.conn
        if conn.in_transaction:
            conn.execute("ROLLBACK")   # left open by a failed ROLLBACK: BEGIN would refuse every row
        conn.execute("BEGIN IMMEDIATE")
        try:
            for i, op in enumerate(batch):
                if i in aside:
                    continue
                try:
                    conn.execute(*_sql(op))
                except Exception as exc:
                    if wait_reason(exc) is not None:
                        raise
                    aside[i] = f"{type(exc).__name__}: {exc}"
                    if not conn.in_transaction:
                        raise _Retry from exc
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error as exc:   # the error that matters is the one being raised
                    log.warning("store %s: rollback failed: %s", self.db_path, exc)
            raise

    def _set_aside(self, rows: list[tuple[tuple, str]]) -> None:
        """Append rows to the dead-letter file, one JSON line each; whatever the values, the line is
        written (JSON escapes lone surrogates, holds any integer; other values as their text)."""
        lines = []
        for op, reason in rows:
            log.error("store %s: %r set aside (%s); kept in %s", self.db_path, op[:3], reason, self.dead_letter)
            try:
                lines.append(json.dumps({"op": op, "error": reason}, default=str) + "\n")
            except (TypeError, ValueError, RecursionError):
                # Keys JSON cannot hold (a tuple), a value that contains itself: the op's repr keeps it.
                lines.append(json.dumps({"op": repr(op), "error": reason}) + "\n")
        try:
            with self._aside_lock, open(self.dead_letter, "a", encoding="utf-8") as f:
                f.write("".join(lines))
        except OSError as exc:
            # The card refuses even the dead-letter file: the system journal is the last copy.
            log.critical("store %s: cannot write %s (%s); rows follow:\n%s",
                         self.db_path, self.dead_letter, exc, "".join(lines))

    def _done(self, committed: int = 0, rejected: int = 0) -> None:
        with self._cond:
            self.committed += committed
            self.rejected += rejected
            self._cond.notify_all()
