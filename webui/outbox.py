"""Webhooks' durable side: the endpoints an admin configures and the outbox of events, written in the same
transaction as the change they tell of, one delivery row per endpoint (webui/webhook_delivery.py sends them).

Ordering: an event has a `key` (a ticket's `ticket:<id>`, a call's `call:<id>`); for each endpoint, the
deliveries of one key go out one at a time in the order they were enqueued, so a receiver never sees a
ticket's change before its creation, and one failing event holds back only the later events of its key."""
from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from .i18n import N_
from .i18n import gettext as _

# The events a receiver may subscribe to (docs/requirements.md R20), with what each is for.
EVENTS = {"ticket.created": N_("A ticket was created"),
          "ticket.changed": N_("A ticket changed: its state, fields or notes"),
          "call.ended": N_("A call ended")}
# Sent only to the endpoint an admin tests, whatever its subscription.
TEST_EVENT = "webhook.test"
MAX_URL = 2000          # what every browser and server takes in a URL (RFC 9110 §4.1 recommends 8000 at least)
MAX_DESCRIPTION = 200
MAX_KEY = 200
# A secret set by hand: at least 128 bits of it when written as hex or base64, at most a screenful.
MIN_SECRET, MAX_SECRET = 24, 256
# A payload is a summary of a change, like an audit entry, never a file.
MAX_PAYLOAD = 64 * 1024
MAX_ENDPOINTS = 20


class OutboxError(ValueError):
    """An endpoint or event is refused; `problems` maps each bad field to its reason."""

    def __init__(self, message: str, problems: dict[str, str] | None = None, status: int = 400):
        super().__init__(message)
        self.problems = problems or {}
        self.status = status


def enqueue(conn: sqlite3.Connection, event: str, key: str, payload: Mapping, now: float | None = None) -> str | None:
    """Put `event` about `key` (e.g. "ticket:<id>") in the outbox for every enabled endpoint subscribed to it.

    Call it inside the write transaction that makes the change (`firmware.store.write_transaction`), so
    the event exists if and only if the change does. Returns the event id receivers deduplicate by, or
    None for a `call.ended` already enqueued (a call ends once). `now` defaults to the wall clock."""
    if not conn.in_transaction:
        raise OutboxError(f"webhook event {event} for {key}: enqueue inside the transaction of the change")
    if event not in EVENTS and event != TEST_EVENT:
        raise OutboxError(f"webhook event {event!r} is not one of {', '.join(EVENTS)}")
    if not key or len(key) > MAX_KEY:
        raise OutboxError(f"webhook event {event}: key must be 1 to {MAX_KEY} characters")
    now = time.time() if now is None else now
    event_id = uuid.uuid4().hex
    body = json.dumps({"id": event_id, "event": event, "created_at": now, "data": dict(payload)},
                      ensure_ascii=False, sort_keys=True, default=str)
    if len(body) > MAX_PAYLOAD:
        raise OutboxError(f"webhook event {event} for {key}: payload over {MAX_PAYLOAD} bytes")
    cur = conn.execute("INSERT OR IGNORE INTO webhook_events (event_id, event, key, payload, created_at)"
                       " VALUES (?, ?, ?, ?, ?)", [event_id, event, key, body, now])
    if cur.rowcount == 0:
        return None
    endpoints = [row[0] for row in conn.execute("SELECT id, events FROM webhook_endpoints WHERE enabled")
                 if event in json.loads(row[1])]
    conn.executemany("INSERT INTO webhook_deliveries (event_rowid, endpoint_id, key, next_at) VALUES (?, ?, ?, ?)",
                     [(cur.lastrowid, endpoint, key, now) for endpoint in endpoints])
    return event_id


