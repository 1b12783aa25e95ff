"""The box's side of HQ sync: change feed, HQ tokens and acknowledgements, recording files, retention."""
from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import re
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from firmware.core.peaks import sidecar
from firmware.store import SYNCED_TABLES

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 1000
# A page is built in memory and the read snapshot closed before it is sent, so a slow WAN link never
# holds the WAL back; 5,000 rows keep a page to a few MB.
MAX_LIMIT = 5000
# Tables whose rows name a file under <state>/recordings/ that HQ downloads.
FILE_TABLES = ("recordings", "voicemails")
TOKEN_PREFIX = "blhq_"
MAX_TOKEN_LEN = 200
MAX_NAME = 64
INSTANCE_KEY = "sync.box_instance"
RETENTION = "retention"
# Rows deleted per write transaction by retention, so the engine's writer never waits long.
RETENTION_CHUNK = 500
# Columns that date a row, most telling first: the age of the oldest record HQ has not taken.
TIME_COLUMNS = ("updated_at", "ended_at", "created_at", "requested_at", "at", "arrived_at")
_WHOLE = re.compile(r"[0-9]{1,18}")


class SyncError(Exception):
    """A sync request or operation is refused; the message names the record or the reason."""


class CursorError(SyncError):
    """A cursor or limit the client sent is malformed or out of range (HTTP 400)."""


class TokenRefused(SyncError):
    """A bearer token is missing, unknown or revoked (HTTP 401)."""


class FileRefused(SyncError):
    """A recording cannot be served: unknown id, file missing or outside the recordings directory."""


@dataclass
class Page:
    """One page of the change feed: changes in sequence order and the cursor to ask for next."""
    changes: list[dict]
    next: int
    more: bool
    latest: int
    box: str = ""
    limit: int = DEFAULT_LIMIT

    def trailer(self) -> dict:
        return {"next": self.next, "more": self.more, "latest": self.latest, "count": len(self.changes),
                "limit": self.limit, "box": self.box}


@dataclass
class HqFile:
    table: str
    id: str
    path: Path
    size: int
    sha256: str


@dataclass
class RetentionReport:
    cutoff: float
    acked: int | None
    deleted: dict[str, int] = field(default_factory=dict)
    freed_bytes: int = 0
    kept_unacked: int = 0
    # Younger than the cutoff, deleted (HQ holding them) because the card had less free space than asked.
    for_space: int = 0
    short_of_space: bool = False


def parse_cursor(text: str | None) -> int:
    """`since` as sent by the client: a whole number of at least 0 (missing means 0)."""
    if text is None or text == "":
        return 0
    if not _WHOLE.fullmatch(text):
        raise CursorError(f"since must be a whole number of at least 0 (a change sequence), got {text[:40]!r}")
    return int(text)


def parse_limit(text: str | None) -> int:
    """`limit` as sent by the client: a whole number from 1 to MAX_LIMIT.

    Refused above MAX_LIMIT rather than cut down: the API's contract (webui/openapi.yaml) says at most
    5000, and a client that asked for more learns it at once instead of sizing its work on a page it
    did not get (the reference collector's `page` setting stops at 5000 too)."""
    if text is None or text == "":
        return DEFAULT_LIMIT
    if not _WHOLE.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise CursorError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {text[:40]!r}")
    return int(text)


def _latest(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0]


