"""The web UI's bottle app: first-run setup, sign-in, dashboard, call records and the /api/v1 JSON API."""
from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import time
from pathlib import Path
from urllib.parse import urlencode

from bottle import Bottle, HTTPError, redirect, request, response, static_file, template

from firmware.store import StoreError, connect_readonly

from . import fmt
from .accounts import ROLES, AccountStore
from .audit import AuditLog
from .auth import (Auth, SignInError, always_open, hash_password, new_password_problems,
                   normalize_username, public, requires, user_has, username_problem)
from .i18n import gettext, language, ngettext
from .engine import AGENT_COMMANDS, CommandRefused, Engine, EngineUnavailable
from .config import CONFIG_ROLES, install as install_config
from .lines import LINES_ROLES, install as install_lines
from .records import DISPOSITIONS, CallFilter, FilterError, filter_choices, get_call, list_calls
from .replies import json_error, local_path
from .site_file import SiteFile
from .vip import VipLevels, install as install_vip
from .sync import install as install_sync

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
# One list object for the life of the process: bottle caches compiled templates by its id().
TEMPLATE_LOOKUP = [str(HERE / "views")]

RECORDS_ROLES = ("admin", "supervisor")
CONTROL_ROLES = ("admin", "supervisor")
NOT_READY_REASONS = ("Break", "Lunch", "Meeting", "Training", "Coaching", "Back-office work")
MAX_REASON = 40
MAX_AGENT_ID = 32
# docs/requirements.md R15: answer within 20 s is the service target the dashboard colours against.
SERVICE_TARGET_S = 20
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # No inline script or style anywhere: what the box serves is all it runs.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
}
ERROR_TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found",
                405: "Method not allowed", 429: "Too many attempts", 500: "Something went wrong",
                503: "Unavailable"}


class Resource:
    """Bottle plugin: hands a resource to the routes whose callback has a parameter named `keyword`."""

    api = 2

    def __init__(self, keyword: str, acquire, release=None, close=None):
        self.name = keyword
        self.keyword = keyword
        self._acquire, self._release, self._close = acquire, release, close

    def apply(self, callback, route):
        # inspect, not route.get_callback_args(): bottle's unwrapping follows closure cells and
        # loops on callbacks defined inside create_app.
        if self.keyword not in inspect.signature(route.callback).parameters:
            return callback

        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            kwargs[self.keyword] = resource = self._acquire()
            try:
                return callback(*args, **kwargs)
            finally:
                if self._release:
                    self._release(resource)
        return wrapper

    def close(self) -> None:
        if self._close:
            self._close()


