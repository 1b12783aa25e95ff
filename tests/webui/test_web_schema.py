"""The JSON API against webui/openapi.yaml, by schemathesis: requests made from the file's schemas (valid
ones and, in the fuzzing phase, any value of each parameter's type), and every reply checked: never a
500, a status and content type the file lists for the route, a body that matches its schema.

Each request is made by every kind of caller in turn: a signed-in user of each role (with the session's
CSRF token), an HQ bearer token alone, and nobody. So the replies behind the role checks (an admin's) and
the refusals (a role's 403, nobody's 401) are all held to the file; which role gets through where is
tests/webui/test_web_routes.py's matrix."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from firmware.store import connect
from firmware.store.sync import create_token
from webui.accounts import ROLES

from conftest import ANONYMOUS
from test_web_routes import OPENAPI

SCHEMA = schemathesis.openapi.from_path(OPENAPI).include(path_regex="^/api/")
# A small budget per operation keeps `make test` to about a minute; the seed is fixed so that a failure
# found once is found again, and a change to the file or the code explores anew. The slow tier explores
# ten times as far.
EXAMPLES = 6
SLOW_EXAMPLES = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HQ = "hq-token"
# Least privilege first: a write an admin's request makes (a user renamed, a setting changed) does not
# change what the others' requests of the same example meet.
CALLERS = (ANONYMOUS, HQ, "agent", "technician", "supervisor", "admin")
SETTINGS = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])


@pytest.fixture
def callers(box, db_path, clock) -> dict[str, dict[str, str]]:
    """The headers each caller sends: a role's session cookie and CSRF token, an HQ token, or nothing."""
    headers = {}
    for role in ROLES:
        client = box(role)
        headers[role] = {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
                         "X-CSRF-Token": client.csrf("/logout")}
    conn = connect(db_path)
    try:
        _, token = create_token(conn, "schema test", clock(), "root-admin")
    finally:
        conn.close()
    headers[HQ] = {"Authorization": f"Bearer {token}"}
    headers[ANONYMOUS] = {}
    assert set(headers) == set(CALLERS)
    return headers


def check_as_every_caller(case, app, callers) -> None:
    if case.path.endswith("/revoke"):
        # A made-up token id could revoke the one these requests carry; revocation is tested in test_sync_api.
        case.path_parameters = {"token_id": "hq-000000000000"}
    for caller in CALLERS:
        response = case.call(app=app, headers=callers[caller])
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:
            failure.add_note(f"as {caller}")
            raise


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, **SETTINGS)
def test_the_api_answers_every_caller_as_its_schema_says(case, app, records, callers):
    check_as_every_caller(case, app, callers)


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(max_examples=SLOW_EXAMPLES, **SETTINGS)
def test_the_api_answers_every_caller_as_its_schema_says_at_length(case, app, records, callers):
    check_as_every_caller(case, app, callers)
