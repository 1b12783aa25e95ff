"""The technician's lines page and its API through the WSGI app: roles, live line data, line tests, bad input."""
import pytest

from conftest import FakeEngine
from firmware.core.control import ControlError
from webui.app import create_app

JOB = "0123456789abcdef0123456789abcdef"


HEALTHY = {"alive": True, "fault": None, "waiting": None, "last_error": None, "errors": 0}


class LinesEngine(FakeEngine):
    """The stand-in engine, answering line tests too; channel 2 carries a call, as in the canned status."""

    workers = {"store": {**HEALTHY, "committed": 120, "backlog": 0, "rejected": 0},
               "journal": {**HEALTHY, "backlog": 0}, "recorder": {**HEALTHY, "backlog": 0}}

    def _answer(self, cmd, args):
        if cmd == "status":
            status = super()._answer(cmd, args)
            status.update(self.workers)
            for line in status["lines"]:
                line.update(alarm="loss of line" if line["state"] == "alarm" else None, driver="sim",
                            device=f"sim:{line['name']}", driver_state=None, last_caller_id=None,
                            counters={"calls": 3, "digits": 2, "resets": None, "overruns": None},
                            digits=[{"digit": "1", "at": 1.0}, {"digit": "5", "at": 2.0}], test=None)
            return status
        if cmd == "line.test":
            self.commands.append((cmd, args))
            if args["channel"] == 2:
                raise ControlError("line trunk-2 carries a call (0215559876, connected): it cannot be tested now")
            return {"job": JOB, "channel": args["channel"], "line": "trunk-4", "state": "running", "seconds": 3.0,
                    "started_at": 1.0, "finished_at": None, "result": None}
        if cmd == "line.test_result":
            if args["job"] != JOB:
                raise ControlError(f"no line test {args['job']!r} (the last 64 finished tests are kept)")
            return {"job": JOB, "channel": 4, "line": "trunk-4", "state": "done", "seconds": 3.0, "started_at": 1.0,
                    "finished_at": 4.0, "result": {"dial_tone": True, "level_dbm0": -10.0, "detail": "dial tone"}}
        return super()._answer(cmd, args)


@pytest.fixture
def engine(tmp_path):
    fake = LinesEngine(tmp_path / "control.sock").start()
    yield fake
    fake.stop()


@pytest.fixture
def technician(admin, add_user):
    return add_user("tech", "technician")


def test_technicians_and_admins_get_the_lines_page_and_a_nav_entry(admin, technician):
    for who in (admin, technician):
        page = who.get("/lines")
        assert page.status == 200
        assert 'id="tech-lines"' in page.text and 'src="/static/lines.js"' in page.text
        assert '<a href="/lines" class="active">Lines</a>' in page.text
        assert '<a href="/lines"' in who.get("/").text


@pytest.mark.parametrize("role", ["supervisor", "agent"])
def test_other_roles_get_neither_the_page_nor_the_api(admin, add_user, role):
    user = add_user(f"u-{role}", role)
    assert '<a href="/lines"' not in user.get("/").text
    assert user.get("/lines").status == 403
    reply = user.get("/api/v1/lines")
    assert reply.status == 403 and reply.json() == {"error": f"your roles ({role}) may not do this"}
    assert user.api_post("/api/v1/lines/4/test").status == 403


def test_signed_out_visitors_are_sent_to_sign_in(admin, make_client):
    stranger = make_client()
    assert stranger.get("/lines").location == "/login?next=%2Flines"
    assert stranger.get("/api/v1/lines").status == 401


def test_the_lines_api_gives_every_line_with_its_technical_fields(technician):
    body = technician.get("/api/v1/lines").json()
    assert set(body) == {"box", "lines", "workers", "events", "trunk_groups"}
    assert [(g["name"], g["in_use"], g["guaranteed"], g["cap"]) for g in body["trunk_groups"]] == [
        ("sales", 1, 1, 2), ("", 2, 0, None)]
    assert {name: w["alive"] for name, w in body["workers"].items()} == \
        {"store": True, "journal": True, "recorder": True}
    line = body["lines"][0]
    assert {"driver", "device", "state", "alarm", "last_caller_id", "counters", "digits", "test"} <= set(line)
    assert [d["digit"] for d in line["digits"]] == ["1", "5"]
    assert [ln["name"] for ln in body["lines"] if ln["alarm"]] == ["station-2"]


