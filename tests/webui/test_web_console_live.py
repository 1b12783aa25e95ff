"""The agent actions on a live engine (R5, R20, R21): a remote agent, reached on their own phone, works the
console's API as an agent at a station does; the engine itself refuses an action from a page that still
shows a call that has ended, and one with no call, and the web says so in the user's words."""
from __future__ import annotations

import time

from conftest import Client, api_call
from firmware.store import open_readonly
from scenario_builder import agent, caller, run_section, scenario, supervisor
from webui import auth
from webui.accounts import AccountStore
from webui.app import create_app

REMOTE = "13900000001"
SCENARIO = scenario(
    run_section(3600, trunks=4),
    # Reached by dialling their own mobile on a free trunk; answers 1 s after it rings.
    agent("2001", name="Zhou Min", phone=REMOTE, skills={"sales": 5}, login_at=3000.0, answer_after=1.0,
          talk=3000.0),
    caller(0.5, "13800138000", keys=[[1.0, "1"]], patience=3000.0, talk=3000.0),
)


def until(condition, what: str, timeout: float = 20.0):
    """The engine runs in real time: wait for `condition()` to hold, as a person watching the page would."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)
    return found


def test_a_remote_agent_works_a_call_and_a_stale_page_changes_nothing(live_box, password, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    run, state = live_box(SCENARIO)
    app = create_app(state / "branchline.db", state / "control.sock")
    try:
        Client(app).setup("admin", password)
        store = AccountStore(state / "branchline.db")
        store.create("zhou", ("agent",), auth.hash_password(password), agent_id="2001", locale="zh")
        store.close()
        zhou = Client(app)
        assert zhou.login("zhou", password).status == 303
        me = "/api/v1/agents/2001"
        # With no call yet, an action on a call is refused by the engine, in the agent's language.
        refused = api_call(zhou, "POST", f"{me}/hold", {})
        assert refused.status == 409 and refused.json()["error"] == "坐席 2001 当前没有通话。"
        assert api_call(zhou, "POST", f"{me}/login").status == 200
        assert api_call(zhou, "POST", f"{me}/ready").status == 200

        # The waiting caller is offered: the pop names the call while the mobile rings, then it is answered.
        pop = until(lambda: (p := api_call(zhou, "GET", f"{me}/pop").json())["call"] and p, "offer")
        assert pop["number"] == "13800138000" and pop["path"] and pop["digits"] == "1"
        until(lambda: run.engine.app.acd.agents["2001"].state.value == "talking", "answer")
        call = pop["call"]

        assert api_call(zhou, "POST", f"{me}/hold", {"call": call}).status == 200
        assert run.engine.app.acd.agents["2001"].call.hold_started is not None
        stale = api_call(zhou, "POST", f"{me}/resume", {"call": "an-ended-call"})
        assert stale.status == 409 and "an-ended-call" in stale.json()["error"]
        assert run.engine.app.acd.agents["2001"].call.hold_started is not None   # still on hold
        assert api_call(zhou, "POST", f"{me}/resume", {"call": call}).status == 200
        assert api_call(zhou, "POST", f"{me}/hangup", {"call": call}).status == 200
        until(lambda: run.engine.app.acd.agents["2001"].state.value == "wrapup", "wrap-up")
        # The page still shows the ended call: its code goes to that call, the agent's last.
        assert api_call(zhou, "POST", f"{me}/wrapup", {"code": "resolved", "call": call}).status == 200
        db = open_readonly(state / "branchline.db")
        until(lambda: db["calls"].get(call)["wrapup_code"] == "resolved", "wrap-up code in the record")
        # Nothing else acts on it any more.
        gone = api_call(zhou, "POST", f"{me}/hangup", {"call": call})
        assert gone.status == 409 and gone.json()["error"].startswith("该通话已结束或已转走")
    finally:
        app.close()


SUPERVISED = scenario(
    run_section(3600, trunks=4),
    agent("2002", name="Lin Hua", skills={"sales": 5}, login_at=0.0, answer_after=1.0, talk=3000.0),
    supervisor("9001", name="Mei Lin", answer_after=1.0),
    caller(0.5, "13800138001", keys=[[1.0, "1"]], patience=3000.0, talk=3000.0),
)


def test_the_engine_refuses_a_supervisor_action_on_a_call_the_board_showed_that_has_ended(live_box, password,
                                                                                          monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    run, state = live_box(SUPERVISED)
    app = create_app(state / "branchline.db", state / "control.sock")
    try:
        admin = Client(app)
        admin.setup("admin", password)
        assert admin.login("admin", password).status == 303
        agent_obj = until(lambda: (a := run.engine.app.acd.agents["2002"]).state.value == "talking" and a, "answer")
        call = agent_obj.call.id
        for action in ("whisper", "intercept", "hangup"):
            stale = api_call(admin, "POST", f"/api/v1/supervisors/9001/{action}",
                             {"agent": "2002", "call": "an-ended-call"})
            assert stale.status == 409, stale.text
            assert stale.json()["error"] == ("That call has ended or moved on: agent 2002 is not on call "
                                             "an-ended-call now. The page shows the agent's current call again.")
        assert run.engine.app.supervisors.supervisors["9001"].state.value == "idle"
        assert agent_obj.call is not None and agent_obj.call.id == call      # not hung up
        # The call the board shows now is acted on.
        assert api_call(admin, "POST", "/api/v1/supervisors/9001/whisper", {"agent": "2002", "call": call}).status == 200
        assert run.engine.app.supervisors.supervisors["9001"].state.value != "idle"
    finally:
        app.close()
