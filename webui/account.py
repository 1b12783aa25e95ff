"""The signed-in user's own account: the API's sign-in and sign-out, their password and their language."""
from __future__ import annotations

from typing import Callable

from bottle import Bottle, redirect, request, response

from . import password_policy
from .accounts import LANGUAGE_NAMES, ROLES, AccountError, AccountStore
from .auth import (PASSWORD_MAX, PASSWORD_MIN, Auth, SignInError, hash_password, json_sign_in, new_password_problems,
                   open_before_password_change, public, requires, verify_password)
from .i18n import LANGUAGES
from .i18n import gettext as _
from .replies import json_body, json_error


class AccountFormError(ValueError):
    """A change to the user's own account is refused; `problems` maps each form field to its reason."""

    def __init__(self, problems: dict[str, str], status: int = 400):
        super().__init__(" ".join(problems.values()))
        self.problems = problems
        self.status = status


def _me(user: dict) -> dict:
    return {**user, "roles": list(user["roles"])}


def install(app: Bottle, render: Callable[..., str], accounts: AccountStore, auth: Auth) -> None:
    """Add /account, /api/v1/session and /api/v1/me (password and language) to the web app."""

    def change_password(user: dict, current: str, new: str, confirm: str, audit) -> None:
        """Check the current password and the new one, store it, renew this session, audit it."""
        username = user["username"]
        address = auth.client_address()
        # Guessing the current password through a stolen session is throttled like a sign-in.
        if auth.throttle.retry_after(username, address) > 0:
            raise AccountFormError({"current": _("Too many wrong passwords. Try again later.")}, 429)
        row = accounts.get(username)
        if row is None or not verify_password(current, row["password_hash"]):
            auth.throttle.failed(username, address)
            raise AccountFormError({"current": _("This is not your current password.")})
        problems = new_password_problems(new, confirm, username)
        if not problems and verify_password(new, row["password_hash"]):
            problems = {"password": _("Choose a password different from the current one.")}
        if problems:
            raise AccountFormError(problems)
        accounts.set_password(username, hash_password(new), must_change=False)
        # The new hash voids every session of this user, this one too: issue this browser a new one.
        auth.renew(username)
        audit.record("user.password_change", username, {"was_reset": user["must_change_password"]})

    def set_language(user: dict, locale: str | None, audit) -> None:
        if locale is not None and locale not in LANGUAGES:
            raise AccountFormError({"locale": _("Choose one of: %(languages)s.")
                                                 % {"languages": ", ".join(LANGUAGES)}})
        try:
            diff = accounts.update(user["username"], {"locale": locale})
        except AccountError as exc:
            raise AccountFormError({exc.field: str(exc)}) from None
        if diff:
            audit.record("user.update", user["username"], diff)

    def account_page(user: dict, problems: dict[str, str], notice: str | None = None, status: int = 200):
        response.status = status
        return render("account", title=_("Your account"), active="account", account=user, problems=problems,
                      notice=notice, languages=LANGUAGE_NAMES,
                      policy=password_policy.rules(PASSWORD_MIN, PASSWORD_MAX, own=True))

    # --- pages -------------------------------------------------------------------------------
    @app.get("/account")
    @requires(*ROLES)
    @open_before_password_change
    def account_form(user):
        notices = {"password": _("Your password has been changed. Your other sessions have ended."),
                   "language": _("Your language has been saved.")}
        notice = next((text for key, text in notices.items() if request.query.get("changed") == key), None)
        return account_page(user, {}, notice)

    @app.post("/account/password")
    @requires(*ROLES)
    @open_before_password_change
    def account_password(user, audit):
        forms = request.forms
        try:
            change_password(user, forms.getunicode("current", default=""), forms.getunicode("password", default=""),
                            forms.getunicode("confirm", default=""), audit)
        except AccountFormError as exc:
            return account_page(user, exc.problems, status=exc.status)
        redirect("/account?changed=password" if not user["must_change_password"] else "/")

    @app.post("/account/language")
    @requires(*ROLES)
    def account_language(user, audit):
        try:
            set_language(user, request.forms.getunicode("locale", default="") or None, audit)
        except AccountFormError as exc:
            return account_page(user, exc.problems, status=400)
        redirect("/account?changed=language")

    # --- API ---------------------------------------------------------------------------------
    @app.post("/api/v1/session")
    @public
    @json_sign_in
    def api_sign_in():
        body = json_body()
        username, password = body.get("user"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password:
            raise json_error(400, _("send {\"user\": ..., \"password\": ...} with both filled in"))
        try:
            user = auth.sign_in(username, password)
        except SignInError as exc:
            # A page answers a wrong password with the form again (400); a program is told 401.
            raise json_error(401 if exc.status == 400 else exc.status, str(exc)) from None
        return {"csrf_token": auth.csrf_token(), "user": _me(user)}

    @app.delete("/api/v1/session")
    @requires(*ROLES)
    @open_before_password_change
    def api_sign_out():
        auth.sign_out()
        return {"signed_out": True}

    @app.get("/api/v1/me")
    @requires(*ROLES)
    @open_before_password_change
    def api_me(user):
        return {"user": _me(user)}

    @app.patch("/api/v1/me")
    @requires(*ROLES)
    def api_me_update(user, audit):
        body = json_body()
        if set(body) != {"locale"}:
            raise json_error(400, _("only your language (\"locale\") can be changed here"))
        try:
            set_language(user, body["locale"] or None, audit)
        except AccountFormError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        return {"user": _me({**user, "locale": body["locale"] or None})}

    @app.post("/api/v1/me/password")
    @requires(*ROLES)
    @open_before_password_change
    def api_me_password(user, audit):
        body = json_body()
        current, new = body.get("current"), body.get("password")
        if not isinstance(current, str) or not isinstance(new, str):
            raise json_error(400, _("send {\"current\": ..., \"password\": ...}"))
        try:
            change_password(user, current, new, new, audit)
        except AccountFormError as exc:
            raise json_error(exc.status, str(exc), exc.problems) from None
        return {"csrf_token": auth.csrf_token(), "user": _me(auth.user() or user)}
