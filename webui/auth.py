"""Signing in: scrypt password hashes, signed session cookies, CSRF tokens, login throttling, role checks."""
from __future__ import annotations

import base64
import binascii
import collections
import functools
import hashlib
import hmac
import inspect
import json
import re
import secrets
import threading
import time
import unicodedata
from urllib.parse import urlencode

from bottle import HTTPError, RouteError, redirect, request, response

from . import password_policy
from .accounts import ROLES, AccountStore
from .cookies import read_cookie
from .i18n import N_, gettext as _, ngettext
from .replies import json_error

# RFC 7914 §2 parameters: N=2^14, r=8 costs 16 MiB and tens of milliseconds per check on a
# Pi-class CPU, cheap for one sign-in and costly for a guesser. Stored in each hash string.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
PASSWORD_MIN = 10
PASSWORD_MAX = 256
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")

SESSION_COOKIE = "branchline_session"
# A session lasts one long shift; after that the user signs in again.
SESSION_MAX_AGE = 12 * 3600
# NIST SP 800-63B §4.2.3 (AAL2): re-authenticate after 30 minutes of inactivity. A page left open counts as
# use (its polling or its live event stream), so a console or wallboard in use stays signed in; a browser
# closed, or a laptop asleep, for 30 minutes does not.
SESSION_IDLE = 30 * 60
# Bounds the memory of sessions' last use against a flood of sign-ins; far above a branch's staff.
ACTIVITY_MAX = 4096
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

# Failed sign-ins allowed inside the window, per username and per client address (a branch LAN
# puts several staff behind few addresses, hence the larger address allowance).
THROTTLE_WINDOW = 15 * 60
THROTTLE_PER_USER = 5
THROTTLE_PER_ADDRESS = 20
# Bounds the throttle's memory against a spray of made-up usernames.
THROTTLE_MAX_KEYS = 4096

# Every method that changes something must carry the CSRF token (RFC 9110 §9.2.1: only these are unsafe).
# Each role's name as pages show it (the msgid is the role itself: templates translate it with _(role)).
ROLE_LABELS = {"admin": N_("admin"), "supervisor": N_("supervisor"), "agent": N_("agent"),
               "technician": N_("technician")}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ACCESS_ATTR = "branchline_access"
# Routes a user whose password an admin reset may still use: changing it, and signing out.
BEFORE_CHANGE_ATTR = "branchline_before_password_change"
# Routes that sign a script in take JSON only instead of a CSRF token (see json_sign_in).
JSON_SIGN_IN_ATTR = "branchline_json_sign_in"
PUBLIC = "public"            # anyone; sent to the setup page until an admin exists
ALWAYS_OPEN = "always_open"  # anyone, even before setup (the setup page and static files)


def open_before_password_change(callback):
    """Route decorator: usable while the signed-in user must still change a password an admin reset."""
    setattr(callback, BEFORE_CHANGE_ATTR, True)
    return callback


def json_sign_in(callback):
    """Route decorator for the API's sign-in: writes need no CSRF token, but must be JSON.

    A script has no session, hence no token, before it signs in. What the token guards against
    (another site making the browser sign in as someone) needs a cross-site request, and a page
    of another site can only send a JSON content type after a CORS preflight, which the box never
    grants (Fetch standard, CORS-safelisted request headers)."""
    setattr(callback, JSON_SIGN_IN_ATTR, True)
    return callback


class SignInError(Exception):
    """A sign-in was refused; the message is shown to the user."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _password_bytes(password: str) -> bytes:
    # NFKC: the same password typed on a different keyboard or input method still matches.
    return unicodedata.normalize("NFKC", password).encode()


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$digest` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_password_bytes(password), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches a hash made by hash_password (with whatever parameters it names)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(_password_bytes(password), salt=_unb64(salt), n=int(n), r=int(r),
                                p=int(p), maxmem=SCRYPT_MAXMEM, dklen=len(expected))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def username_problem(username: str) -> str | None:
    if not USERNAME_RE.fullmatch(username):
        return _("Username must be 3 to 32 characters: letters, digits, dot, dash or underscore.")
    return None


def new_password_problems(password: str, confirm: str, username: str) -> dict[str, str]:
    """Why `username`'s new password is refused, by form field ("password" or "confirm"); empty if it is fine."""
    if len(password) < PASSWORD_MIN:
        return {"password": _("Password must be at least %(min)d characters long (this one has %(length)d).")
                % {"min": PASSWORD_MIN, "length": len(password)}}
    if len(password) > PASSWORD_MAX:
        return {"password": _("Password must be at most %(max)d characters long.") % {"max": PASSWORD_MAX}}
    if weak := password_policy.weakness(password, username, PASSWORD_MIN):
        return {"password": weak}
    if password != confirm:
        return {"confirm": _("The two passwords do not match.")}
    return {}


