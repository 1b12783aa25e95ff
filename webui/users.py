"""User administration for admins: the /users pages and /api/v1/users (create, edit, disable, reset password)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from bottle import Bottle, HTTPError, redirect, request, response

from . import password_policy
from .accounts import EDITABLE, LANGUAGE_NAMES, ROLES, AccountError, AccountStore
from .auth import (PASSWORD_MAX, PASSWORD_MIN, hash_password, new_password_problems, normalize_username, requires,
                   username_problem)
from .engine import MAX_AGENT_ID, CommandRefused, Engine, EngineUnavailable
from .i18n import LANGUAGES
from .i18n import gettext as _
from .replies import json_body, json_error

USERS_ROLES = ("admin",)
MAX_DISPLAY_NAME = 64


# Fields of a user form or body that are never stored as given, nor audited.
_SECRET_FIELDS = ("password", "confirm")


class UserInputError(ValueError):
    """A user form or API body is refused; `problems` maps each bad field to its reason."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class SiteIds:
    """The agents and supervisors of the site a user may be linked to, each {id: name}; None while the
    engine does not answer (then any well-formed id is taken)."""
    agents: dict[str, str] | None
    supervisors: dict[str, str] | None


def site_ids(engine: Engine) -> SiteIds:
    """The engine's agents and supervisors."""
    try:
        status = engine.status()
    except (EngineUnavailable, CommandRefused):
        return SiteIds(None, None)
    return SiteIds({str(a["id"]): a.get("name") or "" for a in status.get("agents", [])},
                   {str(s["id"]): s.get("name") or "" for s in status.get("supervisors", [])})


def site_agents(engine: Engine) -> dict[str, str] | None:
    """The engine's agents as {id: name}, or None while the engine does not answer."""
    return site_ids(engine).agents


def _linked_id(data: Mapping, field: str, known: dict[str, str] | None, linked: str | None,
               problems: dict[str, str], unknown: Callable[[str, str], str]) -> str | None:
    """An agent or supervisor id to link, checked against the site's; the one the user is `linked` to
    already is kept unchecked (it may since have been removed from the site)."""
    value = _text(data[field], field, MAX_AGENT_ID, problems)
    if value and value != linked and known is not None and value not in known:
        problems[field] = unknown(value, ", ".join(sorted(known)) or _("none"))
    return value


