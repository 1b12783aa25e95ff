"""Numbered schema migrations: the only place the database schema is defined."""
from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

# sqlite_utils records applied migrations in this table under this set's name.
MIGRATION_SET = "branchline"
MIGRATIONS_TABLE = "_sqlite_migrations"

# Tables HQ pulls: each row carries a stable text id and a change sequence `seq`, stamped by
# triggers from one counter so every write transaction (from any process) gets increasing numbers.
SYNCED_TABLES = ("calls", "call_events", "agents", "agent_states", "queues", "recordings", "customers",
                 "lookup_items", "voicemails", "callbacks", "survey_answers", "audit_log", "customer_numbers")


def _add_change_sequence(db: Database, table: str) -> None:
    db.execute(f"CREATE INDEX idx_{table}_seq ON {table}(seq)")
    db.execute(f"""
        CREATE TRIGGER {table}_seq_insert AFTER INSERT ON {table} BEGIN
            UPDATE change_counter SET value = value + 1;
            UPDATE {table} SET seq = (SELECT value FROM change_counter) WHERE rowid = NEW.rowid;
        END""")
    # Stamping seq is itself an update: the WHEN clause keeps it from stamping again.
    db.execute(f"""
        CREATE TRIGGER {table}_seq_update AFTER UPDATE ON {table} WHEN NEW.seq IS OLD.seq BEGIN
            UPDATE change_counter SET value = value + 1;
            UPDATE {table} SET seq = (SELECT value FROM change_counter) WHERE rowid = NEW.rowid;
        END""")
    db.execute(f"""
        CREATE TRIGGER {table}_seq_delete AFTER DELETE ON {table} BEGIN
            UPDATE change_counter SET value = value + 1;
            INSERT INTO tombstones (table_name, row_id, seq)
                VALUES ('{table}', OLD.id, (SELECT value FROM change_counter));
        END""")


def m0001_core(db: Database) -> None:
    db.table("change_counter").create({"id": int, "value": int}, pk="id")
    db.table("change_counter").insert({"id": 1, "value": 0})
    db.table("tombstones").create({"table_name": str, "row_id": str, "seq": int}, pk="seq")
    db.table("settings").create({"key": str, "value": str}, pk="key")
    db.table("users").create({"username": str, "role": str, "password_hash": str, "created_at": float,
                        "disabled": int}, pk="username", not_null={"role", "password_hash"})
    db.table("calls").create({
        "id": str, "seq": int,
        "direction": str,        # inbound | outbound
        "channel": str,          # channel name the call arrived on
        "number": str, "name": str,   # caller ID
        "arrived_at": float,     # first ring
        "answered_at": float,    # box answered the line
        "queue": str, "queued_at": float,
        "agent_id": str, "connected_at": float,
        "ended_at": float,
        "digits": str,           # every digit the box detected, in order
        "path": str,             # JSON list of IVR nodes visited
        "disposition": str,      # a firmware.callcenter.calls.Disposition value
        "hangup_by": str,        # caller | agent | box
        "wait": float, "talk": float,
    }, pk="id")
    db.table("calls").create_index(["arrived_at"])
    db.table("call_events").create({"id": str, "seq": int, "call_id": str, "at": float, "kind": str,
                              "data": str}, pk="id", foreign_keys=[("call_id", "calls", "id")])
    db.table("call_events").create_index(["call_id"])
    db.table("agents").create({"id": str, "seq": int, "name": str, "station": str, "queues": str,
                         "updated_at": float}, pk="id")
    db.table("agent_states").create({"id": str, "seq": int, "agent_id": str, "state": str, "reason": str,
                               "at": float}, pk="id")
    db.table("agent_states").create_index(["agent_id", "at"])
    db.table("queues").create({"id": str, "seq": int, "strategy": str, "updated_at": float}, pk="id")
    db.table("recordings").create({"id": str, "seq": int, "call_id": str, "path": str, "duration": float,
                             "size": int, "sha256": str, "created_at": float}, pk="id")
    db.table("recordings").create_index(["call_id"])
    # A migration never changes once released: its own list, not SYNCED_TABLES, which grows.
    for table in ("calls", "call_events", "agents", "agent_states", "queues", "recordings"):
        _add_change_sequence(db, table)


def m0002_customers(db: Database) -> None:
    db.table("customers").create({
        "id": str, "seq": int,
        "number": str,           # caller ID as the line delivers it
        "name": str,
        "vip": int,              # 0: ordinary; higher levels are served first
        "agent_id": str,         # dedicated agent, tried first
        "blocked": int,          # 1: the flow's caller node routes the call away
        "notes": str, "updated_at": float,
    }, pk="id", not_null={"number"}, defaults={"vip": 0, "blocked": 0})
    db.table("customers").create_index(["number"], unique=True)
    _add_change_sequence(db, "customers")
    db.table("calls").add_column("customer_id", str)
    db.table("calls").add_column("priority", int)
    db.table("agents").add_column("skills", str)       # JSON {skill: level}
    db.table("queues").add_column("skill", str)
    db.table("queues").add_column("min_level", int)


def m0003_call_handling(db: Database) -> None:
    db.table("calls").add_column("wrapup_code", str)     # the agent's disposition code
    db.table("calls").add_column("hold", float)          # s the caller spent on hold
    db.table("calls").add_column("transfers", int)
    db.table("calls").add_column("intercepted_by", str)  # supervisor who took the call over


