"""The agent console (R21): the page, and the reads behind its screen pop, transfer targets and own figures."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from bottle import Bottle

from firmware.config.site_keys import STOCK_WRAPUP_CODES

from .agent_actions import ACTING_ROLES, check_agent_id, install as install_actions, may_act
from .auth import requires
from .customer_cards import site_region
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import gettext as _
from .pop import screen_pop, today
from .replies import json_error
from .site_file import SiteFile
from .site_values import console_lists
from .ticket_store import state_labels as ticket_state_labels

# The roles that see the site-wide dashboard; a user with none of them sees their own console at /.
DASHBOARD_ROLES = ("admin", "supervisor", "technician")


def state_labels() -> dict[str, str]:
    """Each agent state (firmware/callcenter/acd.py AgentState) as this request's language names it."""
    return {"logged_out": _("Logged out"), "ready": _("Ready"), "ringing": _("Ringing"), "talking": _("Talking"),
            "wrapup": _("Wrap-up"), "not_ready": _("Not ready")}


class NoAgent(Exception):
    """The agent cannot be shown; `status` is the API's answer for it."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def sees_console(user: dict) -> bool:
    """True for a user whose only role is agent: `/` is their console."""
    return "agent" in user["roles"] and not set(DASHBOARD_ROLES) & set(user["roles"])


def engine_status(engine: Engine) -> dict:
    try:
        return engine.status()
    except (EngineUnavailable, CommandRefused) as exc:
        raise NoAgent(_("The engine is not answering: %(error)s") % {"error": exc}, 503) from None


def find_agent(status: dict, agent_id: str | None) -> dict:
    """The engine's status of `agent_id`; NoAgent says why there is none to show."""
    if not agent_id:
        raise NoAgent(_("Your account is not linked to an agent id. Ask an administrator to link it."), 409)
    agent = next((a for a in status.get("agents", []) if str(a.get("id")) == agent_id), None)
    if agent is None:
        raise NoAgent(_("Agent %(agent)s is not configured on this box. Ask an administrator.")
                      % {"agent": agent_id}, 404)
    return agent


def own_agent(engine: Engine, agent_id: str | None) -> dict:
    """The engine's status of the linked agent; NoAgent says why there is none to show."""
    if not agent_id:
        return find_agent({}, agent_id)
    return find_agent(engine_status(engine), agent_id)


def offer_of(status: dict, agent: dict) -> dict:
    """The agent's current (offered or connected) call as the engine's `offer` event carries it."""
    call = next((c for c in status.get("calls", []) if c.get("id") == agent.get("call_id")), None) or {}
    return {"agent": agent["id"], "call": agent.get("call_id"), "number": agent.get("number") or call.get("number"),
            "queue": call.get("queue"), "path": call.get("path") or [], "digits": call.get("digits") or "",
            "vip": call.get("priority") or 0, "customer_id": call.get("customer_id"),
            "state": agent["state"], "call_state": call.get("state")}


def targets(status: dict, agent_id: str) -> dict:
    """Where the agent can send a call: the other agents ready now, the queues that take callers, and the
    post-call surveys (with the queues whose survey each is)."""
    return {"agents": [{"id": a["id"], "name": a.get("name")} for a in status.get("agents", [])
                       if a.get("state") == "ready" and a["id"] != agent_id],
            "queues": [{"name": q["name"], "waiting": q.get("waiting", 0)} for q in status.get("queues", [])
                       if not q.get("draining")],
            "surveys": [{"name": s["name"], "queues": s.get("queues", [])} for s in status.get("surveys", [])]}


def install(app: Bottle, render: Callable[..., str], site: SiteFile, state_dir: Path,
            clock: Callable[[], float]) -> Callable[[dict, Engine], str]:
    """Add /console, the agent actions and the console's reads to the web app; return the console's renderer
    (an agent-only user's `/`)."""
    install_actions(app)

    def console_page(user: dict, engine: Engine) -> str:
        agent, problem = None, None
        try:
            agent = own_agent(engine, user["agent_id"])
        except NoAgent as exc:
            problem = str(exc)
        labels = state_labels()
        # The site's lists (site.toml [box], a queue's own codes): the engine refuses a code not on the call's.
        codes, queue_codes, reasons = console_lists(site)
        own = {queue: [[c, _(STOCK_WRAPUP_CODES.get(c, c))] for c in listed] for queue, listed in queue_codes.items()}
        return render("console", title=_("Your console"), active="console",
                      scripts=["api.js", "live.js", "events.js", "console_keys.js", "console.js", "kb_search.js"],
                      agent=agent, agent_id=user["agent_id"], problem=problem, reasons=reasons, labels=labels,
                      labels_json=json.dumps(labels, ensure_ascii=False), wrapup_codes=codes,
                      queue_codes_json=json.dumps(own, ensure_ascii=False),
                      ticket_states_json=json.dumps(ticket_state_labels(), ensure_ascii=False))

    @app.get("/console")
    @requires(*ACTING_ROLES)
    def console(user, engine):
        return console_page(user, engine)

    @app.get("/api/v1/me/agent")
    @requires(*ACTING_ROLES)
    def api_my_agent(user, engine):
        try:
            return {"agent": own_agent(engine, user["agent_id"])}
        except NoAgent as exc:
            raise json_error(exc.status, str(exc)) from None

    def agent_status(user: dict, engine: Engine, agent_id: str) -> tuple[dict, dict]:
        check_agent_id(agent_id)
        may_act(user, agent_id)
        try:
            status = engine_status(engine)
            return status, find_agent(status, agent_id)
        except NoAgent as exc:
            raise json_error(exc.status, str(exc)) from None

    @app.get("/api/v1/agents/<agent_id>/pop")
    @requires(*ACTING_ROLES)
    def api_pop(agent_id, user, engine, db):
        status, agent = agent_status(user, engine, agent_id)
        offer = offer_of(status, agent)
        if offer["call"] is None:
            return {**offer, "card": None, "history": [], "tickets": []}
        return {**offer, **screen_pop(db, offer, site_region(state_dir))}

    @app.get("/api/v1/agents/<agent_id>/today")
    @requires(*ACTING_ROLES)
    def api_today(agent_id, user, db):
        check_agent_id(agent_id)
        may_act(user, agent_id)
        return today(db, agent_id, clock())

    @app.get("/api/v1/agents/<agent_id>/targets")
    @requires(*ACTING_ROLES)
    def api_targets(agent_id, user, engine):
        status, _agent = agent_status(user, engine, agent_id)
        return targets(status, agent_id)

    return console_page
