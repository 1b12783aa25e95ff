"""Entries of the audit log written outside a web request: the command line's backups, a restore applied at start.

The web process writes its own through webui/audit.py, with the user and address of the request."""
from __future__ import annotations

import json
import sqlite3
import uuid

from firmware.store import write_transaction


def append(conn: sqlite3.Connection, at: float, username: str, address: str, action: str, target: str,
           detail: dict) -> None:
    """One entry, in its own write transaction (the table is synced to HQ like the others)."""
    with write_transaction(conn):
        conn.execute("INSERT INTO audit_log (id, at, username, address, action, target, detail) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", [uuid.uuid4().hex, at, username, address, action, target,
                                                      json.dumps(detail, ensure_ascii=False, sort_keys=True)])
