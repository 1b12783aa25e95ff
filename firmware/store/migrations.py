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
                 "lookup_items", "voicemails", "callbacks", "survey_answers", "audit_log", "customer_numbers",
                 "tickets", "ticket_events", "kb_articles", "sms_messages", "evaluations", "campaigns",
                 "campaign_contacts", "dnc_numbers", "campaign_rules")


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


def m0011_tickets(db: Database) -> None:
    # Work orders (docs/requirements.md R13, R14), written by the web process (webui/ticket_store.py).
    # Ids are uuid4 hex like every record's, so HQ keys them by box and id without clashes.
    db.table("tickets").create({
        "id": str, "seq": int,
        "customer_id": str,      # the customer card, when the caller is known
        "number": str,           # the caller's number as given (caller ID or typed)
        "number_key": str,       # its digits alone: repeat complaints compare these
        "call_id": str,          # the call the ticket was created from
        "category": str, "priority": str, "department": str,
        "title": str, "description": str, "address": str,
        "state": str,            # webui/ticket_config.py STATES
        "created_by": str,       # username
        "agent_id": str,         # the agent who owns the satisfaction callback
        "created_at": float, "updated_at": float, "due_at": float, "resolved_at": float, "closed_at": float,
        "version": int,          # optimistic concurrency: every change adds one
        "repeat_of": str,        # the latest earlier ticket this one repeats
        "first_contact_resolution": int,  # 1 resolved during its call, 0 followed up, NULL neither
        "satisfaction": int,     # the customer's score at the callback, 1-5
    }, pk="id", not_null={"category", "priority", "state", "created_at", "updated_at", "version"},
        defaults={"version": 1})
    for columns in (["state", "due_at"], ["created_at"], ["department", "due_at"], ["agent_id", "state"],
                    ["customer_id", "category", "created_at"], ["number_key", "category", "created_at"],
                    ["category", "created_at"], ["call_id"], ["repeat_of"], ["updated_at"]):
        db.table("tickets").create_index(columns)
    # The ticket's history: every transition, edit and internal note, with who, when, from and to.
    db.table("ticket_events").create({
        "id": str, "seq": int, "ticket_id": str, "at": float, "username": str,
        "kind": str,             # created | transition | edit | note | satisfaction | repeat
        "action": str, "from_state": str, "to_state": str, "note": str, "data": str,
    }, pk="id", not_null={"ticket_id", "at", "kind"})
    db.table("ticket_events").create_index(["ticket_id", "at"])
    for table in ("tickets", "ticket_events"):
        _add_change_sequence(db, table)
    # The department a user works in (webui/ticket_config.py departments): its members take its work.
    db.table("users").add_column("department", str)


def m0012_kb_webhooks(db: Database) -> None:
    # The knowledge base (webui/kb_store.py): one row per article, its text kept as written (Markdown).
    db.table("kb_articles").create({"id": str, "seq": int, "title": str, "body": str, "tags": str,
                                    "category": str, "author": str, "created_at": float, "updated_at": float,
                                    "version": int}, pk="id",
                                   not_null={"title", "body", "created_at", "updated_at", "version"},
                                   defaults={"tags": "", "category": "", "version": 1})
    db.table("kb_articles").create_index(["category"])
    db.table("kb_articles").create_index(["updated_at"])
    _add_change_sequence(db, "kb_articles")
    # Its search index, keyed by the article's rowid: the text is the article's with each CJK character
    # made a token of its own (webui/kb_search.py says why); derived, so HQ does not pull it.
    db.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tags, "
               "tokenize = 'porter unicode61 remove_diacritics 2')")
    # Webhooks (webui/outbox.py): endpoints hold a secret, so they stay on the box.
    db.table("webhook_endpoints").create({"id": str, "url": str, "secret": str, "events": str,
                                          "description": str, "enabled": int, "created_at": float,
                                          "updated_at": float, "version": int}, pk="id",
                                         not_null={"url", "secret", "events", "created_at", "updated_at"},
                                         defaults={"enabled": 1, "description": "", "version": 1})
    # The outbox: an event is written in the same transaction as the change it tells of; the
    # autoincrement id is the order of events, kept per key (a ticket) for every endpoint.
    db.execute("""CREATE TABLE webhook_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, event TEXT NOT NULL,
        key TEXT NOT NULL, payload TEXT NOT NULL, created_at REAL NOT NULL)""")
    # A call ends once: its event is enqueued once however often its row changes afterwards.
    db.execute("CREATE UNIQUE INDEX idx_webhook_events_call_ended ON webhook_events(key)"
               " WHERE event = 'call.ended'")
    db.execute("""CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_rowid INTEGER NOT NULL REFERENCES webhook_events(id),
        endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
        key TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',   -- pending | delivered | abandoned
        attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, last_at REAL, last_status INTEGER,
        last_error TEXT, delivered_at REAL)""")
    db.execute("CREATE INDEX idx_webhook_deliveries_pending ON webhook_deliveries(state, endpoint_id, key, id)")
    db.execute("CREATE INDEX idx_webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id)")


