"""The technician's texts page and its API: the GSM modem's SIM, registration and signal, the recent texts
in and out with their states, a test text, and "send again" for a text whose fate is unknown.

The modem belongs to the engine (firmware/callcenter/sms.py); this module asks it through the control socket
(sms.status, sms.send, sms.resend) and reads the texts from the records."""
from __future__ import annotations

import re
import sqlite3
from typing import Callable

from bottle import Bottle, response

from .auth import requires
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import N_
from .i18n import gettext as _
from .replies import json_body, json_error
from .tools import TOOLS_ROLES

SMS_ROLES = TOOLS_ROLES     # the technician's, like the tools page
# The engine's record ids are uuid4 hex.
ID_RE = re.compile(r"[0-9a-f]{32}")
RECENT = 100
# firmware/core/commands.py MAX_TYPED_NUMBER and MAX_SMS_TEXT.
MAX_NUMBER, MAX_TEXT = 32, 670
STATE_NAMES = {"queued": N_("queued"), "sending": N_("sending"), "sent": N_("sent"), "delivered": N_("delivered"),
               "failed": N_("failed"), "unknown": N_("unknown: check before sending again"),
               "received": N_("received"), "partial": N_("part received")}
REGISTRATION_NAMES = {"home": N_("registered (home)"), "roaming": N_("registered (roaming)"),
                      "searching": N_("searching"), "denied": N_("denied"), "not_registered": N_("not registered"),
                      "unknown": N_("unknown")}


def recent_texts(db: sqlite3.Connection, limit: int = RECENT) -> list[dict]:
    cur = db.execute("SELECT id, direction, number, text, state, purpose, parts, error, attempts, created_at, sent_at,"
                     " delivered_at, requested_by FROM sms_messages ORDER BY created_at DESC LIMIT ?", [limit])
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row)) for row in cur]


def _modem(engine: Engine) -> tuple[dict | None, str]:
    """(the engine's sms.status, "") or (None, why not)."""
    try:
        return engine.command("sms.status"), ""
    except (EngineUnavailable, CommandRefused) as exc:
        return None, str(exc)


def install(app: Bottle, render: Callable[..., str]) -> None:
    """Add the /sms page and its /api/v1/sms routes to the web app."""

    @app.get("/sms")
    @requires(*SMS_ROLES)
    def sms_page(engine, db):
        status, problem = _modem(engine)
        return render("sms", title=_("Texts"), active="sms", scripts=["api.js", "sms.js"], status=status,
                      problem=problem, texts=recent_texts(db), states=STATE_NAMES, registrations=REGISTRATION_NAMES,
                      max_number=MAX_NUMBER, max_text=MAX_TEXT)

    @app.get("/api/v1/sms")
    @requires(*SMS_ROLES)
    def api_sms(engine, db):
        status, problem = _modem(engine)
        if status is None:
            raise json_error(503, problem)
        return {**status, "messages": recent_texts(db)}

    @app.post("/api/v1/sms/messages")
    @requires(*SMS_ROLES)
    def api_sms_send(engine, user):
        body = json_body()
        number, text = body.get("number"), body.get("text")
        number = number.strip() if isinstance(number, str) else ""
        text = text.strip() if isinstance(text, str) else ""
        problems = {}
        if not 1 <= len(number) <= MAX_NUMBER:
            problems["number"] = _("A phone number, at most %(n)d characters.") % {"n": MAX_NUMBER}
        if not 1 <= len(text) <= MAX_TEXT:
            problems["text"] = _("1 to %(n)d characters.") % {"n": MAX_TEXT}
        if problems:
            raise json_error(400, _("The text was not sent: %(fields)s.") % {"fields": ", ".join(sorted(problems))},
                             problems)
        try:
            queued = engine.command("sms.send", number=number, text=text, purpose="test",
                                    requested_by=user["username"])
        except EngineUnavailable as exc:
            raise json_error(503, str(exc)) from None
        except CommandRefused as exc:
            raise json_error(400, str(exc)) from None
        response.status = 201
        return queued

    @app.post("/api/v1/sms/messages/<message_id>/resend")
    @requires(*SMS_ROLES)
    def api_sms_resend(message_id, engine):
        if not ID_RE.fullmatch(message_id):
            raise json_error(400, _("a text is named by the 32 hex digits of its id"))
        try:
            return engine.command("sms.resend", id=message_id)
        except EngineUnavailable as exc:
            raise json_error(503, str(exc)) from None
        except CommandRefused as exc:
            raise json_error(409, str(exc)) from None
