"""Tickets read for the pages and the API: the filtered list, one ticket with its history, linked call,
recording and related tickets, a department's work queue and an agent's callback list (read-only)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Mapping

from .i18n import gettext as _
from .ticket_config import FINISHED, STATES, TicketConfig
from .ticket_store import SELECT_TICKET, row_dict, whole_number
from .records import local_midnight

PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_QUERY = 64
# The filter "open": every state somebody still has to act on.
OPEN_STATES = tuple(s for s in STATES if s not in ("closed", "cancelled"))
# What a department works on: dispatched to it, started, or reopened.
QUEUE_STATES = ("dispatched", "in_progress", "reopened")


class TicketFilterError(ValueError):
    """One or more filters are invalid; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class TicketFilter:
    """The ticket-list query as the page and the API take it from the URL."""

    state: str = ""
    category: str = ""
    department: str = ""
    priority: str = ""
    overdue: bool = False
    customer: str = ""
    agent: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_query(cls, query: Mapping[str, str], config: TicketConfig) -> TicketFilter:
        problems: dict[str, str] = {}
        values: dict = {}
        for key, choices in (("state", ("open", *STATES)), ("category", tuple(config.categories)),
                             ("department", tuple(config.departments)), ("priority", tuple(config.priorities))):
            value = query.get(key, "")
            if value and value not in choices:
                problems[key] = _("choose one of: %(choices)s") % {"choices": ", ".join(choices)}
            values[key] = value
        overdue = query.get("overdue", "")
        if overdue not in ("", "0", "1"):
            problems["overdue"] = _("1 for overdue tickets only")
        values["overdue"] = overdue == "1"
        for key in ("customer", "agent", "q"):
            value = query.get(key, "").strip()
            if len(value) > MAX_QUERY or not value.isprintable():
                problems[key] = _("at most %(n)d printable characters") % {"n": MAX_QUERY}
            values[key] = value
        for key, field in (("from", "date_from"), ("to", "date_to")):
            text = query.get(key, "")
            try:
                values[field] = dt.date.fromisoformat(text) if text else None
            except ValueError:
                problems[key] = _("a date YYYY-MM-DD")
        for key, low, high, default in (("page", 1, 100_000, 1), ("per_page", 1, MAX_PER_PAGE, PER_PAGE)):
            text = query.get(key, "")
            if not text:
                values[key] = default
            elif isinstance(number := whole_number(text), int) and low <= number <= high:
                values[key] = number
            else:
                problems[key] = _("a whole number from %(low)d to %(high)d") % {"low": low, "high": high}
        if problems:
            raise TicketFilterError(problems)
        return cls(**values)

    def where(self, now: float) -> tuple[str, list]:
        clauses: list[str] = []
        args: list[object] = []
        if self.state == "open":
            clauses.append(f"state IN ({', '.join('?' * len(OPEN_STATES))})")
            args.extend(OPEN_STATES)
        elif self.state:
            clauses.append("state = ?")
            args.append(self.state)
        for column, value in (("category", self.category), ("department", self.department),
                              ("priority", self.priority), ("customer_id", self.customer), ("agent_id", self.agent)):
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        if self.overdue:
            # Named states rather than NOT IN: the (state, due_at) index answers it.
            waiting = [s for s in STATES if s not in FINISHED]
            clauses.append(f"state IN ({', '.join('?' * len(waiting))}) AND due_at < ?")
            args.extend([*waiting, now])
        # Dates are the box's local days, as the calls page takes them.
        if self.date_from:
            clauses.append("created_at >= ?")
            args.append(local_midnight(self.date_from))
        if self.date_to:
            clauses.append("created_at < ?")
            args.append(local_midnight(self.date_to + dt.timedelta(days=1)))
        if self.q:
            # LIKE's wildcards in what was typed are text, not patterns.
            pattern = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' OR number LIKE ? ESCAPE '\\'"
                           " OR address LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')")
            args += [pattern] * 4 + [pattern[1:]]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def query_args(self) -> dict:
        """This filter as URL parameters (for the pager's links)."""
        out = {"state": self.state, "category": self.category, "department": self.department,
               "priority": self.priority, "overdue": "1" if self.overdue else "", "customer": self.customer,
               "agent": self.agent, "from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else "", "q": self.q,
               "per_page": str(self.per_page) if self.per_page != PER_PAGE else ""}
        return {k: v for k, v in out.items() if v}



def list_tickets(conn: sqlite3.Connection, f: TicketFilter, now: float) -> tuple[list[dict], int]:
    """One page of the tickets `f` selects, newest first, and how many it selects in all."""
    where, args = f.where(now)
    order = " ORDER BY created_at DESC, rowid DESC"
    first = (f.page - 1) * f.per_page
    if f.q:
        # Text is matched by reading every row: read them once, for the count and the page alike.
        matched = [r[0] for r in conn.execute(f"SELECT rowid FROM tickets{where}{order}", args)]
        total, page = len(matched), matched[first:first + f.per_page]
        rows = conn.execute(f"{SELECT_TICKET} WHERE rowid IN ({', '.join('?' * len(page))}){order}", page).fetchall()
        return [row_dict(r) for r in rows], total
    total = conn.execute(f"SELECT count(*) FROM tickets{where}", args).fetchone()[0]
    # The page's rowids first, from the index alone, then only those rows: a far page skips index
    # entries instead of reading whole rows (with their descriptions) to throw them away.
    rows = conn.execute(f"{SELECT_TICKET} WHERE rowid IN (SELECT rowid FROM tickets{where}{order} LIMIT ? OFFSET ?)"
                        f"{order}", [*args, f.per_page, first]).fetchall()
    return [row_dict(r) for r in rows], total


