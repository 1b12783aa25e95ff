"""The agent actions of the JSON API (R5, R20, R21): each reaches the engine with its arguments and the call
the page shows, an agent acts only as their own agent, bad arguments and the engine's refusals are clear
JSON errors; the screen pop, the agent's day and the transfer targets read for the console."""
from __future__ import annotations

import time

import pytest

from firmware.store import open_db
from tests.webui.conftest import api_call

pytestmark = pytest.mark.usefixtures("cheap_hashes")


@pytest.mark.parametrize("action, body, args", [
    ("hold", {"call": "c-talk"}, {"call": "c-talk"}),
    ("resume", {"call": "c-talk"}, {"call": "c-talk"}),
    ("transfer", {"to": "queue:sales", "call": "c-talk"}, {"to": "queue:sales", "call": "c-talk"}),
    ("transfer", {"to": "agent:1001", "blind": False, "call": "c-talk"},
     {"to": "agent:1001", "blind": False, "call": "c-talk"}),
    ("transfer", {"to": "4008200000"}, {"to": "4008200000"}),
    ("transfer", {"to": "survey:csat", "call": "c-talk"}, {"to": "survey:csat", "call": "c-talk"}),
    ("transfer_complete", {"call": "c-talk"}, {"call": "c-talk"}),
    ("transfer_cancel", {"call": "c-talk"}, {"call": "c-talk"}),
    ("conference", {"to": "agent:1001", "call": "c-talk"}, {"to": "agent:1001", "call": "c-talk"}),
    ("dial", {"number": "021 6123-4567"}, {"number": "02161234567"}),
    ("hangup", {"call": "c-talk"}, {"call": "c-talk"}),
    ("record", {"call": "c-talk"}, {"call": "c-talk"}),
    ("pause_recording", {"call": "c-talk"}, {"call": "c-talk"}),
    ("pause_recording", {"paused": False, "call": "c-talk"}, {"paused": False, "call": "c-talk"}),
    ("wrapup", {"code": "follow-up", "call": "c-talk"}, {"code": "follow-up", "call": "c-talk"}),
    # A preview campaign's contact the console shows: dial it, or pass it back (docs/architecture.md §22).
    ("preview_dial", {"contact": "k-0417"}, {"contact": "k-0417"}),
    ("preview_skip", {"contact": "k-0417"}, {"contact": "k-0417"}),
])
def test_each_action_reaches_the_engine_for_the_agents_own_call(staff, engine, action, body, args):
    ben = staff("ben", ["agent"], agent_id="1002")
    reply = api_call(ben, "POST", f"/api/v1/agents/1002/{action}", body)
    assert reply.status == 200, reply.text
    assert reply.json() == {"ok": True, "agent": "1002", "action": action}
    assert engine.commands == [(f"agent.{action}", {"agent": "1002", **args})]
    # The same through the agent's own route, which ignores any other agent named.
    api_call(ben, "POST", f"/api/v1/me/{action}", {**body, "agent": "1001"})
    assert engine.commands[1] == (f"agent.{action}", {"agent": "1002", **args})


def test_an_agent_may_not_act_as_another_agent(staff, engine):
    ana = staff("ana", ["agent"], agent_id="1001")
    for action in ("hold", "transfer", "wrapup", "dial"):
        reply = api_call(ana, "POST", f"/api/v1/agents/1002/{action}", {"to": "queue:sales", "code": "sale",
                                                                           "number": "123"})
        assert reply.status == 403 and reply.json()["error"] == "you may act only as your own agent (1001)"
    for read in ("pop", "today", "targets"):
        assert api_call(ana, "GET", f"/api/v1/agents/1002/{read}").status == 403
    assert engine.commands == []


def test_a_supervisor_acts_for_any_agent(staff, engine):
    sue = staff("sue", ["supervisor"])
    assert api_call(sue, "POST", "/api/v1/agents/1002/hold", {"call": "c-talk"}).status == 200
    assert engine.commands == [("agent.hold", {"agent": "1002", "call": "c-talk"})]


@pytest.mark.parametrize("action, body, error", [
    ("transfer", {}, "to is required"),
    ("transfer", {"to": "somewhere"}, "to must be agent:ID, queue:NAME or a number of digits, * and #"),
    ("transfer", {"to": "queue:sales", "blind": "yes"}, "blind must be true or false"),
    ("conference", {"to": "survey:csat"}, "to must be agent:ID, queue:NAME or a number of digits, * and #"),
    ("conference", {"to": "x" * 100}, "to must be up to 70 printable characters"),
    ("dial", {"number": "call me"}, "number must be digits, * and # (spaces and dashes are left out)"),
    ("dial", {}, "number is required"),
    ("wrapup", {"code": "sale made!"}, "code must be up to 40 letters, digits, - or _"),
    ("wrapup", {"code": 7}, "code must be up to 40 printable characters"),
    ("pause_recording", {"paused": 1}, "paused must be true or false"),
    ("hold", {"call": "c\ntalk"}, "call must be up to 64 printable characters"),
    ("hold", ["c-talk"], "the body must be a JSON object"),
    ("preview_dial", {}, "contact is required"),
])
def test_a_bad_argument_is_400_and_reaches_no_engine(staff, engine, action, body, error):
    ben = staff("ben", ["agent"], agent_id="1002")
    reply = api_call(ben, "POST", f"/api/v1/agents/1002/{action}", body)
    assert reply.status == 400 and reply.json() == {"error": error}
    assert engine.commands == []


