"""The audit log: who changed users, roles or configuration, when, from where, and what (synced to HQ)."""
from __future__ import annotations

import functools
import inspect
import json
import time
import uuid
from pathlib import Path

from bottle import request


from .shared_writer import SharedWriter

# Bounds one entry: a detail is a summary of a change (fields and values), never a whole file.
MAX_DETAIL = 8192


class AuditLog:
    """Bottle plugin: appends to `audit_log` and hands itself to routes with an `audit` parameter."""

    name = "audit"
    api = 2

    def __init__(self, db_path: str | Path, clock=time.time):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.clock = clock

    def record(self, action: str, target: str = "", detail: dict | None = None) -> dict:
        """Log `action` (dotted, e.g. "user.create") on `target` by this request's user and address."""
        user = request.environ.get("branchline.user")
        text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
        if len(text) > MAX_DETAIL:
            text = json.dumps({"truncated": text[:MAX_DETAIL]}, ensure_ascii=False)
        row = {"id": uuid.uuid4().hex, "at": self.clock(), "username": user["username"] if user else None,
               # REMOTE_ADDR, never X-Forwarded-For: see Auth.client_address.
               "address": request.environ.get("REMOTE_ADDR") or "unknown", "action": action,
               "target": target, "detail": text}
        with self.writer.transaction():
            self.conn.execute("INSERT INTO audit_log (id, at, username, address, action, target, detail)"
                              " VALUES (:id, :at, :username, :address, :action, :target, :detail)", row)
        return row

    def apply(self, callback, route):
        if "audit" not in inspect.signature(route.callback).parameters:
            return callback

        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            kwargs["audit"] = self
            return callback(*args, **kwargs)
        return wrapper

    def close(self) -> None:
        self.writer.close()
