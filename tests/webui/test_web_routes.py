"""webui/openapi.yaml and the app's routes in step, and every route answering every role as the file says.

The matrix is generated from the file: a route added with its `x-roles` is checked with no change here,
and a route served but missing from the file, or named in the file and not served, fails."""
import re
from pathlib import Path

import pytest
import yaml

from webui import auth
from webui.accounts import ROLES
from webui.sync import BearerAuth

from conftest import ANONYMOUS, Client

OPENAPI = Path(__file__).resolve().parents[2] / "webui" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
ACCESS_KINDS = ("public", "always_open", "hq_token")
# A path parameter the file gives no example for is filled with this.
FILLER = "x1"


class StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping: PyYAML keeps the last, silently, and two
    edits of the file merged side by side must not hide one path or schema behind another."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        twice = {key for key in keys if keys.count(key) > 1}
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"{sorted(twice)} given twice", node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_spec() -> dict:
    return yaml.load(OPENAPI.read_text(), Loader=StrictLoader)


SPEC = load_spec()


def operations(spec: dict) -> list[tuple[str, str, dict, list]]:
    """(METHOD, path, operation, path-level parameters) for every operation in the file."""
    found = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                found.append((method.upper(), path, item[method], item.get("parameters", [])))
    return found


def route_access(route) -> str | frozenset:
    """Who the code lets use `route`: a set of roles, or one of ACCESS_KINDS."""
    declared = getattr(route.callback, auth.ACCESS_ATTR, None)
    if declared is not None:
        return declared
    if any(isinstance(plugin, BearerAuth) for plugin in route.all_plugins()):
        return "hq_token"
    return "undeclared"


def file_access(operation: dict) -> str | frozenset:
    if "x-roles" in operation:
        return frozenset(operation["x-roles"])
    return operation.get("x-access", "undeclared")


def openapi_path(rule: str) -> str:
    return re.sub(r"<([^>:]+)(:[^>]*)?>", r"{\1}", rule)


def test_the_file_names_every_route_and_only_routes_the_app_serves(app):
    served = {(route.method, openapi_path(route.rule)) for route in app.routes}
    documented = {(method, path) for method, path, _, _ in operations(SPEC)}
    assert sorted(served - documented) == [], "served but not in webui/openapi.yaml"
    assert sorted(documented - served) == [], "in webui/openapi.yaml but not served"


def test_every_route_says_who_may_use_it_and_the_file_says_the_same(app):
    documented = {(method, path): file_access(op) for method, path, op, _ in operations(SPEC)}
    for route in app.routes:
        access = route_access(route)
        assert access != "undeclared", f"{route.method} {route.rule} does not say who may use it"
        assert isinstance(access, frozenset) or access in ACCESS_KINDS
        key = (route.method, openapi_path(route.rule))
        assert documented.get(key) == access, f"{key}: the file says {documented.get(key)}, the code {access}"


def test_the_file_names_only_known_roles():
    for method, path, op, _ in operations(SPEC):
        access = file_access(op)
        assert access != "undeclared", f"{method} {path} has neither x-roles nor x-access"
        if isinstance(access, frozenset):
            assert access and access <= set(ROLES), f"{method} {path}: unknown roles {access - set(ROLES)}"


def concrete_path(path: str, operation: dict, path_parameters: list) -> str:
    """`path` with each {parameter} replaced by the file's example for it."""
    examples = {}
    for parameter in [*path_parameters, *operation.get("parameters", [])]:
        if "$ref" in parameter:
            parameter = SPEC["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter.get("in") == "path":
            examples[parameter["name"]] = str(parameter.get("example", FILLER))
    return re.sub(r"{([^}]+)}", lambda m: examples.get(m[1], FILLER), path)


def ask(client: Client, method: str, path: str, form_page: str):
    """The reply to `method` `path`; a write carries the CSRF token of its session (from `form_page`),
    as a real client's does, so that only the roles decide."""
    headers = {}
    if method != "GET":
        headers["X-CSRF-Token"] = client.csrf(form_page)
    return client.request(method, path, json_body={} if method != "GET" else None, headers=headers)


def denial(reply, api: bool, role: str) -> str | None:
    """How `reply` refuses (a short description), or None if the route let the request through."""
    if reply.status in (401, 403):
        return str(reply.status)
    location = reply.location or ""
    if not api and reply.status in (302, 303) and location.startswith("/login?next="):
        return "sign-in redirect"
    return None


OPERATIONS = operations(SPEC)


@pytest.mark.parametrize("method, path, operation, path_parameters", OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS])
def test_each_role_gets_what_the_file_says(box, method, path, operation, path_parameters):
    access = file_access(operation)
    url = concrete_path(path, operation, path_parameters)
    api = path.startswith("/api/")
    wrong = []
    for role in (*ROLES, ANONYMOUS):
        reply = ask(box(role), method, url, "/login" if role == ANONYMOUS else "/logout")
        refused = denial(reply, api, role)
        if access == "hq_token":
            expected = "401"   # no bearer token: a session, any role, is not enough
        elif access in ("public", "always_open"):
            expected = None
        elif role in access:
            expected = None
        elif role == ANONYMOUS:
            expected = "401" if api else "sign-in redirect"
        else:
            expected = "403"
        if refused != expected:
            wrong.append(f"{role}: expected {expected or 'allowed'}, got {reply.status} {reply.location or ''}")
        if expected is not None and api:
            assert reply.json()["error"], f"{role}: a refusal under /api/ says why"
    assert not wrong, f"{method} {url} ({access}): " + "; ".join(wrong)


@pytest.mark.parametrize("method, path, operation, path_parameters", OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS])
def test_before_the_first_admin_only_always_open_routes_answer(client, method, path, operation, path_parameters):
    access = file_access(operation)
    reply = ask(client, method, concrete_path(path, operation, path_parameters), "/setup")
    if access == "always_open":
        assert reply.status not in (401, 403)
    elif path.startswith("/api/"):
        assert reply.status == 401 and reply.json()["error"]
    else:
        assert reply.status in (302, 303) and reply.location == "/setup"