def _public_user(account: dict) -> dict:
    """What routes see of an account: never its password hash."""
    return {key: account[key] for key in ("username", "roles", "agent_id", "supervisor_id", "locale",
                                          "must_change_password")}


def over_https() -> bool:
    """True if this request came over the box's TLS listener (webui/tls_front.py marks it; no header can)."""
    return request.environ.get("wsgi.url_scheme") == "https"


def user_has(user: dict | None, *roles: str) -> bool:
    """True if the signed-in `user` holds at least one of `roles`."""
    return user is not None and not set(roles).isdisjoint(user["roles"])


def requires(*roles: str):
    """Route decorator: only signed-in users with one of `roles` may use the route."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"requires() needs roles from {ROLES}, got {roles}")

    def mark(callback):
        setattr(callback, ACCESS_ATTR, frozenset(roles))
        return callback
    return mark


def public(callback):
    """Route decorator: anyone may use the route once the box has an admin."""
    setattr(callback, ACCESS_ATTR, PUBLIC)
    return callback


def always_open(callback):
    """Route decorator: anyone may use the route, even before the first admin exists."""
    setattr(callback, ACCESS_ATTR, ALWAYS_OPEN)
    return callback


class LoginThrottle:
    """Counts failed sign-ins per username and per client address in a sliding window (in memory)."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self._failures: dict[str, collections.deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque:
        stamps = self._failures.get(key, collections.deque())
        while stamps and stamps[0] <= now - THROTTLE_WINDOW:
            stamps.popleft()
        return stamps

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, limit in ((f"u:{username}", THROTTLE_PER_USER), (f"a:{address}", THROTTLE_PER_ADDRESS)):
                stamps = self._recent(key, now)
                if len(stamps) >= limit:
                    wait = max(wait, stamps[-limit] + THROTTLE_WINDOW - now)
        return wait

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (f"u:{username}", f"a:{address}"):
                stamps = self._recent(key, now)
                stamps.append(now)
                self._failures[key] = stamps
            if len(self._failures) > THROTTLE_MAX_KEYS:
                self._evict(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username}", None)

    def _evict(self, now: float) -> None:
        for key in [k for k, v in self._failures.items() if not self._recent(k, now)]:
            del self._failures[key]
        # Still too many live keys: forget those whose last failure is oldest.
        excess = len(self._failures) - THROTTLE_MAX_KEYS
        if excess > 0:
            for key in sorted(self._failures, key=lambda k: self._failures[k][-1])[:excess]:
                del self._failures[key]


class SessionActivity:
    """When each signed-in session was last used and which ones were signed out, in the web process's memory.

    The cookie itself carries the session and cannot be taken back from a browser (or from whoever copied
    it); this is what ends it on the box's side. A restarted web process knows neither: a session it has
    not seen counts as used at its first request (the absolute SESSION_MAX_AGE still holds), and a copy of
    a cookie signed out before the restart is good until that age (docs/security.md)."""

    def __init__(self):
        self._seen: dict[str, float] = {}
        self._ended: dict[str, float] = {}     # sid -> when its cookie stops being valid anyway
        self._lock = threading.Lock()

    def use(self, session: dict, now: float) -> bool:
        """True if `session` may go on (it counts as used now); False if it was signed out or left idle."""
        sid = session["sid"]
        with self._lock:
            if sid in self._ended:
                return False
            if now - self._seen.get(sid, now) > SESSION_IDLE:
                self._end(session)
                return False
            self._seen[sid] = now
            if len(self._seen) > ACTIVITY_MAX:
                self._forget(now)
            return True

    def end(self, session: dict) -> None:
        """`session` was signed out: its cookie, or any copy of it, is refused from now on."""
        with self._lock:
            self._end(session)

    def _end(self, session: dict) -> None:
        self._seen.pop(session["sid"], None)
        self._ended[session["sid"]] = session.get("iat", 0) + SESSION_MAX_AGE

    def _forget(self, now: float) -> None:
        self._seen = {sid: at for sid, at in self._seen.items() if now - at <= SESSION_IDLE}
        self._ended = {sid: until for sid, until in self._ended.items() if until >= now}
        if len(self._seen) > ACTIVITY_MAX:
            # Still too many live sessions: the least recently used end first.
            for sid in sorted(self._seen, key=self._seen.__getitem__)[:len(self._seen) - ACTIVITY_MAX]:
                self._end({"sid": sid, "iat": now})


