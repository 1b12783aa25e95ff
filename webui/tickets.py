"""Tickets in the web UI and the API: the list with filters, a ticket's page (history, linked call and
recording, transitions), new tickets (by hand or from a call), a department's work queue, an agent's
satisfaction callbacks, and who belongs to which department."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

from bottle import Bottle, HTTPError, HTTPResponse, redirect, request, response

from firmware.core.commands import MAX_DIAL
from firmware.store.sync import FileRefused, find_file

from .auth import requires
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import gettext as _, language
from .recordings import first_byte
from .replies import json_body, json_error
from .sync import send_file
from .ticket_config import STATES, load_ticket_config, ticket_config_path
from .ticket_queries import (TicketFilter, TicketFilterError, callbacks_for, department_queue, get_ticket,
                             is_overdue, linked_call, list_tickets, overdue_count, related_tickets, ticket_events)
from .ticket_store import EDITABLE, StaleTicket, TicketError, TicketStore, can, digits, state_labels, user_edits

TICKET_ROLES = ("admin", "supervisor", "agent")
# Correcting a ticket's fields is a supervisor's; staff add notes instead.
EDIT_ROLES = ("admin", "supervisor")
DEPARTMENT_ROLES = ("admin",)
# The new-ticket form offers the agent's last calls to start from.
RECENT_CALLS = 10


def event_labels() -> dict[str, str]:
    return {"created": _("Created"), "transition": _("State changed"), "edit": _("Edited"),
            "note": _("Internal note"), "satisfaction": _("Customer's answer"), "repeat": _("Repeat complaint"),
            "followed_up": _("Followed up by a later ticket"), "dial": _("Customer called back")}


def _refusal(exc: TicketError) -> HTTPResponse:
    body: dict = {"error": str(exc)}
    if exc.problems:
        body["problems"] = exc.problems
    if isinstance(exc, StaleTicket):
        body["ticket"] = exc.ticket
    return HTTPResponse(json.dumps(body, ensure_ascii=False), exc.status,
                        {"Content-Type": "application/json", "Cache-Control": "no-store"})


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, clock=time.time) -> TicketStore:
    """Add the ticket pages and /api/v1/tickets to the web app; the store is closed with the app."""
    db_path = Path(db_path)
    config = load_ticket_config(ticket_config_path(db_path.parent / "config"))
    store = TicketStore(db_path, config, clock)
    recordings = db_path.with_name("recordings")

    def names(table: dict) -> dict[str, str]:
        lang = language()
        return {key: item.name(lang) for key, item in table.items()}

    def choices() -> dict:
        return {"categories": names(config.categories), "priorities": names(config.priorities),
                "departments": names(config.departments), "states": state_labels(),
                "category_departments": {k: c.department for k, c in config.categories.items()}}

    def page(name: str, **kwargs) -> str:
        return render(name, choices=choices(), now=clock(), is_overdue=is_overdue, **kwargs)

    def found(db, ticket_id: str) -> dict:
        ticket = get_ticket(db, ticket_id)
        if ticket is None:
            raise HTTPError(404, _("There is no ticket with id %(id)s.") % {"id": ticket_id})
        return ticket

    def available(ticket: dict, user: dict) -> list:
        department = store.department_of(user["username"])
        return [t for t in config.actions_from(ticket["state"]) if can(t, user, ticket, department)]

    def details(db, ticket: dict, allowed: list) -> dict:
        call, recording = linked_call(db, ticket["call_id"])
        return {"events": ticket_events(db, ticket["id"]), "related": related_tickets(db, ticket), "call": call,
                "recording": recording, "actions": [t.id for t in allowed]}

    def ticket_page(db, user, ticket_id: str, error: str | None = None, problems: dict | None = None,
                    status: int = 200):
        ticket = found(db, ticket_id)
        response.status = status
        lang = language()
        allowed = available(ticket, user)
        more = details(db, ticket, allowed)
        # The satisfaction callback is the confirmation: offered to whoever may confirm a resolved ticket.
        action_ids = more.pop("actions")
        callback = ticket["state"] == "resolved" and "confirm" in action_ids
        return page("ticket", title=_("Ticket %(ref)s") % {"ref": ticket["id"][:8]}, active="tickets", ticket=ticket,
                    actions=[(t.id, t.name(lang)) for t in allowed], error=error, problems=problems or {},
                    can_edit=user_edits(user), event_labels=event_labels(), callback=callback,
                    fcr_until=(ticket["resolved_at"] or 0) + config.fcr_window_days * 86400.0,
                    scripts=["kb_search.js"], **more)

    # --- pages -----------------------------------------------------------------------------------------
    @app.get("/tickets")
    @requires(*TICKET_ROLES)
    def tickets_page(db):
        query = request.query.decode()
        problems: dict[str, str] = {}
        tickets: list[dict] = []
        total, f = 0, TicketFilter()
        try:
            f = TicketFilter.from_query(query, config)
            tickets, total = list_tickets(db, f, clock())
        except TicketFilterError as exc:
            response.status, problems = 400, exc.problems
        return page("tickets", title=_("Tickets"), active="tickets", form=dict(query), problems=problems,
                    tickets=tickets, total=total, f=f, pages=max(1, math.ceil(total / f.per_page)), urlencode=urlencode,
                    overdue=overdue_count(db, clock()))

    @app.get("/tickets/new")
    @requires(*TICKET_ROLES)
    def new_ticket_form(user, db):
        form = {"category": "", "priority": "normal", "department": "", "title": "", "description": "",
                "address": "", "number": "", "customer_id": "", "call_id": ""}
        call_id = request.query.getunicode("call_id", default="")
        call = None
        if call_id:
            call, _recording = linked_call(db, call_id)
            if call is None:
                raise HTTPError(404, _("There is no call with id %(id)s.") % {"id": call_id})
            customer = db.execute("SELECT customer_id FROM calls WHERE id = ?", [call_id]).fetchone()[0]
            form.update(call_id=call_id, number=call["number"] or "", customer_id=customer or "")
        return page("ticket_new", title=_("New ticket"), active="tickets", form=form, problems={}, call=call,
                    recent=[] if call else recent_calls(db, user["agent_id"]))

    @app.post("/tickets/new")
    @requires(*TICKET_ROLES)
    def new_ticket_submit(user, db):
        form = {k: request.forms.getunicode(k, default="") for k in (
            "category", "priority", "department", "title", "description", "address", "number", "customer_id",
            "call_id")}
        try:
            ticket = store.create(user, form, resolve_now=request.forms.get("resolve_now") == "1")
        except TicketError as exc:
            response.status = exc.status
            call, _recording = linked_call(db, form["call_id"])
            return page("ticket_new", title=_("New ticket"), active="tickets", form=form,
                        problems=exc.problems or {"form": str(exc)}, call=call, recent=[])
        redirect(f"/tickets/{ticket['id']}")

    @app.get("/tickets/queue")
    @requires(*TICKET_ROLES)
    def queue_page(user, db):
        own = store.department_of(user["username"])
        chosen = request.query.getunicode("department", default="") or own or ""
        if chosen and chosen not in config.departments:
            raise HTTPError(400, _("There is no department %(name)s.") % {"name": chosen})
        tickets = department_queue(db, chosen) if chosen else []
        return page("ticket_queue", title=_("Department work queue"), active="tickets", tickets=tickets,
                    department=chosen, own=own)

    @app.get("/tickets/callbacks")
    @requires(*TICKET_ROLES)
    def callbacks_page(user, db):
        return page("ticket_callbacks", title=_("My callbacks"), active="tickets", tickets=callbacks_for(db, user))

    @app.get("/tickets/departments")
    @requires(*DEPARTMENT_ROLES)
    def departments_page(db):
        users = db.execute("SELECT username, display_name, roles, department FROM users WHERE NOT disabled"
                           " ORDER BY username").fetchall()
        return page("ticket_departments", title=_("Departments"), active="tickets", users=users)

    @app.post("/tickets/departments")
    @requires(*DEPARTMENT_ROLES)
    def departments_submit(audit):
        username = request.forms.getunicode("username", default="")
        department = request.forms.getunicode("department", default="") or None
        try:
            old = store.set_department(username, department)
        except TicketError as exc:
            raise HTTPError(exc.status, str(exc)) from None
        audit.record("user.update", username, {"department": [old, department]})
        redirect("/tickets/departments")

    @app.get("/tickets/<ticket_id>")
    @requires(*TICKET_ROLES)
    def ticket_view(ticket_id, user, db):
        return ticket_page(db, user, ticket_id)

    @app.post("/tickets/<ticket_id>/transition")
    @requires(*TICKET_ROLES)
    def ticket_transition(ticket_id, user, db):
        try:
            store.transition(ticket_id, user, request.forms.getunicode("action", default=""),
                             request.forms.getunicode("note", default=""),
                             request.forms.getunicode("version", default=""))
        except TicketError as exc:
            return ticket_page(db, user, ticket_id, str(exc), exc.problems, exc.status)
        redirect(f"/tickets/{ticket_id}")

    @app.post("/tickets/<ticket_id>/edit")
    @requires(*EDIT_ROLES)
    def ticket_edit(ticket_id, user, db):
        forms = request.forms
        changes = {k: forms.getunicode(k, default="") for k in EDITABLE}
        try:
            store.edit(ticket_id, user, changes, forms.getunicode("version", default=""))
        except TicketError as exc:
            return ticket_page(db, user, ticket_id, str(exc), exc.problems, exc.status)
        redirect(f"/tickets/{ticket_id}")

    @app.post("/tickets/<ticket_id>/note")
    @requires(*TICKET_ROLES)
    def ticket_note(ticket_id, user, db):
        try:
            store.add_note(ticket_id, user, request.forms.getunicode("note", default=""))
        except TicketError as exc:
            return ticket_page(db, user, ticket_id, str(exc), exc.problems, exc.status)
        redirect(f"/tickets/{ticket_id}")

    @app.post("/tickets/<ticket_id>/satisfaction")
    @requires(*TICKET_ROLES)
    def ticket_satisfaction(ticket_id, user, db):
        forms = request.forms
        try:
            store.record_satisfaction(ticket_id, user, forms.getunicode("score", default=""),
                                      forms.getunicode("comment", default=""), forms.getunicode("outcome"),
                                      forms.getunicode("version", default=""))
        except TicketError as exc:
            return ticket_page(db, user, ticket_id, str(exc), exc.problems, exc.status)
        redirect(f"/tickets/{ticket_id}")

    @app.post("/tickets/<ticket_id>/dial")
    @requires(*TICKET_ROLES)
    def ticket_dial(ticket_id, user, db, engine):
        try:
            dial(db, user, engine, ticket_id)
        except TicketError as exc:
            return ticket_page(db, user, ticket_id, str(exc), exc.problems, exc.status)
        redirect(f"/tickets/{ticket_id}?dialled=1")

    @app.get("/tickets/<ticket_id>/recording")
    @requires(*TICKET_ROLES)
    def ticket_recording(ticket_id, db, audit):
        ticket = found(db, ticket_id)
        _call, recording = linked_call(db, ticket["call_id"])
        if recording is None:
            raise HTTPError(404, _("This ticket's call has no recording."))
        try:
            f = find_file(db, recordings, "recordings", recording["id"])
        except FileRefused:
            raise HTTPError(404, _("The recording's file is not on the box.")) from None
        if first_byte() == 0:
            # Every play and download is audited (docs/architecture.md §19); a later range continues one.
            audit.record("recording.play", recording["id"], {"call_id": ticket["call_id"], "ticket": ticket_id})
        return send_file(f)

    def recent_calls(db, agent_id: str | None) -> list[tuple]:
        """The agent's last calls, newest first: the ones a ticket is most often made from."""
        if not agent_id:
            return []
        return db.execute("SELECT id, number, arrived_at FROM calls WHERE agent_id = ? ORDER BY arrived_at DESC"
                          " LIMIT ?", [agent_id, RECENT_CALLS]).fetchall()

    def dial(db, user: dict, engine: Engine, ticket_id: str) -> dict:
        """Ring the customer back through the engine from the signed-in user's own agent."""
        ticket = get_ticket(db, ticket_id)
        if ticket is None:
            raise TicketError(_("no ticket with id %(id)s") % {"id": ticket_id}, 404)
        if not user["agent_id"]:
            raise TicketError(_("your account is not linked to an agent id; ask an administrator"), 409)
        number = dial_string(ticket["number"])
        if not number or len(number) > MAX_DIAL:
            raise TicketError(_("this ticket has no number the box can dial"), 409)
        try:
            engine.dial(user["agent_id"], number)
        except EngineUnavailable as exc:
            raise TicketError(str(exc), 503) from None
        except CommandRefused as exc:
            raise TicketError(_("the engine did not dial: %(reason)s") % {"reason": exc}, 409) from None
        store.note_dial(ticket_id, user, number)
        return {"ok": True, "agent": user["agent_id"], "number": number}

    # --- API --------------------------------------------------------------------------------------------
    @app.get("/api/v1/tickets")
    @requires(*TICKET_ROLES)
    def api_tickets(db):
        try:
            f = TicketFilter.from_query(request.query.decode(), config)
        except TicketFilterError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        tickets, total = list_tickets(db, f, clock())
        return {"tickets": tickets, "total": total, "page": f.page, "per_page": f.per_page,
                "pages": max(1, math.ceil(total / f.per_page))}

    @app.post("/api/v1/tickets")
    @requires(*TICKET_ROLES)
    def api_create(user):
        body = json_body()
        try:
            ticket = store.create(user, body, resolve_now=body.get("resolve_now") is True)
        except TicketError as exc:
            raise _refusal(exc) from None
        response.status = 201
        return {"ticket": ticket}

    @app.get("/api/v1/tickets/<ticket_id>")
    @requires(*TICKET_ROLES)
    def api_ticket(ticket_id, user, db):
        ticket = get_ticket(db, ticket_id)
        if ticket is None:
            raise json_error(404, _("no ticket with id %(id)s") % {"id": ticket_id})
        return {"ticket": ticket, **details(db, ticket, available(ticket, user))}

    @app.patch("/api/v1/tickets/<ticket_id>")
    @requires(*EDIT_ROLES)
    def api_edit(ticket_id, user):
        body = json_body()
        try:
            return {"ticket": store.edit(ticket_id, user, body, body.get("version"))}
        except TicketError as exc:
            raise _refusal(exc) from None

    @app.post("/api/v1/tickets/<ticket_id>/transitions")
    @requires(*TICKET_ROLES)
    def api_transition(ticket_id, user):
        body = json_body()
        try:
            return {"ticket": store.transition(ticket_id, user, body.get("action"), body.get("note"),
                                               body.get("version"))}
        except TicketError as exc:
            raise _refusal(exc) from None

    @app.post("/api/v1/tickets/<ticket_id>/notes")
    @requires(*TICKET_ROLES)
    def api_note(ticket_id, user):
        try:
            event = store.add_note(ticket_id, user, json_body().get("note"))
        except TicketError as exc:
            raise _refusal(exc) from None
        response.status = 201
        return {"event": {**event, "data": {}}}

    @app.post("/api/v1/tickets/<ticket_id>/satisfaction")
    @requires(*TICKET_ROLES)
    def api_satisfaction(ticket_id, user):
        body = json_body()
        try:
            return {"ticket": store.record_satisfaction(ticket_id, user, body.get("score"), body.get("comment"),
                                                        body.get("outcome"), body.get("version"))}
        except TicketError as exc:
            raise _refusal(exc) from None

    @app.post("/api/v1/tickets/<ticket_id>/dial")
    @requires(*TICKET_ROLES)
    def api_dial(ticket_id, user, db, engine):
        try:
            return dial(db, user, engine, ticket_id)
        except TicketError as exc:
            raise _refusal(exc) from None

    @app.get("/api/v1/ticket-settings")
    @requires(*TICKET_ROLES)
    def api_settings():
        return {"states": list(STATES), **{k: v for k, v in choices().items() if k != "states"},
                "transitions": {t.id: {"name": t.name(language()), "from": list(t.sources), "to": t.to,
                                       "by": list(t.by)} for t in config.transitions.values()},
                "repeat_window_days": config.repeat_window_days, "fcr_window_days": config.fcr_window_days}

    @app.put("/api/v1/users/<username>/department")
    @requires(*DEPARTMENT_ROLES)
    def api_department(username, audit):
        department = json_body().get("department")
        if department is not None and not isinstance(department, str):
            raise json_error(400, _("department: an id from the tickets settings, or null"))
        try:
            old = store.set_department(username, department or None)
        except TicketError as exc:
            raise _refusal(exc) from None
        audit.record("user.update", username, {"department": [old, department or None]})
        return {"username": username, "department": department or None}

    return store


def dial_string(number: str | None) -> str:
    """What the engine dials for a number as written: its digits (the box dials 0-9, * and #); a number in
    international form (+CC ...) with the international prefix 00 (ITU-T E.164.1's recommended prefix,
    China's and most of Europe's) in place of the +."""
    text = (number or "").strip()
    return ("00" if text.startswith("+") else "") + digits(text) if digits(text) else ""
