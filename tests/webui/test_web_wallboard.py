"""The supervisors' wallboard and API (docs/requirements.md R6, R20): a user linked to a supervisor id acts as
that supervisor only, each action reaches the engine as its command, a refusal comes back as a 409 that says
why and changes nothing; the board's colour thresholds are site settings edited like the others."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest

from tests.webui.conftest import api_call

pytestmark = pytest.mark.usefixtures("cheap_hashes")

SITE = """\
[box]
id = "branch-001"

[[queue]]
name = "sales"

[[queue]]
name = "service"
"""


@pytest.fixture
def site(engine):
    engine.site_path.parent.mkdir(parents=True, exist_ok=True)
    engine.site_path.write_text(SITE)
    return engine.site_path


def audit(db_path, action: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT target, detail FROM audit_log WHERE action = ? ORDER BY at", [action]).fetchall()
    finally:
        conn.close()


# --- the user <-> supervisor link ------------------------------------------------------------------------
def test_an_admin_links_a_user_to_a_supervisor_of_the_box_once_and_it_is_audited(admin, staff, db_path):
    staff("mei", ["supervisor"])
    refused = api_call(admin, "PATCH", "/api/v1/users/mei", {"supervisor_id": "9009"})
    assert refused.status == 400
    assert "There is no supervisor 9009 on this box; its supervisors are: 9001, 9002." in \
        refused.json()["problems"]["supervisor_id"]
    linked = api_call(admin, "PATCH", "/api/v1/users/mei", {"supervisor_id": "9001"})
    assert linked.status == 200 and linked.json()["user"]["supervisor_id"] == "9001"
    assert ("mei", json.dumps({"supervisor_id": [None, "9001"]})) in audit(db_path, "user.update")
    # One supervisor id is one person's: their station, and the forced changes logged under it.
    staff("omar", ["supervisor"], remote_addr="192.0.2.41")
    taken = api_call(admin, "PATCH", "/api/v1/users/omar", {"supervisor_id": "9001"})
    assert taken.status == 400
    assert taken.json()["problems"]["supervisor_id"] == "Supervisor 9001 is already linked to user mei."


def test_the_user_form_links_a_supervisor_and_lists_the_boxs(admin, staff):
    staff("mei", ["supervisor"])
    page = admin.get("/users/mei")
    assert 'name="supervisor_id"' in page.text and '<option value="9001">Mei Lin</option>' in page.text
    form = {"csrf_token": admin.CSRF_RE.search(page.text).group(1), "display_name": "", "roles": "supervisor",
            "agent_id": "", "supervisor_id": "9002", "locale": ""}
    assert admin.post("/users/mei", form=form).status == 303
    assert api_call(admin, "GET", "/api/v1/users/mei").json()["user"]["supervisor_id"] == "9002"


# --- actions -----------------------------------------------------------------------------------------------
@pytest.fixture
def mei(staff, admin):
    """A supervisor linked to supervisor 9001."""
    client = staff("mei", ["supervisor"])
    assert api_call(admin, "PATCH", "/api/v1/users/mei", {"supervisor_id": "9001"}).status == 200
    return client


@pytest.mark.parametrize("action, body, command", [
    ("monitor", {"agent": "1002"}, ("supervisor.monitor", {"supervisor": "9001", "mode": "monitor", "agent": "1002"})),
    ("whisper", {"agent": "1002"}, ("supervisor.monitor", {"supervisor": "9001", "mode": "whisper", "agent": "1002"})),
    ("barge", {"agent": "1002", "call": "c-talk"},
     ("supervisor.monitor", {"supervisor": "9001", "mode": "barge", "agent": "1002", "call": "c-talk"})),
    ("hangup", {"agent": "1002"}, ("supervisor.hangup", {"supervisor": "9001", "agent": "1002"})),
    ("force_ready", {"agent": "1003"}, ("supervisor.force_ready", {"supervisor": "9001", "agent": "1003"})),
    ("force_not_ready", {"agent": "1001", "reason": "Coaching"},
     ("supervisor.force_not_ready", {"supervisor": "9001", "agent": "1001", "reason": "Coaching"})),
    ("force_logout", {"agent": "1003"}, ("supervisor.force_logout", {"supervisor": "9001", "agent": "1003"})),
])
def test_each_action_is_the_engines_command_for_the_users_own_supervisor(mei, engine, action, body, command):
    reply = api_call(mei, "POST", f"/api/v1/supervisors/9001/{action}", body)
    assert reply.status == 200, reply.text
    assert reply.json()["ok"] is True and reply.json()["action"] == action
    assert engine.commands == [command]


def test_listening_then_intercepting_then_stopping(mei, engine):
    assert api_call(mei, "POST", "/api/v1/supervisors/9001/intercept", {"agent": "1002"}).status == 409
    assert api_call(mei, "POST", "/api/v1/supervisors/9001/whisper", {"agent": "1002"}).status == 200
    assert api_call(mei, "POST", "/api/v1/supervisors/9001/intercept", {"agent": "1002"}).status == 200
    assert api_call(mei, "POST", "/api/v1/supervisors/9001/stop").status == 200
    assert [cmd for cmd, _args in engine.commands] == ["supervisor.monitor", "supervisor.intercept", "supervisor.stop"]
    assert engine.commands[-1][1] == {"supervisor": "9001"}


def test_a_supervisor_acts_as_their_own_id_only_and_an_admin_as_any(mei, staff, admin, engine):
    other = api_call(mei, "POST", "/api/v1/supervisors/9002/hangup", {"agent": "1002"})
    assert other.status == 403 and other.json()["error"] == "you act as supervisor 9001 only, not 9002"
    unlinked = staff("omar", ["supervisor"], remote_addr="192.0.2.41")
    reply = api_call(unlinked, "POST", "/api/v1/supervisors/9002/monitor", {"agent": "1002"})
    assert reply.status == 409 and "not linked to a supervisor id" in reply.json()["error"]
    agent = staff("ana", ["agent"], agent_id="1001", remote_addr="192.0.2.42")
    assert api_call(agent, "POST", "/api/v1/supervisors/9001/monitor", {"agent": "1002"}).status == 403
    assert engine.commands == []
    assert api_call(admin, "POST", "/api/v1/supervisors/9002/monitor", {"agent": "1002"}).status == 200
    assert engine.commands == [("supervisor.monitor", {"supervisor": "9002", "mode": "monitor", "agent": "1002"})]


# The engine refuses a call that is no longer the agent's (firmware/callcenter/center.py ON_CALL); said so.
STALE = ("That call has ended or moved on: agent 1002 is not on call %s now. The page shows the agent's current "
         "call again.")


@pytest.mark.parametrize("action, body, status, error", [
    # Ana (1001) is ready, not on a call: nothing to listen to, take over or hang up.
    ("whisper", {"agent": "1001"}, 409, "Agent 1001 is not on a call."),
    ("hangup", {"agent": "1001"}, 409, "Agent 1001 is not on a call."),
    ("intercept", {"agent": "1002"}, 409, "supervisor 9001 must be listening to agent 1002's call first"),
    ("stop", {}, 409, "supervisor 9001 is not listening to any call"),
    ("monitor", {"agent": "1099"}, 409, "There is no agent 1099 on this box."),
    # The page showed Ben on call c-old; he is on another call now.
    ("barge", {"agent": "1002", "call": "c-old"}, 409, STALE % "c-old"),
    ("force_ready", {"agent": "1003", "call": "c-talk"}, 400, "the force_ready action takes no call"),
    ("monitor", {}, 400, 'name the agent to act on ("agent" in the body)'),
    ("force_not_ready", {"agent": "1001"}, 400, "choose a reason for not ready"),
    ("force_not_ready", {"agent": "1001", "reason": "x" * 41}, 400, "reason must be up to 40 printable characters"),
    ("listen", {"agent": "1002"}, 404, None),
])
def test_an_action_that_does_not_fit_is_refused_saying_why_and_changes_nothing(mei, engine, action, body, status,
                                                                                 error):
    reply = api_call(mei, "POST", f"/api/v1/supervisors/9001/{action}", body)
    assert reply.status == status
    if error is not None:
        assert reply.json()["error"] == error
    assert engine.commands == []


def test_an_engine_that_is_down_is_a_503_and_the_page_says_so(mei, engine):
    engine.stop()
    reply = api_call(mei, "POST", "/api/v1/supervisors/9001/monitor", {"agent": "1002"})
    assert reply.status == 503 and reply.json()["error"]
    assert api_call(mei, "GET", "/api/v1/wallboard").status == 503
    page = mei.get("/wallboard")
    assert page.status == 200 and "The engine is not answering" in page.text


def test_thresholds_edited_by_hand_out_of_kind_leave_the_defaults(mei, site):
    site.write_text(SITE + '\n[wallboard]\nlongest_wait_warn = "soon"\nlongest_wait_alarm = 45\nservice_level_warn = 900\n')
    assert api_call(mei, "GET", "/api/v1/wallboard").json()["thresholds"] == {
        "longest_wait_warn": 30, "longest_wait_alarm": 45, "service_level_warn": 80, "service_level_alarm": 60}


# --- the board ----------------------------------------------------------------------------------------------
def test_the_snapshot_has_queues_agents_and_supervisors_in_the_live_events_shapes(mei, site):
    board = api_call(mei, "GET", "/api/v1/wallboard").json()
    sales = next(q for q in board["queues"] if q["queue"] == "sales")
    assert sales["waiting"] == 1 and sales["longest_wait"] >= 42.0 and sales["target"] == 20
    assert sales["oldest_since"] == pytest.approx(board["box"]["now"] - sales["longest_wait"])
    assert (sales["offered"], sales["answered"], sales["abandoned"]) == (38, 33, 4)
    ben = next(a for a in board["agents"] if a["agent"] == "1002")
    assert ben["state"] == "talking" and ben["call"] == "c-talk" and ben["number"] == "0215559876"
    assert [s["supervisor"] for s in board["supervisors"]] == ["9001", "9002"]
    assert board["supervisor"] == "9001" and set(board["events"]) == {"run", "seq"}
    assert board["thresholds"] == {"longest_wait_warn": 30, "longest_wait_alarm": 60, "service_level_warn": 80,
                                   "service_level_alarm": 60}


def test_the_page_shows_each_actions_key_and_the_tv_mode_is_the_board_alone(mei, site):
    page = mei.get("/wallboard")
    assert page.status == 200 and 'id="wallboard"' in page.text
    for key, label in (("m", "Monitor"), ("w", "Whisper"), ("b", "Barge in"), ("i", "Intercept"), ("h", "Hang up"),
                       ("r", "Ready"), ("n", "Not ready"), ("l", "Log out")):
        assert re.search(rf'data-key="{key}"[^>]*aria-keyshortcuts="{key}">{label} <kbd>{key}</kbd>', page.text)
    assert 'id="keys-help"' in page.text and "You act as supervisor 9001" in page.text
    assert 'href="/wallboard"' in page.text and 'class="topbar"' in page.text
    tv = mei.get("/wallboard?tv=1")
    assert tv.status == 200 and 'class="topbar"' not in tv.text and 'data-tv="1"' in tv.text


def test_an_unlinked_supervisor_watches_and_is_told_why_they_cannot_act(staff, site):
    omar = staff("omar", ["supervisor"])
    page = omar.get("/wallboard")
    assert page.status == 200 and 'id="no-link"' in page.text


def test_an_admin_chooses_which_supervisor_to_act_as_and_agents_have_no_wallboard(admin, staff, site):
    page = admin.get("/wallboard")
    assert page.status == 200 and 'id="act-as"' in page.text
    assert re.findall(r'<option value="(9\d+)"', page.text) == ["9001", "9002"]
    ana = staff("ana", ["agent"], agent_id="1001")
    assert 'href="/wallboard"' not in ana.get("/").text
    assert ana.get("/wallboard").status == 403


def test_thresholds_are_site_settings_checked_by_the_engine_and_audited(admin, site, db_path, mei):
    got = api_call(admin, "GET", "/api/v1/config/wallboard")
    version = got.json()["version"]
    bad = admin.request("PUT", "/api/v1/config/wallboard", json_body={"longest_wait_warn": 90,
                                                                      "longest_wait_alarm": 60},
                        headers={"X-CSRF-Token": admin.csrf("/account"), "If-Match": f'"{version}"'})
    assert bad.status == 422
    assert bad.json()["fields"]["longest_wait_alarm"] == "must be more than longest_wait_warn (90)"
    assert "[wallboard]" not in site.read_text()
    good = admin.request("PUT", "/api/v1/config/wallboard", json_body={"longest_wait_warn": 20,
                                                                       "longest_wait_alarm": 45,
                                                                       "service_level_warn": 90},
                         headers={"X-CSRF-Token": admin.csrf("/account"), "If-Match": f'"{version}"'})
    assert good.status == 200, good.text
    assert audit(db_path, "wallboard.update") == [("wallboard", json.dumps(
        {"longest_wait_alarm": [None, 45], "longest_wait_warn": [None, 20], "service_level_warn": [None, 90]}))]
    assert api_call(mei, "GET", "/api/v1/wallboard").json()["thresholds"] == {
        "longest_wait_warn": 20, "longest_wait_alarm": 45, "service_level_warn": 90, "service_level_alarm": 60}


def test_the_thresholds_page_shows_each_reason_beside_its_field(admin, site):
    page = admin.get("/config/wallboard")
    assert page.status == 200 and 'name="service_level_alarm"' in page.text
    version = re.search(r'name="version" value="([0-9a-f]+)"', page.text).group(1)
    reply = admin.post("/config/wallboard", form={"csrf_token": admin.CSRF_RE.search(page.text).group(1),
                                                  "version": version, "service_level_warn": "50",
                                                  "service_level_alarm": "70"})
    assert reply.status == 422 and "must be less than service_level_warn (50)" in reply.text


def test_a_call_that_ended_since_the_last_status_is_not_acted_on(mei, engine, monkeypatch):
    import sys

    conftest = sys.modules[type(engine).__module__]   # the stand-in engine's own module
    assert api_call(mei, "GET", "/api/v1/wallboard").status == 200   # the status now shared, Ben on c-talk
    real = conftest.canned_status

    def next_call(now, t0=None):
        status = real(now, t0)
        ben = next(a for a in status["agents"] if a["id"] == "1002")
        ben["call_id"] = "c-next"      # c-talk ended within the shared status's half second
        return status
    monkeypatch.setattr(conftest, "canned_status", next_call)
    reply = api_call(mei, "POST", "/api/v1/supervisors/9001/barge", {"agent": "1002", "call": "c-talk"})
    assert reply.status == 409 and reply.json()["error"] == \
        STALE % "c-talk"
    assert engine.commands == []


def test_one_service_level_definition_set_on_its_page_is_what_the_wallboard_reports_and_staffing_use(
        admin, site, db_path, mei):
    # docs/kpi.md: the site's target and short-abandon threshold, 20 s and 5 s until an admin sets others.
    assert api_call(mei, "GET", "/api/v1/wallboard").json()["queues"][0]["target"] == 20
    assert api_call(admin, "GET", "/api/v1/reports/calls?from=2025-03-10&to=2025-03-10").json()["params"][
        "short_abandon"] == "5"
    version = api_call(admin, "GET", "/api/v1/config/reports").json()["version"]
    headers = {"X-CSRF-Token": admin.csrf("/account"), "If-Match": f'"{version}"'}
    bad = admin.request("PUT", "/api/v1/config/reports", json_body={"service_level_s": 10, "short_abandon_s": 10},
                        headers=headers)
    assert bad.status == 422
    assert bad.json()["fields"]["short_abandon_s"] == "must be less than service_level_s (10)"
    good = admin.request("PUT", "/api/v1/config/reports", json_body={"service_level_s": 30, "short_abandon_s": 8},
                         headers=headers)
    assert good.status == 200, good.text
    assert audit(db_path, "reports.update") == [("reports", json.dumps(
        {"service_level_s": [None, 30], "short_abandon_s": [None, 8]}))]
    assert api_call(mei, "GET", "/api/v1/wallboard").json()["queues"][0]["target"] == 30
    report = api_call(admin, "GET", "/api/v1/reports/calls?from=2025-03-10&to=2025-03-10").json()
    assert report["params"]["short_abandon"] == "8"
    # A request may still ask for its own threshold; the target is the site's.
    asked = api_call(admin, "GET", "/api/v1/reports/calls?from=2025-03-10&to=2025-03-10&short_abandon=0").json()
    assert asked["params"]["short_abandon"] == "0"
    what_if = api_call(admin, "GET", "/api/v1/staffing/what-if?calls_per_hour=60&aht_s=180").json()
    assert what_if["targets"]["answer_s"] == 30
    assert 'data-service-target="30"' in admin.get("/").text