class Auth:
    """Bottle plugin: loads the session cookie, enforces each route's roles and CSRF, injects `user`."""

    name = "auth"
    api = 2

    def __init__(self, accounts: AccountStore, clock=time.time):
        self.accounts = accounts
        self.clock = clock
        self.throttle = LoginThrottle(clock)
        self.activity = SessionActivity()
        self._secret = accounts.session_secret()
        self._dummy_hash: str | None = None

    # --- signed cookie ---------------------------------------------------------------------
    def _mac(self, purpose: bytes, data: bytes) -> bytes:
        return hmac.new(self._secret, purpose + b":" + data, hashlib.sha256).digest()

    def _encode(self, session: dict) -> str:
        body = _b64(json.dumps(session, separators=(",", ":")).encode())
        return body + "." + _b64(self._mac(b"session", body.encode()))

    def _decode(self, value: str | None) -> dict | None:
        if not value or value.count(".") != 1:
            return None
        body, sig = value.split(".")
        try:
            if not hmac.compare_digest(_unb64(sig), self._mac(b"session", body.encode())):
                return None
            session = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            return None
        age = self.clock() - session.get("iat", 0)
        if not isinstance(session.get("sid"), str) or not -60 <= age <= SESSION_MAX_AGE:
            return None
        return session

    def _fingerprint(self, account: dict) -> str:
        # Bound into the cookie so that changing a password ends that user's other sessions, and so
        # does disabling the account (its session generation moves on: m0007_users_more).
        return _b64(self._mac(b"password", f"{account['session_generation']}:{account['password_hash']}".encode()))[:22]

    def _issue(self, account: dict | None = None) -> dict:
        """Start a session (anonymous, or for `account`) and set its cookie."""
        session = {"sid": secrets.token_urlsafe(16), "iat": self.clock()}
        user = None
        if account:
            session.update(u=account["username"], pv=self._fingerprint(account))
            user = _public_user(account)
            self.activity.use(session, session["iat"])     # idle from the sign-in on
        # Secure over HTTPS (RFC 6265 §4.1.2.5): the browser never sends it back over plain HTTP, where a
        # LAN listener would read it before the redirect to HTTPS.
        response.set_cookie(SESSION_COOKIE, self._encode(session), path="/", httponly=True,
                            samesite="lax", secure=over_https())
        request.environ["branchline.session"], request.environ["branchline.user"] = session, user
        return session

    # --- the current request ---------------------------------------------------------------
    def session(self) -> dict | None:
        env = request.environ
        if "branchline.session" not in env:
            session = self._decode(read_cookie(SESSION_COOKIE))
            user = None
            if session and session.get("u") and not self.activity.use(session, self.clock()):
                session = None
            if session and session.get("u"):
                row = self.accounts.get(session["u"])
                if row and hmac.compare_digest(session.get("pv", ""), self._fingerprint(row)):
                    user = _public_user(row)
            env["branchline.session"], env["branchline.user"] = session, user
        return env["branchline.session"]

    def holds(self, cookie: str | None) -> bool:
        """True while the session cookie `cookie` is in date and names an enabled user whose password
        and session generation are those it was issued for: checked outside any request, by a
        stream the session keeps open (webui/events.py)."""
        session = self._decode(cookie)
        if not session or not session.get("u") or not self.activity.use(session, self.clock()):
            return False
        row = self.accounts.get(session["u"])
        return row is not None and hmac.compare_digest(session.get("pv", ""), self._fingerprint(row))

    def user(self) -> dict | None:
        """The signed-in user of this request as {"username", "roles", "agent_id", "supervisor_id", "locale",
        "must_change_password"}, or None."""
        self.session()
        return request.environ["branchline.user"]

    def csrf_token(self) -> str:
        """The token every form posts back; starts an anonymous session if there is none yet."""
        session = self.session() or self._issue()
        return _b64(self._mac(b"csrf", session["sid"].encode()))

    def _csrf_ok(self) -> bool:
        session = self.session()
        sent = request.headers.get(CSRF_HEADER) or request.forms.get(CSRF_FIELD) or ""
        return session is not None and hmac.compare_digest(
            sent.encode(), _b64(self._mac(b"csrf", session["sid"].encode())).encode())

    @staticmethod
    def client_address() -> str:
        # REMOTE_ADDR, not bottle's remote_addr: that trusts X-Forwarded-For, which any client can
        # set to dodge the per-address throttle. The box serves its LAN directly, without a proxy.
        return request.environ.get("REMOTE_ADDR") or "unknown"

    def sign_in(self, username: str, password: str) -> dict:
        """Check the credentials and start a fresh session; raise SignInError with the reason."""
        username = normalize_username(username)
        address = self.client_address()
        wait = self.throttle.retry_after(username, address)
        if wait > 0:
            minutes = max(1, round(wait / 60))
            raise SignInError(ngettext("Too many failed sign-ins. Try again in %(n)d minute.",
                                       "Too many failed sign-ins. Try again in %(n)d minutes.", minutes)
                              % {"n": minutes}, 429)
        row = self.accounts.get(username)
        if row is None:
            # Same scrypt cost as a real check, so timing does not tell which usernames exist.
            if self._dummy_hash is None:
                self._dummy_hash = hash_password(secrets.token_urlsafe(16))
            verify_password(password, self._dummy_hash)
            ok = False
        else:
            ok = verify_password(password, row["password_hash"])
        if not ok:
            self.throttle.failed(username, address)
            raise SignInError(_("Wrong username or password."), 400)
        self.throttle.succeeded(username)
        # A new session id at sign-in, so an id planted before sign-in is worthless after it.
        self._issue(row)
        user = self.user()
        assert user is not None, "a session issued for an account has its user"
        return user

    def renew(self, username: str) -> dict:
        """A fresh session for the signed-in user after their own password change (the old one is void)."""
        row = self.accounts.get(username)
        if row is None:
            raise SignInError(_("This account is disabled."), 403)
        self._issue(row)
        user = self.user()
        assert user is not None, "a session issued for an account has its user"
        return user

    def sign_out(self) -> None:
        session = self.session()
        if session is not None and session.get("u"):
            self.activity.end(session)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=over_https())
        request.environ["branchline.session"] = request.environ["branchline.user"] = None

    # --- the plugin --------------------------------------------------------------------------
    def close(self) -> None:
        self.accounts.close()

    def apply(self, callback, route):
        access = getattr(route.callback, ACCESS_ATTR, None)
        if access is None:
            raise RouteError(f"route {route.method} {route.rule} does not say who may use it: "
                             "decorate it with @requires(...), @public or @always_open")
        is_api = route.rule.startswith("/api/")
        wants_user = "user" in inspect.signature(route.callback).parameters
        before_change = getattr(route.callback, BEFORE_CHANGE_ATTR, False)
        takes_json_sign_in = getattr(route.callback, JSON_SIGN_IN_ATTR, False)

        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            if access != ALWAYS_OPEN and not self.accounts.has_users():
                if is_api:
                    raise json_error(401, _("this box has no admin account yet: finish setup at /setup"))
                redirect("/setup")
            user = self.user()
            if isinstance(access, frozenset):
                if user is None:
                    if is_api:
                        raise json_error(401, _("sign in required"))
                    here = request.fullpath + ("?" + request.query_string if request.query_string else "")
                    redirect("/login?" + urlencode({"next": here}))
                elif user["must_change_password"] and not before_change:
                    if is_api:
                        raise json_error(403, _("your password was reset by an administrator: change it with "
                                                "POST /api/v1/me/password before doing anything else"))
                    redirect("/account")
                elif not access.intersection(user["roles"]):
                    held = ", ".join(_(ROLE_LABELS.get(role, role)) for role in user["roles"])
                    if is_api:
                        raise json_error(403, _("your roles (%(roles)s) may not do this") % {"roles": held})
                    raise HTTPError(403, _("Your roles (%(roles)s) do not give access to this page.")
                                    % {"roles": held})
            if takes_json_sign_in:
                if request.method in WRITE_METHODS and not request.content_type.startswith("application/json"):
                    raise json_error(415, _("send the sign-in as JSON (Content-Type: application/json)"))
            elif request.method in WRITE_METHODS and not self._csrf_ok():
                if is_api:
                    raise json_error(403, _("missing or invalid CSRF token: reload the page"))
                raise HTTPError(403, _("This form has expired or did not come from this box. "
                                       "Reload the page and try again."))
            if wants_user:
                kwargs["user"] = user
            return callback(*args, **kwargs)
        return wrapper
