"""The agent actions of the JSON API (R5, R20): each action's arguments read and checked, who may act for
which agent, and the engine's refusals said in the user's own language."""
from __future__ import annotations

import re
from typing import Callable

from bottle import Bottle, request

from firmware.config.site_keys import REASON_MAX
from firmware.core.commands import COMMANDS, MAX_DIAL, MAX_ID, MAX_TARGET, WRAPUP_CODE_MAX

from .auth import requires, user_has
from .engine import AGENT_COMMANDS, MAX_AGENT_ID, CommandRefused, Engine, EngineUnavailable
from .i18n import N_, gettext as _
from .replies import json_error

# Admins and supervisors act for any agent; an agent only as their own agent id.
ACTING_ROLES = ("admin", "supervisor", "agent")
FOR_ANY_AGENT = ("admin", "supervisor")
MAX_REASON = REASON_MAX      # a not-ready reason (firmware/config/site_keys.py)
DIAL_CHARACTERS = frozenset("0123456789*#")
WRAPUP_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")


class ActionError(Exception):
    """An action's argument is missing or wrong; the message names it."""


def _text(body: dict, name: str, limit: int) -> str | None:
    """The field `name` stripped, None if it is absent or empty; ActionError if it is not short printable text."""
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip() if isinstance(raw, str) else None
    if not value or len(value) > limit or not value.isprintable():
        raise ActionError(_("%(name)s must be up to %(n)d printable characters") % {"name": name, "n": limit})
    return value


def _required(body: dict, name: str, limit: int) -> str:
    value = _text(body, name, limit)
    if value is None:
        raise ActionError(_("%(name)s is required") % {"name": name})
    return value


def _flag(body: dict, name: str) -> bool | None:
    raw = body.get(name)
    if raw is None or isinstance(raw, bool):
        return raw
    raise ActionError(_("%(name)s must be true or false") % {"name": name})


def _reason(body: dict) -> dict:
    raw = body.get("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    if not reason:
        raise ActionError(_("choose a reason for not ready"))
    if len(reason) > MAX_REASON or not reason.isprintable():
        raise ActionError(_("the reason must be up to %(n)d printable characters") % {"n": MAX_REASON})
    return {"reason": reason}


def _target(body: dict) -> dict:
    # "agent:<id>", "queue:<name>" or a number: the engine's own forms (firmware/callcenter/transfers.py).
    to = _required(body, "to", MAX_TARGET)
    kind, _sep, rest = to.partition(":")
    if not ((kind in ("agent", "queue") and rest) or set(to) <= DIAL_CHARACTERS):
        raise ActionError(_("to must be agent:ID, queue:NAME or a number of digits, * and #"))
    return {"to": to}


def _transfer(body: dict) -> dict:
    blind = _flag(body, "blind")
    to = _required(body, "to", MAX_TARGET)
    # A transfer may also send the caller to a post-call survey ("survey:<name>"; a conference may not).
    target = {"to": to} if to.startswith("survey:") and len(to) > len("survey:") else _target(body)
    return {**target, **({} if blind is None else {"blind": blind})}


def _dial(body: dict) -> dict:
    number = _required(body, "number", MAX_DIAL).replace(" ", "").replace("-", "")
    if not number or not set(number) <= DIAL_CHARACTERS:
        raise ActionError(_("number must be digits, * and # (spaces and dashes are left out)"))
    return {"number": number}


def _wrapup(body: dict) -> dict:
    code = _required(body, "code", WRAPUP_CODE_MAX)
    if not WRAPUP_CHARACTERS.fullmatch(code):
        raise ActionError(_("code must be up to %(n)d letters, digits, - or _") % {"n": WRAPUP_CODE_MAX})
    return {"code": code}


def _paused(body: dict) -> dict:
    paused = _flag(body, "paused")
    return {} if paused is None else {"paused": paused}


def _contact(body: dict) -> dict:
    # A preview campaign's contact the console shows (the `preview` live event's `contact`).
    return {"contact": _required(body, "contact", MAX_ID)}


def _nothing(body: dict) -> dict:
    return {}


# Each action's arguments as the engine takes them, read from the request's JSON object.
ARGUMENTS: dict[str, Callable[[dict], dict]] = {
    "not_ready": _reason, "transfer": _transfer, "conference": _target, "dial": _dial, "wrapup": _wrapup,
    "pause_recording": _paused, "preview_dial": _contact, "preview_skip": _contact}
# The actions on the agent's call (those whose engine command takes `call`): they carry the call the page
# shows, and the engine refuses them when that call is no longer the agent's (a stale page never acts on
# the next call).
ON_CALL = frozenset(action for action, command in AGENT_COMMANDS.items() if "call" in COMMANDS[command])

# The engine's refusals (English, firmware/callcenter/acd.py, transfers.py, legs.py, center.py), matched
# whole and said in the user's language; a refusal not listed here is shown as the engine wrote it.
REFUSALS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(pattern), template) for pattern, template in (
    (r"agent (?P<agent>.+) is not on a call", N_("Agent %(agent)s is not on a call.")),
    (r"agent (?P<agent>.+): call (?P<call>\S+) is not the agent's call now \(.*\)",
     N_("That call has ended or moved on: agent %(agent)s is not on call %(call)s now. The page shows the "
        "agent's current call again.")),
    (r"agent (?P<agent>.+): the call is in (?P<mode>\w+), not talk",
     N_("Agent %(agent)s: the call is not in plain conversation now (%(mode)s).")),
    (r"agent (?P<agent>.+): the call is not on hold", N_("Agent %(agent)s: the call is not on hold.")),
    (r"agent (?P<agent>.+) already has (?P<other>.+) on this call",
     N_("Agent %(agent)s already has %(other)s on this call: finish or cancel that first.")),
    (r"a transfer to a queue is always blind", N_("A transfer to a queue is always blind.")),
    (r"agent (?P<agent>.+) is not ready \((?P<state>\w+)\)",
     N_("Agent %(agent)s is not ready to take the call (%(state)s).")),
    (r"agent (?P<agent>.+) has no answered consultation to hand the call to",
     N_("Agent %(agent)s has no answered consultation to hand the call to.")),
    (r"agent (?P<agent>.+) is not consulting anyone", N_("Agent %(agent)s is not consulting anyone.")),
    (r"agent (?P<agent>.+) cannot dial now \((?P<state>\w+)\)",
     N_("Agent %(agent)s cannot dial now (%(state)s).")),
    (r"no free line to dial out on", N_("No free line to dial out on: try again in a moment.")),
    (r"agent (?P<agent>.+) has no call to code", N_("Agent %(agent)s has no call to give a wrap-up code to.")),
    (r"wrap-up code (?P<code>\S+) is not one of this call's: (?P<codes>.*)",
     N_("%(code)s is not a wrap-up code of this call; choose one of: %(codes)s.")),
    (r"agent (?P<agent>.+): this call is already being recorded", N_("This call is already being recorded.")),
    (r"agent (?P<agent>.+): this call is not being recorded", N_("This call is not being recorded.")),
    (r"agent (?P<agent>.+) is not logged in", N_("Agent %(agent)s is not logged in.")),
    (r"agent (?P<agent>.+) is on a call; hang up first", N_("Agent %(agent)s is on a call: hang up first.")),
    (r"agent (?P<agent>.+) has no call to hang up", N_("Agent %(agent)s has no call to hang up.")),
    (r"unknown agent '(?P<agent>.+)'", N_("There is no agent %(agent)s on this box.")),
    (r"unknown queue '(?P<queue>.+)'", N_("There is no queue %(queue)s on this box.")),
))


