"""Live status through the control socket, agent commands, the dashboard page and error replies."""
import pytest

from webui.app import create_app

WAITING_NUMBER = "0215550123"


@pytest.fixture
def engine_down(tmp_path, clock, sign_in_admin):
    """An administrator's client on a box whose engine is not running."""
    application = create_app(tmp_path / "down.db", tmp_path / "no-engine.sock", clock=clock)
    yield sign_in_admin(application)
    application.close()


def test_status_is_the_engines_answer(admin):
    reply = admin.get("/api/v1/status")
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"box", "ticks", "lines", "calls", "queues", "agents", "supervisors", "flow", "language",
                         "prompt_dirs", "events", "trunk_groups", "surveys"}
    [waiting] = [c for c in body["calls"] if c["state"] == "queued"]
    assert waiting["number"] == WAITING_NUMBER and waiting["queue"] == "sales" and waiting["wait_s"] >= 42.0
    assert reply.header("Cache-Control") == "no-store"


def test_status_is_503_with_a_json_error_when_the_engine_is_down(engine_down):
    reply = engine_down.get("/api/v1/status")
    assert reply.status == 503
    body = reply.json()
    assert list(body) == ["error"]
    assert body["error"].startswith("engine not reachable at ")
    assert "Traceback" not in reply.text


def test_the_dashboard_still_renders_when_the_engine_is_down(engine_down):
    page = engine_down.get("/")
    assert page.status == 200
    assert 'id="engine-banner"' in page.text


@pytest.mark.parametrize("action, command", [("login", "agent.login"), ("logout", "agent.logout"),
                                             ("ready", "agent.ready")])
def test_agent_commands_reach_the_engine(admin, engine, action, command):
    reply = admin.api_post(f"/api/v1/agents/1004/{action}")
    assert reply.status == 200
    assert reply.json() == {"ok": True, "agent": "1004", "action": action}
    assert engine.commands == [(command, {"agent": "1004"})]


def test_not_ready_carries_its_reason(admin, engine):
    reply = admin.api_post("/api/v1/agents/1001/not_ready", {"reason": " Lunch "})
    assert reply.status == 200
    assert engine.commands == [("agent.not_ready", {"agent": "1001", "reason": "Lunch"})]


@pytest.mark.parametrize("body, message", [
    ({}, "choose a reason for not ready"),
    ({"reason": "   "}, "choose a reason for not ready"),
    ({"reason": 7}, "choose a reason for not ready"),
    ({"reason": "x" * 41}, "the reason must be up to 40 printable characters"),
    ({"reason": "tab\there"}, "the reason must be up to 40 printable characters"),
])
def test_not_ready_without_a_good_reason_is_refused(admin, engine, body, message):
    reply = admin.api_post("/api/v1/agents/1001/not_ready", body)
    assert reply.status == 400 and reply.json() == {"error": message}
    assert engine.commands == []


def test_an_unknown_action_is_404(admin, engine):
    reply = admin.api_post("/api/v1/agents/1001/dance")
    assert reply.status == 404
    assert reply.json()["error"] == ("unknown agent action 'dance': use one of login, logout, ready, not_ready, "
                                     "hold, resume, transfer, transfer_complete, transfer_cancel, conference, dial, "
                                     "hangup, record, pause_recording, wrapup, preview_dial, preview_skip")


def test_a_refusal_from_the_engine_is_409_with_its_message(admin, engine):
    engine.refusals["agent.ready"] = "agent 1004 is logged out"
    reply = admin.api_post("/api/v1/agents/1004/ready")
    assert reply.status == 409 and reply.json() == {"error": "agent 1004 is logged out"}
    unknown = admin.api_post("/api/v1/agents/9999/logout")
    assert unknown.status == 409 and unknown.json() == {"error": "unknown agent 9999"}


def test_an_agent_command_is_503_when_the_engine_is_down(engine_down):
    reply = engine_down.api_post("/api/v1/agents/1001/ready")
    assert reply.status == 503 and reply.json()["error"].startswith("engine not reachable at ")


def test_the_dashboard_gives_supervisors_the_agent_controls(admin):
    page = admin.get("/").text
    assert 'data-can-control="1"' in page
    assert '<template id="reason-select">' in page and '<option value="Lunch">Lunch</option>' in page
    assert '<script src="/static/dashboard.js" defer></script>' in page
    assert '<meta name="csrf-token" content="' in page


def test_the_dashboard_gives_agents_no_controls_over_other_agents(add_user):
    # An agent-only user's / is their own console (tests/webui/test_web_console.py), not the site's board.
    page = add_user("agent7", "agent").get("/").text
    assert 'id="console"' in page and 'id="dashboard"' not in page
    assert "reason-select" not in page and ">Actions<" not in page


def test_pages_carry_security_headers(admin):
    reply = admin.get("/")
    assert reply.header("X-Frame-Options") == "DENY"
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Content-Security-Policy").startswith("default-src 'self'")


@pytest.mark.parametrize("path, kind", [("/static/branchline.css", "text/css"),
                                        ("/static/dashboard.js", "javascript"),
                                        ("/static/favicon.svg", "image/svg+xml")])
def test_static_assets_are_served_from_the_box_even_before_setup(client, path, kind):
    reply = client.get(path)
    assert reply.status == 200 and kind in reply.header("Content-Type")


def test_static_files_cannot_escape_their_folder(client):
    assert client.get("/static/../app.py").status in (403, 404)


def test_unknown_paths_are_404_as_json_under_the_api_and_as_a_page_elsewhere(admin):
    api = admin.get("/api/v1/nothing")
    assert api.status == 404 and api.json() == {"error": "no such API endpoint: /api/v1/nothing"}
    page = admin.get("/nothing")
    assert page.status == 404 and "There is no page at /nothing." in page.text and "<main" in page.text


def test_an_unexpected_error_shows_no_internals(admin, records, monkeypatch):
    def broken(db, f):
        raise RuntimeError("secret internals /var/lib/branchline")
    monkeypatch.setattr("webui.app.list_calls", broken)
    for path in ("/calls", "/api/v1/calls"):
        reply = admin.get(path)
        assert reply.status == 500
        assert "secret internals" not in reply.text and "Traceback" not in reply.text
        assert "unexpected error" in reply.text