def m0013_supervisor_link(db: Database) -> None:
    # The supervisor id of the site settings a user listens in and steers agents as (webui/wallboard.py),
    # beside the agent id they answer calls as; one user per supervisor id (webui/accounts.py).
    db.table("users").add_column("supervisor_id", str)


# A state's time split over the local days it covers: `o` is the agent's open span (agent_state_open),
# closed at `{end}`; report_numbers counts the days after its first. date(..., 'localtime') and
# strftime('%s', <local day>, 'utc') are SQLite's local calendar (the box's time zone), so a day of a
# change to or from summer time has its 23 or 25 hours.
_SPAN_DAYS = """
    SELECT o.agent_id, date(o.at, 'unixepoch', 'localtime', '+' || n.n || ' days'), o.state, o.reason,
           min({end}, CAST(strftime('%s', date(o.at, 'unixepoch', 'localtime', '+' || (n.n + 1) || ' days'), 'utc')
                          AS REAL))
           - max(o.at, CAST(strftime('%s', date(o.at, 'unixepoch', 'localtime', '+' || n.n || ' days'), 'utc')
                            AS REAL))
    FROM {spans} o JOIN report_numbers n
      ON n.n <= julianday(date({end}, 'unixepoch', 'localtime')) - julianday(date(o.at, 'unixepoch', 'localtime'))
    WHERE {end} > o.at"""


def m0014_report_indexes(db: Database) -> None:
    # Reports (webui/reports/, docs/architecture.md §17) read a range's timeouts and overflows by kind and time.
    db.execute("CREATE INDEX idx_call_events_kind_at ON call_events(kind, at)")
    # Each agent's time in each state and reason, per local day, kept by a trigger on agent_states: the
    # agents' report sums a month's few thousand rows instead of ordering its 100,000 state changes. A state
    # lasts until the agent's next change, in the order written (a restarted clock may repeat times; a
    # change stamped before the one it follows closes it with no time). The trigger writes in the state
    # change's own transaction, so a crash leaves the rows and their sums together: nothing to repair.
    # Derived data: not synced (HQ has agent_states).
    db.execute("CREATE TABLE report_numbers (n INTEGER PRIMARY KEY)")
    # Ten years of days: the longest span one state can be split over (a longer one keeps its first ten years).
    db.execute("WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 3652)"
               " INSERT INTO report_numbers (n) SELECT n FROM k")
    db.execute("""CREATE TABLE agent_state_open (
        agent_id TEXT PRIMARY KEY, state TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL)""")
    db.execute("""CREATE TABLE agent_state_days (
        day TEXT NOT NULL, agent_id TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL, seconds REAL NOT NULL,
        PRIMARY KEY (day, agent_id, state, reason)) WITHOUT ROWID""")
    # The states written before this migration, in the same way (LEAD: each change's next, by seq).
    db.execute("INSERT INTO agent_state_days (agent_id, day, state, reason, seconds) SELECT * FROM ("
               + _SPAN_DAYS.format(end="o.next_at", spans="""(SELECT agent_id, state, coalesce(reason, '') AS reason,
                   at, LEAD(at) OVER (PARTITION BY agent_id ORDER BY seq) AS next_at FROM agent_states
                   WHERE state IS NOT NULL AND at IS NOT NULL)""")
               + ") WHERE true ON CONFLICT (day, agent_id, state, reason)"
                 " DO UPDATE SET seconds = seconds + excluded.seconds")
    db.execute("""INSERT INTO agent_state_open (agent_id, state, reason, at)
        SELECT s.agent_id, s.state, coalesce(s.reason, ''), s.at FROM agent_states s
        JOIN (SELECT agent_id, max(seq) AS seq FROM agent_states WHERE state IS NOT NULL AND at IS NOT NULL
              GROUP BY agent_id) last
          ON last.agent_id = s.agent_id AND last.seq = s.seq""")
    # A row without a state or a time (never the engine's) changes nothing.
    db.execute(f"""CREATE TRIGGER agent_states_days AFTER INSERT ON agent_states
        WHEN NEW.state IS NOT NULL AND NEW.at IS NOT NULL BEGIN
        INSERT INTO agent_state_days (agent_id, day, state, reason, seconds)
            {_SPAN_DAYS.format(end="NEW.at", spans="agent_state_open")} AND o.agent_id = NEW.agent_id
            ON CONFLICT (day, agent_id, state, reason) DO UPDATE SET seconds = seconds + excluded.seconds;
        INSERT OR REPLACE INTO agent_state_open (agent_id, state, reason, at)
            VALUES (NEW.agent_id, NEW.state, coalesce(NEW.reason, ''), NEW.at);
        END""")


