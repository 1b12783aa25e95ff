"""Recordings for the web UI: the search (the call list's filters and the recording's own), who may
see which recording, and one recording with its call, customer, tickets and events (read-only)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Mapping
from urllib.parse import urlencode

from .i18n import N_, gettext as _
from .records import MAX_TEXT, CallFilter, FilterError, get_call, local_midnight

# The roles that hear every recording; an agent hears only the calls they took (docs/requirements.md R17).
ALL_RECORDINGS_ROLES = ("admin", "supervisor")
# A call longer than a day is no call: the bound keeps a typo from reading as a filter.
MAX_DURATION_S = 86400
EXTRA_LABELS = {"customer": N_("Customer"), "ticket": N_("Ticket"), "min_duration": N_("Shortest"),
                "max_duration": N_("Longest"), "evaluated": N_("Evaluated")}
# A page walks the recordings' index when it expects to find its matches within this many recordings
# (each asked its call's conditions: a few ms for these; `make bench` shows both ways).
WALK_ROWS = 5000
# A ticket is found by the start of its id, as the tickets list finds it: enough characters to be one.
MIN_TICKET_PREFIX = 4


@dataclasses.dataclass(frozen=True)
class RecordingFilter:
    """The recordings search as the page and the API take it from the URL: the call list's filters
    (dates, number, queue, agent, disposition, order, page) and the recording's own."""

    calls: CallFilter = CallFilter()
    customer: str = ""
    ticket: str = ""
    min_duration: int | None = None
    max_duration: int | None = None
    evaluated: str = ""          # "" any, "1" scored at least once, "0" not yet

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> RecordingFilter:
        problems: dict[str, str] = {}
        calls = CallFilter()
        try:
            calls = CallFilter.from_query(query)
        except FilterError as exc:
            problems.update(exc.problems)
        values: dict = {}
        for name in ("customer", "ticket"):
            value = (query.get(name) or "").strip()
            if len(value) > MAX_TEXT:
                problems[name] = (_("%(field)s filter is longer than %(max)d characters.")
                                  % {"field": _(EXTRA_LABELS[name]), "max": MAX_TEXT})
            values[name] = value
        if values["ticket"] and len(values["ticket"]) < MIN_TICKET_PREFIX:
            problems["ticket"] = (_("Give at least %(min)d characters of the ticket's id.")
                                  % {"min": MIN_TICKET_PREFIX})
        for name in ("min_duration", "max_duration"):
            raw = (query.get(name) or "").strip()
            values[name] = None
            if raw:
                try:
                    values[name] = int(raw)
                    if not 0 <= values[name] <= MAX_DURATION_S:
                        raise ValueError
                except ValueError:
                    problems[name] = (_("%(field)s must be a whole number of seconds from 0 to %(max)d.")
                                      % {"field": _(EXTRA_LABELS[name]), "max": MAX_DURATION_S})
        if (values["min_duration"] is not None and values["max_duration"] is not None
                and values["min_duration"] > values["max_duration"]):
            problems["max_duration"] = _("The longest duration is shorter than the shortest.")
        values["evaluated"] = (query.get("evaluated") or "").strip()
        if values["evaluated"] not in ("", "0", "1"):
            problems["evaluated"] = _("Evaluated must be 1 (scored) or 0 (not yet scored).")
        if problems:
            raise FilterError(problems)
        return cls(calls=calls, **values)

    def params(self, **changes) -> dict[str, str]:
        """The non-default parameters (with `changes`: the call filters' names or this one's)."""
        own = {k: v for k, v in changes.items() if k in EXTRA_LABELS}
        f = dataclasses.replace(self, calls=dataclasses.replace(
            self.calls, **{k: v for k, v in changes.items() if k not in own}), **own)
        out = {**f.calls.params(), "customer": f.customer, "ticket": f.ticket,
               "min_duration": "" if f.min_duration is None else str(f.min_duration),
               "max_duration": "" if f.max_duration is None else str(f.max_duration),
               "evaluated": f.evaluated}
        return {k: v for k, v in out.items() if v}

    def query_string(self, **changes) -> str:
        return urlencode(self.params(**changes))

    def where(self, agent_scope: str | None, walk: bool = False) -> tuple[str, list]:
        """SQL over `recordings r` alone; `agent_scope`: only that agent's calls (None: all); `walk`: the
        call's conditions asked of each recording in turn (for a page that walks the index) rather
        than as one set of call ids (for a count, or a few matches to sort).

        Dates are the days the recordings were made, ended with their calls (`r.created_at`, indexed),
        and the list runs in that order, so a search walks the recordings' own index and stops at its
        page. What belongs to the call (number, agent, queue, disposition, customer, ticket) is one
        subquery over calls: joining calls for every recording costs a month's search hundreds of ms
        (docs/architecture.md §19, `make bench`)."""
        clauses: list[str] = []
        args: list[object] = []
        c = self.calls
        if c.date_from:
            clauses.append("r.created_at >= ?")
            args.append(local_midnight(c.date_from))
        # The last day a date can name (9999-12-31) has no next day to stop before: no upper bound.
        if c.date_to and c.date_to < dt.date.max:
            clauses.append("r.created_at < ?")
            args.append(local_midnight(c.date_to + dt.timedelta(days=1)))
        on_call: list[str] = []
        if c.number:
            on_call.append("c.number LIKE ? ESCAPE '\\'")
            args.append("%" + _escape_like(c.number) + "%")
        for column, value in (("queue", c.queue), ("disposition", c.disposition), ("agent_id", c.agent)):
            if value:
                on_call.append(f"c.{column} = ?")
                args.append(value)
        if agent_scope is not None:
            on_call.append("c.agent_id = ?")
            args.append(agent_scope)
        if self.customer:
            # The card's id, or words of its name or company (webui/customer_cards.py keeps both).
            like = "%" + _escape_like(self.customer) + "%"
            on_call.append("(c.customer_id = ? OR c.customer_id IN (SELECT id FROM customers"
                           " WHERE name LIKE ? ESCAPE '\\' OR company LIKE ? ESCAPE '\\'))")
            args += [self.customer, like, like]
        if self.ticket:
            # Ticket ids are lower-case hex: the start of one is a range of the primary key.
            prefix = self.ticket.lower()
            on_call.append("c.id IN (SELECT call_id FROM tickets WHERE id >= ? AND id < ?)")
            args += [prefix, prefix + "\x7f"]
        if on_call and walk:
            clauses.append("EXISTS (SELECT 1 FROM calls c WHERE c.id = r.call_id AND " + " AND ".join(on_call) + ")")
        elif on_call:
            clauses.append("r.call_id IN (SELECT c.id FROM calls c WHERE " + " AND ".join(on_call) + ")")
        if self.min_duration is not None:
            clauses.append("r.duration >= ?")
            args.append(self.min_duration)
        if self.max_duration is not None:
            clauses.append("r.duration <= ?")
            args.append(self.max_duration)
        if self.evaluated:
            negate = "" if self.evaluated == "1" else "NOT "
            clauses.append(f"{negate}EXISTS (SELECT 1 FROM evaluations e WHERE e.recording_id = r.id)" if walk
                           else f"r.id {negate}IN (SELECT recording_id FROM evaluations)")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def agent_scope(user: dict) -> str | None:
    """Whose recordings `user` may hear: None for every call's, else their own agent id ("" for a
    user with no agent: nobody's)."""
    if not set(ALL_RECORDINGS_ROLES).isdisjoint(user["roles"]):
        return None
    return user.get("agent_id") or ""


