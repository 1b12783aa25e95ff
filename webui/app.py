"""The web UI's bottle app: first-run setup, sign-in, dashboard, call records and the /api/v1 JSON API."""
from __future__ import annotations

import functools
import inspect
import logging
import math
import time
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlencode

from bottle import Bottle, HTTPError, redirect, request, response, static_file, template

from firmware.store import StoreError, connect_readonly

from . import fmt, password_policy
from .accounts import ROLES, AccountStore
from .audit import AuditLog
from .account import install as install_account
from .audit_view import install as install_audit_view
from .backup import install as install_backup
from .auth import (PASSWORD_MAX, PASSWORD_MIN, Auth, SignInError, always_open, hash_password, new_password_problems,
                   normalize_username, open_before_password_change, over_https, public, requires, user_has,
                   username_problem)
from .config import CONFIG_ROLES, install as install_config
from .campaigns import CAMPAIGN_ROLES, install as install_campaigns
from .console import install as install_console
from .customer_cards import CardWriter
from .console import sees_console
from .events import Hub, install as install_events
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, LANGUAGES, N_, gettext as _, language, ngettext, pgettext
from .customers import READ_ROLES as CUSTOMER_ROLES, install as install_customers
from .flows import FLOW_ROLES, install as install_flows
from .hq_tokens import HQ_TOKEN_ROLES, install as install_hq_tokens
from .certificate import install as install_certificate
from .kb import install as install_kb
from .lines import LINES_ROLES, install as install_lines
from .loadtest import install as install_loadtest
from .logs import install as install_logs
from .media_types import media_type
from .tools import TOOLS_ROLES, install as install_tools
from .reports.web import READ_ROLES as REPORT_ROLES, install as install_reports
from .quality import install as install_quality
from .recordings import RECORDING_ROLES, install as install_recordings
from .recording_queries import recordings_of_call
from .records import (DIRECTIONS, DISPOSITIONS, HANGUP_PARTIES, CallFilter, FilterError, filter_choices, get_call,
                      list_calls, survey_answers_of)
from .replies import error_message, json_error, json_error_handler, local_path
from .report_files import install as install_report_files
from .site_file import SiteFile
from .site_values import console_lists, service_level
from .mail_page import install as install_mail
from .sms import install as install_sms
from .staffing import install as install_staffing
from .sync import install as install_sync
from .tickets import TICKET_ROLES, install as install_tickets
from .users import install as install_users
from .vip import VipLevels, install as install_vip
from .wallboard import WALLBOARD_ROLES, install as install_wallboard
from .webhooks import install as install_webhooks

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
# One list object for the life of the process: bottle caches compiled templates by its id().
TEMPLATE_LOOKUP = [str(HERE / "views")]

RECORDS_ROLES = ("admin", "supervisor")
CONTROL_ROLES = ("admin", "supervisor")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # No inline script or style anywhere: what the box serves is all it runs.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
}
# RFC 6797 §6.1: a year, the value browsers' preload lists ask for; no includeSubDomains (the box's name in
# the branch's DNS is not the branch's to speak for).
HSTS = "max-age=31536000"
ERROR_TITLES = {400: N_("Bad request"), 403: N_("Not allowed"), 404: N_("Not found"),
                405: N_("Method not allowed"), 413: N_("Too large"), 429: N_("Too many attempts"),
                500: N_("Something went wrong"), 503: N_("Unavailable")}