def get_ticket(conn: sqlite3.Connection, ticket_id: str) -> dict | None:
    row = conn.execute(f"{SELECT_TICKET} WHERE id = ?", [ticket_id]).fetchone()
    return row_dict(row) if row else None


def ticket_events(conn: sqlite3.Connection, ticket_id: str) -> list[dict]:
    rows = conn.execute("SELECT id, at, username, kind, action, from_state, to_state, note, data FROM ticket_events"
                        " WHERE ticket_id = ? ORDER BY at, rowid", [ticket_id]).fetchall()
    keys = ("id", "at", "username", "kind", "action", "from_state", "to_state", "note", "data")
    events = [dict(zip(keys, r)) for r in rows]
    for e in events:
        e["data"] = json.loads(e["data"]) if e["data"] else {}
    return events


def related_tickets(conn: sqlite3.Connection, ticket: dict) -> list[dict]:
    """The tickets this one repeats and those that repeat it (docs/requirements.md R14), latest first."""
    earlier = []
    for e in conn.execute("SELECT data FROM ticket_events WHERE ticket_id = ? AND kind = 'repeat'", [ticket["id"]]):
        earlier += json.loads(e[0]).get("earlier", [])
    # An empty IN () beside the OR would make SQLite scan the table.
    linked = f" OR id IN ({', '.join('?' * len(earlier))})" if earlier else ""
    rows = conn.execute(f"{SELECT_TICKET} WHERE repeat_of = ?{linked} ORDER BY created_at DESC",
                        [ticket["id"], *earlier]).fetchall()
    return [row_dict(r) for r in rows]


def linked_call(conn: sqlite3.Connection, call_id: str | None) -> tuple[dict | None, dict | None]:
    """The ticket's call and its recording, when there are."""
    if not call_id:
        return None, None
    row = conn.execute("SELECT id, number, name, arrived_at, ended_at, agent_id, queue, disposition, talk FROM calls"
                       " WHERE id = ?", [call_id]).fetchone()
    call = dict(zip(("id", "number", "name", "arrived_at", "ended_at", "agent_id", "queue", "disposition", "talk"),
                    row)) if row else None
    rec = conn.execute("SELECT id, duration, size FROM recordings WHERE call_id = ? ORDER BY created_at LIMIT 1",
                       [call_id]).fetchone()
    return call, dict(zip(("id", "duration", "size"), rec)) if rec else None


def department_queue(conn: sqlite3.Connection, department: str) -> list[dict]:
    """The department's work, most urgent (earliest due) first."""
    rows = conn.execute(f"{SELECT_TICKET} WHERE department = ? AND state IN ({', '.join('?' * len(QUEUE_STATES))})"
                        " ORDER BY due_at LIMIT ?", [department, *QUEUE_STATES, MAX_PER_PAGE]).fetchall()
    return [row_dict(r) for r in rows]


def callbacks_for(conn: sqlite3.Connection, user: dict) -> list[dict]:
    """Resolved tickets waiting for `user` to call the customer back (theirs, or their agent's)."""
    rows = conn.execute(f"{SELECT_TICKET} WHERE state = 'resolved' AND (created_by = ? OR agent_id = ?)"
                        " ORDER BY resolved_at LIMIT ?",
                        [user["username"], user.get("agent_id") or "", MAX_PER_PAGE]).fetchall()
    return [row_dict(r) for r in rows]


def open_tickets(conn: sqlite3.Connection, customer_ids: list[str], limit: int) -> list[dict]:
    """The customer's tickets still waiting on someone (cards merged into theirs too), earliest due first."""
    if not customer_ids:
        return []
    marks, states = ", ".join("?" * len(customer_ids)), ", ".join("?" * len(FINISHED))
    rows = conn.execute(f"{SELECT_TICKET} WHERE customer_id IN ({marks}) AND state NOT IN ({states})"
                        " ORDER BY due_at IS NULL, due_at LIMIT ?", [*customer_ids, *FINISHED, limit]).fetchall()
    return [row_dict(r) for r in rows]


def overdue_count(conn: sqlite3.Connection, now: float) -> int:
    """How many tickets are past their due time and still wait on someone."""
    where, args = TicketFilter(overdue=True).where(now)
    return conn.execute(f"SELECT count(*) FROM tickets{where}", args).fetchone()[0]


def is_overdue(ticket: dict, now: float) -> bool:
    return ticket["due_at"] is not None and ticket["due_at"] < now and ticket["state"] not in FINISHED
