"""HQ's database for the collector: every box's records keyed by (box, table, id), in SQLite or PostgreSQL."""
from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

# Tables whose rows name a file HQ downloads (firmware/store/sync.py FILE_TABLES, the box's side).
FILE_TABLES = ("recordings", "voicemails")
RETENTION = "retention"

# Numbered migrations, each applied once in its own transaction; {big}, {real} and {json} become
# the dialect's types, so SQLite and PostgreSQL hold the same tables and columns.
MIGRATIONS = [
    (1, [
        """CREATE TABLE hq_boxes (
            box_id TEXT PRIMARY KEY,
            instance TEXT,                       -- the box database's own id (firmware/store/sync.py box_instance)
            url TEXT,
            cursor {big} NOT NULL DEFAULT 0,      -- every change up to here is stored
            acked {big} NOT NULL DEFAULT 0,       -- last sequence reported to the box
            latest {big} NOT NULL DEFAULT 0,      -- the box's latest change at the last page
            caught_up_at {real},                 -- when HQ last held everything the box had
            last_pull_at {real},
            last_error TEXT,
            errors {big} NOT NULL DEFAULT 0)""",
        """CREATE TABLE hq_records (
            box_id TEXT NOT NULL, table_name TEXT NOT NULL, id TEXT NOT NULL,
            seq {big} NOT NULL, data {json} NOT NULL, pulled_at {real} NOT NULL,
            PRIMARY KEY (box_id, table_name, id))""",
        """CREATE TABLE hq_deletions (
            box_id TEXT NOT NULL, table_name TEXT NOT NULL, id TEXT NOT NULL,
            seq {big} NOT NULL, reason TEXT, pulled_at {real} NOT NULL,
            PRIMARY KEY (box_id, table_name, id))""",
        """CREATE TABLE hq_files (
            box_id TEXT NOT NULL, table_name TEXT NOT NULL, id TEXT NOT NULL,
            seq {big} NOT NULL, sha256 TEXT, size {big},
            state TEXT NOT NULL,                 -- pending | done | deleted (deleted on the box before HQ had it)
            path TEXT, attempts {big} NOT NULL DEFAULT 0, error TEXT,
            PRIMARY KEY (box_id, table_name, id))""",
        "CREATE INDEX hq_files_state ON hq_files (box_id, state, seq)",
    ]),
]

# How long a SQLite writer waits for another's lock before it fails.
BUSY_TIMEOUT_MS = 30000
# Turning a new SQLite database to WAL takes an exclusive lock that SQLite does not wait for (the busy
# timeout is not consulted): collector threads opening a new database together were told "database is
# locked" at once, 14 times in 100 rounds of four. They try again every WAL_RETRY_S instead.
WAL_RETRY_S = 0.05


def _to_wal(lite: sqlite3.Connection) -> None:
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            lite.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_S)


_TYPES = {"sqlite": {"big": "INTEGER", "real": "REAL", "json": "TEXT"},
          "postgresql": {"big": "BIGINT", "real": "DOUBLE PRECISION", "json": "JSONB"}}


class HqStoreError(Exception):
    """HQ's database cannot be opened, or a box's records do not fit what it holds."""


@dataclass
class BoxState:
    box_id: str
    instance: str | None
    cursor: int
    acked: int
    latest: int
    caught_up_at: float | None
    errors: int


@dataclass
class PendingFile:
    table: str
    id: str
    seq: int
    sha256: str
    size: int
    attempts: int


