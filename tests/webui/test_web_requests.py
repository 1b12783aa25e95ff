"""What a browser or a script may send that the routes never expected: bytes that are not UTF-8, bodies
too large, methods a route does not take. The answer is a 4xx the client can read (JSON under /api/)."""
import pytest

from bottle import BaseRequest


@pytest.mark.parametrize("path", ["/calls?number=%ff", "/calls?%ff=1", "/calls?number=\xff",
                                  "/calls?number=%e6%9e", "/calls/call-0001%ff"])
def test_a_page_address_that_is_not_utf8_is_a_bad_request(admin, records, path):
    reply = admin.get(path)
    assert reply.status == 400
    assert "not valid UTF-8" in reply.text and "<main" in reply.text


@pytest.mark.parametrize("path", ["/api/v1/calls?number=%ff", "/api/v1/calls?page=1&%c3%28=2",
                                  "/api/v1/calls/call-0001%ff"])
def test_an_api_address_that_is_not_utf8_is_a_bad_request_in_json(admin, records, path):
    reply = admin.get(path)
    assert reply.status == 400
    assert "not valid UTF-8" in reply.json()["error"]


def test_utf8_in_the_address_is_read_as_text(admin, records):
    # 林 (U+6797) percent-encoded as a browser sends it: a filter no number matches, not an error.
    reply = admin.get("/api/v1/calls?number=%E6%9E%97")
    assert reply.status == 200 and reply.json()["total"] == 0
    reply = admin.get("/api/v1/calls?number=0215550007")
    assert reply.status == 200 and [c["id"] for c in reply.json()["calls"]] == ["call-0007"]


def test_a_json_body_over_the_limit_is_413_in_json(admin):
    token = admin.csrf("/")
    reply = admin.post("/api/v1/hq/tokens", json_body={"name": "x" * (BaseRequest.MEMFILE_MAX + 1)},
                       headers={"X-CSRF-Token": token})
    assert reply.status == 413
    assert reply.json()["error"]


@pytest.mark.parametrize("method, path", [("DELETE", "/api/v1/calls"), ("PUT", "/api/v1/status")])
def test_a_method_the_route_does_not_take_is_405_in_json(admin, method, path):
    reply = admin.request(method, path, headers={"X-CSRF-Token": admin.csrf("/")})
    assert reply.status == 405 and reply.json()["error"]
    assert "GET" in (reply.header("Allow") or "")


@pytest.mark.parametrize("method, path, status", [("GET", "/api/v1/sync/nothing", 404),
                                                  ("DELETE", "/api/v1/sync/changes", 405)])
def test_the_sync_api_answers_its_own_errors_in_json(client, method, path, status):
    reply = client.request(method, path)
    assert reply.status == status and reply.json()["error"]


@pytest.mark.parametrize("path, status", [("/api/v1/status", 401), ("/calls", 303)])
def test_a_cookie_header_python_cannot_parse_is_no_session_not_a_500(admin, path, status):
    # An RFC 2965 attribute after the cookie: http.cookies knows no $Port and refuses the whole header.
    cookie = f"branchline_session={admin.cookies['branchline_session']}; $Port=\"80\""
    reply = admin.get(path, headers={"Cookie": cookie})
    assert reply.status == status


@pytest.mark.parametrize("path", ["/api/v1/calls?to=9999-12-31", "/api/v1/calls?from=0001-01-01&to=9999-12-31"])
def test_the_widest_dates_a_filter_can_name_select_every_call(admin, records, path):
    reply = admin.get(path)
    assert reply.status == 200 and reply.json()["total"] == len(records)