class _Snapshot:
    """One read transaction: in WAL mode every statement inside it sees the same committed state."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN")
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.execute("ROLLBACK")


def _rows(conn: sqlite3.Connection, table: str, since: int, limit: int, cursors: list):
    cur = conn.execute(f"SELECT * FROM {table} WHERE seq > ? ORDER BY seq LIMIT ?", [since, limit])
    cursors.append(cur)
    names = [d[0] for d in cur.description]
    for values in cur:
        row = dict(zip(names, values))
        yield row["seq"], {"table": table, "id": row["id"], "seq": row["seq"], "row": row}


def _deletions(conn: sqlite3.Connection, since: int, limit: int, cursors: list):
    cur = conn.execute("SELECT seq, table_name, row_id, reason FROM tombstones WHERE seq > ? ORDER BY seq LIMIT ?",
                       [since, limit])
    cursors.append(cur)
    for seq, table, row_id, reason in cur:
        yield seq, {"table": table, "id": row_id, "seq": seq, "deleted": True, "reason": reason}


def read_changes(conn: sqlite3.Connection, since: int, limit: int = DEFAULT_LIMIT) -> Page:
    """Every change after `since`, at most `limit`, in change-sequence order, from one snapshot.

    Why a page can never skip a change: the triggers stamp `seq` from one counter inside the
    writing transaction, and SQLite lets one write transaction run at a time, so sequences are
    handed out in commit order. A WAL snapshot holds exactly the transactions committed before it
    began, so the changes it shows are every change up to its counter value (less rows changed
    again later, which reappear at their new sequence). Seq N+1 is never visible while N is not.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    cursors: list[sqlite3.Cursor] = []
    with _Snapshot(conn):
        latest = _latest(conn)
        if since > latest:
            raise CursorError(f"since={since} is ahead of this box's latest change {latest}: "
                              "the cursor belongs to another box or to a database since replaced")
        # Each table is read lazily in seq order through its index; merging them costs at most
        # limit + one row per table, however large the tables are.
        streams = [_rows(conn, t, since, limit + 1, cursors) for t in SYNCED_TABLES]
        streams.append(_deletions(conn, since, limit + 1, cursors))
        merged = heapq.merge(*streams, key=lambda item: item[0])
        changes = [change for _, change in itertools.islice(merged, limit)]
        more = next(merged, None) is not None
        for cur in cursors:
            cur.close()
    # A short page holds every change the snapshot had: the next cursor is the snapshot's counter,
    # which also steps over sequences of rows that were changed again since.
    return Page(changes, changes[-1]["seq"] if more else latest, more, latest, limit=limit)


def box_instance(conn: sqlite3.Connection) -> str:
    """A random id made once per database: HQ notices a box whose database was replaced."""
    conn.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", [INSTANCE_KEY, secrets.token_hex(16)])
    return conn.execute("SELECT value FROM settings WHERE key = ?", [INSTANCE_KEY]).fetchone()[0]


# --- HQ tokens ---------------------------------------------------------------------------------------
def _hash(token: str) -> str:
    # A plain SHA-256 suffices: the token carries 256 random bits, so there is nothing to guess
    # word by word, and a sync request must not pay a password hash's cost.
    return hashlib.sha256(token.encode()).hexdigest()


def _write(conn: sqlite3.Connection) -> None:
    # IMMEDIATE: take the write lock before reading what the write depends on.
    conn.execute("BEGIN IMMEDIATE")


def name_problem(name: str) -> str | None:
    if not name or len(name) > MAX_NAME or not name.isprintable():
        return f"an HQ token's name must be 1 to {MAX_NAME} printable characters"
    return None


def create_token(conn: sqlite3.Connection, name: str, now: float, created_by: str = "") -> tuple[dict, str]:
    """A new HQ token: (its record, the token itself, which is shown only now)."""
    name = name.strip()
    if problem := name_problem(name):
        raise SyncError(problem)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = {"id": "hq-" + secrets.token_hex(6), "name": name, "token_hash": _hash(token), "created_at": now,
           "created_by": created_by, "revoked_at": None}
    _write(conn)
    try:
        conn.execute("INSERT INTO hq_tokens (id, name, token_hash, created_at, created_by, revoked_at) "
                     "VALUES (:id, :name, :token_hash, :created_at, :created_by, :revoked_at)", row)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    log.info("HQ token %s (%s) created by %s", row["id"], name, created_by or "the command line")
    return _public(row), token


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "token_hash"}


