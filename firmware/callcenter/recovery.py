"""At start, before the first call: close the calls a crash left open and file the recordings it left
without a row, so that head office gets every call and every recording (the change feed carries both);
and read the callback requests left waiting, so that every caller who asked is called back, and the
campaigns left running, so that they go on.

A SIGKILL or a power cut stops the box between a call's events: its record has no disposition, and its
recording (repaired by `recorder.repair_all`, which runs first) has no row, because both are written
when the call ends. Everything here is one write transaction on the writer's own connection before the
writer thread starts, so a crash during recovery leaves nothing half done and the next start repeats it.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from firmware.callcenter.callbacks import PendingCallback
from firmware.callcenter.calls import Disposition
from firmware.callcenter.dialer import DEFAULT_RETRY
from firmware.callcenter.legs import Outcome
from firmware.core.journal import Journal
from firmware.callcenter.queue_log import day_of, format_line, parse_line
from firmware.core.recorder import VOICEMAIL_DIR, describe
from firmware.store import StoreError, write_transaction
from firmware.callcenter.voicemail import MIN_MESSAGE_S

log = logging.getLogger(__name__)

# Journal events that end a call (firmware/callcenter/queue_log.py writes them only from the call's hang-up):
# the journal thread writes at once while the store commits every 0.25 s, so a crash may leave the
# journal knowing how a call ended when its record does not. The record then takes the journal's word.
JOURNAL_ENDINGS = {"COMPLETEAGENT": (Disposition.ANSWERED, "agent"),
                   "COMPLETECALLER": (Disposition.ANSWERED, "caller"),
                   "ABANDON": (Disposition.ABANDONED, "caller")}
# Asterisk writes this when its queues start (app_queue.c); a reader of the journal takes every call
# still open before it as cut off by the restart, which is what the records now say too.
QUEUESTART = "QUEUESTART"
# What a campaign attempt cut off by a stop counts as (firmware/callcenter/dialer.py).
FAILED = Outcome.FAILED.value
# Namespace of the ids given to rows written at start: derived from what they stand for (a call, the
# state row they close), so repeating an interrupted recovery writes the same rows again.
_RECOVERED_NS = uuid.UUID("5d0c6a43-6f0e-4d39-9a8e-2c3b1f1e7a10")


class RecoveryError(StoreError):
    """The records a crash left cannot be put right (the database refuses the recovery)."""


@dataclass
class Recovered:
    interrupted: list[str] = field(default_factory=list)   # call ids closed as interrupted
    settled: list[str] = field(default_factory=list)       # call ids closed as the journal says they ended
    recordings: list[str] = field(default_factory=list)    # files given a row, relative to the recordings
    voicemails: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)     # messages too short to keep, deleted
    logged_out: list[str] = field(default_factory=list)    # agents the crash left logged in


@dataclass
class _OpenCall:
    id: str
    queued_at: float | None
    connected_at: float | None
    last_at: float
    ending: tuple[Disposition, str, float] | None = None   # from the journal: disposition, by, when


def unfiled_recordings(conn: sqlite3.Connection, recordings: Path) -> list[Path]:
    """The recordings and messages on the card without a row: those a crash cut (repaired, then filed)."""
    try:
        filed = {row[0] for row in conn.execute("SELECT path FROM recordings UNION SELECT path FROM voicemails")}
    except sqlite3.Error as exc:
        raise RecoveryError(f"recovery after a crash: {exc}") from exc
    return [p for p in sorted(recordings.rglob("*.wav")) if str(p.relative_to(recordings)) not in filed]


def recover(conn: sqlite3.Connection, recordings: Path, journal: Journal, now: float,
            orphans: list[Path]) -> Recovered:
    """Close open calls, file `orphans` (unfiled_recordings, repaired), mark the restart in the journal."""
    done = Recovered()
    calls = _open_calls(conn)
    if calls:
        _journal_endings(journal, calls)
    # Hash the files before taking the write lock: the writer of another process never waits on it.
    facts = {p: describe(p) for p in orphans}
    try:
        with write_transaction(conn):
            ended = {c.id: _close(conn, c, done) for c in calls.values()}
            _log_out_agents(conn, done)
            for path, fact in facts.items():
                if fact is None:
                    log.error("recording %s is not a WAV file the recorder wrote: left without a row", path)
                elif path.relative_to(recordings).parts[0] == VOICEMAIL_DIR:
                    _file_voicemail(conn, recordings, path, fact, done)
                else:
                    _file_recording(conn, recordings, path, fact, ended, done)
    except sqlite3.Error as exc:
        raise RecoveryError(f"recovery after a crash: {exc}") from exc
    for name in done.discarded:
        (recordings / name).unlink(missing_ok=True)
    day, line = format_line(now, "NONE", "NONE", "NONE", QUEUESTART, "")
    journal.directory.mkdir(parents=True, exist_ok=True)
    with open(journal.path(day), "a", encoding="utf-8") as f:
        f.write(line + "\n")
    if done.interrupted or done.settled or done.recordings or done.voicemails or done.logged_out:
        log.warning("after a crash: %d calls closed as interrupted, %d as the queue journal recorded them; "
                    "%d recordings and %d messages filed; %d agents logged out", len(done.interrupted),
                    len(done.settled), len(done.recordings), len(done.voicemails), len(done.logged_out))
    return done


def _open_calls(conn: sqlite3.Connection) -> dict[str, _OpenCall]:
    rows = conn.execute("""
        SELECT id, queued_at, connected_at,
               max(arrived_at, coalesce(answered_at, 0), coalesce(queued_at, 0), coalesce(connected_at, 0),
                   coalesce((SELECT max(at) FROM call_events e WHERE e.call_id = calls.id), 0))
        FROM calls WHERE disposition IS NULL OR ended_at IS NULL""").fetchall()
    return {r[0]: _OpenCall(*r) for r in rows}


def _log_out_agents(conn: sqlite3.Connection, done: Recovered) -> None:
    """An agent the crash left logged in (ready, talking, in wrap-up ...) is logged out at the box's last
    sign of life after their last change: their state log (login time, occupancy) ends where the box
    stopped instead of spanning the outage, and the engine starts every agent logged out anyway.

    The latest row is found by seq, the store's change counter, not by time: a restarted clock (a Pi
    has no RTC) repeats times, while seq only grows."""
    rows = conn.execute("""
        SELECT s.id, s.agent_id, s.at, s.seq FROM agent_states s
        JOIN (SELECT agent_id, max(seq) AS seq FROM agent_states GROUP BY agent_id) last
          ON last.agent_id = s.agent_id AND last.seq = s.seq
        WHERE s.state != 'logged_out'""").fetchall()
    for row_id, agent_id, at, seq in rows:
        later = conn.execute("""
            SELECT max(at) FROM (SELECT at FROM call_events WHERE seq > ?1
                                 UNION ALL SELECT at FROM agent_states WHERE seq > ?1)""", [seq]).fetchone()[0]
        # Derived from the row it closes: an interrupted recovery repeated inserts the same row.
        conn.execute("INSERT OR IGNORE INTO agent_states (id, agent_id, state, reason, at) VALUES (?, ?, ?, ?, ?)",
                     [f"{agent_id}-{uuid.uuid5(_RECOVERED_NS, row_id).hex}", agent_id, "logged_out", "interrupted",
                      max(at, later if later is not None else at)])
        done.logged_out.append(agent_id)


def _journal_endings(journal: Journal, calls: dict[str, _OpenCall]) -> None:
    """Find the calls whose end the journal wrote and the store did not commit."""
    first = min(c.last_at for c in calls.values())
    # A day's file holds that local day's lines: read from the day before the oldest open call's
    # last event, in case the clock's zone moved.
    oldest = day_of(first - 86400.0)
    for path in sorted(journal.directory.glob(f"{journal.prefix}-*.log")):
        if path.stem[len(journal.prefix) + 1:] < oldest:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for text in f:
                line = parse_line(text)
                if line is None or line[1] not in calls or line[4] not in JOURNAL_ENDINGS:
                    continue
                disposition, by = JOURNAL_ENDINGS[line[4]]
                calls[line[1]].ending = (disposition, by, float(line[0]))


def _close(conn: sqlite3.Connection, call: _OpenCall, done: Recovered) -> float:
    if call.ending is not None:
        disposition, by, when = call.ending
        # The journal keeps whole seconds: never end before what the record already holds.
        ended = max(call.last_at, when)
        done.settled.append(call.id)
    else:
        disposition, by, ended = Disposition.INTERRUPTED, "box", call.last_at
        done.interrupted.append(call.id)
    wait = None if call.queued_at is None else round((call.connected_at or ended) - call.queued_at, 3)
    talk = None if call.connected_at is None else round(ended - call.connected_at, 3)
    conn.execute("UPDATE calls SET ended_at = ?, disposition = ?, hangup_by = ?, wait = ?, talk = ? WHERE id = ?",
                 [ended, disposition.value, by, wait, talk, call.id])
    # The hang-up event every closed call has, under an id of its own (the crashed engine's event
    # counter is lost); OR IGNORE: a repeated recovery finds it there.
    conn.execute("INSERT OR IGNORE INTO call_events (id, call_id, at, kind, data) VALUES (?, ?, ?, ?, ?)",
                 [f"{call.id}-recovered", call.id, ended, "call:hangup",
                  json.dumps({"by": by, "disposition": disposition.value, "recovered": True},
                             separators=(",", ":"))])
    return ended


def _file_recording(conn, recordings: Path, path: Path, fact, ended: dict[str, float], done: Recovered) -> None:
    duration, size, sha = fact
    call_id = path.stem   # the engine names a call's recording after the call
    created = ended.get(call_id)
    if created is None:
        row = conn.execute("SELECT ended_at FROM calls WHERE id = ?", [call_id]).fetchone()
        created = row[0] if row and row[0] is not None else path.stat().st_mtime
    name = str(path.relative_to(recordings))
    rec_id = uuid.uuid5(_RECOVERED_NS, call_id).hex
    if _insert(conn, "recordings", {"id": rec_id, "call_id": call_id, "path": name, "duration": round(duration, 3),
                                    "size": size, "sha256": sha, "created_at": created}):
        done.recordings.append(name)


def _file_voicemail(conn, recordings: Path, path: Path, fact, done: Recovered) -> None:
    duration, size, sha = fact
    name = str(path.relative_to(recordings))
    if duration < MIN_MESSAGE_S:
        done.discarded.append(name)   # the rule for a message that ended normally (firmware/callcenter/voicemail.py)
        return
    vm_id = path.stem     # a message's file is named after its id, which its call's event names
    box = path.relative_to(recordings).parts[1]
    row = conn.execute("""SELECT e.call_id, e.at, c.number FROM call_events e JOIN calls c ON c.id = e.call_id
                          WHERE e.kind = 'voicemail:start' AND json_extract(e.data, '$.voicemail') = ?""",
                       [vm_id]).fetchone()
    call_id, started, number = row if row else (None, path.stat().st_mtime - duration, None)
    if _insert(conn, "voicemails", {"id": vm_id, "call_id": call_id, "number": number, "box": box, "path": name,
                                    "duration": round(duration, 3), "size": size, "sha256": sha,
                                    "created_at": started}):
        done.voicemails.append(name)


def _insert(conn: sqlite3.Connection, table: str, row: dict) -> bool:
    # OR IGNORE: one odd file (its id taken by another path) must not keep every other record open.
    cur = conn.execute(f"INSERT OR IGNORE INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                       list(row.values()))
    if cur.rowcount == 0:
        log.error("%s: %s is left without a row: its id %s is another file's", table, row["path"], row["id"])
    return cur.rowcount == 1


def pending_callbacks(conn: sqlite3.Connection) -> list[PendingCallback]:
    """The callback requests a stop or a crash left waiting, oldest place first.

    A request keeps its caller's place: the time the caller entered the queue (when they asked while
    waiting in it) or asked, and after a retry the time it went back to the end of the queue; the
    caller's priority and dedicated agent are the call's and its customer's (firmware/callcenter/acd.py).
    """
    try:
        rows = conn.execute("""
            SELECT b.id, b.call_id, b.number, b.queue, b.state, coalesce(b.attempts, 0),
                   CASE WHEN coalesce(b.attempts, 0) > 0 THEN b.updated_at
                        WHEN c.queue = b.queue AND c.queued_at IS NOT NULL THEN c.queued_at
                        ELSE b.requested_at END,
                   b.updated_at, coalesce(c.priority, 0), u.agent_id
            FROM callbacks b LEFT JOIN calls c ON c.id = b.call_id
                             LEFT JOIN customers u ON u.id = c.customer_id
            WHERE b.state IN ('pending', 'retry', 'dialing')""").fetchall()
    except sqlite3.Error as exc:
        raise RecoveryError(f"callbacks left waiting: {exc}") from exc
    return sorted((PendingCallback(*r) for r in rows), key=lambda p: (p.queued_at, p.id))


def recover_campaigns(conn: sqlite3.Connection, now: float) -> list[dict]:
    """The campaigns running when the box stopped, to run again; their contacts put right first.

    A contact left `dialing` was an attempt cut off by the stop: it counts as one that failed
    (outcome `failed`) and follows the campaign's retry rules, as a callback being dialled does
    (firmware/callcenter/dialer.py). One left in `preview` was never dialled: it is pending again."""
    try:
        with write_transaction(conn):
            campaigns = [dict(zip([c[0] for c in cur.description], row)) for cur in
                         [conn.execute("SELECT * FROM campaigns WHERE state = 'running'")] for row in cur.fetchall()]
            conn.execute("UPDATE campaign_contacts SET state = 'pending', updated_at = ? WHERE state = 'preview'",
                         [now])
            left = conn.execute("""SELECT k.id, coalesce(k.attempts, 0), coalesce(c.max_attempts, 1), c.retry
                                   FROM campaign_contacts k JOIN campaigns c ON c.id = k.campaign_id
                                   WHERE k.state = 'dialing'""").fetchall()
            for contact_id, attempts, max_attempts, retry_text in left:
                retry = _retry_of(retry_text)
                again = FAILED in retry and attempts < max_attempts
                conn.execute("UPDATE campaign_contacts SET state = ?, outcome = ?, next_at = ?, updated_at = ?"
                             " WHERE id = ?", ["pending" if again else "failed", FAILED,
                                               now + retry[FAILED] if again else None, now, contact_id])
                log.info("campaign contact %s: the attempt a stop cut off counts as failed", contact_id)
    except sqlite3.Error as exc:
        raise RecoveryError(f"campaigns left running: {exc}") from exc
    return campaigns


def _retry_of(text: str | None) -> dict[str, float]:
    """campaigns.retry as the dialer reads it: its own table, or the dialer's default."""
    try:
        retry = json.loads(text or "null") or DEFAULT_RETRY
    except ValueError:
        retry = DEFAULT_RETRY
    return retry if isinstance(retry, dict) else DEFAULT_RETRY
