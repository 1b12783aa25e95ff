"""The mail outbox: `queue_mail` puts a message (with its attachments) in the database, where the web
process's mail thread (webui/mail_delivery.py) finds it and sends it, after a restart too.

Sent once: a message is built with its Message-ID when queued and keeps it for every try; the states and
why a message whose fate is unknown waits for a person are in webui/mail_delivery.py."""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import make_msgid
from pathlib import Path

from firmware.config.messaging import MAX_RECIPIENTS, check_address
from firmware.store import write_transaction

from typed_toml import ConfigError, Section

from .media_types import media_type

# RFC 5322 §2.1.1: a header line is at most 998 characters; a subject is one line.
MAX_SUBJECT = 998
MAX_BODY = 1024 * 1024
# Many providers refuse a message over 10 MB whole (base64 adds a third): the attachments stay under it.
MAX_ATTACHMENTS = 7 * 1024 * 1024


class MailError(ValueError):
    """A message cannot be queued: a bad address, too large, or an attachment that cannot be read."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"

    @classmethod
    def from_file(cls, path: Path, filename: str | None = None) -> Attachment:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise MailError(f"attachment {path}: {exc.strerror or exc}") from None
        kind = media_type(path.name)
        return cls(filename or path.name, data, kind)


def _recipients(to: str | Iterable[str]) -> list[str]:
    addresses = [to] if isinstance(to, str) else list(to)
    if not addresses or len(addresses) > MAX_RECIPIENTS:
        raise MailError(f"1 to {MAX_RECIPIENTS} recipients, got {len(addresses)}")
    check = Section({}, "mail")
    try:
        return [check_address(check, "to", a) for a in addresses]
    except ConfigError as exc:
        raise MailError(exc.reason) from None


def queue_mail(conn: sqlite3.Connection, to: str | Iterable[str], subject: str, body: str,
               attachments: Iterable[Attachment | Path] = (), *, key: str | None = None,
               now: float | None = None) -> str | None:
    """Queue a plain-text message to `to` (an address or a list) with `attachments` (Attachment, or a
    Path read now); returns its Message-ID, or None when a message with the same `key` (what it is about,
    e.g. "voicemail:<id>") was queued before. `conn` is a writable connection (firmware.store.connect):
    inside a write transaction the message is queued with the change it tells of, else in its own."""
    recipients = _recipients(to)
    if not subject or len(subject) > MAX_SUBJECT or any(c in subject for c in "\r\n"):
        raise MailError(f"a subject of 1 to {MAX_SUBJECT} characters on one line")
    if len(body) > MAX_BODY:
        raise MailError(f"a body of at most {MAX_BODY} characters")
    files = [a if isinstance(a, Attachment) else Attachment.from_file(a) for a in attachments]
    if sum(len(f.data) for f in files) > MAX_ATTACHMENTS:
        raise MailError(f"attachments over {MAX_ATTACHMENTS // (1024 * 1024)} MiB together")
    now = time.time() if now is None else now
    # Unique by time, process and random digits (RFC 5322 §3.6.4); the box has no domain of its own, and
    # .invalid is reserved for a name that is not one (RFC 6761 §6.4).
    message_id = make_msgid(domain="branchline.invalid")
    if conn.in_transaction:
        return _insert(conn, message_id, key, recipients, subject, body, files, now)
    with write_transaction(conn):
        return _insert(conn, message_id, key, recipients, subject, body, files, now)


def _insert(conn: sqlite3.Connection, message_id: str, key: str | None, recipients: list[str], subject: str,
            body: str, files: list[Attachment], now: float) -> str | None:
    cur = conn.execute("INSERT OR IGNORE INTO mail_outbox (message_id, key, recipients, subject, body, created_at,"
                       " next_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [message_id, key, json.dumps(recipients), subject, body, now, now])
    if cur.rowcount == 0:
        return None
    conn.executemany("INSERT INTO mail_attachments (mail_id, filename, content_type, data) VALUES (?, ?, ?, ?)",
                     [(cur.lastrowid, f.filename, f.content_type, f.data) for f in files])
    return message_id


def recent(conn: sqlite3.Connection, limit: int = 50) -> list[dict]:
    """The latest messages, newest first, without their bodies."""
    cur = conn.execute("SELECT id, message_id, key, recipients, subject, state, attempts, created_at, next_at,"
                       " last_at, last_error, sent_at, (SELECT count(*) FROM mail_attachments a WHERE a.mail_id ="
                       " m.id) AS attachments FROM mail_outbox m ORDER BY id DESC LIMIT ?", [limit])
    names = [c[0] for c in cur.description]
    rows = [dict(zip(names, row)) for row in cur]
    for row in rows:
        row["recipients"] = json.loads(row["recipients"])
    return rows


def send_again(conn: sqlite3.Connection, mail_id: int, now: float) -> bool:
    """Inside a write transaction: a message that failed, or whose fate is unknown, made due now (a
    person's decision, after checking the recipient did not get it); False if there is no such message."""
    cur = conn.execute("UPDATE mail_outbox SET state = 'pending', next_at = ? WHERE id = ?"
                       " AND state IN ('failed', 'unknown')", [now, mail_id])
    return cur.rowcount == 1


__all__ = ["Attachment", "MailError", "queue_mail", "recent", "send_again"]
