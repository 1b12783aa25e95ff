"""A campaign's contacts chosen from the customer book (greetings, offers to a grade of customers): live,
unblocked cards by VIP level, last contact, open ticket and dedicated agent, each card's first number."""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping

from .customer_cards import MAX_VIP
from .customer_csv import MAX_IMPORT_ROWS
from .i18n import gettext as _

# Tickets still waiting on the branch (webui/ticket_config.py FINISHED states are done with).
OPEN_TICKET_STATES = ("new", "dispatched", "in_progress", "reopened")


class AudienceError(ValueError):
    """A bad query; `problems` names each bad field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(_("The customer query has mistakes; see each field."))
        self.problems = problems


def _date(value, field: str, problems: dict) -> float | None:
    """A day (YYYY-MM-DD) as the epoch of its midnight on the box's clock, or None when empty."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time()).timestamp()
    except ValueError:
        problems[field] = _("a date as YYYY-MM-DD")
        return None


def audience(db: sqlite3.Connection, query: Mapping) -> list[dict]:
    """The contacts of the customers `query` picks ({"vip_min", "last_before", "last_after", "open_ticket",
    "agent_id"}; empty fields pick all): {"line", "number", "name", "customer_id", "data"}, by name."""
    problems: dict[str, str] = {}
    where = ["c.merged_into IS NULL", "NOT coalesce(c.blocked, 0)"]
    args: list = []
    vip = str(query.get("vip_min") or "").strip()
    if vip:
        if not vip.isdigit() or int(vip) > MAX_VIP:
            problems["vip_min"] = _("a VIP level from 0 to %(max)d") % {"max": MAX_VIP}
        else:
            where.append("coalesce(c.vip, 0) >= ?")
            args.append(int(vip))
    last = "(SELECT max(arrived_at) FROM calls WHERE customer_id = c.id)"
    before = _date(query.get("last_before"), "last_before", problems)
    if before is not None:
        # Not heard from since: a customer never called counts as before any day.
        where.append(f"coalesce({last}, 0) < ?")
        args.append(before)
    after = _date(query.get("last_after"), "last_after", problems)
    if after is not None:
        where.append(f"{last} >= ?")
        args.append(after)
    open_ticket = str(query.get("open_ticket") or "").strip()
    if open_ticket in ("yes", "no"):
        marks = ", ".join("?" * len(OPEN_TICKET_STATES))
        where.append(f"{'' if open_ticket == 'yes' else 'NOT '}EXISTS (SELECT 1 FROM tickets t WHERE"
                     f" t.customer_id = c.id AND t.state IN ({marks}))")
        args += OPEN_TICKET_STATES
    elif open_ticket:
        problems["open_ticket"] = _("yes, no or empty")
    agent = str(query.get("agent_id") or "").strip()
    if agent:
        where.append("c.agent_id = ?")
        args.append(agent)
    if problems:
        raise AudienceError(problems)
    rows = db.execute(
        "SELECT c.id, c.name, (SELECT n.number FROM customer_numbers n WHERE n.customer_id = c.id"
        " ORDER BY n.created_at, n.rowid LIMIT 1) AS number, c.vip, c.agent_id, c.company FROM customers c"
        f" WHERE {' AND '.join(where)} ORDER BY coalesce(c.name, ''), c.id LIMIT ?",
        [*args, MAX_IMPORT_ROWS + 1]).fetchall()
    return [{"line": i + 1, "number": number, "name": name or "", "customer_id": card_id,
             "data": {k: str(v) for k, v in (("company", company), ("vip", vip_level), ("agent", agent_id)) if v}}
            for i, (card_id, name, number, vip_level, agent_id, company) in enumerate(rows) if number]