def enqueue_test(conn: sqlite3.Connection, endpoint_id: str, by: str, now: float) -> str:
    """A test event for one endpoint only, delivered like any other (it shows in its deliveries)."""
    event_id = uuid.uuid4().hex
    body = json.dumps({"id": event_id, "event": TEST_EVENT, "created_at": now, "data": {"requested_by": by}},
                      ensure_ascii=False, sort_keys=True)
    cur = conn.execute("INSERT INTO webhook_events (event_id, event, key, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                       [event_id, TEST_EVENT, f"test:{event_id}", body, now])
    conn.execute("INSERT INTO webhook_deliveries (event_rowid, endpoint_id, key, next_at) VALUES (?, ?, ?, ?)",
                 [cur.lastrowid, endpoint_id, f"test:{event_id}", now])
    return event_id


# --- endpoints -------------------------------------------------------------------------------------------
def new_secret() -> str:
    """256 random bits as hex: the key of an endpoint's HMAC-SHA256 signatures."""
    return secrets.token_hex(32)


def check_endpoint(data: Mapping, *, creating: bool) -> dict:
    """The endpoint fields of a form or JSON body, checked; OutboxError names each bad field."""
    problems: dict[str, str] = {}
    fields: dict = {}
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        problems["url"] = _("Required: the receiver's address, http:// or https://.")
    else:
        url = url.strip()
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - read for its check: a port out of range raises ValueError
        except ValueError:
            parts = None
        if len(url) > MAX_URL or not url.isprintable() or " " in url:
            problems["url"] = _("At most %(n)d characters, without spaces.") % {"n": MAX_URL}
        elif parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problems["url"] = _("An http:// or https:// address with a host name.")
        elif parts.username or parts.password:
            problems["url"] = _("No user name or password in the address: the signature proves the sender.")
        else:
            fields["url"] = url
    events = data.get("events")
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or not events or not all(isinstance(e, str) and e in EVENTS for e in events):
        problems["events"] = _("Choose one or more of: %(events)s.") % {"events": ", ".join(EVENTS)}
    else:
        fields["events"] = [e for e in EVENTS if e in events]
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION or not description.isprintable():
        problems["description"] = _("At most %(n)d printable characters.") % {"n": MAX_DESCRIPTION}
    else:
        fields["description"] = description.strip()
    enabled = data.get("enabled", True)
    if enabled in ("on", "1", "true"):
        enabled = True
    elif enabled in ("", "0", "false", "off"):
        enabled = False
    if not isinstance(enabled, bool):
        problems["enabled"] = _("true or false.")
    else:
        fields["enabled"] = enabled
    secret = data.get("secret")
    if secret not in (None, ""):
        if not isinstance(secret, str) or not MIN_SECRET <= len(secret) <= MAX_SECRET or not secret.isprintable() \
                or secret != secret.strip():
            problems["secret"] = _("%(min)d to %(max)d printable characters, no spaces at either end; leave it empty "
                                   "for the box to make one.") % {"min": MIN_SECRET, "max": MAX_SECRET}
        else:
            fields["secret"] = secret
    elif creating:
        fields["secret"] = new_secret()
    if problems:
        raise OutboxError(_("The endpoint was not saved: %(fields)s.") % {"fields": ", ".join(sorted(problems))},
                          problems)
    return fields


_ENDPOINT_COLUMNS = "id, url, events, description, enabled, created_at, updated_at, version"


def _endpoint(row: sqlite3.Row | tuple, names: list[str]) -> dict:
    found = dict(zip(names, row))
    found["events"] = json.loads(found["events"])
    found["enabled"] = bool(found["enabled"])
    return found


def list_endpoints(conn: sqlite3.Connection) -> list[dict]:
    """Every endpoint (without its secret) with its count of pending deliveries and its last outcome."""
    cur = conn.execute(f"SELECT {_ENDPOINT_COLUMNS}, (SELECT count(*) FROM webhook_deliveries d"
                       " WHERE d.endpoint_id = p.id AND d.state = 'pending') AS pending FROM webhook_endpoints p"
                       " ORDER BY created_at")
    names = [d[0] for d in cur.description]
    return [_endpoint(row, names) for row in cur]


def get_endpoint(conn: sqlite3.Connection, endpoint_id: str) -> dict | None:
    cur = conn.execute(f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?", [endpoint_id])
    row = cur.fetchone()
    return _endpoint(row, [d[0] for d in cur.description]) if row else None


def create_endpoint(conn: sqlite3.Connection, fields: dict, now: float) -> dict:
    """Inside a write transaction: the new endpoint, its secret included (shown this once)."""
    if conn.execute("SELECT count(*) FROM webhook_endpoints").fetchone()[0] >= MAX_ENDPOINTS:
        raise OutboxError(_("At most %(n)d endpoints: every event is sent to each of them.") % {"n": MAX_ENDPOINTS},
                          status=409)
    endpoint_id = uuid.uuid4().hex
    conn.execute("INSERT INTO webhook_endpoints (id, url, secret, events, description, enabled, created_at,"
                 " updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                 [endpoint_id, fields["url"], fields["secret"], json.dumps(fields["events"]),
                  fields["description"], int(fields["enabled"]), now, now])
    created = get_endpoint(conn, endpoint_id)
    assert created is not None
    return {**created, "secret": fields["secret"]}


def update_endpoint(conn: sqlite3.Connection, endpoint_id: str, fields: dict, version: int,
                    now: float) -> tuple[dict, dict]:
    """Inside a write transaction: the endpoint as saved and what changed (a new secret named, never
    shown); OutboxError 404 or 409 (changed since `version`)."""
    current = get_endpoint(conn, endpoint_id)
    if current is None:
        raise OutboxError(_("There is no webhook endpoint with id %(id)s.") % {"id": endpoint_id[:40]}, status=404)
    if current["version"] != version:
        raise OutboxError(_("Someone else saved this endpoint since you opened it (now version %(now)d, yours "
                            "%(yours)d): nothing was changed.") % {"now": current["version"], "yours": version},
                          status=409)
    changed = {f: [current[f], fields[f]] for f in ("url", "events", "description", "enabled")
               if current[f] != fields[f]}
    if "secret" in fields:
        changed["secret"] = ["…", "…"]
    conn.execute("UPDATE webhook_endpoints SET url = ?, events = ?, description = ?, enabled = ?,"
                 " secret = coalesce(?, secret), updated_at = ?, version = version + 1 WHERE id = ?",
                 [fields["url"], json.dumps(fields["events"]), fields["description"], int(fields["enabled"]),
                  fields.get("secret"), now, endpoint_id])
    saved = get_endpoint(conn, endpoint_id)
    assert saved is not None
    return saved, changed


def delete_endpoint(conn: sqlite3.Connection, endpoint_id: str) -> dict:
    """Inside a write transaction: the endpoint removed with its deliveries, sent or not."""
    current = get_endpoint(conn, endpoint_id)
    if current is None:
        raise OutboxError(_("There is no webhook endpoint with id %(id)s.") % {"id": endpoint_id[:40]}, status=404)
    conn.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", [endpoint_id])
    conn.execute("DELETE FROM webhook_endpoints WHERE id = ?", [endpoint_id])
    return current


def recent_deliveries(conn: sqlite3.Connection, endpoint_id: str | None = None, limit: int = 50) -> list[dict]:
    """The latest deliveries (of one endpoint if given), newest first, with their event and outcome."""
    where, args = ("WHERE d.endpoint_id = ?", [endpoint_id]) if endpoint_id else ("", [])
    cur = conn.execute(
        "SELECT d.id, d.endpoint_id, p.url, e.event_id, e.event, e.key, e.created_at, d.state, d.attempts,"
        " d.next_at, d.last_at, d.last_status, d.last_error, d.delivered_at FROM webhook_deliveries d"
        " JOIN webhook_events e ON e.id = d.event_rowid JOIN webhook_endpoints p ON p.id = d.endpoint_id"
        f" {where} ORDER BY d.id DESC LIMIT ?", [*args, limit])
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row)) for row in cur]


def retry_delivery(conn: sqlite3.Connection, endpoint_id: str, delivery_id: int, now: float) -> bool:
    """Inside a write transaction: an abandoned or waiting delivery made due now (an admin's "retry");
    False if there is no such delivery of this endpoint or it was delivered."""
    cur = conn.execute("UPDATE webhook_deliveries SET state = 'pending', next_at = ? WHERE id = ? AND endpoint_id = ?"
                       " AND state != 'delivered'", [now, delivery_id, endpoint_id])
    return cur.rowcount == 1