def m0004_self_service(db: Database) -> None:
    db.table("lookup_items").create({"id": str, "seq": int, "table_name": str, "key": str, "data": str,
                               "updated_at": float}, pk="id", not_null={"table_name", "key"})
    db.table("lookup_items").create_index(["table_name", "key"], unique=True)
    db.table("voicemails").create({"id": str, "seq": int, "call_id": str, "number": str, "box": str, "path": str,
                             "duration": float, "size": int, "sha256": str, "created_at": float,
                             "heard": int}, pk="id", defaults={"heard": 0})
    db.table("callbacks").create({"id": str, "seq": int, "call_id": str, "number": str, "queue": str,
                            "requested_at": float, "attempts": int, "state": str, "result": str,
                            "agent_id": str, "callback_call_id": str, "updated_at": float}, pk="id")
    db.table("survey_answers").create({"id": str, "seq": int, "call_id": str, "survey": str, "question": str,
                                 "answer": str, "at": float}, pk="id")
    for table in ("lookup_items", "voicemails", "callbacks", "survey_answers"):
        _add_change_sequence(db, table)


def m0005_hq_sync(db: Database) -> None:
    # Only a SHA-256 of each token is kept: the token is 256 random bits, shown once at creation.
    db.table("hq_tokens").create({"id": str, "name": str, "token_hash": str, "created_at": float,
                            "created_by": str, "revoked_at": float}, pk="id",
                           not_null={"name", "token_hash", "created_at"})
    db.table("hq_tokens").create_index(["token_hash"], unique=True)
    # The change sequence HQ says it has stored, per token: retention deletes nothing above it.
    db.table("hq_acks").create({"token_id": str, "seq": int, "acked_at": float, "address": str}, pk="token_id",
                         not_null={"seq", "acked_at"}, foreign_keys=[("token_id", "hq_tokens", "id")])
    # Why a row went: NULL for an ordinary deletion, "retention" when the box purged a file HQ holds.
    db.table("tombstones").add_column("reason", str)


def m0006_accounts(db: Database) -> None:
    # One user may hold several roles (space-separated, from webui/accounts.py ROLES), be linked to
    # the agent id they answer calls as, choose their language, and be made to change a password
    # an admin has reset.
    users = db.table("users")
    for column, kind in (("roles", str), ("display_name", str), ("agent_id", str), ("locale", str),
                         ("must_change_password", int), ("updated_at", float)):
        users.add_column(column, kind)
    db.execute("UPDATE users SET roles = role, must_change_password = 0, updated_at = created_at")
    users.transform(drop={"role"}, not_null={"roles", "password_hash"})
    # Who changed users, roles or configuration, when, from where: kept on the box and pulled by HQ.
    db.table("audit_log").create({"id": str, "seq": int, "at": float, "username": str, "address": str,
                                  "action": str, "target": str, "detail": str}, pk="id",
                                 not_null={"at", "action"})
    db.table("audit_log").create_index(["at"])
    _add_change_sequence(db, "audit_log")


def m0007_users_more(db: Database) -> None:
    # Counts the times a user's sessions were ended without a password change (disabling the
    # account); the session cookie is bound to it, so a user enabled again starts from a new sign-in.
    db.table("users").add_column("session_generation", int, not_null_default=0)


def m0010_customer_cards(db: Database) -> None:
    # A customer is a card with several numbers (E.164, firmware/store/phones.py), each number on one
    # card only; `customers.number` stays the card's first number for the readers that know one.
    db.table("customer_numbers").create({"id": str, "seq": int, "customer_id": str, "number": str,
                                         "label": str, "created_at": float}, pk="id",
                                        not_null={"customer_id", "number"})
    db.table("customer_numbers").create_index(["number"], unique=True)
    db.table("customer_numbers").create_index(["customer_id"])
    _add_change_sequence(db, "customer_numbers")
    # A merged card keeps its row as a redirect to the card that absorbed it (HQ and old links
    # follow it), so its first number may repeat a live card's: no longer unique.
    db.execute("DROP INDEX idx_customers_number")
    db.table("customers").create_index(["number"])
    for column, kind in (("address", str), ("company", str), ("merged_into", str), ("created_at", float)):
        db.table("customers").add_column(column, kind)
    # Optimistic concurrency: a write names the version it read, and a stale one is refused.
    db.table("customers").add_column("version", int, not_null_default=1)
    db.execute("UPDATE customers SET created_at = updated_at")
    db.execute("INSERT INTO customer_numbers (id, customer_id, number, created_at)"
               " SELECT 'n-' || id, id, number, updated_at FROM customers")
    db.table("customers").create_index(["name"])
    # The customer page lists a card's calls newest first (docs/architecture.md §6 figures).
    db.table("calls").create_index(["customer_id", "arrived_at"])
    db.table("survey_answers").create_index(["call_id"])


MIGRATIONS = (m0001_core, m0002_customers, m0003_call_handling, m0004_self_service, m0005_hq_sync,
              m0006_accounts, m0007_users_more, m0010_customer_cards)


def pending(conn: sqlite3.Connection) -> list[str]:
    """The migrations this database has not had yet, read with the standard library alone."""
    known = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                         [MIGRATIONS_TABLE]).fetchone()
    applied = set() if known is None else {row[0] for row in conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [MIGRATION_SET])}
    return [m.__name__ for m in MIGRATIONS if m.__name__ not in applied]


def apply(conn: sqlite3.Connection) -> None:
    """Apply the pending migrations, each in its own transaction with the record of it."""
    if not pending(conn):
        return
    # Imported only when a migration is due: sqlite_utils loads numpy whenever it is installed, and
    # the web process, which opens a database the engine has already migrated, must not carry it.
    from sqlite_utils import Database, Migrations

    migrations = Migrations(MIGRATION_SET)
    for m in MIGRATIONS:
        migrations()(m)
    migrations.apply(Database(conn, recursive_triggers=False))