class HqStore:
    """One connection to HQ's database (one per collector thread)."""

    def __init__(self, conn, dialect: str, errors: tuple[type[Exception], ...]):
        self.conn, self.dialect = conn, dialect
        self.errors = errors          # the driver's exceptions: a failed statement or a lost server
        self._json = "?" if dialect == "sqlite" else "CAST(? AS jsonb)"
        self._migrate()

    @classmethod
    def open(cls, target: str | Path) -> HqStore:
        """`postgresql://...` for PostgreSQL (psycopg), anything else is a SQLite file path."""
        text = str(target)
        if text.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
            except ImportError as exc:
                raise HqStoreError(f"{_redact(text)}: PostgreSQL needs psycopg (pip install psycopg[binary])") from exc
            try:
                conn = psycopg.connect(text, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                raise HqStoreError(f"HQ database {_redact(text)}: {exc}") from exc
            return cls(conn, "postgresql", (psycopg.Error,))
        try:
            Path(text).parent.mkdir(parents=True, exist_ok=True)
            lite = sqlite3.connect(text, isolation_level=None, check_same_thread=False)
            # One collector thread per box: writers queue on the lock rather than fail.
            lite.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _to_wal(lite)
            lite.execute("PRAGMA synchronous = NORMAL")
        except (sqlite3.Error, OSError) as exc:
            raise HqStoreError(f"HQ database {text}: {exc}") from exc
        return cls(lite, "sqlite", (sqlite3.Error,))

    # --- SQL in one spelling for both dialects --------------------------------------------------
    def _sql(self, sql: str) -> str:
        sql = sql.replace("{json}", self._json)
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def _execute(self, sql: str, params=()):
        return self.conn.execute(self._sql(sql), params)

    def _many(self, sql: str, rows: list) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            self.conn.executemany(self._sql(sql), rows)
        else:
            with self.conn.cursor() as cur:
                cur.executemany(self._sql(sql), rows)

    @contextlib.contextmanager
    def transaction(self):
        if self.dialect == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        else:
            with self.conn.transaction():
                yield

    def _migrate(self) -> None:
        types = _TYPES[self.dialect]
        with self.transaction():
            self._execute("CREATE TABLE IF NOT EXISTS hq_migrations (version INTEGER PRIMARY KEY, applied_at "
                          f"{types['real']} NOT NULL)")
        for version, statements in MIGRATIONS:
            with self.transaction():
                if self.dialect == "postgresql":
                    # Two collectors starting at once: the second waits here, then finds it applied.
                    self._execute("LOCK TABLE hq_migrations IN EXCLUSIVE MODE")
                if self._execute("SELECT 1 FROM hq_migrations WHERE version = ?", [version]).fetchone():
                    continue
                for statement in statements:
                    self._execute(statement.format(**types))
                self._execute("INSERT INTO hq_migrations (version, applied_at) VALUES (?, ?)", [version, time.time()])

    def close(self) -> None:
        self.conn.close()

    # --- boxes ----------------------------------------------------------------------------------------
    def box_state(self, box_id: str, url: str) -> BoxState:
        with self.transaction():
            self._execute("INSERT INTO hq_boxes (box_id, url) VALUES (?, ?) ON CONFLICT (box_id) DO UPDATE "
                          "SET url = excluded.url", [box_id, url])
            row = self._execute("SELECT instance, cursor, acked, latest, caught_up_at, errors FROM hq_boxes "
                                "WHERE box_id = ?", [box_id]).fetchone()
        return BoxState(box_id, *row)

    def note_error(self, box_id: str, message: str) -> None:
        with self.transaction():
            self._execute("UPDATE hq_boxes SET errors = errors + 1, last_error = ?, last_pull_at = ? WHERE box_id = ?",
                          [message, time.time(), box_id])

    def set_acked(self, box_id: str, seq: int) -> None:
        with self.transaction():
            self._execute("UPDATE hq_boxes SET acked = ? WHERE box_id = ?", [seq, box_id])

    def ack_point(self, box_id: str) -> int:
        """The highest sequence HQ holds entirely: the cursor, but below the first file still missing."""
        cursor = self._execute("SELECT cursor FROM hq_boxes WHERE box_id = ?", [box_id]).fetchone()[0]
        first = self._execute("SELECT min(seq) FROM hq_files WHERE box_id = ? AND state = 'pending'",
                              [box_id]).fetchone()[0]
        return cursor if first is None else min(cursor, first - 1)

    # --- a page of changes ----------------------------------------------------------------------------
    def apply_page(self, box_id: str, changes: list[dict], trailer: dict, now: float) -> list[str]:
        """Store one page and move the box's cursor, all in one transaction; idempotent.

        Returns the paths of HQ files to remove because the box deleted their records."""
        gone: list[str] = []
        with self.transaction():
            row = self._execute("SELECT instance, cursor FROM hq_boxes WHERE box_id = ?", [box_id]).fetchone()
            instance, cursor = row
            if instance is not None and instance != trailer["box"]:
                raise HqStoreError(f"box {box_id} now answers as database {trailer['box']}, but HQ holds records of "
                                   f"database {instance}: the box's database was replaced, so its change sequences "
                                   "start again; give it a new box id in the collector's configuration")
            run: list[dict] = []
            for change in changes:
                if change.get("deleted"):
                    self._upsert(box_id, run, now)
                    run = []
                    gone += self._delete(box_id, change, now)
                else:
                    run.append(change)
            self._upsert(box_id, run, now)
            caught_up = None if trailer["more"] else now
            self._execute("UPDATE hq_boxes SET instance = ?, cursor = ?, latest = ?, last_pull_at = ?, "
                          "caught_up_at = coalesce(?, caught_up_at), last_error = NULL WHERE box_id = ?",
                          [trailer["box"], max(cursor, trailer["next"]), trailer["latest"], now, caught_up, box_id])
        return gone

    def _upsert(self, box_id: str, run: list[dict], now: float) -> None:
        # The seq guard keeps a row from ever going back to an older version.
        self._many("INSERT INTO hq_records (box_id, table_name, id, seq, data, pulled_at) "
                   "VALUES (?, ?, ?, ?, {json}, ?) ON CONFLICT (box_id, table_name, id) DO UPDATE SET "
                   "seq = excluded.seq, data = excluded.data, pulled_at = excluded.pulled_at "
                   "WHERE hq_records.seq < excluded.seq",
                   [(box_id, c["table"], c["id"], c["seq"], json.dumps(c["row"], separators=(",", ":")), now)
                    for c in run])
        self._many("DELETE FROM hq_deletions WHERE box_id = ? AND table_name = ? AND id = ? AND seq < ?",
                   [(box_id, c["table"], c["id"], c["seq"]) for c in run])
        # A file is fetched again only if its content changed (another SHA-256).
        self._many("INSERT INTO hq_files (box_id, table_name, id, seq, sha256, size, state) "
                   "VALUES (?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (box_id, table_name, id) DO UPDATE SET "
                   "seq = excluded.seq, size = excluded.size, sha256 = excluded.sha256, "
                   "state = CASE WHEN hq_files.sha256 = excluded.sha256 AND hq_files.state = 'done' "
                   "THEN 'done' ELSE 'pending' END WHERE hq_files.seq < excluded.seq",
                   [(box_id, c["table"], c["id"], c["seq"], c["row"].get("sha256"), c["row"].get("size"))
                    for c in run if c["table"] in FILE_TABLES])

    def _delete(self, box_id: str, change: dict, now: float) -> list[str]:
        key = [box_id, change["table"], change["id"]]
        self._execute("INSERT INTO hq_deletions (box_id, table_name, id, seq, reason, pulled_at) "
                      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (box_id, table_name, id) DO UPDATE SET "
                      "seq = excluded.seq, reason = excluded.reason, pulled_at = excluded.pulled_at "
                      "WHERE hq_deletions.seq < excluded.seq",
                      key + [change["seq"], change.get("reason"), now])
        if change.get("reason") == RETENTION:
            # The box purged a file HQ acknowledged holding: HQ's copy is now the only one.
            return []
        self._execute("DELETE FROM hq_records WHERE box_id = ? AND table_name = ? AND id = ? AND seq < ?",
                      key + [change["seq"]])
        if change["table"] not in FILE_TABLES:
            return []
        found = self._execute("SELECT path FROM hq_files WHERE box_id = ? AND table_name = ? AND id = ? AND seq < ?",
                              key + [change["seq"]]).fetchone()
        if found is None:
            return []
        self._execute("UPDATE hq_files SET state = 'deleted', path = NULL, seq = ? WHERE box_id = ? AND table_name = ? "
                      "AND id = ?", [change["seq"]] + key)
        return [found[0]] if found[0] else []

    # --- files ----------------------------------------------------------------------------------------
    def pending_files(self, box_id: str) -> list[PendingFile]:
        rows = self._execute("SELECT table_name, id, seq, sha256, size, attempts FROM hq_files "
                             "WHERE box_id = ? AND state = 'pending' ORDER BY seq", [box_id]).fetchall()
        return [PendingFile(*r) for r in rows]

    def file_done(self, box_id: str, f: PendingFile, path: str) -> None:
        with self.transaction():
            self._execute("UPDATE hq_files SET state = 'done', path = ?, error = NULL "
                          "WHERE box_id = ? AND table_name = ? AND id = ? AND sha256 = ? AND state = 'pending'",
                          [path, box_id, f.table, f.id, f.sha256])

    def file_failed(self, box_id: str, f: PendingFile, error: str) -> None:
        with self.transaction():
            self._execute("UPDATE hq_files SET attempts = attempts + 1, error = ? WHERE box_id = ? AND table_name = ? "
                          "AND id = ?", [error, box_id, f.table, f.id])

    # --- reading back -------------------------------------------------------------------------------
    def counts(self, box_id: str) -> dict:
        records = self._execute("SELECT count(*) FROM hq_records WHERE box_id = ?", [box_id]).fetchone()[0]
        files = dict(self._execute("SELECT state, count(*) FROM hq_files WHERE box_id = ? GROUP BY state",
                                   [box_id]).fetchall())
        return {"records": records, "files": files.get("done", 0), "files_pending": files.get("pending", 0)}

    def records(self, box_id: str) -> dict[tuple[str, str], dict]:
        """Every record HQ holds for a box, {(table, id): row}."""
        out = {}
        for table, rid, data in self._execute("SELECT table_name, id, data FROM hq_records WHERE box_id = ?",
                                              [box_id]).fetchall():
            out[(table, rid)] = json.loads(data) if isinstance(data, str) else data
        return out

    def files(self, box_id: str) -> dict[tuple[str, str], tuple[str, str | None]]:
        """{(table, id): (state, path)} for every file HQ knows of on a box."""
        rows = self._execute("SELECT table_name, id, state, path FROM hq_files WHERE box_id = ?", [box_id]).fetchall()
        return {(t, i): (s, p) for t, i, s, p in rows}


def _redact(url: str) -> str:
    """A database URL fit for a log line: any password replaced."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
