"""Security properties checked on every route, generated from webui/openapi.yaml as the role matrix is
(tests/webui/test_web_routes.py): CSRF on every write, hostile values in every parameter, the security
headers on every reply; and how passwords and HQ tokens are stored (docs/security.md)."""
from __future__ import annotations

import re
import sqlite3
from urllib.parse import quote, urlencode

import pytest

from webui import auth
from webui.accounts import ROLES

from conftest import Client
from test_web_routes import ANONYMOUS, OPERATIONS, SPEC, concrete_path, file_access

WRITES = [op for op in OPERATIONS if op[0] != "GET" and file_access(op[2]) != "hq_token"]
# OWASP testing guide (WSTG-ATHZ-01, WSTG-INPV-05): traversal plain and percent-encoded (once more than
# the router decodes), SQL that would widen a WHERE or end a statement, a NUL byte.
HOSTILE = ("../../../../etc/passwd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "' OR 1=1 --",
           "\"; DROP TABLE users; --", "x\x00y")
PASSWD_LINE = re.compile(rb"root:[x*]?:0:0:")
# The box's scrypt cost, read before any test makes hashing cheap (conftest.py cheap_hashes).
BOX_SCRYPT = (auth.SCRYPT_N, auth.SCRYPT_R, auth.SCRYPT_P)


def role_for(operation: dict) -> str:
    """A role that may use the route: admin if it may, else the first the file names; anonymous if public."""
    access = file_access(operation)
    if not isinstance(access, frozenset):
        return ANONYMOUS
    return "admin" if "admin" in access else sorted(access)[0]


def form_page(role: str) -> str:
    return "/login" if role == ANONYMOUS else "/logout"


def body_kind(operation: dict) -> tuple[str, dict]:
    """("json" | "form" | "", the body's top-level properties) of an operation."""
    content = (operation.get("requestBody") or {}).get("content", {})
    for media, kind in (("application/json", "json"), ("application/x-www-form-urlencoded", "form"),
                        ("multipart/form-data", "form")):
        if media in content:
            schema = content[media].get("schema", {})
            if "$ref" in schema:
                schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            return kind, schema.get("properties", {})
    return "", {}