def known_refusal(english: str) -> tuple[str, dict[str, str]] | None:
    """The template and its values of an engine refusal the web knows; None for another."""
    for pattern, template in REFUSALS:
        found = pattern.fullmatch(english)
        if found:
            return template, found.groupdict()
    return None


def refusal_text(english: str) -> str:
    """The engine's refusal in the request's language where it is a known one; else as the engine wrote it."""
    known = known_refusal(english)
    return _(known[0]) % known[1] if known else english


def request_body() -> dict:
    """The request's JSON object, or its form fields; a JSON error reply if the body is neither."""
    if request.content_type.startswith("application/json"):
        body = request.json
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise json_error(400, _("the body must be a JSON object"))
        return body
    return {key: request.forms.getunicode(key) for key in request.forms}


def read_arguments(action: str, body: dict) -> dict:
    """The engine arguments of `action` from `body`, with the `call` it acts on; ActionError if one is wrong."""
    args = ARGUMENTS.get(action, _nothing)(body)
    if action in ON_CALL:
        call = _text(body, "call", MAX_ID)
        if call is not None:
            args["call"] = call
    return args


def may_act(user: dict, agent_id: str) -> None:
    """A JSON error reply unless `user` may act for `agent_id`: admins and supervisors for any agent, an agent
    for their own linked agent only."""
    if user_has(user, *FOR_ANY_AGENT):
        return
    if not user["agent_id"]:
        raise json_error(409, _("your account is not linked to an agent id; ask an administrator"))
    if user["agent_id"] != agent_id:
        raise json_error(403, _("you may act only as your own agent (%(agent)s)") % {"agent": user["agent_id"]})


def check_agent_id(agent_id: str) -> None:
    if len(agent_id) > MAX_AGENT_ID or not agent_id.isprintable():
        raise json_error(400, _("agent id must be up to %(max)d printable characters") % {"max": MAX_AGENT_ID})


def agent_action(engine: Engine, agent_id: str, action: str) -> dict:
    """Have the engine do `action` for `agent_id` with this request's arguments; a JSON error reply if it cannot."""
    if action not in AGENT_COMMANDS:
        raise json_error(404, _("unknown agent action %(action)r: use one of %(actions)s")
                         % {"action": action, "actions": ", ".join(AGENT_COMMANDS)})
    try:
        args = read_arguments(action, request_body())
    except ActionError as exc:
        raise json_error(400, str(exc)) from None
    try:
        result = engine.agent_command(agent_id, action, **args)
    except EngineUnavailable as exc:
        raise json_error(503, str(exc)) from None
    except CommandRefused as exc:
        raise json_error(409, refusal_text(str(exc))) from None
    reply = {"ok": True, "agent": agent_id, "action": action}
    if action == "dial" and result.get("call_id"):
        reply["call"] = result["call_id"]
    return reply


def install(app: Bottle) -> None:
    """Add POST /api/v1/agents/<agent_id>/<action> and /api/v1/me/<action> to the web app."""

    @app.post("/api/v1/agents/<agent_id>/<action>")
    @requires(*ACTING_ROLES)
    def api_agent(agent_id, action, user, engine):
        check_agent_id(agent_id)
        may_act(user, agent_id)
        return agent_action(engine, agent_id, action)

    @app.post("/api/v1/me/<action>")
    @requires("agent")
    def api_my_action(action, user, engine):
        # The signed-in user's own linked agent, whatever the body names: an agent never steers another.
        agent_id = user["agent_id"]
        if not agent_id:
            raise json_error(409, _("your account is not linked to an agent id; ask an administrator"))
        return agent_action(engine, agent_id, action)
