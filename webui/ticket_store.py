"""Tickets written by the web process: creation, transitions, edits, notes and the satisfaction callback,
each in one write transaction with its history row, refused whole when stale, out of turn or not allowed."""
from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Callable


from .i18n import gettext as _, language
from .outbox import enqueue
from .shared_writer import SharedWriter
from .sla import add_business_hours
from .ticket_config import FINISHED, TicketConfig, Transition

# Bounds of what a ticket holds (characters): a title is a line, a description a few paragraphs.
LIMITS = {"title": 120, "description": 4000, "address": 300, "number": 32, "note": 2000, "comment": 1000}
# A number as people type it: digits, +, spaces, dashes, dots, parentheses (E.164 plus punctuation).
NUMBER_RE = re.compile(r"\+?[0-9 ()./-]*")
MIN_NUMBER_DIGITS = 3
WHOLE_RE = re.compile(r"[0-9]{1,9}")
# Record ids as the store makes them (firmware/store/ids.py: uuid4 hex; tests and the engine's seeded
# runs may use other printable ids of the same size).
MAX_ID = 64
SCORES = range(1, 6)
# History kinds that stay inside the branch: internal notes and the agent's dialling are not told to webhooks.
INTERNAL_KINDS = ("note", "dial")
OUTCOMES = ("close", "reopen")
EDITABLE = ("title", "description", "address", "category", "priority", "department", "number", "customer_id")
_COLUMNS = ("id", "customer_id", "number", "call_id", "category", "priority", "department", "title",
            "description", "address", "state", "created_by", "agent_id", "created_at", "updated_at", "due_at",
            "resolved_at", "closed_at", "version", "repeat_of", "first_contact_resolution", "satisfaction")
SELECT_TICKET = f"SELECT {', '.join(_COLUMNS)} FROM tickets"


