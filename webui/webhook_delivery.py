"""Sends the webhook outbox (webui/outbox.py): signed POSTs, retried with exponential backoff and jitter, in
order per endpoint and key, at least once; and enqueues `call.ended` by following the engine's calls.

Where it runs: a thread of the web process (`branchline web`), never the engine, so no receiver, however
slow, touches the tick loop. Everything it knows is in SQLite: a delivery is marked sent only after the
receiver answered 2xx, so a stop or a crash between the two sends it again at the next start (at least
once); each event carries its `id` for the receiver to drop a repeat."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit


from .outbox import enqueue
from .shared_writer import SharedWriter

log = logging.getLogger(__name__)

# Backoff: 10 s after the first failure, doubling to at most an hour, each delay drawn from its upper half
# ("equal jitter", AWS Architecture Blog, "Exponential Backoff and Jitter", 2015) so that endpoints failing
# together do not retry together. A delivery still failing 3 days after its event is abandoned (shown
# on the page, and the later events of its key go on), the retry window of the common webhook senders.
BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 3600.0
GIVE_UP_AFTER_S = 3 * 86400.0
# A receiver must answer within this; a slow one holds this thread, not the box.
TIMEOUT_S = 10.0
BATCH = 50
POLL_S = 1.0
# Sent and abandoned deliveries, and their events, are kept this long for the page, then pruned.
KEEP_S = 30 * 86400.0
PRUNE_EVERY_S = 3600.0
CALLS_CURSOR_KEY = "webhooks.calls_seq"
MAX_ERROR = 300
SIGNATURE_HEADER = "Branchline-Signature"


class DeliveryError(Exception):
    """A receiver could not be reached or did not answer 2xx."""


@dataclass
class Reply:
    status: int
    text: str


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>` (the scheme of
    Stripe's webhooks: the receiver recomputes it and refuses an old timestamp, so a replay fails)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def http_post(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    """POST `body` to `url` without following redirects (a receiver that moved is an error to see)."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname or "", parts.port, timeout=TIMEOUT_S)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        return Reply(answer.status, answer.read(MAX_ERROR).decode("utf-8", "replace"))
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


def backoff(attempts: int, rand: Callable[[], float]) -> float:
    """Seconds before the next try after `attempts` failed ones."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempts - 1))
    return ceiling / 2 + rand() * ceiling / 2


_DUE = """
SELECT d.id, d.endpoint_id, d.attempts, e.event_id, e.event, e.payload, e.created_at, p.url, p.secret
FROM webhook_deliveries d
JOIN webhook_events e ON e.id = d.event_rowid
JOIN webhook_endpoints p ON p.id = d.endpoint_id
WHERE d.state = 'pending' AND d.next_at <= ? AND p.enabled
  -- only the oldest pending delivery of its endpoint and key: the later ones wait for it
  AND d.id = (SELECT min(d2.id) FROM webhook_deliveries d2
              WHERE d2.state = 'pending' AND d2.endpoint_id = d.endpoint_id AND d2.key = d.key)