def m0015_report_schedules(db: Database) -> None:
    # The daily and monthly reports the web process writes into <state>/reports/ (webui/report_schedule.py):
    # one row per schedule, holding what an admin chose and the last period written, so a restart
    # catches up on what it missed and never writes a period twice. Files and settings stay on the box:
    # HQ pulls the records the reports are made from.
    db.execute("""CREATE TABLE report_schedules (
        name TEXT PRIMARY KEY,                  -- daily | monthly
        enabled INTEGER NOT NULL DEFAULT 0,
        reports TEXT NOT NULL DEFAULT '[]',     -- JSON list of report names (webui/reports)
        format TEXT NOT NULL DEFAULT 'xlsx',    -- xlsx | csv
        keep INTEGER NOT NULL,                  -- files kept; older ones are deleted
        language TEXT NOT NULL DEFAULT 'en',    -- the files' headers and sheet names
        recipients TEXT NOT NULL DEFAULT '[]',  -- JSON list of e-mail addresses
        enabled_at REAL,                        -- periods that ended before are not caught up on
        last_period TEXT,                       -- the last period written: 2025-03-10, or 2025-03
        last_error TEXT, last_error_at REAL,
        updated_at REAL, updated_by TEXT, version INTEGER NOT NULL DEFAULT 1)""")
    db.execute("""CREATE TABLE report_files (
        id TEXT PRIMARY KEY,
        schedule TEXT NOT NULL REFERENCES report_schedules(name),
        period TEXT NOT NULL,
        date_from TEXT NOT NULL, date_to TEXT NOT NULL,
        filename TEXT NOT NULL,                 -- in <state>/reports/
        format TEXT NOT NULL, reports TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (schedule, period))""")
    db.execute("CREATE INDEX idx_report_files_created ON report_files(created_at)")
    # Both schedules exist from the start, off: a month of daily files, a year of monthly ones.
    db.execute("INSERT INTO report_schedules (name, keep) VALUES ('daily', 31), ('monthly', 12)")


