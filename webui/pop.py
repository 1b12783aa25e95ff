"""What an agent's screen pop and own figures show, read from the records: the caller's customer card, their
last calls and open tickets (R21), and the agent's calls, handling time and not-ready time today."""
from __future__ import annotations

import datetime as dt
import sqlite3

from firmware.store.phones import PhoneNumberError

from .customer_cards import absorbed, get_card, lookup
from .records import _local_midnight
from .ticket_config import FINISHED, STATES
from .ticket_store import digits

# The caller's last calls the pop lists: enough to see a pattern (a third call this week), few enough to
# read in the seconds the phone rings.
HISTORY_CALLS = 5
# Open tickets shown; a customer with more has them all on their card's page.
POP_TICKETS = 10
CARD_FIELDS = ("id", "name", "vip", "numbers", "agent_id", "company", "notes")
# A ticket is open for the agent while somebody still works on it: resolved ones wait only for the
# customer's confirmation at the callback.
OPEN_STATES = tuple(s for s in STATES if s not in FINISHED)


def _rows(db: sqlite3.Connection, sql: str, args: list) -> list[dict]:
    cur = db.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _card(db: sqlite3.Connection, customer_id: str | None, number: str | None, region: str) -> dict | None:
    """The live card the engine matched (followed through merges), or the one holding the number."""
    card = get_card(db, customer_id) if customer_id else None
    seen = set()
    while card is not None and card["merged_into"] and card["id"] not in seen:
        seen.add(card["id"])
        card = get_card(db, card["merged_into"])
    if card is None and number:
        try:
            card = lookup(db, number, region)
        except PhoneNumberError:
            card = None
    return card


def enrich(db: sqlite3.Connection, offer: dict, region: str) -> dict:
    """`offer` (the engine's: agent, call, number, customer_id ...) with the caller's `card` (or None), their
    last calls before this one (`history`) and their open `tickets`, matched by card, else by number."""
    card = _card(db, offer.get("customer_id"), offer.get("number"), region)
    if card is not None:
        ids = absorbed(db, card["id"])
        marks = ",".join("?" * len(ids))
        who, who_args = f"customer_id IN ({marks})", ids
    else:
        who, who_args = "number = ?", [offer.get("number") or ""]
    history = _rows(db, f"""SELECT c.id, c.arrived_at, c.queue, c.agent_id, c.disposition, c.wrapup_code,
                                   (SELECT r.id FROM recordings r WHERE r.call_id = c.id LIMIT 1) AS recording
                            FROM calls c WHERE c.{who} AND c.id IS NOT ? ORDER BY c.arrived_at DESC LIMIT ?""",
                    [*who_args, offer.get("call"), HISTORY_CALLS])
    states = ",".join("?" * len(OPEN_STATES))
    if card is not None:
        ticket_who, ticket_args = who, who_args
    else:
        ticket_who, ticket_args = "number_key = ?", [digits(offer.get("number"))]
    tickets = _rows(db, f"""SELECT id, title, category, state, priority, due_at AS due FROM tickets
                            WHERE {ticket_who} AND state IN ({states}) ORDER BY due_at IS NULL, due_at LIMIT ?""",
                    [*ticket_args, *OPEN_STATES, POP_TICKETS]) if ticket_args[0] else []
    summary = {key: card[key] for key in CARD_FIELDS} if card is not None else None
    return {**offer, "card": summary, "history": history, "tickets": tickets}


def today(db: sqlite3.Connection, agent_id: str, now: float) -> dict:
    """The agent's own figures since local midnight: calls talked, average handling time (talk, hold included,
    plus wrap-up, per call: the usual AHT) and time not ready, from the calls and the agent's state log."""
    start = _local_midnight(dt.date.fromtimestamp(now))
    calls, talk = db.execute("SELECT count(*), coalesce(sum(talk), 0) FROM calls WHERE agent_id = ? AND "
                             "connected_at >= ? AND ended_at IS NOT NULL", [agent_id, start]).fetchone()
    # The state the agent was in at midnight counts from midnight, then every change after it.
    before = db.execute("SELECT state, ? FROM agent_states WHERE agent_id = ? AND at < ? ORDER BY at DESC LIMIT 1",
                        [start, agent_id, start]).fetchall()
    changes = before + db.execute("SELECT state, at FROM agent_states WHERE agent_id = ? AND at >= ? AND at <= ? "
                                  "ORDER BY at", [agent_id, start, now]).fetchall()
    spent: dict[str, float] = {}
    for (state, at), (_next_state, until) in zip(changes, [*changes[1:], (None, now)]):
        spent[state] = spent.get(state, 0.0) + max(0.0, until - at)
    wrapup = spent.get("wrapup", 0.0)
    return {"agent": agent_id, "since": start, "calls": calls,
            "aht": round((talk + wrapup) / calls, 1) if calls else None,
            "talk": round(talk, 1), "wrapup": round(wrapup, 1), "not_ready": round(spent.get("not_ready", 0.0), 1)}
