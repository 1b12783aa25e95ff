"""The one thread that writes the engine's records, fed through a Handoff so the loop never waits."""
from __future__ import annotations

import json
import logging
import queue
import re
import sqlite3
import threading
import time
from pathlib import Path

from ..handoff import Handoff
from . import open_db

log = logging.getLogger(__name__)

# Up to this many operations share one transaction; the writer commits at least every BATCH_SECONDS
# so a finished call is durable within about a second (ARCHITECTURE.md, Records).
BATCH_OPS = 2000
BATCH_SECONDS = 0.25
QUEUE_SIZE = 100_000
_STOP = object()
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


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
        self.committed = 0
        self.rejected = 0
        self._submitted = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.db = open_db(self.db_path)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

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
        self.flush(timeout)
        if self._thread:
            self.handoff.queue.put(_STOP)
            self._thread.join(timeout)
        self.db.conn.close()

    def status(self) -> dict:
        return {"committed": self.committed, "backlog": self.handoff.backlog,
                "spilled": self.handoff.spilled, "rejected": self.rejected}

    # --- writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        q = self.handoff.queue
        while True:
            first = q.get()
            if first is _STOP:
                return
            batch = [first]
            deadline = time.monotonic() + BATCH_SECONDS
            while len(batch) < BATCH_OPS:
                try:
                    op = q.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if op is _STOP:
                    self._commit(batch)
                    return
                batch.append(op)
            self._commit(batch)

    def _commit(self, batch: list[tuple]) -> None:
        for attempt in range(1, 6):
            try:
                self._apply(batch)
                self._done(committed=len(batch))
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    break
                # Locked or busy (another process writing, a slow SD card): the batch waits, whole.
                log.warning("store %s: batch of %d waits (%s), attempt %d", self.db_path, len(batch), exc, attempt)
                time.sleep(0.2 * attempt)
            except sqlite3.DatabaseError:
                break
        # The batch keeps failing: apply its operations one by one so only a bad one is set aside.
        for op in batch:
            try:
                self._apply([op])
                self._done(committed=1)
            except sqlite3.DatabaseError as exc:
                log.error("store %s: %s rejected (%s); kept in %s", self.db_path, op[:3], exc, self.dead_letter)
                with open(self.dead_letter, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"op": op, "error": str(exc)}, default=str) + "\n")
                self._done(rejected=1)

    def _apply(self, batch: list[tuple]) -> None:
        # Plain SQL in one explicit transaction: sqlite-utils' helpers commit on their own.
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for op in batch:
                conn.execute(*_sql(op))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _done(self, committed: int = 0, rejected: int = 0) -> None:
        with self._cond:
            self.committed += committed
            self.rejected += rejected
            self._cond.notify_all()
