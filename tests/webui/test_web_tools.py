"""The technician's tools page through the WSGI app: who gets it, the load test's API against the stand-in
engine, and the log tail of the engine's and the web's log files."""
import json

import pytest

from firmware.store import open_db


@pytest.fixture
def technician(admin, add_user):
    return add_user("tech", "technician")


def audit_entries(db_path, prefix: str) -> list[tuple]:
    db = open_db(db_path)
    try:
        return db.execute("SELECT action, target, username, detail FROM audit_log WHERE action LIKE ? ORDER BY seq",
                          [prefix + "%"]).fetchall()
    finally:
        db.conn.close()


def delete(client, path):
    return client.request("DELETE", path, headers={"X-CSRF-Token": client.csrf("/")})


# --- who ---------------------------------------------------------------------------------------------
def test_technicians_and_admins_get_the_tools_page_and_its_nav_entry(admin, technician):
    for who in (admin, technician):
        page = who.get("/tools")
        assert page.status == 200
        assert 'id="loadtest-form"' in page.text and 'id="log-entries"' in page.text
        assert 'src="/static/tools.js"' in page.text and 'href="/tools"' in who.get("/").text


def test_other_roles_get_neither_the_page_nor_the_apis(admin, add_user, make_client, engine):
    for role in ("supervisor", "agent"):
        user = add_user(f"user-{role}", role)
        assert 'href="/tools"' not in user.get("/").text
        assert user.get("/tools").status == 403
        assert user.get("/api/v1/loadtest").status == 403
        assert user.api_post("/api/v1/loadtest", {"callers": 1, "duration": 60}).status == 403
        assert delete(user, "/api/v1/loadtest").status == 403
        assert user.get("/api/v1/logs/engine").status == 403
    anonymous = make_client()
    assert anonymous.get("/api/v1/loadtest").status == 401
    assert anonymous.get("/api/v1/logs/web").status == 401
    assert not [c for c, _ in engine.commands if c.startswith("loadtest.")]


# --- load test ---------------------------------------------------------------------------------------
def test_a_technician_starts_watches_and_stops_a_load_test(technician, engine, db_path):
    assert technician.get("/api/v1/loadtest").json()["state"] == "idle"
    reply = technician.api_post("/api/v1/loadtest", {"callers": 10, "duration": 300, "agents": 5, "talk": 20,
                                                     "keys": "1 2"})
    assert reply.status == 202, reply.text
    assert ("loadtest.start", {"callers": 10, "duration": 300.0, "agents": 5, "talk": 20.0, "keys": "1 2"}) \
        in engine.commands
    live = technician.get("/api/v1/loadtest").json()
    assert live["state"] == "running" and live["run"]["calls"]["connected"] == 7 and live["run"]["ticks"]["p99_ms"]
    stopped = delete(technician, "/api/v1/loadtest")
    assert stopped.status == 200 and stopped.json()["run"]["stop_reason"] == "stopped by the operator"
    # Nothing to stop: the engine's refusal, as JSON.
    again = delete(technician, "/api/v1/loadtest")
    assert again.status == 409 and again.json()["error"] == "no load test is running"
    (start, run_id, who, detail), (stop, stop_id, _, _) = audit_entries(db_path, "loadtest.")
    assert (start, who, stop) == ("loadtest.start", "tech", "loadtest.stop") and run_id == stop_id
    assert json.loads(detail)["callers"] == 10


def test_a_start_above_what_the_box_carries_is_refused_with_the_reason(technician, engine, db_path):
    reply = technician.api_post("/api/v1/loadtest", {"callers": 29, "duration": 60})
    assert reply.status == 409 and "at most 28" in reply.json()["error"]
    assert technician.get("/api/v1/loadtest").json()["state"] == "idle"
    assert audit_entries(db_path, "loadtest.") == []