class TicketError(Exception):
    """A change to a ticket is refused: `status` is the HTTP answer, `problems` the bad fields' reasons."""

    def __init__(self, message: str, status: int = 400, problems: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.problems = problems or {}


class StaleTicket(TicketError):
    """The change was made against an older version; `ticket` is the current one."""

    def __init__(self, ticket: dict):
        super().__init__(_("ticket %(id)s was changed by someone else (now version %(version)d, %(state)s): "
                           "reload it and try again") % {**ticket, "state": state_labels()[ticket["state"]]}, 409)
        self.ticket = ticket


def state_labels() -> dict[str, str]:
    """Each ticket state (webui/ticket_config.py STATES) as this request's language names it."""
    return {"new": _("New"), "dispatched": _("Dispatched"), "in_progress": _("In progress"),
            "resolved": _("Resolved"), "confirmed": _("Confirmed"), "closed": _("Closed"),
            "reopened": _("Reopened"), "cancelled": _("Cancelled")}


def whole_number(value: object) -> object:
    """A form's whole number as an int (ASCII digits only: str.isdigit also takes '¹', which int() refuses);
    anything else as it came, for the caller to refuse."""
    if isinstance(value, str) and WHOLE_RE.fullmatch(value):
        return int(value)
    return value


def digits(number: str | None) -> str:
    """A number's digits alone: `021-6123 4567` and `02161234567` compare equal."""
    return re.sub(r"\D", "", number or "")


def row_dict(row: tuple) -> dict:
    return dict(zip(_COLUMNS, row))


def text_field(data: dict, key: str, problems: dict[str, str], *, required: bool = False) -> str:
    """A text field of a form or JSON body, stripped and checked for length and printable characters."""
    raw = data.get(key)
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        problems[key] = _("must be text")
        return ""
    value = raw.strip().replace("\r\n", "\n")
    limit = LIMITS[key]
    if required and not value:
        problems[key] = _("required")
    elif len(value) > limit:
        problems[key] = _("at most %(n)d characters") % {"n": limit}
    elif any(not (c.isprintable() or c in "\n\t") for c in value):
        problems[key] = _("control characters are not allowed")
    return value


def can(transition: Transition, user: dict, ticket: dict, department: str | None) -> bool:
    """May `user` (a member of `department`) make `transition` on `ticket`? (tickets.toml `by`)."""
    for who in transition.by:
        if who in user["roles"]:
            return True
        if who == "department" and department and department == ticket["department"]:
            return True
        if who == "owner" and (ticket["created_by"] == user["username"]
                               or (ticket["agent_id"] and ticket["agent_id"] == user.get("agent_id"))):
            return True
    return False


class TicketStore:
    """Ticket writes through the web process's writing connection (webui/shared_writer.py), one at a time."""

    def __init__(self, db_path: str | Path, config: TicketConfig, clock=time.time):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.config = config
        self.clock = clock
        # Called in the transaction that resolves a ticket (webui/care_calls.py queues the satisfaction call).
        self.on_resolved: Callable[[sqlite3.Connection, dict, float], None] | None = None

    # --- checks --------------------------------------------------------------------------------------
    def clean(self, data: dict, conn: sqlite3.Connection, *, partial: bool = False) -> tuple[dict, dict[str, str]]:
        """The fields of `data` checked; (values, problems by field). `partial`: only the keys given."""
        problems: dict[str, str] = {}
        out: dict = {}
        cfg = self.config
        for key in ("title", "description", "address"):
            if not partial or key in data:
                out[key] = text_field(data, key, problems, required=key == "title")
        for key, choices in (("category", cfg.categories), ("priority", cfg.priorities)):
            if not partial or key in data:
                value = data.get(key) if isinstance(data.get(key), str) else None
                if value not in choices:
                    problems[key] = _("choose one of: %(choices)s") % {"choices": ", ".join(choices)}
                out[key] = value
        if not partial or "department" in data or "category" in data:
            category = cfg.categories.get(out.get("category") or "")
            chosen = data.get("department") if isinstance(data.get("department"), str) else None
            # tickets.toml: a category with a department routes there (complaints to the complaints department).
            department = category.department if category and category.department else chosen
            if department not in cfg.departments:
                problems["department"] = _("choose one of: %(choices)s") % {"choices": ", ".join(cfg.departments)}
            out["department"] = department
        if not partial or "number" in data:
            number = text_field(data, "number", problems)
            if number and "number" not in problems and (not NUMBER_RE.fullmatch(number)
                                                        or len(digits(number)) < MIN_NUMBER_DIGITS):
                problems["number"] = _("a phone number: digits, with + ( ) - . and spaces if you like")
            out["number"] = number or None
        for key, table in (("customer_id", "customers"), ("call_id", "calls")):
            if not partial or key in data:
                value = data.get(key) or None
                if value is not None and (not isinstance(value, str) or len(value) > MAX_ID
                                          or conn.execute(f"SELECT 1 FROM {table} WHERE id = ?",
                                                          [value]).fetchone() is None):
                    problems[key] = (_("no customer with this id") if table == "customers"
                                     else _("no call with this id"))
                out[key] = value
        return out, problems

    def department_of(self, username: str) -> str | None:
        with self.writer.lock:
            row = self.conn.execute("SELECT department FROM users WHERE username = ?", [username]).fetchone()
        return row[0] if row else None

    def set_department(self, username: str, department: str | None) -> str | None:
        """Make `username` a member of `department` (None: of none); returns the one they had."""
        if department is not None and department not in self.config.departments:
            raise TicketError(_("choose one of: %(choices)s") % {"choices": ", ".join(self.config.departments)},
                              400, {"department": _("unknown department")})
        with self.writer.transaction() as conn:
            row = conn.execute("SELECT department FROM users WHERE username = ?", [username]).fetchone()
            if row is None:
                raise TicketError(_("no user %(name)s") % {"name": username}, 404)
            conn.execute("UPDATE users SET department = ? WHERE username = ?", [department, username])
        return row[0]

    # --- writes ---------------------------------------------------------------------------------------
    def create(self, user: dict, data: dict, *, resolve_now: bool = False) -> dict:
        """A new ticket from `data` (a form or JSON body); TicketError names each bad field."""
        now = self.clock()
        department = self.department_of(user["username"])
        with self.writer.transaction() as conn:
            values, problems = self.clean(data, conn)
            if problems:
                raise TicketError(_("the ticket has mistakes: %(fields)s") % {"fields": ", ".join(problems)},
                                  400, problems)
            call = None
            if values["call_id"]:
                call = conn.execute("SELECT number, customer_id, agent_id, ended_at FROM calls WHERE id = ?",
                                    [values["call_id"]]).fetchone()
                # Pre-filled from the call: the caller's number and card unless the agent typed others.
                values["number"] = values["number"] or call[0]
                values["customer_id"] = values["customer_id"] or call[1]
            ticket = {**values, "id": uuid.uuid4().hex, "number_key": digits(values["number"]), "state": "new",
                      "created_by": user["username"],
                      "agent_id": user.get("agent_id") or (call[2] if call else None),
                      "created_at": now, "updated_at": now, "version": 1,
                      "due_at": self._due(values["category"], values["priority"], now)}
            earlier = self._earlier(conn, ticket)
            repeat_since = now - self.config.repeat_window_days * 86400.0
            repeated = [t for t, created in earlier if created >= repeat_since]
            if repeated and ticket["category"] in self.config.repeat_categories:
                ticket["repeat_of"] = repeated[0]
            columns = [c for c in ticket if c in _COLUMNS or c == "number_key"]
            conn.execute(f"INSERT INTO tickets ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                         [ticket[c] for c in columns])
            self._event(conn, ticket["id"], user, now, "created", to_state="new",
                        data={"call_id": ticket["call_id"]} if ticket["call_id"] else None)
            if ticket.get("repeat_of"):
                self._event(conn, ticket["id"], user, now, "repeat", data={"earlier": repeated})
            self._withdraw_fcr(conn, ticket, [t for t, _created in earlier], user, now)
            if resolve_now:
                resolve = self.config.transitions["resolve"]
                self._check(resolve, user, ticket, department)
                self._move(conn, ticket, resolve, user, "", now)
            return self._get(conn, ticket["id"])

    def transition(self, ticket_id: str, user: dict, action: object, note: object, version: object) -> dict:
        """Make `action` (a tickets.toml transition) on the ticket at `version`; the ticket as it is now."""
        transition = self.config.transitions.get(action) if isinstance(action, str) else None
        if transition is None:
            raise TicketError(_("unknown action %(action)r: use one of %(actions)s")
                              % {"action": str(action)[:40], "actions": ", ".join(self.config.transitions)}, 400,
                              {"action": _("unknown action")})
        note = self._note(note)
        now = self.clock()
        department = self.department_of(user["username"])
        with self.writer.transaction() as conn:
            ticket = self._current(conn, ticket_id, version)
            self._check(transition, user, ticket, department)
            self._move(conn, ticket, transition, user, note, now)
            return self._get(conn, ticket_id)

    def edit(self, ticket_id: str, user: dict, data: dict, version: object) -> dict:
        """Change the EDITABLE fields given in `data`; each change goes to the history with old and new."""
        if not user_edits(user):
            raise TicketError(_("only supervisors and administrators edit a ticket"), 403)
        now = self.clock()
        with self.writer.transaction() as conn:
            ticket = self._current(conn, ticket_id, version)
            # Only what differs is checked and changed: a form sends every field, and a category left as it
            # was must not route the ticket back from a department a supervisor chose.
            given = {k: v for k, v in data.items() if k in EDITABLE and (v or None) != ticket[k]}
            values, problems = self.clean(given, conn, partial=True)
            if "category" in values and "priority" not in values:
                values["priority"] = ticket["priority"]
            if problems:
                raise TicketError(_("the ticket has mistakes: %(fields)s") % {"fields": ", ".join(problems)},
                                  400, problems)
            changes = {k: [ticket[k], v] for k, v in values.items() if ticket[k] != v}
            if not changes:
                return ticket
            sets = {k: v for k, (_old, v) in changes.items()}
            if "number" in sets:
                sets["number_key"] = digits(sets["number"])
            if {"category", "priority"} & set(changes) and ticket["state"] not in FINISHED:
                sets["due_at"] = self._due(values.get("category", ticket["category"]),
                                           values.get("priority", ticket["priority"]), ticket["created_at"])
            self._update(conn, ticket, sets, now)
            self._event(conn, ticket_id, user, now, "edit", data=changes)
            return self._get(conn, ticket_id)

    def add_note(self, ticket_id: str, user: dict, note: object) -> dict:
        """An internal note: staff see it on the ticket; it changes nothing else, so it needs no version."""
        text = self._note(note)
        if not text:
            raise TicketError(_("write a note"), 400, {"note": _("required")})
        now = self.clock()
        with self.writer.transaction() as conn:
            if conn.execute("SELECT 1 FROM tickets WHERE id = ?", [ticket_id]).fetchone() is None:
                raise TicketError(_("no ticket with id %(id)s") % {"id": ticket_id}, 404)
            return self._event(conn, ticket_id, user, now, "note", note=text)

    def record_satisfaction(self, ticket_id: str, user: dict, score: object, comment: object, outcome: object,
                            version: object) -> dict:
        """The callback's answer: score 1-5 and comment kept (on the ticket and in survey_answers), then the
        ticket confirmed and closed, or reopened with the comment as its note."""
        problems = {}
        score = whole_number(score)
        if isinstance(score, bool) or score not in SCORES:
            problems["score"] = _("a score from 1 to 5")
        if outcome not in OUTCOMES:
            problems["outcome"] = _("close the ticket or reopen it")
        text = text_field({"comment": comment}, "comment", problems)
        if problems:
            raise TicketError(_("the answer has mistakes: %(fields)s") % {"fields": ", ".join(problems)},
                              400, problems)
        now = self.clock()
        department = self.department_of(user["username"])
        steps = ("confirm", "close") if outcome == "close" else ("reopen",)
        with self.writer.transaction() as conn:
            ticket = self._current(conn, ticket_id, version)
            if ticket["state"] != "resolved":
                raise TicketError(_("only a resolved ticket awaits the customer's answer; this one is %(state)s")
                                  % {"state": state_labels()[ticket["state"]]}, 409)
            for step in steps:
                self._check(self.config.transitions[step], user, {**ticket, "state": "resolved"
                                                                  if step != "close" else "confirmed"}, department)
            self._event(conn, ticket_id, user, now, "satisfaction", data={"score": score, "comment": text})
            survey = f"ticket:{ticket_id}"
            for question, answer in (("score", str(score)), ("comment", text)):
                conn.execute("INSERT INTO survey_answers (id, call_id, survey, question, answer, at)"
                             " VALUES (?, ?, ?, ?, ?, ?)", [uuid.uuid4().hex, ticket["call_id"], survey, question,
                                                           answer, now])
            self._update(conn, ticket, {"satisfaction": score}, now, bump=False)
            for step in steps:
                ticket = self._get(conn, ticket_id)
                self._move(conn, ticket, self.config.transitions[step], user, text if step == "reopen" else "", now)
            return self._get(conn, ticket_id)

    def note_dial(self, ticket_id: str, user: dict, number: str) -> None:
        """The callback was dialled: kept in the ticket's history."""
        with self.writer.transaction() as conn:
            self._event(conn, ticket_id, user, self.clock(), "dial", data={"number": number})

    # --- inside a transaction --------------------------------------------------------------------------
    def _note(self, note: object) -> str:
        problems: dict[str, str] = {}
        text = text_field({"note": note}, "note", problems)
        if problems:
            raise TicketError(_("note: %(reason)s") % {"reason": problems["note"]}, 400, problems)
        return text

    def _current(self, conn: sqlite3.Connection, ticket_id: str, version: object) -> dict:
        ticket = self._get(conn, ticket_id)
        if ticket is None:
            raise TicketError(_("no ticket with id %(id)s") % {"id": ticket_id}, 404)
        version = whole_number(version)
        if isinstance(version, bool) or not isinstance(version, int):
            raise TicketError(_("send the version of the ticket you saw"), 400,
                              {"version": _("the ticket's version, a whole number")})
        if version != ticket["version"]:
            raise StaleTicket(ticket)
        return ticket

    def _check(self, transition: Transition, user: dict, ticket: dict, department: str | None) -> None:
        labels, name = state_labels(), transition.name(language())
        if ticket["state"] not in transition.sources:
            raise TicketError(_("“%(action)s” is not possible for a ticket that is %(state)s; only from: %(from)s")
                              % {"state": labels[ticket["state"]], "action": name,
                                 "from": ", ".join(labels[s] for s in transition.sources)}, 409)
        if not can(transition, user, ticket, department):
            raise TicketError(_("you may not “%(action)s” this ticket (allowed: %(who)s)")
                              % {"action": name, "who": ", ".join(transition.by)}, 403)

    def _move(self, conn: sqlite3.Connection, ticket: dict, transition: Transition, user: dict, note: str,
              now: float) -> None:
        sets: dict = {"state": transition.to}
        if transition.to == "resolved":
            sets["resolved_at"] = now
            sets["first_contact_resolution"] = self._during_call(conn, ticket, now)
        elif transition.to == "closed":
            sets["closed_at"] = now
        elif transition.to == "reopened":
            # A reopened ticket was not resolved at first contact, and its SLA starts again.
            sets.update(resolved_at=None, closed_at=None, first_contact_resolution=0 if ticket["call_id"] else None,
                        due_at=self._due(ticket["category"], ticket["priority"], now))
        self._update(conn, ticket, sets, now)
        self._event(conn, ticket["id"], user, now, "transition", action=transition.id, from_state=ticket["state"],
                    to_state=transition.to, note=note)
        if transition.to == "resolved" and self.on_resolved is not None:
            self.on_resolved(conn, ticket, now)

    def _during_call(self, conn: sqlite3.Connection, ticket: dict, now: float) -> int | None:
        """docs/requirements.md R14: resolved while the call that created it lasts (1), or later (0)."""
        if not ticket["call_id"]:
            return None
        row = conn.execute("SELECT ended_at FROM calls WHERE id = ?", [ticket["call_id"]]).fetchone()
        ended = row[0] if row else None
        return 1 if ended is None or now <= ended else 0

    def _withdraw_fcr(self, conn: sqlite3.Connection, ticket: dict, earlier: list[str], user: dict,
                      now: float) -> None:
        """A ticket that follows within the FCR window takes first-contact resolution from the earlier ones."""
        cutoff = now - self.config.fcr_window_days * 86400.0
        for ticket_id in earlier:
            row = conn.execute("SELECT first_contact_resolution, resolved_at FROM tickets WHERE id = ?",
                               [ticket_id]).fetchone()
            if row[0] == 1 and row[1] is not None and row[1] >= cutoff:
                conn.execute("UPDATE tickets SET first_contact_resolution = 0, updated_at = ? WHERE id = ?",
                             [now, ticket_id])
                self._event(conn, ticket_id, user, now, "followed_up", data={"by": ticket["id"]})

    def _earlier(self, conn: sqlite3.Connection, ticket: dict) -> list[tuple[str, float]]:
        """(id, created_at) of the tickets of the same customer or number and category within the repeat
        or the FCR window, whichever is longer, latest first."""
        window = max(self.config.repeat_window_days, self.config.fcr_window_days) * 86400.0
        since = ticket["created_at"] - window
        found: dict[str, float] = {}
        for key, value in (("customer_id", ticket["customer_id"]), ("number_key", ticket["number_key"])):
            if value:
                for ticket_id, created in conn.execute(
                        f"SELECT id, created_at FROM tickets WHERE {key} = ? AND category = ? AND created_at >= ?"
                        " AND id != ?", [value, ticket["category"], since, ticket["id"]]):
                    found[ticket_id] = created
        return sorted(found.items(), key=lambda item: item[1], reverse=True)

    def _due(self, category: str, priority: str, start: float) -> float:
        hours = self.config.categories[category].sla_hours[priority]
        return add_business_hours(self.config.calendar, start, hours)

    def _update(self, conn: sqlite3.Connection, ticket: dict, sets: dict, now: float, bump: bool = True) -> None:
        sets = {**sets, "updated_at": now}
        assignments = ", ".join(f"{k} = ?" for k in sets)
        conn.execute(f"UPDATE tickets SET {assignments}{', version = version + 1' if bump else ''} WHERE id = ?",
                     [*sets.values(), ticket["id"]])

    @staticmethod
    def _event(conn: sqlite3.Connection, ticket_id: str, user: dict, at: float, kind: str, *, action: str | None = None,
               from_state: str | None = None, to_state: str | None = None, note: str = "",
               data: dict | None = None) -> dict:
        event = {"id": uuid.uuid4().hex, "ticket_id": ticket_id, "at": at, "username": user["username"],
                 "kind": kind, "action": action, "from_state": from_state, "to_state": to_state, "note": note or None,
                 "data": json.dumps(data, ensure_ascii=False, default=str) if data else None}
        conn.execute("INSERT INTO ticket_events (id, ticket_id, at, username, kind, action, from_state, to_state,"
                     " note, data) VALUES (:id, :ticket_id, :at, :username, :kind, :action, :from_state, :to_state,"
                     " :note, :data)", event)
        if kind not in INTERNAL_KINDS:
            # In the change's own transaction (webui/outbox.py): the event exists if and only if the change does.
            change = {"kind": kind, "action": action, "from_state": from_state, "to_state": to_state, "at": at,
                      "by": user["username"], "data": data or {}}
            enqueue(conn, "ticket.created" if kind == "created" else "ticket.changed", f"ticket:{ticket_id}",
                    {"ticket": TicketStore._get(conn, ticket_id), "change": change}, now=at)
        return event

    @staticmethod
    def _get(conn: sqlite3.Connection, ticket_id: str) -> dict:
        row = conn.execute(f"{SELECT_TICKET} WHERE id = ?", [ticket_id]).fetchone()
        return row_dict(row) if row else None  # type: ignore[return-value]

    def close(self) -> None:
        self.writer.close()


def user_edits(user: dict) -> bool:
    """Editing a ticket's fields is a supervisor's (or admin's) correction; staff add notes instead."""
    return bool({"supervisor", "admin"} & set(user["roles"]))