def list_tokens(conn: sqlite3.Connection) -> list[dict]:
    """Every HQ token (never its hash) with the sequence its HQ last acknowledged."""
    cur = conn.execute("SELECT t.id, t.name, t.created_at, t.created_by, t.revoked_at, a.seq, a.acked_at, a.address "
                       "FROM hq_tokens t LEFT JOIN hq_acks a ON a.token_id = t.id ORDER BY t.created_at, t.id")
    return [{"id": r[0], "name": r[1], "created_at": r[2], "created_by": r[3], "revoked_at": r[4],
             "acked_seq": r[5], "acked_at": r[6], "acked_from": r[7]} for r in cur]


def revoke_token(conn: sqlite3.Connection, token_id: str, now: float, by: str = "") -> dict:
    """Revoke a token (at once: its next request gets 401); revoking twice keeps the first time."""
    _write(conn)
    try:
        found = conn.execute("SELECT revoked_at FROM hq_tokens WHERE id = ?", [token_id]).fetchone()
        if found is None:
            raise SyncError(f"no HQ token with id {token_id!r}")
        if found[0] is None:
            conn.execute("UPDATE hq_tokens SET revoked_at = ? WHERE id = ?", [now, token_id])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    log.info("HQ token %s revoked by %s", token_id, by or "the command line")
    return next(t for t in list_tokens(conn) if t["id"] == token_id)


def check_token(conn: sqlite3.Connection, token: str) -> dict:
    """The token's record if it is known and not revoked; TokenRefused says why not."""
    if not token:
        raise TokenRefused("no bearer token (send Authorization: Bearer <token>)")
    if len(token) > MAX_TOKEN_LEN or not token.startswith(TOKEN_PREFIX):
        raise TokenRefused("not an HQ token")
    row = conn.execute("SELECT id, name, revoked_at FROM hq_tokens WHERE token_hash = ?", [_hash(token)]).fetchone()
    if row is None:
        raise TokenRefused("unknown HQ token")
    if row[2] is not None:
        raise TokenRefused(f"HQ token {row[0]} ({row[1]}) was revoked")
    return {"id": row[0], "name": row[1]}


def record_ack(conn: sqlite3.Connection, token_id: str, seq: int | float, now: float, address: str = "") -> dict:
    """Store the sequence HQ says it holds (everything up to it, recordings included).

    `seq` comes from JSON, which has one number type (RFC 8259 §6): 812.0 is the whole number 812, as
    JSON Schema's `integer` (the API's schema) counts it, and a client whose numbers are doubles
    (JavaScript, PostgreSQL numeric through some drivers) sends it so. 812.5 is refused."""
    if isinstance(seq, float) and seq.is_integer():
        seq = int(seq)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise CursorError(f"seq must be a whole number of at least 0, got {seq!r}")
    _write(conn)
    try:
        latest = _latest(conn)
        if seq > latest:
            raise CursorError(f"seq={seq} is ahead of this box's latest change {latest}")
        conn.execute("INSERT INTO hq_acks (token_id, seq, acked_at, address) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(token_id) DO UPDATE SET seq = excluded.seq, acked_at = excluded.acked_at, "
                     "address = excluded.address", [token_id, seq, now, address])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return {"token": token_id, "acked": seq, "latest": latest}


def acked_floor(conn: sqlite3.Connection) -> int | None:
    """The sequence every active HQ token has acknowledged; None with no active token.

    A token that never acknowledged counts as 0: until each HQ holds a record, the box keeps it."""
    row = conn.execute("SELECT count(*), min(coalesce(a.seq, 0)) FROM hq_tokens t "
                       "LEFT JOIN hq_acks a ON a.token_id = t.id WHERE t.revoked_at IS NULL").fetchone()
    return row[1] if row[0] else None


# --- what HQ has and has not taken ---------------------------------------------------------------------
def _dated(row: sqlite3.Row | dict) -> float | None:
    return next((row[c] for c in TIME_COLUMNS if c in row.keys() and row[c] is not None), None)