def _text(value, field: str, limit: int, problems: dict[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems[field] = _("Must be text.")
        return None
    value = value.strip()
    if len(value) > limit or not value.isprintable():
        problems[field] = _("At most %(n)d printable characters.") % {"n": limit}
        return None
    return value or None


def check_fields(data: Mapping, site: SiteIds, linked: Mapping | None = None) -> dict:
    """The EDITABLE fields present in `data` (a JSON body, or a form turned into one), checked.

    Raises UserInputError naming each bad field; agent and supervisor ids are checked against the
    `site`'s. The ids the user is linked to already (`linked`, the stored user) are kept unchecked: an
    agent since removed from the site must not stop an admin from disabling the user or changing their
    other fields."""
    linked = linked or {}
    problems: dict[str, str] = {}
    changes: dict = {}
    if "display_name" in data:
        changes["display_name"] = _text(data["display_name"], "display_name", MAX_DISPLAY_NAME, problems)
    if "roles" in data:
        roles = data["roles"]
        if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
            problems["roles"] = _("Choose one or more of: %(roles)s.") % {"roles": ", ".join(_(r) for r in ROLES)}
        else:
            changes["roles"] = tuple(r for r in ROLES if r in roles)
    if "agent_id" in data:
        changes["agent_id"] = _linked_id(
            data, "agent_id", site.agents, linked.get("agent_id"), problems,
            lambda agent, agents: _("There is no agent %(agent)s on this box; its agents are: %(agents)s.")
            % {"agent": agent, "agents": agents})
    if "supervisor_id" in data:
        changes["supervisor_id"] = _linked_id(
            data, "supervisor_id", site.supervisors, linked.get("supervisor_id"), problems,
            lambda sup, sups: _("There is no supervisor %(supervisor)s on this box; its supervisors are: "
                                "%(supervisors)s.") % {"supervisor": sup, "supervisors": sups})
    if "locale" in data:
        locale = data["locale"] or None
        if locale is not None and locale not in LANGUAGES:
            problems["locale"] = _("Choose one of: %(languages)s.") % {"languages": ", ".join(LANGUAGES)}
        changes["locale"] = locale
    if "disabled" in data:
        if not isinstance(data["disabled"], bool):
            problems["disabled"] = _("Must be true or false.")
        changes["disabled"] = data["disabled"]
    if problems:
        raise UserInputError(problems)
    return changes


def check_agent_link(roles: tuple[str, ...], agent_id: str | None) -> None:
    # The agent's console and its ready/not-ready buttons act on the linked agent id.
    if "agent" in roles and not agent_id:
        raise UserInputError({"agent_id": _("A user with the agent role must be linked to the agent id they "
                                            "answer calls as.")})


def _form_data(forms, with_password: bool) -> dict:
    """A submitted user form in the shape of the API's JSON body."""
    data = {"display_name": forms.getunicode("display_name", default=""),
            "roles": forms.getall("roles"), "agent_id": forms.getunicode("agent_id", default=""),
            "supervisor_id": forms.getunicode("supervisor_id", default=""),
            "locale": forms.getunicode("locale", default=""), "disabled": forms.get("disabled") == "1"}
    if with_password:
        data.update(password=forms.getunicode("password", default=""),
                    confirm=forms.getunicode("confirm", default=""))
    return data


def _password_hash(data: Mapping, username: str) -> str:
    password = data.get("password")
    if not isinstance(password, str):
        raise UserInputError({"password": _("Give a temporary password; the user must change it at sign-in.")})
    confirm = data.get("confirm", password)
    problems = new_password_problems(password, confirm if isinstance(confirm, str) else "", username)
    if problems:
        raise UserInputError(problems)
    return hash_password(password)


def create_user(accounts: AccountStore, data: Mapping, site: SiteIds, audit) -> dict:
    """Create the user `data` describes, with a temporary password they must change; audit it."""
    problems: dict[str, str] = {key: _("This field does not exist.")
                                for key in sorted(set(data) - set(EDITABLE) - set(_SECRET_FIELDS) - {"username"})}
    raw = data.get("username")
    username = normalize_username(raw) if isinstance(raw, str) else ""
    if problem := username_problem(username):
        problems["username"] = problem
    try:
        fields = check_fields({"roles": None, **data}, site)
        check_agent_link(fields["roles"], fields.get("agent_id"))
    except UserInputError as exc:
        problems.update(exc.problems)
        fields = {}
    if "disabled" in data and data["disabled"] is not False:
        problems["disabled"] = _("A new user starts enabled.")
    if not problems:
        try:
            password_hash = _password_hash(data, username)
        except UserInputError as exc:
            problems.update(exc.problems)
    if problems:
        raise UserInputError(problems)
    try:
        accounts.create(username, fields["roles"], password_hash, display_name=fields.get("display_name"),
                        agent_id=fields.get("agent_id"), supervisor_id=fields.get("supervisor_id"),
                        locale=fields.get("locale"), must_change_password=True)
    except AccountError as exc:
        raise UserInputError({exc.field: str(exc)}) from None
    # Never the password or its hash: the audit says what changed, not the secret.
    audit.record("user.create", username, {key: list(value) if isinstance(value, tuple) else value
                                           for key, value in fields.items()})
    user = accounts.find(username)
    assert user is not None, "a user just created is found"
    return user


def update_user(accounts: AccountStore, username: str, data: Mapping, site: SiteIds, audit, actor: str) -> dict:
    """Apply admin `actor`'s changes (fields of EDITABLE, and `password` to reset it); audit each kind."""
    current = accounts.find(username)
    if current is None:
        raise HTTPError(404, _("There is no user named %(user)s.") % {"user": username})
    unknown = set(data) - set(EDITABLE) - set(_SECRET_FIELDS) - {"username"}
    if unknown:
        raise UserInputError({key: _("This field does not exist or cannot be changed.") for key in sorted(unknown)})
    if "username" in data and data["username"] != username:
        raise UserInputError({"username": _("A username cannot be changed; create a new user instead.")})
    if "password" in data and username == actor:
        # A reset would make the admin change it again at once; their own goes through /account,
        # which asks for the current password.
        raise UserInputError({"password": _("To change your own password, use your account page.")})
    changes = check_fields(data, site, linked=current)
    merged = {**current, **changes}
    check_agent_link(merged["roles"], merged["agent_id"])
    password_hash = _password_hash(data, username) if "password" in data else None
    try:
        diff = accounts.update(username, changes)
    except AccountError as exc:
        raise UserInputError({exc.field: str(exc)}) from None
    if diff:
        audit.record("user.update", username, diff)
    if password_hash is not None:
        accounts.set_password(username, password_hash, must_change=True)
        audit.record("user.password_reset", username, {"must_change_password": True})
    user = accounts.find(username)
    assert user is not None, "a user just updated is found"
    return user


def public(user: dict) -> dict:
    """A user as the API shows it (lists for JSON)."""
    return {**user, "roles": list(user["roles"])}


def install(app: Bottle, render: Callable[..., str], accounts: AccountStore) -> None:
    """Add the users pages and /api/v1/users to the web app."""

    def users_page(form: dict, problems: dict[str, str], site: SiteIds, status: int = 200):
        response.status = status
        return render("users", title=_("Users"), active="users", users=accounts.list_users(), form=form,
                      problems=problems, agents=site.agents, supervisors=site.supervisors, roles=ROLES,
                      languages=LANGUAGE_NAMES,
                      policy=password_policy.rules(PASSWORD_MIN, PASSWORD_MAX, own=False))

    def user_page(user: dict, form: dict, problems: dict[str, str], site: SiteIds,
                  notice: str | None = None, status: int = 200):
        response.status = status
        return render("user", title=_("User %(user)s") % {"user": user["username"]}, active="users",
                      account=user, form=form, problems=problems, agents=site.agents,
                      supervisors=site.supervisors, roles=ROLES,
                      last_admin=accounts.active_admins() == [user["username"]],
                      languages=LANGUAGE_NAMES, notice=notice,
                      policy=password_policy.rules(PASSWORD_MIN, PASSWORD_MAX, own=False))

    @app.get("/users")
    @requires(*USERS_ROLES)
    def users_list(engine):
        return users_page({"roles": ["agent"], "locale": ""}, {}, site_ids(engine))

    @app.post("/users")
    @requires(*USERS_ROLES)
    def users_create(engine, audit):
        data = {"username": request.forms.getunicode("username", default=""),
                **_form_data(request.forms, with_password=True)}
        site = site_ids(engine)
        try:
            user = create_user(accounts, data, site, audit)
        except UserInputError as exc:
            return users_page(data, exc.problems, site, 400)
        redirect(f"/users/{quote(user['username'])}?created=1")

    @app.get("/users/<username>")
    @requires(*USERS_ROLES)
    def user_edit(username, engine):
        user = accounts.find(username)
        if user is None:
            raise HTTPError(404, _("There is no user named %(user)s.") % {"user": username})
        notices = {"created": _("User created. Give them the temporary password: they choose their own at "
                                "their first sign-in."),
                   "saved": _("Changes saved."),
                   "reset": _("Password reset. The user must choose a new one at their next sign-in; "
                              "their sessions have ended.")}
        notice = next((text for key, text in notices.items() if request.query.get(key)), None)
        return user_page(user, {**user, "roles": list(user["roles"])}, {}, site_ids(engine), notice)

    @app.post("/users/<username>")
    @requires(*USERS_ROLES)
    def user_save(username, user, engine, audit):
        data = _form_data(request.forms, with_password=False)
        site = site_ids(engine)
        try:
            update_user(accounts, username, data, site, audit, user["username"])
        except UserInputError as exc:
            shown = accounts.find(username)
            assert shown is not None, "update_user answers 404 for an unknown user"
            return user_page(shown, {**shown, **data}, exc.problems, site, status=400)
        redirect(f"/users/{quote(username)}?saved=1")

    @app.post("/users/<username>/password")
    @requires(*USERS_ROLES)
    def user_reset_password(username, user, engine, audit):
        data = {"password": request.forms.getunicode("password", default=""),
                "confirm": request.forms.getunicode("confirm", default="")}
        site = site_ids(engine)
        try:
            update_user(accounts, username, data, site, audit, user["username"])
        except UserInputError as exc:
            shown = accounts.find(username)
            assert shown is not None, "update_user answers 404 for an unknown user"
            return user_page(shown, {**shown, "roles": list(shown["roles"])}, exc.problems, site, status=400)
        redirect(f"/users/{quote(username)}?reset=1")

    @app.get("/api/v1/users")
    @requires(*USERS_ROLES)
    def api_users():
        return {"users": [public(u) for u in accounts.list_users()]}

    @app.post("/api/v1/users")
    @requires(*USERS_ROLES)
    def api_users_create(engine, audit):
        try:
            user = create_user(accounts, json_body(), site_ids(engine), audit)
        except UserInputError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        response.status = 201
        response.set_header("Location", f"/api/v1/users/{quote(user['username'])}")
        return {"user": public(user)}

    @app.get("/api/v1/users/<id>")
    @requires(*USERS_ROLES)
    def api_user(id):  # the path parameter's name in webui/openapi.yaml
        user = accounts.find(id)
        if user is None:
            raise json_error(404, _("no user named %(user)s") % {"user": id})
        return {"user": public(user)}

    @app.patch("/api/v1/users/<id>")
    @requires(*USERS_ROLES)
    def api_user_update(id, user, engine, audit):
        if accounts.find(id) is None:
            raise json_error(404, _("no user named %(user)s") % {"user": id})
        try:
            changed = update_user(accounts, id, json_body(), site_ids(engine), audit, user["username"])
        except UserInputError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        return {"user": public(changed)}
