"""Care calls made from the records (issue 16 item 4, docs/architecture.md §23): reminders from customer data,
and the ticket satisfaction call.

Reminders: a rule "N days before <a card's date>" (campaign_rules) adds, each day, the customers whose date
is N days away or nearer (and not past) to its message campaign, once per customer, rule and date (the
contact carries `rule_id` and `due_date` under a unique index), so a day the box was off is caught up
and a restart adds nobody twice.

The ticket satisfaction call: a ticket moving to resolved adds
its customer's number to the standing satisfaction campaign (a message call asking a score 1-5), and when the
dialer has written the answer, the answer is recorded on the ticket exactly as the agent's satisfaction
callback records it (webui/ticket_store.py record_satisfaction: confirmed and closed, or reopened).

The answers are picked up by a thread of the web process (webui/server.py), from the database alone: a
contact whose ticket is still resolved and whose answer came after that resolution is recorded, and the
record moves the ticket on, so a restart records what was missed and nothing twice."""
from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import time
import uuid
from pathlib import Path

from firmware.store import connect_readonly
from firmware.store.phones import PhoneNumberError, normalize

from .customer_cards import DATE_FIELDS, site_region
from .shared_writer import SharedWriter
from .ticket_config import load_ticket_config, ticket_config_path
from .ticket_store import SCORES, TicketError, TicketStore

log = logging.getLogger(__name__)

# The campaigns a resolved ticket's call joins: the newest satisfaction campaign not stopped or finished.
OPEN_STATES = ("draft", "running", "paused")
# A score of 1 or 2 is a customer who is not satisfied: the ticket is reopened, as an agent hearing it
# on the callback would (docs/requirements.md R14); 3 to 5 confirm and close it.
REOPEN_BELOW = 3
# Who the ticket's history names for an answer the box took itself; a supervisor's right to confirm,
# close and reopen (tickets.toml `by`) is the one the agent's callback uses.
CALLER = {"username": "satisfaction-call", "roles": ("supervisor",), "agent_id": None, "locale": None}


def satisfaction_campaign(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT id FROM campaigns WHERE purpose = 'satisfaction' AND state IN (?, ?, ?)"
                       " ORDER BY created_at DESC LIMIT 1", OPEN_STATES).fetchone()
    return row[0] if row else None


def customer_number(conn: sqlite3.Connection, ticket: dict, region: str) -> str | None:
    """The number to call about `ticket`: its customer's first number on the card (E.164), else the
    ticket's own number read in the site's region; None if neither is a phone number."""
    if ticket.get("customer_id"):
        row = conn.execute("SELECT number FROM customer_numbers WHERE customer_id = ? ORDER BY rowid LIMIT 1",
                           [ticket["customer_id"]]).fetchone()
        if row:
            return row[0]
    try:
        return normalize(ticket.get("number") or "", region)
    except PhoneNumberError:
        return None


