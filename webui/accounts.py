"""The web process's own tables (users, settings), written through its own store connection."""
from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

from firmware.store import connect

ROLES = ("admin", "supervisor", "agent", "technician")
SESSION_SECRET_KEY = "webui.session_secret"


def format_roles(roles: tuple[str, ...] | list[str]) -> str:
    """The stored form of a set of roles: known names, space-separated, in ROLES order."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"roles must be some of {ROLES}, got {roles!r}")
    return " ".join(r for r in ROLES if r in roles)


def parse_roles(stored: str) -> tuple[str, ...]:
    """The roles of a stored value; a name this version does not know gives no access."""
    return tuple(r for r in ROLES if r in stored.split())


class AccountStore:
    """Users and the session secret; one connection shared by the server threads behind a lock."""

    def __init__(self, db_path: str | Path, clock=time.time):
        self.conn = connect(db_path)
        self.clock = clock
        self._lock = threading.Lock()
        self._has_users = False

    def session_secret(self) -> bytes:
        """The key that signs session cookies, created with `secrets` on the box's first start."""
        with self._lock:
            # INSERT OR IGNORE, then read back: two processes starting at once agree on one key.
            self.conn.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)",
                            [SESSION_SECRET_KEY, secrets.token_hex(32)])
            row = self.conn.execute("SELECT value FROM settings WHERE key = ?",
                                  [SESSION_SECRET_KEY]).fetchone()
        return bytes.fromhex(row[0])

    def has_users(self) -> bool:
        # Remembered once true: nothing in the web UI removes the last user, and a box that has
        # been set up must never offer its setup page again while it runs.
        if not self._has_users:
            with self._lock:
                self._has_users = self.conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
        return self._has_users

    def get(self, username: str) -> dict | None:
        """The enabled user with this name, or None."""
        with self._lock:
            row = self.conn.execute(
                "SELECT username, roles, password_hash, agent_id, locale, must_change_password FROM users"
                " WHERE username = ? AND NOT disabled", [username]).fetchone()
        if row is None:
            return None
        return {"username": row[0], "roles": parse_roles(row[1]), "password_hash": row[2], "agent_id": row[3],
                "locale": row[4], "must_change_password": bool(row[5])}

    def create(self, username: str, roles: tuple[str, ...], password_hash: str, *,
               only_if_first: bool = False) -> bool:
        """Add a user; with only_if_first, only while the table is empty (first-run setup)."""
        stored = format_roles(roles)
        with self._lock:
            conn = self.conn
            # IMMEDIATE takes the write lock before the emptiness check, so two setup forms
            # submitted at once cannot both create an admin.
            conn.execute("BEGIN IMMEDIATE")
            try:
                if only_if_first and conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                    conn.execute("ROLLBACK")
                    return False
                now = self.clock()
                conn.execute("INSERT INTO users (username, roles, password_hash, created_at, updated_at, disabled,"
                             " must_change_password) VALUES (?, ?, ?, ?, ?, 0, 0)",
                             [username, stored, password_hash, now, now])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._has_users = True
        return True

    def close(self) -> None:
        self.conn.close()
