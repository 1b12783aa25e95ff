"""The supervisors' wallboard (/wallboard) and API: queues and agents live, and a supervisor's actions on an
agent's call or state (monitor, whisper, barge, intercept, force ready / not ready / log out, force hang-up)."""
from __future__ import annotations

import json
from typing import Callable

from bottle import Bottle, request

from firmware.config.site_keys import WALLBOARD
from firmware.core.commands import COMMANDS, MAX_ID

from .agent_actions import MAX_REASON, refusal_text
from .auth import requires, user_has
from .console import state_labels
from .engine import MAX_AGENT_ID, SUPERVISOR_COMMANDS, CommandRefused, Engine, EngineUnavailable
from .i18n import gettext as _
from .replies import json_error
from .site_file import SiteFile
from .site_values import console_lists, service_level, table_values

WALLBOARD_ROLES = ("admin", "supervisor")
# The actions that need no agent: `stop` ends the supervisor's own listening.
NO_AGENT = ("stop",)


def thresholds(site: SiteFile) -> dict[str, int]:
    """The [wallboard] colour thresholds of site.toml (firmware/config/site.py check_wallboard)."""
    return table_values(site, "wallboard", WALLBOARD)


def snapshot(engine: Engine, target: int) -> dict:
    """What the wallboard starts from, in the live events' shapes (GET /api/v1/events): queues,
    agents and supervisors as the engine has them now; `target`: the service level's, in seconds (site.toml
    [reports], which the engine counts by). EngineUnavailable or CommandRefused as status()."""
    status = engine.status()
    now = status.get("box", {}).get("now")
    # When the longest-waiting caller came, as the queue events say it: the page counts the wait on from it.
    queues = [{"queue": q["name"], "waiting": q.get("waiting", 0), "longest_wait": q.get("longest_wait_s", 0.0),
               "oldest_since": now - q.get("longest_wait_s", 0.0) if q.get("waiting") and now is not None else None,
               "offered": q.get("offered", 0), "answered": q.get("answered", 0), "abandoned": q.get("abandoned", 0),
               "service_level": q.get("service_level"), "target": target, "asa": q.get("asa_s"),
               "agents_ready": q.get("agents_ready", 0), "agents_logged_in": q.get("agents_logged_in", 0)}
              for q in status.get("queues", [])]
    agents = [{"agent": str(a["id"]), "name": a.get("name") or "", "state": a.get("state"),
               "reason": a.get("reason"), "since": a.get("since"), "call": a.get("call_id"),
               "number": a.get("number"), "queues": a.get("queues", []), "calls": a.get("calls", 0)}
              for a in status.get("agents", [])]
    supervisors = [{"supervisor": str(s["id"]), "name": s.get("name") or "", "state": s.get("state"),
                    "mode": s.get("mode") if s.get("call_id") else None, "agent": s.get("agent"),
                    "call": s.get("call_id")}
                   for s in status.get("supervisors", [])]
    # `events`: the last live event the status includes, so the page skips those it already shows.
    return {"queues": queues, "agents": agents, "supervisors": supervisors,
            "box": {"now": now}, "events": status.get("events")}


def acting_as(user: dict, supervisor_id: str) -> None:
    """A JSON error unless `user` may act as `supervisor_id`: an admin as any, a supervisor as their own
    (409 while their account has no link, as an agent's own routes answer; 403 for another's id)."""
    if user_has(user, "admin") or user.get("supervisor_id") == supervisor_id:
        return
    if not user.get("supervisor_id"):
        raise json_error(409, _("your account is not linked to a supervisor id; ask an administrator"))
    raise json_error(403, _("you act as supervisor %(own)s only, not %(other)s")
                     % {"own": user["supervisor_id"], "other": supervisor_id})


def _body() -> dict:
    body = request.json if request.content_type.startswith("application/json") else None
    return body if isinstance(body, dict) else {}


