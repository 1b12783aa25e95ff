"""The web process's own tables (users, settings), written through its own store connection."""
from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path


from .i18n import gettext as _
from .shared_writer import SharedWriter

ROLES = ("admin", "supervisor", "agent", "technician")
SESSION_SECRET_KEY = "webui.session_secret"
# Each language of webui/i18n.py LANGUAGES named in itself, untranslated: a user finds their own.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# What an admin may change on a user besides the password (the columns of m0006_accounts and
# m0013_supervisor_link).
EDITABLE = ("display_name", "roles", "agent_id", "supervisor_id", "locale", "disabled")
_COLUMNS = ("username", "display_name", "roles", "agent_id", "supervisor_id", "locale", "disabled",
            "must_change_password", "created_at", "updated_at")
# Matches a stored roles value (space-separated names) that holds the admin role.
_IS_ADMIN_SQL = "(' ' || roles || ' ') LIKE '% admin %'"


class AccountError(ValueError):
    """A change to a user is refused; `field` names the form field the reason belongs next to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


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
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn, self._lock = self.writer.conn, self.writer.lock
        self.clock = clock
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
                "SELECT username, roles, password_hash, agent_id, locale, must_change_password, session_generation,"
                " supervisor_id FROM users WHERE username = ? AND NOT disabled", [username]).fetchone()
        if row is None:
            return None
        return {"username": row[0], "roles": parse_roles(row[1]), "password_hash": row[2], "agent_id": row[3],
                "locale": row[4], "must_change_password": bool(row[5]), "session_generation": row[6],
                "supervisor_id": row[7]}

    def create(self, username: str, roles: tuple[str, ...], password_hash: str, *,
               only_if_first: bool = False, display_name: str | None = None, agent_id: str | None = None,
               supervisor_id: str | None = None, locale: str | None = None,
               must_change_password: bool = False) -> bool:
        """Add a user; with only_if_first, only while the table is empty (first-run setup).

        Raises AccountError if the username is taken or the agent or supervisor id is another user's."""
        stored = format_roles(roles)
        # IMMEDIATE takes the write lock before the emptiness check, so two setup forms
        # submitted at once cannot both create an admin.
        with self.writer.transaction() as conn:
            if only_if_first and conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                return False
            if conn.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                raise AccountError("username", _("There is already a user named %(user)s.") % {"user": username})
            self._check_links(conn, username, agent_id, supervisor_id)
            now = self.clock()
            conn.execute("INSERT INTO users (username, display_name, roles, password_hash, agent_id,"
                         " supervisor_id, locale, created_at, updated_at, disabled, must_change_password)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                         [username, display_name, stored, password_hash, agent_id, supervisor_id, locale, now,
                          now, int(must_change_password)])
        self._has_users = True
        return True

    def list_users(self) -> list[dict]:
        """Every user, disabled ones too, by username; never a password hash."""
        with self._lock:
            rows = self.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM users ORDER BY username").fetchall()
        return [_user(row) for row in rows]

    def find(self, username: str) -> dict | None:
        """The user with this name, enabled or not, without the password hash; None if there is none."""
        with self._lock:
            row = self.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM users WHERE username = ?",
                                    [username]).fetchone()
        return None if row is None else _user(row)

    def active_admins(self) -> list[str]:
        """The usernames of the enabled users who hold the admin role."""
        with self._lock:
            rows = self.conn.execute(f"SELECT username FROM users WHERE NOT disabled AND {_IS_ADMIN_SQL}"
                                     " ORDER BY username").fetchall()
        return [row[0] for row in rows]

    def update(self, username: str, changes: dict) -> dict:
        """Apply `changes` (keys from EDITABLE) to a user; return the changed fields as {field: [old, new]}.

        Raises AccountError when the user does not exist or the result breaks a rule of _check_links
        or _check_admins; nothing is written then."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        with self.writer.transaction() as conn:
            row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM users WHERE username = ?", [username]).fetchone()
            if row is None:
                raise AccountError("username", _("There is no user named %(user)s.") % {"user": username})
            old = _user(row)
            new = {**old, **changes}
            new["roles"] = parse_roles(format_roles(new["roles"]))
            diff = {key: [old[key], new[key]] for key in EDITABLE if old[key] != new[key]}
            if not diff:
                return {}
            self._check_links(conn, username, new["agent_id"], new["supervisor_id"])
            self._check_admins(conn, old, new)
            # Disabling ends the user's sessions for good: they stay void if the account is enabled again.
            ended = int(new["disabled"] and not old["disabled"])
            conn.execute("UPDATE users SET display_name = ?, roles = ?, agent_id = ?, supervisor_id = ?, locale = ?,"
                         " disabled = ?, session_generation = session_generation + ?, updated_at = ?"
                         " WHERE username = ?",
                         [new["display_name"], format_roles(new["roles"]), new["agent_id"], new["supervisor_id"],
                          new["locale"], int(new["disabled"]), ended, self.clock(), username])
        return {key: [list(a) if isinstance(a, tuple) else a, list(b) if isinstance(b, tuple) else b]
                for key, (a, b) in diff.items()}

    def set_password(self, username: str, password_hash: str, *, must_change: bool) -> None:
        """Store a new password; must_change makes the user choose their own at the next request."""
        with self.writer.transaction() as conn:
            cursor = conn.execute("UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ?"
                                  " WHERE username = ?", [password_hash, int(must_change), self.clock(), username])
            if cursor.rowcount != 1:
                raise AccountError("username", _("There is no user named %(user)s.") % {"user": username})

    @staticmethod
    def _check_links(conn: sqlite3.Connection, username: str, agent_id: str | None,
                     supervisor_id: str | None) -> None:
        # One agent id is one person's: the engine logs state changes and calls by agent id, and the
        # audit must name who acted as that agent. A supervisor id likewise: its station is one
        # person's phone, and a forced state change is logged with the supervisor id.
        if agent_id:
            holder = conn.execute("SELECT username FROM users WHERE agent_id = ? AND username != ?",
                                  [agent_id, username]).fetchone()
            if holder:
                raise AccountError("agent_id", _("Agent %(agent)s is already linked to user %(user)s.")
                                   % {"agent": agent_id, "user": holder[0]})
        if supervisor_id:
            holder = conn.execute("SELECT username FROM users WHERE supervisor_id = ? AND username != ?",
                                  [supervisor_id, username]).fetchone()
            if holder:
                raise AccountError("supervisor_id", _("Supervisor %(supervisor)s is already linked to user %(user)s.")
                                   % {"supervisor": supervisor_id, "user": holder[0]})

    @staticmethod
    def _check_admins(conn: sqlite3.Connection, old: dict, new: dict) -> None:
        # Without an active admin nobody could manage users again from the browser (the setup page
        # is offered only to an empty box).
        was_admin = "admin" in old["roles"] and not old["disabled"]
        is_admin = "admin" in new["roles"] and not new["disabled"]
        if not was_admin or is_admin:
            return
        others = conn.execute(f"SELECT COUNT(*) FROM users WHERE username != ? AND NOT disabled AND {_IS_ADMIN_SQL}",
                              [old["username"]]).fetchone()[0]
        if others == 0:
            if new["disabled"]:
                raise AccountError("disabled", _("%(user)s is the only active administrator: make another user an "
                                                 "administrator before disabling this account.")
                                   % {"user": old["username"]})
            raise AccountError("roles", _("%(user)s is the only active administrator: make another user an "
                                          "administrator before taking the admin role away.")
                               % {"user": old["username"]})

    def close(self) -> None:
        self.writer.close()


def _user(row: tuple) -> dict:
    user = dict(zip(_COLUMNS, row))
    user["roles"] = parse_roles(user["roles"])
    user["disabled"], user["must_change_password"] = bool(user["disabled"]), bool(user["must_change_password"])
    return user