def m0016_recordings(db: Database) -> None:
    # The recordings search (webui/recording_queries.py) walks recordings by the time they were made;
    # what it asks of the call is one subquery of call ids, answered from these indexes alone (each
    # holds the id: a calls row is wide, and reading 30,000 of them costs a search ~100 ms).
    db.table("recordings").create_index(["created_at"])
    for column in ("agent_id", "queue", "disposition", "number"):
        db.table("calls").create_index([column, "id"])
    # Quality evaluations (webui/evaluations.py): a supervisor's scores of one recorded call against
    # the quality form as it was then (`scores` keeps each criterion's name, weight and maximum, so a
    # later change of the form leaves old scores as they were given); `score` is 0-100.
    db.table("evaluations").create({
        "id": str, "seq": int, "recording_id": str, "call_id": str, "agent_id": str,
        "evaluator": str,        # username
        "score": float, "scores": str, "comment": str, "created_at": float,
    }, pk="id", not_null={"recording_id", "evaluator", "score", "scores", "created_at"}, defaults={"comment": ""})
    db.table("evaluations").create_index(["recording_id", "created_at"])
    db.table("evaluations").create_index(["agent_id", "created_at"])
    _add_change_sequence(db, "evaluations")


def m0017_sms_mail(db: Database) -> None:
    # Texts in and out through the GSM modem (firmware/callcenter/sms.py). An outgoing text is one row
    # however many parts it takes; `state` is its outbox state (firmware/callcenter/sms.py says which moves are
    # allowed and why "unknown" is never resent on its own); `ref` the concatenation reference and
    # `parts_json` each part's TP-MR, which the delivery reports (+CDS) name.
    db.table("sms_messages").create({
        "id": str, "seq": int,
        "direction": str,        # out | in
        "number": str,           # the far end, as dialled or as the network gave it
        "text": str,
        "state": str,            # out: queued | sending | sent | delivered | failed | unknown; in: received
        "purpose": str,          # test | survey | notification | after_call | reply ...
        "call_id": str, "ticket_id": str,
        "ref": int, "parts": int, "parts_json": str,
        "error": str,
        "created_at": float, "sent_at": float, "delivered_at": float, "updated_at": float,
        "attempts": int, "next_at": float, "requested_by": str,
    }, pk="id", not_null={"direction", "number", "text", "state", "created_at", "updated_at"},
        defaults={"attempts": 0, "parts": 1})
    db.table("sms_messages").create_index(["direction", "state", "created_at"])
    db.table("sms_messages").create_index(["number", "created_at"])
    _add_change_sequence(db, "sms_messages")
    # Mail (webui/mail.py): a durable outbox the web process sends from; addresses and bodies stay on the
    # box. The autoincrement id is the order mail is sent in.
    db.execute("""CREATE TABLE mail_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL UNIQUE,          -- the Message-ID header (RFC 5322 §3.6.4)
        key TEXT UNIQUE,                          -- what the mail is about, once (voicemail:<id>, overdue:<id>:<state>)
        recipients TEXT NOT NULL,                 -- JSON list
        subject TEXT NOT NULL, body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',    -- pending | sending | sent | unknown | failed
        attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, next_at REAL NOT NULL,
        last_at REAL, last_error TEXT, sent_at REAL)""")
    db.execute("CREATE INDEX idx_mail_outbox_due ON mail_outbox(state, next_at)")
    db.execute("""CREATE TABLE mail_attachments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        mail_id INTEGER NOT NULL REFERENCES mail_outbox(id) ON DELETE CASCADE,
        filename TEXT NOT NULL, content_type TEXT NOT NULL, data BLOB NOT NULL)""")
    db.execute("CREATE INDEX idx_mail_attachments_mail ON mail_attachments(mail_id)")