def _text(body: dict, key: str, limit: int) -> str | None:
    """A short printable string field of the body, or None when absent; a JSON 400 when malformed."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit or not value.isprintable():
        raise json_error(400, _("%(field)s must be up to %(n)d printable characters")
                         % {"field": key, "n": limit})
    return value.strip()


def supervisor_action(engine: Engine, supervisor_id: str, action: str) -> dict:
    """Have the engine carry out a supervisor's `action` from this request's body; a JSON error reply if
    the request is bad or the engine refuses (nothing changed then)."""
    body = _body()
    agent = _text(body, "agent", MAX_AGENT_ID)
    if agent is None and action not in NO_AGENT:
        raise json_error(400, _("name the agent to act on (\"agent\" in the body)"))
    reason = _text(body, "reason", MAX_REASON)
    if action == "force_not_ready" and reason is None:
        raise json_error(400, _("choose a reason for not ready"))
    call = _text(body, "call", MAX_ID)
    if call is not None and "call" not in COMMANDS[SUPERVISOR_COMMANDS[action][0]]:
        raise json_error(400, _("the %(action)s action takes no call") % {"action": action})
    try:
        # The engine checks the call on its loop (firmware/callcenter/center.py ON_CALL): a page showing a
        # call that has ended never acts on the agent's next one.
        result = engine.supervisor_command(supervisor_id, action, None if action in NO_AGENT else agent,
                                           reason if action == "force_not_ready" else None, call)
    except EngineUnavailable as exc:
        raise json_error(503, str(exc)) from None
    except CommandRefused as exc:
        raise json_error(409, refusal_text(str(exc))) from None
    return {"ok": True, "supervisor": supervisor_id, "action": action, "agent": agent, "result": result}


def install(app: Bottle, render: Callable[..., str], site: SiteFile) -> None:
    """Add /wallboard, /api/v1/wallboard and /api/v1/supervisors/<id>/<action> to the web app."""

    @app.get("/wallboard")
    @requires(*WALLBOARD_ROLES)
    def wallboard_page(user, engine):
        labels = state_labels()
        problem = None
        try:
            supervisors = {s["supervisor"]: s["name"] for s in snapshot(engine, 0)["supervisors"]}
        except (EngineUnavailable, CommandRefused) as exc:
            supervisors, problem = {}, _("The engine is not answering: %(error)s") % {"error": exc}
        own = user.get("supervisor_id")
        tv = request.query.get("tv") == "1"
        return render("wallboard", title=_("Wallboard"), active="wallboard",
                      scripts=["api.js", "live.js", "events.js", "wallboard.js"],
                      main_class="page page-wide wallboard-tv" if tv else "page page-wide", bare=tv, tv=tv,
                      labels_json=json.dumps(labels, ensure_ascii=False), reasons=console_lists(site)[2],
                      thresholds_json=json.dumps(thresholds(site)), supervisors=supervisors, own=own,
                      may_choose=user_has(user, "admin"), problem=problem)

    @app.get("/api/v1/wallboard")
    @requires(*WALLBOARD_ROLES)
    def api_wallboard(user, engine):
        try:
            board = snapshot(engine, service_level(site)["service_level_s"])
        except (EngineUnavailable, CommandRefused) as exc:
            raise json_error(503, _("The engine is not answering: %(error)s") % {"error": exc}) from None
        return {**board, "thresholds": thresholds(site), "supervisor": user.get("supervisor_id")}

    @app.post("/api/v1/supervisors/<supervisor_id>/<action>")
    @requires(*WALLBOARD_ROLES)
    def api_supervisor(supervisor_id, action, user, engine):
        if action not in SUPERVISOR_COMMANDS:
            raise json_error(404, _("unknown supervisor action %(action)r: use one of %(actions)s")
                             % {"action": action, "actions": ", ".join(SUPERVISOR_COMMANDS)})
        if len(supervisor_id) > MAX_AGENT_ID or not supervisor_id.isprintable():
            raise json_error(400, _("supervisor id must be up to %(max)d printable characters")
                             % {"max": MAX_AGENT_ID})
        acting_as(user, supervisor_id)
        return supervisor_action(engine, supervisor_id, action)