def parameters(operation: dict, path_parameters: list) -> list[dict]:
    found = []
    for parameter in [*path_parameters, *operation.get("parameters", [])]:
        if "$ref" in parameter:
            parameter = SPEC["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        found.append(parameter)
    return found


def assert_csrf_refused(app, client: Client, method: str, path: str, operation: dict, path_parameters: list) -> None:
    """A write without the session's CSRF token (none, or a forged one) is refused for a role that may write."""
    route = next(r for r in app.routes if r.method == method and re.sub(r"<([^>:]+)(:[^>]*)?>", r"{\1}", r.rule)
                 == path)
    url = concrete_path(path, operation, path_parameters)
    kind, _ = body_kind(operation)
    if getattr(route.callback, auth.JSON_SIGN_IN_ATTR, False):
        # The API's sign-in takes no token but only JSON, which another site's page cannot send without a
        # CORS preflight the box never grants (webui/auth.py json_sign_in).
        reply = client.request(method, url, form={"username": "admin", "password": "x"})
        assert reply.status == 415
        return
    if kind == "form":
        reply = client.request(method, url, form={"csrf_token": "forged"})
    else:
        reply = client.request(method, url, json_body={}, headers={"X-CSRF-Token": "forged"})
    assert reply.status == 403, f"{method} {url} as {role_for(operation)}: {reply.status}"
    if path.startswith("/api/"):
        assert "CSRF" in reply.json()["error"]
    bare = client.request(method, url)
    assert bare.status == 403


def hostile_requests(method: str, path: str, operation: dict, path_parameters: list):
    """(what is hostile, url, form, json) for each parameter and body field with each hostile value."""
    base = concrete_path(path, operation, path_parameters)
    kind, properties = body_kind(operation)
    for value in HOSTILE:
        for parameter in parameters(operation, path_parameters):
            if parameter.get("in") == "path":
                url = re.sub(r"{%s}" % re.escape(parameter["name"]), quote(value, safe=""), path)
                yield f"path {parameter['name']}={value!r}", concrete_path(url, operation, path_parameters), None, None
            elif parameter.get("in") == "query":
                yield f"query {parameter['name']}={value!r}", base + "?" + urlencode({parameter["name"]: value}), \
                    None, None
        for name in properties:
            body = {name: value}
            yield f"body {name}={value!r}", base, body if kind == "form" else None, body if kind == "json" else None


def tables(db_path) -> set[str]:
    with sqlite3.connect(db_path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def user_names(db_path) -> set[str]:
    with sqlite3.connect(db_path) as db:
        return {row[0] for row in db.execute("SELECT username FROM users")}


def assert_hardened(reply, what: str) -> None:
    """The headers every reply carries (webui/app.py SECURITY_HEADERS)."""
    assert reply.header("X-Content-Type-Options") == "nosniff", what
    policy = reply.header("Content-Security-Policy") or ""
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy, what
    assert reply.header("X-Frame-Options") == "DENY", what


@pytest.mark.parametrize("method, path, operation, path_parameters", OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS])
def test_every_route_wants_csrf_for_writes_and_survives_hostile_values(box, app, db_path, method, path, operation,
                                                                       path_parameters):
    """Writes first without the CSRF token (refused, so nothing changes), then every parameter with each
    hostile value under the token: one box per route, as the role matrix has."""
    before_tables, before_users = tables(db_path), user_names(db_path)
    client = box(role_for(operation))
    if (method, path, operation, path_parameters) in WRITES:
        assert_csrf_refused(app, client, method, path, operation, path_parameters)
    token = client.csrf(form_page(role_for(operation))) if method != "GET" else ""
    failures = []
    for what, url, form, json_body in hostile_requests(method, path, operation, path_parameters):
        if form is not None:
            form = {**form, "csrf_token": token}
        reply = client.request(method, url, form=form, json_body=json_body,
                               headers={"X-CSRF-Token": token} if token else None)
        if reply.status >= 500 and reply.status != 503:
            failures.append(f"{what}: {reply.status}")
        if PASSWD_LINE.search(reply.body):
            failures.append(f"{what}: a file outside the box's directories was served")
        if b"Traceback" in reply.body:
            failures.append(f"{what}: a traceback in the reply")
        assert_hardened(reply, f"{method} {url}")
    assert not failures, f"{method} {path}: " + "; ".join(failures)
    assert tables(db_path) == before_tables
    assert before_users <= user_names(db_path)


def test_static_files_errors_and_redirects_carry_the_security_headers(box):
    anonymous, admin = box(ANONYMOUS), box("admin")
    for client, path in ((anonymous, "/static/api.js"), (anonymous, "/static/../auth.py"),
                         (anonymous, "/static/%2e%2e/auth.py"), (anonymous, "/no/such/page"),
                         (anonymous, "/api/v1/no/such"), (anonymous, "/"), (admin, "/login"),
                         (admin, "/static/vendor/../../app.py")):
        reply = client.get(path)
        assert_hardened(reply, path)
        assert b"import " not in reply.body or path == "/static/api.js", f"{path} served the app's source"
    assert admin.request("PATCH", "/login").status == 405


def test_passwords_are_kept_only_as_salted_scrypt(box, db_path, password, tmp_path):
    box("admin")    # the admin and one user per role, all with the same password
    with sqlite3.connect(db_path) as db:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM users")]
    assert len(hashes) == len(ROLES) + 1
    salts = set()
    for stored in hashes:
        scheme, n, r, p, salt, digest = stored.split("$")
        # RFC 7914 §2: the parameters are in each hash, so stronger ones apply to new hashes only.
        assert scheme == "scrypt" and int(r) == auth.SCRYPT_R and int(p) == auth.SCRYPT_P
        salts.add(salt)
    assert len(salts) == len(hashes), "one salt per password"
    # RFC 7914 §2's interactive-login parameters: 16 MiB and tens of milliseconds per guess.
    assert BOX_SCRYPT == (2 ** 14, 8, 1)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), f"the password in clear in {path.name}"


def test_hq_tokens_are_kept_only_as_hashes_and_a_revoked_one_is_refused_at_once(box, db_path, tmp_path):
    admin = box("admin")
    created = admin.api_post("/api/v1/hq/tokens", {"name": "HQ"}, token=admin.csrf("/hq-tokens"))
    token = created.json()["token"]
    hq = Client(admin.app, "198.51.100.4")
    assert hq.get("/api/v1/sync/changes?since=0", headers={"Authorization": f"Bearer {token}"}).status == 200
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"the token in clear in {path.name}"
    revoked = admin.api_post(f"/api/v1/hq/tokens/{created.json()['id']}/revoke", {}, token=admin.csrf("/hq-tokens"))
    assert revoked.status == 200
    assert hq.get("/api/v1/sync/changes?since=0", headers={"Authorization": f"Bearer {token}"}).status == 401


API_OPERATIONS = [op for op in OPERATIONS if op[1].startswith("/api/")]


def test_an_hq_token_opens_the_sync_routes_and_nothing_else(box, db_path):
    """The role matrix tries every route with each role's session; this tries each with HQ's token alone:
    the token's routes answer, every other route refuses it as it refuses anyone not signed in."""
    admin = box("admin")
    token = admin.api_post("/api/v1/hq/tokens", {"name": "HQ"}, token=admin.csrf("/hq-tokens")).json()["token"]
    hq = Client(admin.app, "198.51.100.4")
    wrong = []
    for method, path, operation, path_parameters in API_OPERATIONS:
        url = concrete_path(path, operation, path_parameters)
        reply = hq.request(method, url, json_body={} if method != "GET" else None,
                           headers={"Authorization": f"Bearer {token}"})
        if file_access(operation) == "hq_token":
            if reply.status in (401, 403):
                wrong.append(f"{method} {url}: the token was refused ({reply.status})")
        elif file_access(operation) not in ("public", "always_open") and reply.status != 401:
            wrong.append(f"{method} {url}: {reply.status} for HQ's token alone")
    assert not wrong, "; ".join(wrong)