def sync_status(conn: sqlite3.Connection, now: float) -> dict:
    """What HQ holds (up to the sequence every active token acknowledged) and what it has not taken."""
    previous, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        with _Snapshot(conn):
            latest = _latest(conn)
            floor = acked_floor(conn)
            taken_to = floor or 0
            tables, oldest = {}, None
            for table in SYNCED_TABLES:
                total = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                behind = conn.execute(f"SELECT count(*) FROM {table} WHERE seq > ?", [taken_to]).fetchone()[0]
                tables[table] = {"taken": total - behind, "not_taken": behind}
                first = conn.execute(f"SELECT * FROM {table} WHERE seq > ? ORDER BY seq LIMIT 1", [taken_to]).fetchone()
                if first is not None and (oldest is None or first["seq"] < oldest["seq"]):
                    oldest = {"table": table, "id": first["id"], "seq": first["seq"], "at": _dated(first)}
            deletions = conn.execute("SELECT count(*) FROM tombstones WHERE seq > ?", [taken_to]).fetchone()[0]
            files = {}
            for table in FILE_TABLES:
                n, size = conn.execute(f"SELECT count(*), coalesce(sum(size), 0) FROM {table} WHERE seq > ?",
                                       [taken_to]).fetchone()
                files[table] = {"not_taken": n, "bytes": size}
            tokens = list_tokens(conn)
    finally:
        conn.row_factory = previous
    if oldest is not None:
        oldest["age_s"] = None if oldest["at"] is None else round(now - oldest["at"], 1)
    return {"latest_seq": latest, "acked_seq": floor, "hq_tokens": tokens, "tables": tables,
            "deletions_not_taken": deletions, "not_taken": sum(t["not_taken"] for t in tables.values()) + deletions,
            "files_not_taken": files, "oldest_not_taken": oldest, "now": now}


# --- recording files ---------------------------------------------------------------------------------
def contained(root: Path, relpath: str) -> Path | None:
    """`root/relpath` with every link resolved, or None if that lands outside `root`."""
    base = root.resolve()
    try:
        candidate = (base / relpath).resolve()
    except (ValueError, OSError, RuntimeError):   # a NUL byte, a symlink loop
        return None
    return candidate if candidate.is_relative_to(base) else None


def find_file(conn: sqlite3.Connection, root: Path, table: str, file_id: str) -> HqFile:
    """The file of recording (or voicemail) `file_id`, refused unless it lies inside `root`."""
    if table not in FILE_TABLES:
        raise FileRefused(f"{table} have no files")
    kind = table[:-1]
    row = conn.execute(f"SELECT path, size, sha256 FROM {table} WHERE id = ?", [file_id]).fetchone()
    if row is None:
        raise FileRefused(f"no {kind} with id {file_id!r}")
    path = contained(root, row[0] or "")
    if path is None:
        log.error("%s %s: path %r lies outside %s; refused", kind, file_id, row[0], root)
        raise FileRefused(f"{kind} {file_id}: its path lies outside the recordings directory")
    if not path.is_file():
        raise FileRefused(f"{kind} {file_id}: file {row[0]} is missing")
    return HqFile(table, file_id, path, path.stat().st_size, row[2] or "")


