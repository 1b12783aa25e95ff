"""What an agent's screen pop and own figures show, read from the records: the caller's customer card, their
last calls and open tickets (R21), and the agent's calls, handling time and not-ready time today."""
from __future__ import annotations

import datetime as dt
import sqlite3

from firmware.store.phones import PhoneNumberError

from .customer_cards import absorbed, get_card, lookup, recent_calls
from .records import local_midnight
from .ticket_queries import open_tickets

# What a screen pop shows: the last calls and the open tickets (issue 14: the last 5 calls).
POP_CALLS = 5
POP_TICKETS = 10


def screen_pop(db: sqlite3.Connection, offer: dict, region: str) -> dict:
    """The caller's card, last calls before this one and open tickets for `offer` (the engine's: call, number,
    customer_id): the fields the live `offer` event and GET /api/v1/agents/{id}/pop add to the engine's."""
    card = get_card(db, offer["customer_id"]) if offer.get("customer_id") else None
    if card is None and offer.get("number"):
        # The engine's directory follows the cards every few seconds: a card made just now is found by its number.
        try:
            card = lookup(db, offer["number"], region)
        except PhoneNumberError:
            card = None      # a caller ID that is no phone number ("anonymous") has no card
    if card is not None and card.get("merged_into"):
        card = get_card(db, card["merged_into"]) or card
    if card is None:
        return {"card": None, "history": [], "tickets": []}
    ids = absorbed(db, card["id"])
    calls = [c for c in recent_calls(db, ids, POP_CALLS + 1) if c["id"] != offer.get("call")][:POP_CALLS]
    tickets = open_tickets(db, ids, POP_TICKETS)
    summary = {key: card[key] for key in ("id", "name", "vip", "agent_id", "company", "notes", "blocked")}
    summary["numbers"] = [n["number"] for n in card["numbers"]]
    return {"card": summary,
            "history": [{key: c[key] for key in ("id", "arrived_at", "queue", "agent_id", "disposition",
                                                 "wrapup_code", "recording_id", "direction", "number")}
                        for c in calls],
            "tickets": [{**{key: t[key] for key in ("id", "title", "category", "priority", "state", "due_at")},
                         "due": t["due_at"]} for t in tickets]}


def today(db: sqlite3.Connection, agent_id: str, now: float) -> dict:
    """The agent's own figures since local midnight: calls talked, average handling time (talk, hold included,
    plus wrap-up, per call: the usual AHT) and time not ready, from the calls and the agent's state log."""
    start = local_midnight(dt.date.fromtimestamp(now))
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
