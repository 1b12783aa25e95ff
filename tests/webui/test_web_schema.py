"""The JSON API against webui/openapi.yaml, by schemathesis: requests made from the file's schemas (valid
ones and, in the fuzzing phase, any value of each parameter's type), and every reply checked: never a
500, a status and content type the file lists for the route, a body that matches its schema.

An admin's session (and an HQ token for the sync routes) makes the requests, so they reach the code
behind the role checks; the role checks themselves are tests/webui/test_web_routes.py's."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from firmware.store import connect
from firmware.store.sync import create_token

from test_web_routes import OPENAPI

SCHEMA = schemathesis.openapi.from_path(OPENAPI).include(path_regex="^/api/")
# A small budget per operation keeps the whole run to seconds; the seed is fixed so that a failure
# found once is found again, and a change to the file or the code explores anew.
EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def credentials(admin, db_path, clock):
    """Headers that reach past the route's access checks: the admin's session, CSRF and an HQ token."""
    conn = connect(db_path)
    try:
        _, token = create_token(conn, "schema test", clock(), "admin")
    finally:
        conn.close()
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in admin.cookies.items()),
            "X-CSRF-Token": admin.csrf("/"), "Authorization": f"Bearer {token}"}


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_answers_as_its_schema_says(case, app, records, credentials):
    if case.path.endswith("/revoke"):
        # A made-up token id could revoke the one these requests carry; revocation is tested in test_sync_api.
        case.path_parameters = {"token_id": "hq-000000000000"}
    response = case.call(app=app, headers=credentials)
    case.validate_response(response, checks=CHECKS)