def test_an_action_with_no_call_is_409_in_the_users_language(staff, engine):
    ana = staff("ana", ["agent"], agent_id="1001")
    reply = api_call(ana, "POST", "/api/v1/agents/1001/transfer", {"to": "queue:sales"})
    assert reply.status == 409 and reply.json() == {"error": "Agent 1001 is not on a call."}
    chen = staff("chen", ["agent"], agent_id="1003", locale="zh", remote_addr="192.0.2.41")
    reply = api_call(chen, "POST", "/api/v1/agents/1003/hold", {})
    assert reply.status == 409 and reply.json() == {"error": "坐席 1003 当前没有通话。"}
    assert engine.commands == []


def test_a_stale_page_cannot_act_on_a_call_that_has_ended(staff, engine):
    ben = staff("ben", ["agent"], agent_id="1002")
    reply = api_call(ben, "POST", "/api/v1/agents/1002/transfer", {"to": "queue:sales", "call": "c-ended"})
    assert reply.status == 409
    assert reply.json()["error"] == ("That call has ended or moved on: agent 1002 is not on call c-ended now. "
                                     "The page shows the agent's current call again.")
    assert engine.commands == []


def test_a_refusal_the_web_does_not_know_comes_as_the_engine_wrote_it(staff, engine):
    ben = staff("ben", ["agent"], agent_id="1002")
    engine.refusals["agent.hold"] = "agent 1002: the hold music is missing"
    reply = api_call(ben, "POST", "/api/v1/agents/1002/hold", {})
    assert reply.status == 409 and reply.json()["error"] == "agent 1002: the hold music is missing"


@pytest.fixture
def known_caller(admin, db_path):
    """Ben's caller (0215559876) has a card with a dedicated agent, an open and a resolved ticket, and two
    earlier calls, one recorded."""
    card = admin.api_post("/api/v1/customers", {"name": "Wang Fang", "numbers": ["0215559876"], "vip": 2,
                                                "agent_id": "1002", "company": "Fang Tea"}).json()["customer"]
    opened = admin.api_post("/api/v1/tickets", {"category": "complaint", "priority": "normal",
                                                "title": "Late delivery", "number": "0215559876",
                                                "customer_id": card["id"]})
    assert opened.status == 201, opened.text
    resolved = admin.api_post("/api/v1/tickets", {"category": "consultation", "priority": "normal",
                                                "title": "Opening hours", "number": "0215559876",
                                                "customer_id": card["id"], "resolve_now": True})
    db = open_db(db_path)
    now = time.time()
    db["calls"].insert_all([
        {"id": "c-old1", "number": "0215559876", "customer_id": card["id"], "arrived_at": now - 86400,
         "queue": "sales", "agent_id": "1001", "disposition": "answered", "wrapup_code": "sale"},
        {"id": "c-old2", "number": "0215559876", "customer_id": card["id"], "arrived_at": now - 3600,
         "queue": "service", "agent_id": "1003", "disposition": "abandoned"},
        {"id": "c-talk", "number": "0215559876", "customer_id": card["id"], "arrived_at": now - 200}])
    db["recordings"].insert({"id": "rec-1", "call_id": "c-old1", "path": "x.wav", "created_at": now - 86000})
    db.conn.close()
    assert resolved.status == 201 and resolved.json()["ticket"]["state"] == "resolved"
    return card, opened.json()["ticket"]


def test_the_pop_shows_the_card_last_calls_and_open_tickets(staff, engine, known_caller):
    card, ticket = known_caller
    ben = staff("ben", ["agent"], agent_id="1002")
    pop = api_call(ben, "GET", "/api/v1/agents/1002/pop").json()
    assert (pop["agent"], pop["call"], pop["number"], pop["queue"], pop["digits"]) == \
        ("1002", "c-talk", "0215559876", "service", "2")
    assert pop["card"]["name"] == "Wang Fang" and pop["card"]["vip"] == 2 and pop["card"]["agent_id"] == "1002"
    assert len(pop["card"]["numbers"]) == 1 and pop["card"]["numbers"][0].endswith("215559876")
    assert [t["title"] for t in pop["tickets"]] == ["Late delivery"]
    assert pop["tickets"][0]["id"] == ticket["id"]
    # Newest first, without the call being offered; the recorded one with its recording's id.
    assert [(c["id"], c["disposition"], c["wrapup_code"], c["recording_id"]) for c in pop["history"]] == \
        [("c-old2", "abandoned", None, None), ("c-old1", "answered", "sale", "rec-1")]