@pytest.mark.parametrize("body, reason", [
    ({"duration": 60}, "callers is required"),
    ({"callers": "ten", "duration": 60}, "callers must be a whole number"),
    ({"callers": 1.5, "duration": 60}, "callers must be a whole number"),
    ({"callers": True, "duration": 60}, "callers must be a whole number"),
    ({"callers": 2, "duration": "long"}, "duration must be a number of seconds"),
    ({"callers": 2, "duration": 60, "keys": 12}, "keys must be"),
    ({"callers": 2, "duration": 60, "lines": 3}, "unknown field lines"),
    ([1, 2], "JSON object"),
])
def test_malformed_starts_are_refused_before_the_engine(technician, engine, body, reason):
    reply = technician.api_post("/api/v1/loadtest", body)
    assert reply.status == 400 and reason in reply.json()["error"]
    assert not [c for c, _ in engine.commands if c == "loadtest.start"]


def test_writes_need_the_csrf_token_and_a_stopped_engine_is_a_503(technician, engine):
    assert technician.post("/api/v1/loadtest", json_body={"callers": 1, "duration": 60}).status == 403
    assert technician.request("DELETE", "/api/v1/loadtest").status == 403
    engine.stop()
    down = technician.get("/api/v1/loadtest")
    assert down.status == 503 and "error" in down.json()


# --- log tail ----------------------------------------------------------------------------------------
ENGINE_LOG = """\
2025-03-10 09:00:00,001 INFO branchline: branchline: board sim with 72 channels
2025-03-10 09:00:01,002 DEBUG firmware.callcenter.center: ignored ring on trunk3
2025-03-10 09:00:02,003 WARNING firmware.core.engine: line trunk2 back in service
2025-03-10 09:00:03,004 ERROR firmware.callcenter.center: fault on trunk1: boom
Traceback (most recent call last):
  File "center.py", line 1, in on_digit
ValueError: boom
2025-03-10 09:00:04,005 INFO firmware.config.loadtest: load test ended: finished
"""


@pytest.fixture
def logs(db_path):
    directory = db_path.parent / "logs"
    directory.mkdir()
    (directory / "engine.log").write_text(ENGINE_LOG)
    return directory


def test_the_log_tail_gives_the_newest_entries_at_a_level_and_above(technician, logs):
    reply = technician.get("/api/v1/logs/engine?level=warning&lines=50")
    assert reply.status == 200
    body = reply.json()
    assert body["exists"] and body["file"] == "logs/engine.log" and body["level"] == "WARNING"
    assert [(e["level"], e["logger"]) for e in body["entries"]] == [
        ("WARNING", "firmware.core.engine"), ("ERROR", "firmware.callcenter.center")]
    # A traceback stays with the entry it belongs to.
    assert body["entries"][1]["message"].endswith("ValueError: boom") and body["entries"][1]["at"].endswith("03,004")
    newest = technician.get("/api/v1/logs/engine?lines=2").json()["entries"]
    assert [e["message"] for e in newest][-1] == "load test ended: finished" and len(newest) == 2
    assert [e["level"] for e in technician.get("/api/v1/logs/engine?level=DEBUG").json()["entries"]].count("DEBUG") == 1


def test_the_tail_reads_on_into_the_rotated_file(technician, logs):
    (logs / "engine.log.1").write_text(ENGINE_LOG)
    (logs / "engine.log").write_text("2025-03-10 10:00:00,000 ERROR branchline: after the rotation\n")
    errors = technician.get("/api/v1/logs/engine?level=ERROR&lines=5").json()["entries"]
    assert [e["message"].splitlines()[0] for e in errors] == ["fault on trunk1: boom", "after the rotation"]


def test_a_missing_log_and_bad_queries(admin, logs):
    web = admin.get("/api/v1/logs/web").json()
    assert web["exists"] is False and web["entries"] == []
    for query, status in (("/api/v1/logs/hq", 404), ("/api/v1/logs/engine?lines=0", 400),
                          ("/api/v1/logs/engine?lines=1001", 400), ("/api/v1/logs/engine?lines=ten", 400),
                          ("/api/v1/logs/engine?level=LOUD", 400)):
        reply = admin.get(query)
        assert reply.status == status and "error" in reply.json(), query


def test_a_secret_in_an_old_log_line_is_masked_on_the_way_out(technician, logs):
    (logs / "engine.log").write_text("2025-03-10 09:00:00,001 WARNING x: Authorization: Bearer blhq_abcDEF123\n")
    [entry] = technician.get("/api/v1/logs/engine").json()["entries"]
    assert "abcDEF123" not in entry["message"] and "[hidden]" in entry["message"]