def m0018_campaigns(db: Database) -> None:
    # Outbound campaigns (docs/architecture.md §22): the web writes a campaign's definition and its
    # contacts; the engine's dialer runs it (start, pause, stop are control commands) and writes each
    # contact's attempts and outcome. Both processes write contacts, never the same columns at once:
    # the web inserts and cancels, the dialer moves a contact through its states.
    db.table("campaigns").create({
        "id": str, "seq": int, "name": str,
        "mode": str,             # preview | progressive | message
        "purpose": str,          # sales | notification | reminder | greeting | survey | satisfaction
        "state": str,            # draft | running | paused | stopped | finished
        "queue": str,            # whose agents take the calls (preview, progressive; message's agent key)
        "prompt": str,           # what a message call plays (a prompt name)
        "confirm_key": str,      # message: the key that confirms it was heard
        "agent_key": str,        # message: the key that reaches an agent of `queue` (empty: none)
        "survey": str,           # JSON: the question asked and the keys taken as the answer, or NULL
        "hours": str,            # JSON: {"days": [1..7], "start": "HH:MM", "end": "HH:MM"}
        "skip_holidays": int,    # 1: no calls on the site schedule's holidays
        "max_attempts": int,
        "retry": str,            # JSON: {outcome: seconds before the next attempt}
        "max_lines": int,        # simultaneous calls of this campaign at most
        "pace": float,           # progressive: calls per free agent; message: calls a minute
        "created_by": str, "created_at": float, "updated_at": float,
        "started_at": float, "ended_at": float, "version": int,
    }, pk="id", not_null={"name", "mode", "purpose", "state", "created_at", "updated_at"},
        defaults={"state": "draft", "skip_holidays": 1, "max_attempts": 3, "max_lines": 2, "pace": 1.0,
                  "version": 1})
    db.table("campaign_contacts").create({
        "id": str, "seq": int, "campaign_id": str,
        "number": str,           # E.164 where it parses (firmware/store/phones.py), else as given
        "customer_id": str, "name": str,
        "data": str,             # JSON: the fields a message or the agent's preview shows
        "state": str,            # pending | dialing | preview | done | failed | dnc | cancelled
        "attempts": int, "next_at": float,
        "outcome": str,          # the last attempt's (firmware/callcenter/legs.py Outcome, or answered)
        "result": str,           # what the contact answered (a key, a survey answer), if anything
        "call_id": str, "agent_id": str, "updated_at": float,
    }, pk="id", not_null={"campaign_id", "number", "state", "updated_at"},
        defaults={"state": "pending", "attempts": 0})
    db.table("campaign_contacts").create_index(["campaign_id", "state", "next_at"])
    db.table("campaign_contacts").create_index(["number"])
    # The do-not-call list: the id is the number (E.164 where it parses), so a number is listed once.
    db.table("dnc_numbers").create({"id": str, "seq": int, "reason": str, "added_by": str, "added_at": float},
                                   pk="id", not_null={"added_at"})
    db.table("calls").add_column("campaign_id", str)
    for table in ("campaigns", "campaign_contacts", "dnc_numbers"):
        _add_change_sequence(db, table)


def m0020_campaign_web(db: Database) -> None:
    # Care calls from the web (docs/architecture.md §23): a contact of the ticket satisfaction call names
    # its ticket, so the answer is recorded on it.
    db.table("campaign_contacts").add_column("ticket_id", str)
    db.table("campaign_contacts").create_index(["ticket_id"])
    # Reminders from customer data: the dates an after-sales team calls ahead of (YYYY-MM-DD), and the rules
    # "N days before <date field>" that add a customer to a message campaign once per rule and date: a
    # contact made by a rule names it and the date, and the unique index keeps a restart from adding it twice.
    db.table("customers").add_column("warranty_until", str)
    db.table("customers").add_column("service_due", str)
    db.table("campaign_rules").create({
        "id": str, "seq": int, "campaign_id": str,
        "field": str,            # a customers date column: warranty_until | service_due
        "days_before": int, "enabled": int, "created_by": str, "created_at": float, "updated_at": float,
    }, pk="id", not_null={"campaign_id", "field", "days_before", "enabled", "created_at", "updated_at"},
        defaults={"enabled": 1})
    _add_change_sequence(db, "campaign_rules")
    db.table("campaign_contacts").add_column("rule_id", str)
    db.table("campaign_contacts").add_column("due_date", str)
    db.table("campaign_contacts").create_index(["rule_id", "customer_id", "due_date"], unique=True)


MIGRATIONS = (m0001_core, m0002_customers, m0003_call_handling, m0004_self_service, m0005_hq_sync,
              m0006_accounts, m0007_users_more, m0010_customer_cards, m0011_tickets, m0012_kb_webhooks,
              m0013_supervisor_link, m0014_report_indexes, m0015_report_schedules, m0016_recordings,
              m0017_sms_mail, m0018_campaigns, m0020_campaign_web)


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