ORDER BY d.id LIMIT ?"""


class Deliverer:
    """One pass at a time over the outbox; `run_once` and `follow_calls` are what the thread repeats."""

    def __init__(self, db_path: str | Path, clock: Callable[[], float] = time.time,
                 post: Callable[[str, bytes, dict[str, str]], Reply] = http_post,
                 rand: Callable[[], float] = random.random):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.clock, self.post, self.rand = clock, post, rand
        self._pruned = 0.0

    def follow_calls(self) -> int:
        """Enqueue `call.ended` for each call that ended since the last pass (by change sequence); returns
        how many. The first pass starts at the latest call: receivers get calls from now on, not history."""
        with self.writer.transaction():
            row = self.conn.execute("SELECT value FROM settings WHERE key = ?", [CALLS_CURSOR_KEY]).fetchone()
            if row is None:
                latest = self.conn.execute("SELECT coalesce(max(seq), 0) FROM calls").fetchone()[0]
                self.conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [CALLS_CURSOR_KEY, str(latest)])
                return 0
            cursor = int(row[0])
            cur = self.conn.execute(
                "SELECT id, seq, direction, number, name, customer_id, queue, agent_id, arrived_at, answered_at,"
                " connected_at, ended_at, disposition, hangup_by, wait, talk FROM calls"
                " WHERE seq > ? ORDER BY seq LIMIT 500", [cursor])
            names = [d[0] for d in cur.description]
            calls = [dict(zip(names, r)) for r in cur.fetchall()]
            if not calls:
                return 0
            now, count = self.clock(), 0
            for call in calls:
                if call["ended_at"] is not None:
                    seq = call.pop("seq")
                    recording = self.conn.execute("SELECT id FROM recordings WHERE call_id = ? ORDER BY created_at"
                                                  " LIMIT 1", [call["id"]]).fetchone()
                    call["recording_id"] = recording[0] if recording else None
                    count += enqueue(self.conn, "call.ended", f"call:{call['id']}", call, now) is not None
                    call["seq"] = seq
            self.conn.execute("UPDATE settings SET value = ? WHERE key = ?", [str(calls[-1]["seq"]), CALLS_CURSOR_KEY])
        return count

    def run_once(self) -> int:
        """Try every delivery now due that no earlier one of its key holds back, but none more of an endpoint
        that did not answer; returns how many were tried."""
        now = self.clock()
        with self.writer.lock:
            due = self.conn.execute(_DUE, [now, BATCH]).fetchall()
        # An endpoint that did not answer is not tried again in this pass: a dead host would otherwise hold
        # the thread TIMEOUT_S for each of its tickets while the other endpoints wait.
        unreachable: set[str] = set()
        tried = 0
        for delivery_id, endpoint_id, attempts, event_id, event, payload, created_at, url, secret in due:
            if endpoint_id in unreachable:
                continue
            tried += 1
            body = payload.encode()
            headers = {"Content-Type": "application/json", "User-Agent": "Branchline-Webhooks/1",
                       "Branchline-Event": event, "Branchline-Event-Id": event_id,
                       SIGNATURE_HEADER: sign(secret, int(self.clock()), body)}
            status, error = None, None
            try:
                reply = self.post(url, body, headers)
                status = reply.status
                if not 200 <= reply.status < 300:
                    error = reply.text[:MAX_ERROR]
            except DeliveryError as exc:
                error = str(exc)[:MAX_ERROR]
                unreachable.add(endpoint_id)
            self._settle(delivery_id, attempts + 1, created_at, status, error)
        if now - self._pruned >= PRUNE_EVERY_S:
            self.prune(now)
        return tried

    def _settle(self, delivery_id: int, attempts: int, created_at: float, status: int | None,
                error: str | None) -> None:
        now = self.clock()
        with self.writer.transaction():
            if error is None:
                self.conn.execute("UPDATE webhook_deliveries SET state = 'delivered', attempts = ?, last_at = ?,"
                                  " last_status = ?, last_error = NULL, delivered_at = ? WHERE id = ?",
                                  [attempts, now, status, now, delivery_id])
                return
            state = "abandoned" if now - created_at >= GIVE_UP_AFTER_S else "pending"
            self.conn.execute("UPDATE webhook_deliveries SET state = ?, attempts = ?, last_at = ?, last_status = ?,"
                              " last_error = ?, next_at = ? WHERE id = ?",
                              [state, attempts, now, status, error, now + backoff(attempts, self.rand), delivery_id])
        log.info("webhook delivery %d failed (attempt %d, %s): %s", delivery_id, attempts, state, error)

    def prune(self, now: float) -> None:
        """Forget deliveries settled more than KEEP_S ago and events with no delivery left that old."""
        with self.writer.transaction():
            self.conn.execute("DELETE FROM webhook_deliveries WHERE state != 'pending' AND last_at < ?",
                              [now - KEEP_S])
            self.conn.execute("DELETE FROM webhook_events WHERE created_at < ? AND NOT EXISTS"
                              " (SELECT 1 FROM webhook_deliveries d WHERE d.event_rowid = webhook_events.id)",
                              [now - KEEP_S])
        self._pruned = now

    def pass_once(self) -> bool:
        self.follow_calls()
        return self.run_once() >= BATCH

    def close(self) -> None:
        self.writer.close()


class Pass(Protocol):
    """What a delivery thread repeats: one pass over an outbox, True while more is due at once."""

    def pass_once(self) -> bool: ...

    def close(self) -> None: ...


class DeliveryThread:
    """A web process's delivery thread (webhooks here, mail in webui/mail_delivery.py): one pass, then a
    wait of POLL_S (none while more is due); a database error is logged and tried again at the next pass."""

    def __init__(self, deliverer: Pass, name: str = "webhooks"):
        self.deliverer = deliverer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> DeliveryThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.deliverer.pass_once()
            except sqlite3.Error as exc:
                log.warning("%s: %s; trying again", self._thread.name, exc)
            if not busy:
                self._stop.wait(POLL_S)

    def stop(self, timeout: float = TIMEOUT_S + 2) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.deliverer.close()


__all__ = ["Deliverer", "DeliveryError", "DeliveryThread", "Pass", "Reply", "backoff", "http_post", "sign"]
