"""An agent's own console: their agent's live state and their ready, not-ready, log-in and log-out controls."""
from __future__ import annotations

import json
from typing import Callable

from bottle import Bottle, request

from .auth import requires
from .engine import AGENT_COMMANDS, CommandRefused, Engine, EngineUnavailable
from .i18n import gettext as _
from .replies import json_error

# The roles that see the site-wide dashboard; a user with none of them sees their own console at /.
DASHBOARD_ROLES = ("admin", "supervisor", "technician")
MAX_REASON = 40


def state_labels() -> dict[str, str]:
    """Each agent state (firmware/callcenter/acd.py AgentState) as this request's language names it."""
    return {"logged_out": _("Logged out"), "ready": _("Ready"), "ringing": _("Ringing"), "talking": _("Talking"),
            "wrapup": _("Wrap-up"), "not_ready": _("Not ready")}


class NoAgent(Exception):
    """The signed-in user's agent cannot be shown; `status` is the API's answer for it."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def sees_console(user: dict) -> bool:
    """True for a user whose only role is agent: `/` is their console."""
    return "agent" in user["roles"] and not set(DASHBOARD_ROLES) & set(user["roles"])


def own_agent(engine: Engine, agent_id: str | None) -> dict:
    """The engine's status of the linked agent; NoAgent says why there is none to show."""
    if not agent_id:
        raise NoAgent(_("Your account is not linked to an agent id. Ask an administrator to link it."), 409)
    try:
        agents = engine.status().get("agents", [])
    except (EngineUnavailable, CommandRefused) as exc:
        raise NoAgent(_("The engine is not answering: %(error)s") % {"error": exc}, 503) from None
    agent = next((a for a in agents if str(a.get("id")) == agent_id), None)
    if agent is None:
        raise NoAgent(_("Agent %(agent)s is not configured on this box. Ask an administrator.")
                      % {"agent": agent_id}, 404)
    return agent


def read_reason() -> str:
    """The not-ready reason of this request (JSON body or form), checked; a JSON error reply if it is bad."""
    body = request.json if request.content_type.startswith("application/json") else None
    raw = body.get("reason") if isinstance(body, dict) else request.forms.getunicode("reason")
    reason = raw.strip() if isinstance(raw, str) else ""
    if not reason:
        raise json_error(400, _("choose a reason for not ready"))
    if len(reason) > MAX_REASON or not reason.isprintable():
        raise json_error(400, _("the reason must be up to %(n)d printable characters") % {"n": MAX_REASON})
    return reason


def install(app: Bottle, render: Callable[..., str], reasons: tuple[str, ...]) -> Callable[[dict, Engine], str]:
    """Add /api/v1/me/agent and /api/v1/me/<action> to the web app; return the console page's renderer."""

    def console_page(user: dict, engine: Engine) -> str:
        agent, problem = None, None
        try:
            agent = own_agent(engine, user["agent_id"])
        except NoAgent as exc:
            problem = str(exc)
        labels = state_labels()
        return render("console", title=_("Your console"), active="dashboard", scripts=["console.js", "kb_search.js"],
                      agent=agent, agent_id=user["agent_id"], problem=problem, reasons=reasons, labels=labels,
                      labels_json=json.dumps(labels, ensure_ascii=False))

    @app.get("/api/v1/me/agent")
    @requires("agent")
    def api_my_agent(user, engine):
        try:
            return {"agent": own_agent(engine, user["agent_id"])}
        except NoAgent as exc:
            raise json_error(exc.status, str(exc)) from None

    @app.post("/api/v1/me/<action>")
    @requires("agent")
    def api_my_action(action, user, engine):
        # Acts only on the caller's own linked agent id: an agent never steers another agent.
        if action not in AGENT_COMMANDS:
            raise json_error(404, _("unknown action %(action)r: use one of %(actions)s")
                             % {"action": action, "actions": ", ".join(AGENT_COMMANDS)})
        agent_id = user["agent_id"]
        if not agent_id:
            raise json_error(409, _("your account is not linked to an agent id; ask an administrator"))
        return agent_action(engine, agent_id, action)

    return console_page


def agent_action(engine: Engine, agent_id: str, action: str) -> dict:
    """Have the engine do `action` (one of AGENT_COMMANDS) for `agent_id`; a JSON error reply if it cannot."""
    reason = read_reason() if action == "not_ready" else None
    try:
        engine.agent_command(agent_id, action, reason)
    except EngineUnavailable as exc:
        raise json_error(503, str(exc)) from None
    except CommandRefused as exc:
        raise json_error(409, str(exc)) from None
    return {"ok": True, "agent": agent_id, "action": action}