def test_an_agent_with_no_call_has_an_empty_pop(staff, engine):
    ana = staff("ana", ["agent"], agent_id="1001")
    pop = api_call(ana, "GET", "/api/v1/agents/1001/pop").json()
    assert (pop["call"], pop["card"], pop["history"], pop["tickets"], pop["state"]) == (None, None, [], [], "ready")


def test_targets_are_the_other_ready_agents_the_queues_and_the_surveys(staff, engine):
    ben = staff("ben", ["agent"], agent_id="1002")
    targets = api_call(ben, "GET", "/api/v1/agents/1002/targets").json()
    assert targets == {"agents": [{"id": "1001", "name": "Ana Costa"}],
                       "queues": [{"name": "sales", "waiting": 1}, {"name": "service", "waiting": 0}],
                       "surveys": [{"name": "csat", "queues": ["service"]}]}


def test_the_agents_day_counts_calls_handling_and_not_ready_time_since_midnight(staff, admin, password, db_path,
                                                                                 clock):
    midnight = time.mktime(time.localtime(clock.now)[:3] + (0, 0, 0, 0, 0, -1))
    # After the day's last state change below; the clock only ever moves on (sessions are stamped by it).
    if clock.now < midnight + 3 * 3600:
        clock.now = midnight + 3 * 3600
        # Run in the small hours, the clock moves on by hours: the admin who creates the user below signs
        # in again, as after a pause (webui/auth.py SESSION_IDLE).
        admin.cookies.clear()
        assert admin.login("admin", password).status == 303
    db = open_db(db_path)
    db["calls"].insert_all([
        # Yesterday's call is not today's.
        {"id": "y", "agent_id": "1001", "connected_at": midnight - 600, "ended_at": midnight - 400, "talk": 200.0},
        {"id": "a", "agent_id": "1001", "connected_at": midnight + 3600, "ended_at": midnight + 3720, "talk": 120.0},
        {"id": "b", "agent_id": "1001", "connected_at": midnight + 7200, "ended_at": midnight + 7440, "talk": 240.0},
        {"id": "o", "agent_id": "1002", "connected_at": midnight + 3600, "ended_at": midnight + 3700, "talk": 100.0}])
    db["agent_states"].insert_all([
        # Not ready since before midnight: counted from midnight to ready at 01:00.
        {"id": "s0", "agent_id": "1001", "state": "not_ready", "reason": "Lunch", "at": midnight - 600},
        {"id": "s1", "agent_id": "1001", "state": "ready", "at": midnight + 3600 - 60},
        {"id": "s2", "agent_id": "1001", "state": "talking", "at": midnight + 3600},
        {"id": "s3", "agent_id": "1001", "state": "wrapup", "at": midnight + 3720},
        {"id": "s4", "agent_id": "1001", "state": "ready", "at": midnight + 3750},
        {"id": "s5", "agent_id": "1001", "state": "talking", "at": midnight + 7200},
        {"id": "s6", "agent_id": "1001", "state": "wrapup", "at": midnight + 7440},
        {"id": "s7", "agent_id": "1001", "state": "not_ready", "reason": "Break", "at": midnight + 7470},
        {"id": "s8", "agent_id": "1001", "state": "ready", "at": midnight + 7470 + 900}])
    db.conn.close()
    ana = staff("ana", ["agent"], agent_id="1001")
    day = api_call(ana, "GET", "/api/v1/agents/1001/today").json()
    assert day["calls"] == 2
    assert day["aht"] == (120 + 30 + 240 + 30) / 2       # talk and wrap-up, per call
    assert day["not_ready"] == 3540 + 900


# The engine's refusals as it words them (firmware/callcenter/acd.py, transfers.py, legs.py; the same
# strings tests/firmware/test_operations.py sees from the live engine).
@pytest.mark.parametrize("english", [
    "agent A has no answered consultation to hand the call to", "unknown agent 'Z'",
    "agent A: the call is not on hold", "agent B is not on a call", "agent A cannot dial now (talking)",
    "agent 1001 is not logged in", "agent 1001 is on a call; hang up first", "no free line to dial out on",
    "agent A: call c-1 is not the agent's call now (on no call)", "agent 7 already has agent:8 on this call",
    "a transfer to a queue is always blind", "agent 8 is not ready (wrapup)", "unknown queue 'vip'",
])
def test_each_known_refusal_is_translated(english):
    from webui.agent_actions import known_refusal
    from webui.i18n import translations

    template, values = known_refusal(english)
    assert translations("zh").gettext(template) != template
    # Each value is one word of the message: an agent id, a call id, a state.
    assert all(value in english and " " not in value and ":" not in value.removeprefix("agent:")
               for value in values.values())