# --- retention ------------------------------------------------------------------------------------------
def apply_retention(conn: sqlite3.Connection, root: Path, days: float, now: float,
                    dry_run: bool = False, keep_free: int = 0,
                    free: Callable[[], int] | None = None) -> RetentionReport:
    """Delete recordings and voicemails older than `days` that every active HQ has acknowledged; then, while
    the card has less than `keep_free` bytes free (`free()`, by default what the file system says), the
    oldest acknowledged ones whatever their age.

    Nothing is deleted before HQ acknowledged it: with no active token, or one that never
    acknowledged, nothing goes. Each deleted row leaves a tombstone marked "retention", so HQ
    keeps its copy; files are removed after their rows' deletion has committed."""
    if not days >= 0:
        raise SyncError(f"retention needs a number of days of at least 0, got {days}")
    report = RetentionReport(cutoff=now - days * 86400.0, acked=acked_floor(conn))
    for table in FILE_TABLES:
        report.kept_unacked += conn.execute(f"SELECT count(*) FROM {table} WHERE created_at < ? AND seq > ?",
                                            [report.cutoff, report.acked or 0]).fetchone()[0]
        report.deleted[table] = 0
    if report.acked is None:
        return report
    for table in FILE_TABLES:
        if dry_run:
            n, size = conn.execute(f"SELECT count(*), coalesce(sum(size), 0) FROM {table} WHERE created_at < ? "
                                   "AND seq <= ?", [report.cutoff, report.acked]).fetchone()
            report.deleted[table], report.freed_bytes = n, report.freed_bytes + size
            continue
        while victims := _retire(conn, table, report.cutoff, report.acked, RETENTION_CHUNK):
            _remove(root, table, victims, report)
    if dry_run:
        return report
    if keep_free > 0:
        _make_room(conn, root, keep_free, free or (lambda: _free_bytes(root)), report)
    log.info("retention: %s deleted older than %g days (acknowledged by HQ up to %s), %d of them younger to "
             "keep %d MB free, %d kept awaiting HQ", report.deleted, days, report.acked, report.for_space,
             keep_free // 1_000_000, report.kept_unacked)
    if report.short_of_space:
        log.warning("retention: less than %d MB free and nothing left that HQ has acknowledged: the card fills "
                    "until HQ pulls", keep_free // 1_000_000)
    return report


def _free_bytes(path: Path) -> int:
    # What an unprivileged process may still write (statvfs(3) f_bavail), as the service user sees it.
    found = os.statvfs(path)
    return found.f_bavail * found.f_frsize


def _make_room(conn: sqlite3.Connection, root: Path, keep_free: int, free: Callable[[], int],
               report: RetentionReport) -> None:
    """The oldest acknowledged files first, one at a time, until `keep_free` bytes are free, so no more goes
    than the room needs: at 2,000 calls a day the recordings take about 10 GB a day (docs/architecture.md
    §30), so a 32 GB card would be full long before any age limit; HQ holds every file deleted here."""
    assert report.acked is not None
    while free() < keep_free:
        oldest = [(row[0], table) for table in FILE_TABLES
                  if (row := conn.execute(f"SELECT min(created_at) FROM {table} WHERE seq <= ?",
                                          [report.acked]).fetchone())[0] is not None]
        if not oldest:
            report.short_of_space = True
            return
        table = min(oldest)[1]
        victims = _retire(conn, table, float("inf"), report.acked, 1, by="created_at")
        _remove(root, table, victims, report)
        report.for_space += len(victims)


def _remove(root: Path, table: str, victims: list[tuple], report: RetentionReport) -> None:
    """The files of rows whose deletion has committed."""
    report.deleted[table] += len(victims)
    for file_id, relpath, size in victims:
        path = contained(root, relpath or "")
        if path is None:
            log.error("retention: %s %s: path %r lies outside %s; file left alone", table[:-1], file_id,
                      relpath, root)
            continue
        path.unlink(missing_ok=True)
        sidecar(path).unlink(missing_ok=True)   # its waveform peaks (firmware/core/peaks.py)
        report.freed_bytes += size or 0


def _retire(conn: sqlite3.Connection, table: str, cutoff: float, acked: int, limit: int,
            by: str = "seq") -> list[tuple]:
    """Delete up to `limit` of `table`'s rows created before `cutoff` and acknowledged up to `acked`, first
    by `by`, in one transaction; the rows deleted."""
    _write(conn)
    try:
        victims = conn.execute(f"SELECT id, path, size FROM {table} WHERE created_at < ? AND seq <= ? "
                               f"ORDER BY {by}, seq LIMIT ?", [cutoff, acked, limit]).fetchall()
        before = _latest(conn)
        conn.executemany(f"DELETE FROM {table} WHERE id = ?", [[v[0]] for v in victims])
        # The write lock is held: every tombstone above `before` is one of ours.
        conn.execute("UPDATE tombstones SET reason = ? WHERE seq > ?", [RETENTION, before])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return victims