def search(db: sqlite3.Connection, f: RecordingFilter, scope: str | None) -> tuple[list[dict], int]:
    """One page of recordings matching `f` that the scope allows, newest first, and their number.

    The count takes the call's conditions as one set of call ids. The page then either walks the
    recordings' index from the newest, asking each its call's conditions, and stops at the page's
    end (many matches: a few hundred recordings walked), or sorts the few matches (a number, a
    ticket): the count says which is cheaper. Only the page's recordings are read with their call,
    agent, customer, score and tickets."""
    where, args = f.where(scope)
    total = db.execute(f"SELECT count(*) FROM recordings r{where}", args).fetchone()[0]
    every = db.execute("SELECT count(*) FROM recordings").fetchone()[0]
    skip = (f.calls.page - 1) * f.calls.per_page
    if (skip + f.calls.per_page) * every <= WALK_ROWS * total:
        where, args = f.where(scope, walk=True)
    direction = "ASC" if f.calls.order == "asc" else "DESC"
    order = f"ORDER BY r.created_at {direction}, r.id {direction}"
    page = [r[0] for r in db.execute(f"SELECT r.rowid FROM recordings r{where} {order} LIMIT ? OFFSET ?",
                                     [*args, f.calls.per_page, skip])]
    if not page:
        return [], total
    cursor = db.execute(f"""
        SELECT r.id, r.call_id, r.duration, r.size, r.created_at, c.number, c.name, c.arrived_at, c.queue,
               c.agent_id, a.name AS agent_name, c.disposition, c.customer_id, cu.name AS customer_name,
               (SELECT round(avg(e.score), 1) FROM evaluations e WHERE e.recording_id = r.id) AS score,
               (SELECT group_concat(t.id) FROM tickets t WHERE t.call_id = c.id) AS tickets
        FROM recordings r LEFT JOIN calls c ON c.id = r.call_id LEFT JOIN agents a ON a.id = c.agent_id
        LEFT JOIN customers cu ON cu.id = c.customer_id
        WHERE r.rowid IN ({", ".join("?" * len(page))}) {order}""", page)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    for row in rows:
        row["tickets"] = row["tickets"].split(",") if row["tickets"] else []
    return rows, total