# An anonymous visitor's language choice outlives the session (a year), like the browser's own setting.
LANGUAGE_COOKIE_AGE_S = 365 * 86400


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
    cards = CardWriter(db_path, clock)
    app.install(Resource("cards", lambda: cards, close=cards.close))
    # The live events of every page: one subscription to the engine, started by the first page that asks.
    hub = Hub(control_path, db_path, clock)
    app.config["branchline.events"] = hub
    app.install(Resource("events", lambda: hub, close=hub.stop))

    def render(name: str, **kwargs) -> str:
        user = auth.user()
        kwargs.update(user=user, csrf=auth.csrf_token(), fmt=fmt, _=_, ngettext=ngettext, pgettext=pgettext,
                      language=language(), languages=LANGUAGE_NAMES, user_has=functools.partial(user_has, user),
                      can_see_records=user_has(user, *RECORDS_ROLES), can_see_lines=user_has(user, *LINES_ROLES),
                      can_edit_flows=user_has(user, *FLOW_ROLES),
                      can_see_hq_tokens=user_has(user, *HQ_TOKEN_ROLES), can_see_tools=user_has(user, *TOOLS_ROLES),
                      can_configure=user_has(user, *CONFIG_ROLES), can_see_tickets=user_has(user, *TICKET_ROLES),
                      can_see_customers=user_has(user, *CUSTOMER_ROLES),
                      can_see_wallboard=user_has(user, *WALLBOARD_ROLES), can_see_reports=user_has(user, *REPORT_ROLES),
                      can_see_recordings=user_has(user, *RECORDING_ROLES),
                      can_see_campaigns=user_has(user, *CAMPAIGN_ROLES))
        return template(name, template_lookup=TEMPLATE_LOOKUP, **kwargs)

    def security_headers():
        response.headers.update(SECURITY_HEADERS)
        if over_https():
            # RFC 6797: the browser goes straight to HTTPS next time, never through the plain redirect.
            response.set_header("Strict-Transport-Security", HSTS)

    @app.hook("after_request")
    def harden():
        security_headers()
        if not request.path.startswith("/static/"):
            response.set_header("Cache-Control", "no-store")

    @app.hook("before_request")
    def check_encoding():
        # RFC 3986 §2.5 and the WHATWG URL standard: a browser percent-encodes UTF-8; other bytes are a
        # client's mistake (400), never a traceback. Bottle decodes the path with errors ignored (the
        # call page would show call "abc" for "/calls/abc%ff"), so the path is checked as the query is.
        raw_path = request.environ.get("bottle.raw_path", "")
        query = request.environ.get("QUERY_STRING", "")
        try:
            raw_path.encode("latin-1").decode("utf-8")
            unquote_to_bytes(query.replace("+", " ").encode("latin-1")).decode("utf-8")
        except UnicodeError:
            raise HTTPError(400, _("The address of this request is not valid UTF-8 text.")) from None

    def on_error(err: HTTPError):
        security_headers()
        # An address no route serves never met the Auth plugin: read the session here, so the error
        # speaks the signed-in user's own language (webui/i18n.py).
        auth.user()
        if request.path.startswith("/api/"):
            return json_error_handler(err)
        response.set_header("Cache-Control", "no-store")
        title = ERROR_TITLES.get(err.status_code)
        return render("error", title=_(title) if title else _("Error"), status=err.status_code,
                      message=error_message(err))

    # Every status, those bottle raises itself (405, 413) included: an API client always gets JSON.
    app.default_error_handler = on_error

    # The agent console and the agent actions' API (webui/console.py); an agent-only user's `/` is the console.
    config_path = Path(config_dir or Path(db_path).parent / "config")
    site = SiteFile(config_path / "site.toml")
    console_page = install_console(app, render, site, Path(db_path).parent, clock)

    # --- first run, sign-in and sign-out -------------------------------------------------------
    def setup_policy() -> list[str]:
        return password_policy.rules(PASSWORD_MIN, PASSWORD_MAX, own=False)

    @app.get("/setup")
    @always_open
    def setup_form():
        if accounts.has_users():
            redirect("/login")
        return render("setup", title=_("Set up this box"), username="admin", problems={}, policy=setup_policy(),
                      password_min=PASSWORD_MIN)

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
        problems.update(new_password_problems(password, request.forms.getunicode("confirm", default=""), username))
        if problems:
            response.status = 400
            return render("setup", title=_("Set up this box"), username=username, problems=problems,
                          policy=setup_policy(), password_min=PASSWORD_MIN)
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
        notice = (_("Administrator %(name)s created. Sign in with the password you chose.") % {"name": created}
                  if created else _("You have signed out.") if request.query.get("signed_out") else None)
        return render("login", title=_("Sign in"), username=created, next=target, error=None, notice=notice)

    @app.post("/login")
    @public
    def login_submit():
        username = request.forms.getunicode("username", default="")
        password = request.forms.getunicode("password", default="")
        target = local_path(request.forms.getunicode("next"))
        error = None
        if not username.strip() or not password:
            response.status, error = 400, _("Enter your username and password.")
        else:
            try:
                auth.sign_in(username, password)
            except SignInError as exc:
                response.status, error = exc.status, str(exc)
        if error:
            return render("login", title=_("Sign in"), username=username.strip(), next=target, error=error,
                          notice=None)
        redirect(target)

    @app.get("/logout")
    @requires(*ROLES)
    @open_before_password_change
    def logout_form():
        return render("logout", title=_("Sign out"))

    @app.post("/logout")
    @public
    def logout_submit():
        session = auth.session()
        if session is not None:
            hub.end_session(session["sid"])
        auth.sign_out()
        redirect("/login?signed_out=1")

    # --- language --------------------------------------------------------------------------------
    @app.post("/language")
    @always_open
    def choose_language():
        # The switch on the sign-in and setup pages; a signed-in user's own setting still comes first.
        chosen = request.forms.getunicode("language", default="")
        target = local_path(request.forms.getunicode("next"), "/login")
        if chosen not in LANGUAGES:
            raise HTTPError(400, _("Choose one of the languages offered: %(languages)s.")
                            % {"languages": ", ".join(LANGUAGE_NAMES.values())})
        response.set_cookie(LANGUAGE_COOKIE, chosen, path="/", max_age=LANGUAGE_COOKIE_AGE_S, samesite="lax",
                            httponly=True, secure=over_https())
        redirect(target)

    # --- pages ---------------------------------------------------------------------------------
    @app.get("/")
    @requires(*ROLES)
    def dashboard(user, engine):
        if sees_console(user):
            return console_page(user, engine)
        return render("dashboard", title=_("Dashboard"), active="dashboard",
                      scripts=["events.js", "live.js", "dashboard.js"],
                      can_control=user_has(user, *CONTROL_ROLES), reasons=console_lists(site)[2],
                      service_target=service_level(site)["service_level_s"])

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
        return render("calls", title=_("Calls"), active="calls", form=dict(query), problems=problems,
                      calls=calls, total=total, f=f, pages=max(1, math.ceil(total / f.per_page)),
                      choices=filter_choices(db), dispositions=DISPOSITIONS)

    @app.get("/calls/<call_id>")
    @requires(*RECORDS_ROLES)
    def call_page(call_id, db):
        found = get_call(db, call_id)
        if found is None:
            raise HTTPError(404, _("There is no call with id %(id)s.") % {"id": call_id})
        call, events = found
        return render("call", title=_("Call %(number)s") % {"number": call["number"] or call_id}, active="calls",
                      call=call, events=events, dispositions=DISPOSITIONS, directions=DIRECTIONS,
                      hangup_parties=HANGUP_PARTIES, recordings=recordings_of_call(db, call_id),
                      surveys=survey_answers_of(db, call_id))

    @app.get("/static/<path:path>")
    @always_open
    def static(path):
        return static_file(path, root=str(STATIC_DIR), mimetype=media_type(path))

    # --- JSON API ------------------------------------------------------------------------------
    @app.get("/api/v1/status")
    @requires(*ROLES)
    def api_status(engine):
        try:
            return engine.status()
        except EngineUnavailable as exc:
            raise json_error(503, str(exc)) from None
        except CommandRefused as exc:
            raise json_error(503, _("engine did not give its status: %(reason)s") % {"reason": exc}) from None

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
            raise json_error(404, _("no call with id %(id)s") % {"id": call_id})
        call, events = found
        return {"call": call, "events": events, "surveys": survey_answers_of(db, call_id)}

    install_sync(app, db_path, clock)  # HQ sync API and HQ tokens (webui/sync.py)
    install_lines(app, render)  # technician's lines page and line tests (webui/lines.py)
    install_users(app, render, accounts)  # admins manage users (webui/users.py)
    install_account(app, render, accounts, auth)  # own password and language, API sign-in (webui/account.py)
    install_audit_view(app, render)  # the audit log for admins (webui/audit_view.py)
    install_backup(app, render, Path(db_path).parent, clock)  # admin's backup and restore (webui/backup.py)
    install_flows(app, render, Path(db_path).parent)  # IVR flow editor and prompts (webui/flows.py)
    install_hq_tokens(app, render)  # admin's HQ tokens page (webui/hq_tokens.py)
    install_certificate(app, render, Path(db_path).parent, clock)  # admin's HTTPS certificate (webui/certificate.py)
    install_tools(app, render)  # technician's tools page: load test and log tail (webui/tools.py)
    install_sms(app, render)  # technician's texts page: the GSM modem and the texts (webui/sms.py)
    install_loadtest(app)  # the load test's API (webui/loadtest.py)
    install_logs(app, Path(db_path).parent)  # the log tail's API (webui/logs.py); logs beside the database
    install_config(app, render, site)  # the admin's site settings: queues, agents, supervisors (webui/config.py)
    install_wallboard(app, render, site)  # supervisors' wallboard and API (webui/wallboard.py)
    vip_levels = VipLevels(db_path)
    install_vip(app, render, vip_levels)  # customers' VIP levels, in the database (webui/vip.py)
    install_kb(app, render, db_path, clock)  # the knowledge base (webui/kb.py)
    install_webhooks(app, render, db_path, clock)  # admin's webhook endpoints and deliveries (webui/webhooks.py)
    install_mail(app, render, db_path, clock)  # admin's mail outbox and test message (webui/mail_page.py)
    tickets = install_tickets(app, render, db_path, clock)  # tickets and their API (webui/tickets.py)
    app.install(Resource("ticket_store", lambda: tickets, close=tickets.close))
    install_campaigns(app, render, db_path, tickets, clock)  # outbound campaigns, do-not-call list (webui/campaigns.py)
    install_customers(app, render, Path(db_path).parent)  # customer cards (webui/customers.py)
    install_events(app, hub, auth)  # the pages' live event stream (webui/events.py)
    install_reports(app, render, db_path, site, clock)  # reports, their API and exports (webui/reports/)
    install_staffing(app, render, site, clock)  # staffing from Erlang C and its what-if (webui/staffing.py)
    # The scheduled reports' files and schedules (webui/report_files.py), written by webui/report_runner.py.
    install_report_files(app, render, db_path, Path(db_path).parent / "reports", clock)
    quality = install_quality(app, render, config_path)  # the admin's quality form (webui/quality.py)
    install_recordings(app, render, db_path, quality, clock)  # search, player, evaluations (webui/recordings.py)

    for route in app.routes:
        route.prepare()  # applies the plugins now: a route that declares no roles fails at start
    return app


def _open_records(db_path: str | Path):
    try:
        return connect_readonly(db_path)
    except StoreError as exc:
        raise HTTPError(503, _("The records database cannot be read: %(reason)s") % {"reason": exc}) from None
