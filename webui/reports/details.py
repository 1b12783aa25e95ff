"""Detail queries: every column of the calls and of the tickets in the range, paged on the page and in JSON,
every row in an export (read from the cursor as it is written)."""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator

from ..i18n import N_, gettext as _
from ..records import DIRECTIONS, DISPOSITIONS, HANGUP_PARTIES
from ..ticket_store import state_labels
from . import buckets
from .params import ReportParams
from .table import Column, Table
from .tickets import names, ticket_filter

# (column, SQL, kind, label, definition): the calls table's columns (firmware/store/migrations.py) in the
# order a reader follows a call.
CALL_FIELDS = (
    ("id", "c.id", "text", N_("Call id"), N_("The call's record id.")),
    ("arrived_at", "c.arrived_at", "datetime", N_("Arrived"), N_("First ring, local time.")),
    ("direction", "c.direction", "text", N_("Direction"), ""),
    ("channel", "c.channel", "text", N_("Line"), N_("The line the call came in on.")),
    ("number", "c.number", "text", N_("Number"), N_("Caller ID as the line delivered it.")),
    ("name", "c.name", "text", N_("Name"), N_("Caller ID name.")),
    ("customer_id", "c.customer_id", "text", N_("Customer"), N_("The customer card the number belongs to.")),
    ("answered_at", "c.answered_at", "datetime", N_("Answered by the box"), ""),
    ("path", "c.path", "text", N_("IVR path"), N_("The IVR nodes, in order.")),
    ("digits", "c.digits", "text", N_("Digits"), N_("Keys pressed (secure input masked).")),
    ("queue", "c.queue", "text", N_("Queue"), ""),
    ("priority", "c.priority", "int", N_("Priority"), ""),
    ("queued_at", "c.queued_at", "datetime", N_("Queued"), ""),
    ("wait", "c.wait", "duration", N_("Wait"), N_("Time in the queue until answered or gone.")),
    ("agent_id", "c.agent_id", "text", N_("Agent id"), ""),
    ("agent_name", "a.name", "text", N_("Agent"), ""),
    ("connected_at", "c.connected_at", "datetime", N_("Connected"), N_("Answered by the agent.")),
    ("talk", "c.talk - coalesce(c.hold, 0)", "duration", N_("Talk"), N_("Connected time, hold excluded.")),
    ("hold", "c.hold", "duration", N_("Hold"), ""),
    ("transfers", "c.transfers", "int", N_("Transfers"), ""),
    ("intercepted_by", "c.intercepted_by", "text", N_("Taken over by"), N_("The supervisor who took the call over.")),
    ("ended_at", "c.ended_at", "datetime", N_("Ended"), ""),
    ("disposition", "c.disposition", "text", N_("Disposition"), N_("How the call ended.")),
    ("hangup_by", "c.hangup_by", "text", N_("Hung up by"), ""),
    ("wrapup_code", "c.wrapup_code", "text", N_("Wrap-up code"), N_("The code the agent gave the call.")),
)
TICKET_FIELDS = (
    ("id", "t.id", "text", N_("Ticket id"), ""),
    ("created_at", "t.created_at", "datetime", N_("Created"), ""),
    ("number", "t.number", "text", N_("Number"), N_("The caller's number as given.")),
    ("customer_id", "t.customer_id", "text", N_("Customer"), ""),
    ("call_id", "t.call_id", "text", N_("Call id"), N_("The call the ticket came from.")),
    ("category", "t.category", "text", N_("Category"), ""),
    ("priority", "t.priority", "text", N_("Priority"), ""),
    ("department", "t.department", "text", N_("Department"), ""),
    ("title", "t.title", "text", N_("Title"), ""),
    ("description", "t.description", "text", N_("Description"), ""),
    ("address", "t.address", "text", N_("Address"), ""),
    ("state", "t.state", "text", N_("State"), ""),
    ("created_by", "t.created_by", "text", N_("Created by"), ""),
    ("agent_id", "t.agent_id", "text", N_("Agent id"), ""),
    ("due_at", "t.due_at", "datetime", N_("Due"), N_("The SLA's due time.")),
    ("resolved_at", "t.resolved_at", "datetime", N_("Resolved"), ""),
    ("closed_at", "t.closed_at", "datetime", N_("Closed"), ""),
    ("updated_at", "t.updated_at", "datetime", N_("Updated"), ""),
    ("repeat_of", "t.repeat_of", "text", N_("Repeat of"), N_("The earlier ticket this one repeats.")),
    ("fcr", "t.first_contact_resolution", "text", N_("FCR"),
     N_("Yes: resolved during its call; no: followed up; empty: not judged yet.")),
    ("satisfaction", "t.satisfaction", "int", N_("Satisfaction"), N_("The customer's score at the callback, 1-5.")),
)


def _columns(fields: tuple) -> tuple[Column, ...]:
    return tuple(Column(key, label, kind, definition) for key, _sql, kind, label, definition in fields)


def _local(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch).replace(microsecond=0)


def _rows(cursor: sqlite3.Cursor, kinds: list[str], convert: Callable[[list], None]) -> Iterator[tuple]:
    for raw in cursor:
        row = [(_local(v) if kind == "datetime" else v) for kind, v in zip(kinds, raw)]
        convert(row)
        yield tuple(row)


def _paged(db: sqlite3.Connection, p: ReportParams, sql: str, args: list) -> tuple[str, list, int | None]:
    """JSON and the page read one page (and the count); an export reads every row."""
    if p.format != "json":
        return sql, args, None
    total = db.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0]
    return sql + " LIMIT ? OFFSET ?", [*args, p.per_page, (p.page - 1) * p.per_page], total


def call_details(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    where, args = buckets.call_filter(p)
    where = where.replace(" AND c.direction = 'inbound'", "")   # the details hold every call, outbound too
    select = ", ".join(f[1] for f in CALL_FIELDS)
    sql, args, total = _paged(db, p, f"SELECT {select} FROM calls c LEFT JOIN agents a ON a.id = c.agent_id"
                                     f" WHERE {where} ORDER BY c.arrived_at, c.id", args)
    kinds = [f[2] for f in CALL_FIELDS]
    index = {f[0]: i for i, f in enumerate(CALL_FIELDS)}
    labels = {"disposition": DISPOSITIONS, "direction": DIRECTIONS, "hangup_by": HANGUP_PARTIES}

    def convert(row: list) -> None:
        for key, table in labels.items():
            value = row[index[key]]
            if value in table:
                row[index[key]] = _(table[value])

    return [Table("call_details", N_("Calls in detail"), _columns(CALL_FIELDS),
                  _rows(db.execute(sql, args), kinds, convert), total=total)]


def ticket_details(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    where, args = ticket_filter(p)
    select = ", ".join(f[1] for f in TICKET_FIELDS)
    sql, args, total = _paged(db, p, f"SELECT {select} FROM tickets t WHERE {where} ORDER BY t.created_at, t.id",
                              args)
    kinds = [f[2] for f in TICKET_FIELDS]
    index = {f[0]: i for i, f in enumerate(TICKET_FIELDS)}
    categories, departments = names(db)
    states = state_labels()
    fcr = {1: _("yes"), 0: _("no")}

    def convert(row: list) -> None:
        for key, table in (("category", categories), ("department", departments), ("state", states), ("fcr", fcr)):
            value = row[index[key]]
            if value in table:
                row[index[key]] = table[value]

    return [Table("ticket_details", N_("Tickets in detail"), _columns(TICKET_FIELDS),
                  _rows(db.execute(sql, args), kinds, convert), total=total)]