def test_a_line_test_starts_on_the_engine_and_its_result_can_be_polled(technician, engine):
    reply = technician.api_post("/api/v1/lines/4/test")
    assert reply.status == 202
    assert reply.json()["job"] == JOB and reply.json()["state"] == "running"
    assert engine.commands == [("line.test", {"channel": 4})]
    done = technician.get(f"/api/v1/line-tests/{JOB}")
    assert done.status == 200 and done.json()["result"]["dial_tone"] is True


def test_a_line_test_needs_the_csrf_token(technician, engine):
    reply = technician.post("/api/v1/lines/4/test", json_body={})
    assert reply.status == 403 and "CSRF" in reply.json()["error"]
    assert engine.commands == []


def test_the_lines_page_shows_a_dead_or_waiting_engine_worker(technician, engine):
    # The journal thread died and the store waits on another program's lock: the page gets both.
    engine.workers = {**engine.workers,
                      "journal": {**HEALTHY, "alive": False, "fault": "journal-queue_log thread died (SystemExit)"},
                      "store": {**HEALTHY, "backlog": 420, "rejected": 0,
                                "waiting": {"since": 1.0, "reason": "SQLITE_BUSY: database is locked"}}}
    page = technician.get("/lines").text
    assert 'id="worker-alarm"' in page and 'id="workers"' in page
    workers = technician.get("/api/v1/lines").json()["workers"]
    assert workers["journal"]["alive"] is False
    assert workers["journal"]["fault"] == "journal-queue_log thread died (SystemExit)"
    assert workers["store"]["alive"] and workers["store"]["waiting"]["reason"] == "SQLITE_BUSY: database is locked"
    assert workers["store"]["backlog"] == 420


@pytest.mark.parametrize("channel, status, message", [
    ("abc", 400, "a line is named by its channel number (0, 1, 2 ...), not 'abc'"),
    ("-1", 400, "a line is named by its channel number"),
    ("12345", 400, "a line is named by its channel number"),
    ("99", 404, "there is no line 99 on this box (6 lines, numbered from 0)"),
    ("2", 409, "line trunk-2 carries a call (0215559876, connected): it cannot be tested now"),
])
def test_bad_line_test_requests_get_clear_errors(technician, engine, channel, status, message):
    reply = technician.api_post(f"/api/v1/lines/{channel}/test")
    assert reply.status == status
    assert reply.json()["error"].startswith(message)
    assert engine.commands == ([("line.test", {"channel": 2})] if status == 409 else [])


@pytest.mark.parametrize("job, status, message", [
    ("xyz", 400, "a line test id is the 32 hex digits the test request answered with"),
    ("F" * 32, 400, "a line test id is"),
    ("f" * 32, 404, f"no line test {'f' * 32!r}"),
])
def test_bad_test_ids_get_clear_errors(technician, job, status, message):
    reply = technician.get(f"/api/v1/line-tests/{job}")
    assert reply.status == status and reply.json()["error"].startswith(message)


def test_the_lines_api_is_503_when_the_engine_is_down(tmp_path, clock, sign_in_admin):
    application = create_app(tmp_path / "down.db", tmp_path / "no-engine.sock", clock=clock)
    try:
        admin = sign_in_admin(application)
        assert admin.get("/lines").status == 200
        for reply in (admin.get("/api/v1/lines"), admin.api_post("/api/v1/lines/1/test"),
                      admin.get(f"/api/v1/line-tests/{JOB}")):
            assert reply.status == 503 and reply.json()["error"].startswith("engine not reachable at ")
    finally:
        application.close()


def test_the_lines_script_is_served(client):
    reply = client.get("/static/lines.js")
    assert reply.status == 200 and "/api/v1/lines" in reply.text