class SatisfactionQueue:
    """TicketStore.on_resolved: the resolved ticket's customer added to the satisfaction campaign, in the
    transaction that resolves it (a do-not-call number is added as `dnc`, never dialled)."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir

    def __call__(self, conn: sqlite3.Connection, ticket: dict, now: float) -> None:
        campaign = satisfaction_campaign(conn)
        number = customer_number(conn, ticket, site_region(self.state_dir))
        if campaign is None or number is None:
            log.info("ticket %s resolved: no satisfaction call (%s)", ticket["id"],
                     "no open satisfaction campaign" if campaign is None else "no number to call")
            return
        listed = conn.execute("SELECT 1 FROM dnc_numbers WHERE id = ?", [number]).fetchone() is not None
        conn.execute("INSERT INTO campaign_contacts (id, campaign_id, number, customer_id, name, data, state, attempts,"
                     " updated_at, ticket_id) VALUES (?, ?, ?, ?, NULL, ?, ?, 0, ?, ?)",
                     [uuid.uuid4().hex, campaign, number, ticket.get("customer_id"),
                      json.dumps({"ticket": ticket["id"], "title": ticket.get("title") or ""}, ensure_ascii=False),
                      "dnc" if listed else "pending", now, ticket["id"]])


class SatisfactionAnswers:
    """One pass at a time (webui/webhook_delivery.py DeliveryThread repeats it): each satisfaction call's
    answer recorded on its ticket; True while more may be waiting."""

    BATCH = 20

    def __init__(self, db_path: str | Path, clock=time.time):
        self.db_path = Path(db_path)
        config = load_ticket_config(ticket_config_path(self.db_path.parent / "config"))
        self.tickets = TicketStore(db_path, config, clock)

    def waiting(self) -> list[tuple[str, str]]:
        """(ticket id, answer) of the answered satisfaction calls whose ticket still awaits its answer."""
        conn = connect_readonly(self.db_path)
        try:
            return conn.execute(
                "SELECT t.id, c.result FROM campaign_contacts c JOIN campaigns k ON k.id = c.campaign_id"
                " JOIN tickets t ON t.id = c.ticket_id WHERE k.purpose = 'satisfaction' AND c.state = 'done'"
                f" AND c.result IN ({', '.join('?' * len(SCORES))}) AND t.state = 'resolved'"
                " AND c.updated_at >= t.resolved_at ORDER BY c.updated_at LIMIT ?",
                [*(str(s) for s in SCORES), self.BATCH]).fetchall()
        finally:
            conn.close()

    def pass_once(self) -> bool:
        rows = self.waiting()
        recorded = 0
        # A key that is no score is left alone: the ticket waits for the agent's callback.
        for ticket_id, answer in rows:
            score = int(answer)
            with self.tickets.writer.lock:
                ticket = self.tickets.conn.execute("SELECT version FROM tickets WHERE id = ?", [ticket_id]).fetchone()
            try:
                self.tickets.record_satisfaction(ticket_id, CALLER, score, "",
                                                 "reopen" if score < REOPEN_BELOW else "close", ticket[0])
                recorded += 1
            except TicketError as exc:
                # Changed meanwhile (an agent's callback came first): the ticket is no longer waiting.
                log.info("satisfaction call for ticket %s not recorded: %s", ticket_id, exc)
        return recorded == self.BATCH

    def close(self) -> None:
        self.tickets.close()



class Reminders:
    """One pass at a time (webui/webhook_delivery.py DeliveryThread repeats it): every enabled rule of a
    campaign not stopped or finished adds the customers now due; True while more may be due."""

    BATCH = 500

    def __init__(self, db_path: str | Path, clock=time.time):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.clock = clock

    def pass_once(self) -> bool:
        today = dt.date.fromtimestamp(self.clock())
        added = 0
        with self.writer.lock:
            rules = self.conn.execute(
                "SELECT r.id, r.campaign_id, r.field, r.days_before FROM campaign_rules r JOIN campaigns c"
                " ON c.id = r.campaign_id WHERE r.enabled AND c.state IN (?, ?, ?)", OPEN_STATES).fetchall()
        for rule_id, campaign_id, field, days_before in rules:
            if field not in DATE_FIELDS:    # the column name goes into the query: only a card's date column
                continue
            added += self.add_due(rule_id, campaign_id, field, today, today + dt.timedelta(days=days_before))
        return added >= self.BATCH

    def add_due(self, rule_id: str, campaign_id: str, field: str, today: dt.date, until: dt.date) -> int:
        """The live, unblocked customers whose `field` falls from today to `until`, not yet added for that
        date by this rule, added as contacts (a do-not-call number as `dnc`); how many."""
        now = self.clock()
        with self.writer.transaction() as conn:
            due = conn.execute(
                f"SELECT c.id, c.name, c.{field}, (SELECT n.number FROM customer_numbers n WHERE n.customer_id = c.id"
                " ORDER BY n.created_at, n.rowid LIMIT 1) FROM customers c WHERE c.merged_into IS NULL"
                f" AND NOT coalesce(c.blocked, 0) AND c.{field} >= ? AND c.{field} <= ? AND NOT EXISTS"
                " (SELECT 1 FROM campaign_contacts k WHERE k.rule_id = ? AND k.customer_id = c.id"
                f" AND k.due_date = c.{field}) LIMIT ?",
                [today.isoformat(), until.isoformat(), rule_id, self.BATCH]).fetchall()
            blocked = {n for (n,) in conn.execute("SELECT id FROM dnc_numbers")}
            rows = [(uuid.uuid4().hex, campaign_id, number, card_id, name,
                     json.dumps({field: date}, ensure_ascii=False), "dnc" if number in blocked else "pending", now,
                     rule_id, date) for card_id, name, date, number in due if number]
            conn.executemany("INSERT OR IGNORE INTO campaign_contacts (id, campaign_id, number, customer_id, name,"
                             " data, state, attempts, updated_at, rule_id, due_date) VALUES (?, ?, ?, ?, ?, ?, ?, 0,"
                             " ?, ?, ?)", rows)
        if rows:
            log.info("reminder rule %s: %d customers added to campaign %s", rule_id, len(rows), campaign_id)
        return len(rows)

    def close(self) -> None:
        self.writer.close()
