"""Call records for the web UI: list filters, pagination and a call's event timeline (read-only)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import time
from collections.abc import Mapping
from urllib.parse import urlencode

from .i18n import N_, gettext as _

# Every firmware.callcenter.calls.Disposition value (a test holds the two together).
# Labels are English messages, translated where they are shown (`_(label)`).
DISPOSITIONS = {
    "answered": N_("Answered"),
    "abandoned": N_("Abandoned"),
    "ivr_hangup": N_("Hung up in IVR"),
    "completed": N_("Completed in IVR"),
    "timeout": N_("Timed out"),
    "overflow": N_("Overflow"),
    "unanswered": N_("Not answered"),
    "busy": N_("Busy"),
    "congestion": N_("Network congestion"),
    "unobtainable": N_("Number unobtainable"),
    "voicemail": N_("Voicemail"),
    "callback": N_("Callback requested"),
    "transferred": N_("Transferred out"),
    "failed": N_("Failed"),
    "fax": N_("Fax (refused)"),
    "interrupted": N_("Interrupted (box restarted)"),
}
EVENT_LABELS = {
    "call:answered": N_("Answered by the box"),
    "ivr:node": N_("IVR node"),
    "ivr:digit": N_("Digit pressed"),
    "queue:enter": N_("Entered queue"),
    "agent:ring": N_("Ringing agent"),
    "queue:connect": N_("Connected to agent"),
    "queue:abandon": N_("Abandoned in queue"),
    "call:hangup": N_("Hung up"),
    # What the recordings player puts on a call's timeline besides (docs/architecture.md §19).
    "ivr:choice": N_("Menu choice"),
    "ivr:collect": N_("Digits entered"),
    "ivr:invalid": N_("Invalid entry"),
    "ivr:timeout": N_("No entry in time"),
    "queue:timeout": N_("Queue timed out"),
    "queue:overflow": N_("Overflowed"),
    "queue:full": N_("Queue full"),
    "agent:noanswer": N_("Agent did not answer"),
    "call:hold": N_("On hold"),
    "call:resume": N_("Back from hold"),
    "call:consult": N_("Consulting a colleague"),
    "call:transfer": N_("Transferred"),
    "call:transfer_answered": N_("Transfer answered"),
    "call:transfer_failed": N_("Transfer failed"),
    "call:transfer_out": N_("Transferred to an outside number"),
    "call:conference": N_("Conference"),
    "supervisor:join": N_("Supervisor joined"),
    "supervisor:mode": N_("Supervisor changed mode"),
    "supervisor:intercept": N_("Supervisor took the call over"),
    "supervisor:leave": N_("Supervisor left"),
    "recording:start": N_("Recording started"),
    "recording:pause": N_("Recording paused"),
    "recording:resume": N_("Recording resumed"),
    "voicemail:start": N_("Voicemail started"),
    "voicemail:end": N_("Voicemail ended"),
    "callback:requested": N_("Callback requested"),
    "call:far_end_gone": N_("Far end hung up (tone or silence on the line)"),
    "call:outcome": N_("What answered the number dialled"),
    "call:machine_beep": N_("Answering machine's beep"),
    "call:survey": N_("Sent to the post-call survey"),
    "ivr:survey": N_("Survey answer"),
    "trunks:over_cap": N_("Over its trunk group's cap"),
}
# A call's direction and who hung up, as the engine records them (firmware/callcenter: Call, end_call).
DIRECTIONS = {"inbound": N_("Inbound"), "outbound": N_("Outbound"), "callback": N_("Callback")}
HANGUP_PARTIES = {"caller": N_("Caller"), "agent": N_("Agent"), "box": N_("The box"),
                  "external": N_("Transfer target")}
# The filter fields as the calls page labels them, for the messages that name one.
FIELD_LABELS = {"from": N_("From"), "to": N_("To"), "number": N_("Number"), "queue": N_("Queue"),
                "agent": N_("Agent"), "disposition": N_("Disposition"), "page": N_("Page"),
                "per_page": N_("Per page")}
PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_TEXT = 64


class FilterError(ValueError):
    """One or more filters are invalid; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class CallFilter:
    """The call-list query as the page and the API take it from the URL."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    number: str = ""
    queue: str = ""
    disposition: str = ""
    agent: str = ""
    order: str = "desc"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> CallFilter:
        """Parse and check the query parameters; raise FilterError naming every bad one."""
        problems: dict[str, str] = {}
        values: dict = {}

        def text(name: str) -> str:
            value = (query.get(name) or "").strip()
            if len(value) > MAX_TEXT:
                problems[name] = (_("%(field)s filter is longer than %(max)d characters.")
                                  % {"field": _(FIELD_LABELS[name]), "max": MAX_TEXT})
                return ""
            return value

        for name in ("from", "to"):
            raw = (query.get(name) or "").strip()
            values[f"date_{name}"] = None
            if raw:
                try:
                    values[f"date_{name}"] = dt.date.fromisoformat(raw)
                except ValueError:
                    problems[name] = (_("%(field)s date must be a date like 2025-03-31, not %(given)r.")
                                      % {"field": _(FIELD_LABELS[name]), "given": raw[:20]})
        if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
            problems["to"] = _("To date is before the From date.")
        values["number"] = text("number")
        values["queue"] = text("queue")
        values["agent"] = text("agent")
        values["disposition"] = text("disposition")
        if values["disposition"] and values["disposition"] not in DISPOSITIONS:
            problems["disposition"] = (_("Disposition must be one of: %(values)s.")
                                       % {"values": ", ".join(DISPOSITIONS)})
        values["order"] = (query.get("order") or "desc").strip()
        if values["order"] not in ("asc", "desc"):
            problems["order"] = _("Order must be asc (oldest first) or desc (newest first).")
        for name, low, high, default in (("page", 1, 1_000_000, 1),
                                         ("per_page", 1, MAX_PER_PAGE, PER_PAGE)):
            raw = (query.get(name) or "").strip()
            try:
                values[name] = int(raw) if raw else default
                if not low <= values[name] <= high:
                    raise ValueError
            except ValueError:
                problems[name] = (_("%(field)s must be a whole number from %(low)d to %(high)d.")
                                  % {"field": _(FIELD_LABELS[name]), "low": low, "high": high})
        if problems:
            raise FilterError(problems)
        return cls(**values)

    def params(self, **changes) -> dict[str, str]:
        """The non-default parameters of this filter (with `changes`), for links and forms."""
        f = dataclasses.replace(self, **changes)
        out = {"from": f.date_from.isoformat() if f.date_from else "",
               "to": f.date_to.isoformat() if f.date_to else "",
               "number": f.number, "queue": f.queue, "disposition": f.disposition, "agent": f.agent,
               "order": "" if f.order == "desc" else f.order,
               "page": "" if f.page == 1 else str(f.page),
               "per_page": "" if f.per_page == PER_PAGE else str(f.per_page)}
        return {k: v for k, v in out.items() if v}

    def query_string(self, **changes) -> str:
        return urlencode(self.params(**changes))

    def where(self) -> tuple[str, list]:
        clauses: list[str] = []
        args: list[object] = []
        if self.date_from:
            clauses.append("c.arrived_at >= ?")
            args.append(local_midnight(self.date_from))
        # The last day a date can name (9999-12-31) has no next day to stop before: no upper bound.
        if self.date_to and self.date_to < dt.date.max:
            clauses.append("c.arrived_at < ?")
            args.append(local_midnight(self.date_to + dt.timedelta(days=1)))
        if self.number:
            escaped = self.number.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("c.number LIKE ? ESCAPE '\\'")
            args.append(f"%{escaped}%")
        for column, value in (("queue", self.queue), ("disposition", self.disposition),
                              ("agent_id", self.agent)):
            if value:
                clauses.append(f"c.{column} = ?")
                args.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def local_midnight(day: dt.date) -> float:
    # Dates in the filter are the box's local calendar days, as the staff read them.
    return time.mktime(day.timetuple())


def _path_nodes(raw: str | None) -> list[str]:
    if not raw:
        return []
    try:
        nodes = json.loads(raw)
    except ValueError:
        return [raw]
    return [str(n) for n in nodes] if isinstance(nodes, list) else [str(nodes)]


def _call_row(row: dict) -> dict:
    row = dict(row)
    row["path"] = _path_nodes(row.get("path"))
    return row


def _rows(db: sqlite3.Connection, sql: str, args: list) -> list[dict]:
    cursor = db.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


def list_calls(db: sqlite3.Connection, f: CallFilter) -> tuple[list[dict], int]:
    """One page of calls matching `f`, and the number of all matching calls."""
    where, args = f.where()
    total = db.execute(f"SELECT count(*) FROM calls c{where}", args).fetchone()[0]
    direction = "ASC" if f.order == "asc" else "DESC"
    rows = _rows(db, f"""
        SELECT c.*, a.name AS agent_name FROM calls c LEFT JOIN agents a ON a.id = c.agent_id
        {where} ORDER BY c.arrived_at {direction}, c.id {direction} LIMIT ? OFFSET ?""",
                 [*args, f.per_page, (f.page - 1) * f.per_page])
    return [_call_row(r) for r in rows], total


def get_call(db: sqlite3.Connection, call_id: str) -> tuple[dict, list[dict]] | None:
    """The call and its events in time order, each with its offset from the call's arrival."""
    rows = _rows(db, """SELECT c.*, a.name AS agent_name FROM calls c
                        LEFT JOIN agents a ON a.id = c.agent_id WHERE c.id = ?""", [call_id])
    if not rows:
        return None
    call = _call_row(rows[0])
    events = _rows(db, "SELECT id, at, kind, data FROM call_events WHERE call_id = ? ORDER BY at, seq",
                   [call_id])
    start = call["arrived_at"] if call["arrived_at"] is not None else (events[0]["at"] if events else 0)
    for event in events:
        try:
            data = json.loads(event["data"]) if event["data"] else {}
        except ValueError:
            data = {"raw": event["data"]}
        event["data"] = data if isinstance(data, dict) else {"value": data}
        event["offset"] = event["at"] - start
        event["label"] = _(EVENT_LABELS[event["kind"]]) if event["kind"] in EVENT_LABELS else event["kind"]
    return call, events


def survey_answers_of(db: sqlite3.Connection, call_id: str) -> list[dict]:
    """The answers the caller gave on the call (a post-call survey, a texted reply), in the order given."""
    return _rows(db, "SELECT survey, question, answer, at FROM survey_answers WHERE call_id = ? ORDER BY at, seq",
                 [call_id])


def filter_choices(db: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """(value, label) options for the queue and agent filters, from the configured queues and agents."""
    queues = [(r[0], r[0]) for r in db.execute("SELECT id FROM queues ORDER BY id").fetchall()]
    agents = [(r[0], f"{r[1]} ({r[0]})" if r[1] else r[0])
              for r in db.execute("SELECT id, name FROM agents ORDER BY name, id").fetchall()]
    return {"queues": queues, "agents": agents,
            "dispositions": [(value, _(label)) for value, label in DISPOSITIONS.items()]}