def recording_for(db: sqlite3.Connection, rec_id: str, scope: str | None) -> dict | None:
    """The recording row with its call's agent, if `scope` allows it; None also for one it does not,
    so an agent cannot tell another agent's recording from none (404 either way)."""
    row = db.execute("""SELECT r.id, r.call_id, r.path, r.duration, r.size, r.sha256, r.created_at, c.agent_id
                        FROM recordings r LEFT JOIN calls c ON c.id = r.call_id WHERE r.id = ?""",
                     [rec_id]).fetchone()
    if row is None:
        return None
    rec = dict(zip(("id", "call_id", "path", "duration", "size", "sha256", "created_at", "agent_id"), row))
    if scope is not None and (not scope or rec["agent_id"] != scope):
        return None
    return rec


def recordings_of_call(db: sqlite3.Connection, call_id: str) -> list[dict]:
    """The call's recordings (one, or more after a transfer out), for the links to the player."""
    return [{"id": r[0], "duration": r[1]} for r in db.execute(
        "SELECT id, duration FROM recordings WHERE call_id = ? ORDER BY created_at", [call_id])]


def recording_detail(db: sqlite3.Connection, rec: dict) -> dict:
    """The player's data: the call, its customer and tickets, and its events placed on the recording's
    timeline (`position`: seconds from the recording's start; negative before it, as the IVR is)."""
    found = get_call(db, rec["call_id"])
    call, events = found if found is not None else ({"id": rec["call_id"]}, [])
    customer = None
    if call.get("customer_id"):
        hit = db.execute("SELECT id, name, company FROM customers WHERE id = ?", [call["customer_id"]]).fetchone()
        customer = dict(zip(("id", "name", "company"), hit)) if hit else None
    tickets = [dict(zip(("id", "title", "state"), t)) for t in db.execute(
        "SELECT id, title, state FROM tickets WHERE call_id = ? ORDER BY created_at", [rec["call_id"]])]
    start = recording_start(call, rec)
    timeline = [{"at": e["at"], "kind": e["kind"], "label": e["label"], "data": e["data"],
                 "position": round(e["at"] - start, 3)} for e in events]
    return {"recording": {k: rec[k] for k in ("id", "call_id", "duration", "size", "created_at")},
            "call": call, "customer": customer, "tickets": tickets, "events": timeline, "started_at": start}


def recording_start(call: dict, rec: dict) -> float:
    """When the recording began: it runs to the end of the call (the recorder closes it at the call's
    end, firmware/callcenter/center.py end_call), so its start is the end less its length."""
    end = call.get("ended_at") or rec["created_at"]
    return float(end) - float(rec["duration"] or 0.0)