def create_app(db_path: str | Path, control_path: str | Path, *, clock=time.time,
               config_dir: str | Path | None = None) -> Bottle:
    """The web UI for the box whose records are at `db_path` and whose engine listens on `control_path`;
    `config_dir`: the site settings it edits (default: `config/` beside the database, the state directory's)."""
    app = Bottle()
    accounts = AccountStore(db_path, clock)
    auth = Auth(accounts, clock)
    engine = Engine(control_path)
    app.install(auth)
    app.install(AuditLog(db_path, clock))
    app.install(Resource("engine", lambda: engine, close=engine.close))
    app.install(Resource("db", functools.partial(_open_records, db_path), release=lambda db: db.close()))

    def render(name: str, **kwargs) -> str:
        user = auth.user()
        kwargs.update(user=user, csrf=auth.csrf_token(), fmt=fmt, _=gettext, ngettext=ngettext,
                      language=language(), user_has=functools.partial(user_has, user),
                      can_see_records=user_has(user, *RECORDS_ROLES), can_see_lines=user_has(user, *LINES_ROLES),
                      can_configure=user_has(user, *CONFIG_ROLES))
        return template(name, template_lookup=TEMPLATE_LOOKUP, **kwargs)

    @app.hook("after_request")
    def harden():
        response.headers.update(SECURITY_HEADERS)
        if not request.path.startswith("/static/"):
            response.set_header("Cache-Control", "no-store")

    def on_error(err: HTTPError):
        response.headers.update(SECURITY_HEADERS)
        response.set_header("Cache-Control", "no-store")
        api = request.path.startswith("/api/")
        message = str(err.body)
        if err.status_code >= 500 and err.status_code != 503:
            # Bottle's own 500 body can name the exception; the user only learns that it was logged.
            message = "The box hit an unexpected error; it has been logged."
        elif err.status_code == 404 and message.startswith("Not found: "):  # bottle's router
            message = f"no such API endpoint: {request.path}" if api else f"There is no page at {request.path}."
        if api:
            response.content_type = "application/json"
            return json.dumps({"error": message})
        return render("error", title=ERROR_TITLES.get(err.status_code, "Error"), status=err.status_code,
                      message=message)

    for code in ERROR_TITLES:
        app.error_handler[code] = on_error

    # --- first run, sign-in and sign-out -------------------------------------------------------
    @app.get("/setup")
    @always_open
    def setup_form():
        if accounts.has_users():
            redirect("/login")
        return render("setup", title="Set up this box", username="admin", problems={})

    @app.post("/setup")
    @always_open
    def setup_submit(audit):
        if accounts.has_users():
            redirect("/login")
        username = normalize_username(request.forms.getunicode("username", default=""))
        password = request.forms.getunicode("password", default="")
        problems = {}
        if problem := username_problem(username):
            problems["username"] = problem
        problems.update(new_password_problems(password, request.forms.getunicode("confirm", default="")))
        if problems:
            response.status = 400
            return render("setup", title="Set up this box", username=username, problems=problems)
        if accounts.create(username, ("admin",), hash_password(password), only_if_first=True):
            audit.record("user.create", username, {"roles": ["admin"], "first_run": True})
            log.info("first-run setup: administrator %s created from %s", username, auth.client_address())
            redirect("/login?" + urlencode({"created": username}))
        redirect("/login")

    @app.get("/login")
    @public
    def login_form():
        target = local_path(request.query.getunicode("next"))
        if auth.user():
            redirect(target)
        created = request.query.getunicode("created", default="")
        notice = (f"Administrator {created} created. Sign in with the password you chose." if created
                  else "You have signed out." if request.query.get("signed_out") else None)
        return render("login", title="Sign in", username=created, next=target, error=None, notice=notice)

    @app.post("/login")
    @public
    def login_submit():
        username = request.forms.getunicode("username", default="")
        password = request.forms.getunicode("password", default="")
        target = local_path(request.forms.getunicode("next"))
        error = None
        if not username.strip() or not password:
            response.status, error = 400, "Enter your username and password."
        else:
            try:
                auth.sign_in(username, password)
            except SignInError as exc:
                response.status, error = exc.status, str(exc)
        if error:
            return render("login", title="Sign in", username=username.strip(), next=target, error=error,
                          notice=None)
        redirect(target)

    @app.get("/logout")
    @requires(*ROLES)
    def logout_form():
        return render("logout", title="Sign out")

    @app.post("/logout")
    @public
    def logout_submit():
        auth.sign_out()
        redirect("/login?signed_out=1")

    # --- pages ---------------------------------------------------------------------------------
    @app.get("/")
    @requires(*ROLES)
    def dashboard(user):
        return render("dashboard", title="Dashboard", active="dashboard", scripts=["live.js", "dashboard.js"],
                      can_control=user_has(user, *CONTROL_ROLES), reasons=NOT_READY_REASONS,
                      service_target=SERVICE_TARGET_S)

    @app.get("/calls")
    @requires(*RECORDS_ROLES)
    def calls_page(db):
        query = request.query.decode()
        calls: list[dict] = []
        problems, total, f = {}, 0, CallFilter()
        try:
            f = CallFilter.from_query(query)
            calls, total = list_calls(db, f)
        except FilterError as exc:
            response.status, problems = 400, exc.problems
        return render("calls", title="Calls", active="calls", form=dict(query), problems=problems,
                      calls=calls, total=total, f=f, pages=max(1, math.ceil(total / f.per_page)),
                      choices=filter_choices(db), dispositions=DISPOSITIONS)

    @app.get("/calls/<call_id>")
    @requires(*RECORDS_ROLES)
    def call_page(call_id, db):
        found = get_call(db, call_id)
        if found is None:
            raise HTTPError(404, f"There is no call with id {call_id}.")
        call, events = found
        return render("call", title=f"Call {call['number'] or call_id}", active="calls", call=call,
                      events=events, dispositions=DISPOSITIONS)

    @app.get("/static/<path:path>")
    @always_open
    def static(path):
        return static_file(path, root=str(STATIC_DIR))

    # --- JSON API ------------------------------------------------------------------------------
    @app.get("/api/v1/status")
    @requires(*ROLES)
    def api_status(engine):
        try:
            return engine.status()
        except EngineUnavailable as exc:
            raise json_error(503, str(exc)) from None
        except CommandRefused as exc:
            raise json_error(503, f"engine did not give its status: {exc}") from None

    @app.get("/api/v1/calls")
    @requires(*RECORDS_ROLES)
    def api_calls(db):
        try:
            f = CallFilter.from_query(request.query.decode())
        except FilterError as exc:
            raise json_error(400, str(exc)) from None
        calls, total = list_calls(db, f)
        return {"calls": calls, "total": total, "page": f.page, "per_page": f.per_page,
                "pages": max(1, math.ceil(total / f.per_page)), "order": f.order}

    @app.get("/api/v1/calls/<call_id>")
    @requires(*RECORDS_ROLES)
    def api_call(call_id, db):
        found = get_call(db, call_id)
        if found is None:
            raise json_error(404, f"no call with id {call_id}")
        call, events = found
        return {"call": call, "events": events}

    @app.post("/api/v1/agents/<agent_id>/<action>")
    @requires(*CONTROL_ROLES)
    def api_agent(agent_id, action, engine):
        if action not in AGENT_COMMANDS:
            raise json_error(404, f"unknown agent action {action!r}: use one of {', '.join(AGENT_COMMANDS)}")
        if len(agent_id) > MAX_AGENT_ID or not agent_id.isprintable():
            raise json_error(400, f"agent id must be up to {MAX_AGENT_ID} printable characters")
        reason = None
        if action == "not_ready":
            body = request.json if request.content_type.startswith("application/json") else None
            raw = body.get("reason") if isinstance(body, dict) else request.forms.getunicode("reason")
            reason = raw.strip() if isinstance(raw, str) else ""
            if not reason:
                raise json_error(400, "choose a reason for not ready")
            if len(reason) > MAX_REASON or not reason.isprintable():
                raise json_error(400, f"the reason must be up to {MAX_REASON} printable characters")
        try:
            engine.agent_command(agent_id, action, reason)
        except EngineUnavailable as exc:
            raise json_error(503, str(exc)) from None
        except CommandRefused as exc:
            raise json_error(409, str(exc)) from None
        return {"ok": True, "agent": agent_id, "action": action}

    install_sync(app, db_path, clock)  # HQ sync API and HQ tokens (webui/sync.py)
    install_lines(app, render)  # technician's lines page and line tests (webui/lines.py)
    site = SiteFile(Path(config_dir or Path(db_path).parent / "config") / "site.toml")
    install_config(app, render, site)  # the admin's site settings: queues, agents, supervisors (webui/config.py)
    vip_levels = VipLevels(db_path)
    install_vip(app, render, vip_levels)  # customers' VIP levels, in the database (webui/vip.py)

    for route in app.routes:
        route.prepare()  # applies the plugins now: a route that declares no roles fails at start
    return app


def _open_records(db_path: str | Path):
    try:
        return connect_readonly(db_path)
    except StoreError as exc:
        raise HTTPError(503, f"The records database cannot be read: {exc}") from None
