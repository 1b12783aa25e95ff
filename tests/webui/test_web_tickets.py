"""Tickets through the web app (docs/requirements.md R13, R14): the closed loop from a call to the customer's
answer, every refused change leaving the ticket as it was, repeat complaints, first-contact resolution,
SLA due times in business hours, the list's filters and the pages."""
import datetime as dt
import json
import sqlite3

import pytest

from webui.sla import add_business_hours
from webui.ticket_config import DEFAULTS, load_ticket_config
from webui.tickets import dial_string

from conftest import api_call

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# A Monday 10:00 in the stock calendar's zone (Asia/Shanghai, Monday to Saturday 09:00-18:00).
MONDAY_10 = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI).timestamp()


@pytest.fixture
def monday(clock):
    """The clock on a Monday 10:00 in Shanghai, before anyone signs in (sessions are dated by it)."""
    clock.now = MONDAY_10
    return clock


class Team(dict):
    """The signed-in staff by part; `later(seconds)` moves the clock on and signs them in again, as a
    session ends after 30 minutes unused and after 12 hours."""

    def __init__(self, people: dict, clock, password: str):
        super().__init__(people)
        self.clock, self.password = clock, password

    def later(self, seconds: float) -> None:
        self.clock.advance(seconds)
        for client, username in zip(self.values(), ("amy", "cai", "rui", "sue")):
            assert client.login(username, self.password).status == 303


@pytest.fixture
def team(monday, staff, admin, password):
    """An agent (1001), a complaints department member, a repair member and a supervisor, signed in."""
    people = {"agent": staff("amy", ["agent"], agent_id="1001"),
              "fixer": staff("cai", ["agent"], agent_id="1002", remote_addr="192.0.2.41"),
              "repairer": staff("rui", ["agent"], agent_id="1003", remote_addr="192.0.2.42"),
              "super": staff("sue", ["supervisor"], remote_addr="192.0.2.43")}
    for username, department in (("cai", "complaints"), ("rui", "repair")):
        reply = api_call(admin, "PUT", f"/api/v1/users/{username}/department", {"department": department})
        assert reply.status == 200, reply.text
    return Team(people, monday, password)


def create(client, **fields):
    body = {"category": "complaint", "priority": "normal", "title": "Late delivery", **fields}
    return api_call(client, "POST", "/api/v1/tickets", body)


def move(client, ticket, action, note="", version=None):
    return api_call(client, "POST", f"/api/v1/tickets/{ticket['id']}/transitions",
                    {"action": action, "note": note, "version": ticket["version"] if version is None else version})


def current(client, ticket_id):
    reply = client.get(f"/api/v1/tickets/{ticket_id}")
    assert reply.status == 200, reply.text
    return reply.json()


def add_call(db_path, call_id, number, *, ended_at, recording=None):
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO calls (id, direction, number, arrived_at, ended_at, agent_id) VALUES (?, ?, ?, ?, ?, ?)",
                 [call_id, "inbound", number, MONDAY_10 - 300, ended_at, "1001"])
    if recording:
        conn.execute("INSERT INTO recordings (id, call_id, path, duration, size, sha256, created_at)"
                     " VALUES (?, ?, ?, 1.0, ?, '', ?)", [f"rec-{call_id}", call_id, recording, 44, MONDAY_10])
    conn.commit()
    conn.close()


def test_a_complaint_goes_round_the_loop_and_the_same_caller_again_is_a_repeat(team, engine, db_path, clock):
    agent, fixer, sup = team["agent"], team["fixer"], team["super"]
    add_call(db_path, "call-1", "021-6123 4567", ended_at=MONDAY_10 - 10)
    made = create(agent, call_id="call-1", description="The parcel is a week late", department="service")
    assert made.status == 201, made.text
    ticket = made.json()["ticket"]
    # Pre-filled from the call, routed by its category whatever was chosen (R13), owned by the agent.
    assert (ticket["number"], ticket["call_id"], ticket["department"], ticket["agent_id"], ticket["state"]) == \
        ("021-6123 4567", "call-1", "complaints", "1001", "new")
    assert ticket["repeat_of"] is None

    clock.advance(60)
    ticket = move(agent, ticket, "dispatch", "to complaints").json()["ticket"]
    assert ticket["state"] == "dispatched"
    assert [t["id"] for t in fixer.get("/api/v1/tickets?department=complaints&state=dispatched").json()["tickets"]] \
        == [ticket["id"]]
    assert ticket["id"] in fixer.get("/tickets/queue").text
    clock.advance(600)
    ticket = move(fixer, ticket, "start").json()["ticket"]
    team.later(3600)
    ticket = move(fixer, ticket, "resolve", "Re-sent by courier").json()["ticket"]
    assert ticket["state"] == "resolved" and ticket["resolved_at"] == clock.now
    # Resolved long after the call ended: not first-contact resolution.
    assert ticket["first_contact_resolution"] == 0

    # The agent's callback list has it; one click dials the caller from the agent's own line.
    callbacks = agent.get("/tickets/callbacks")
    assert ticket["id"][:8] in callbacks.text
    dialled = api_call(agent, "POST", f"/api/v1/tickets/{ticket['id']}/dial")
    assert dialled.status == 200, dialled.text
    assert ("agent.dial", {"agent": "1001", "number": "02161234567"}) in engine.commands
    answer = api_call(agent, "POST", f"/api/v1/tickets/{ticket['id']}/satisfaction",
                      {"score": 4, "comment": "Fine now", "outcome": "close", "version": ticket["version"]})
    assert answer.status == 200, answer.text
    closed = current(sup, ticket["id"])
    assert closed["ticket"]["state"] == "closed" and closed["ticket"]["satisfaction"] == 4
    steps = [(e["username"], e["from_state"], e["to_state"]) for e in closed["events"] if e["kind"] == "transition"]
    assert steps == [("amy", "new", "dispatched"), ("cai", "dispatched", "in_progress"),
                     ("cai", "in_progress", "resolved"), ("amy", "resolved", "confirmed"),
                     ("amy", "confirmed", "closed")]
    assert [e["note"] for e in closed["events"] if e["action"] == "resolve"] == ["Re-sent by courier"]
    assert agent.get("/tickets/callbacks").text.count(ticket["id"][:8]) == 0
    conn = sqlite3.connect(db_path)
    answers = dict(conn.execute("SELECT question, answer FROM survey_answers WHERE survey = ?",
                                [f"ticket:{ticket['id']}"]).fetchall())
    conn.close()
    assert answers == {"score": "4", "comment": "Fine now"}

    # The same caller, written another way, complains again within the window: flagged and linked.
    team.later(2 * 86400)
    again = create(agent, number="02161234567", title="Still late").json()["ticket"]
    assert again["repeat_of"] == ticket["id"]
    page = agent.get(f"/tickets/{again['id']}")
    assert 'id="repeat-flag"' in page.text and ticket["id"][:8] in page.text
    # Another category from the same caller is no repeat.
    assert create(agent, number="02161234567", category="consultation").json()["ticket"]["repeat_of"] is None


def test_a_complaint_after_the_window_is_no_repeat(team, clock):
    first = create(team["agent"], number="13800138000").json()["ticket"]
    team.later(31 * 86400)
    assert create(team["agent"], number="138 0013 8000").json()["ticket"]["repeat_of"] is None
    team.later(-2 * 86400)   # 29 days after the first
    assert create(team["agent"], number="+138-0013-8000").json()["ticket"]["repeat_of"] is not None
    assert first["repeat_of"] is None


def test_every_refused_change_says_why_and_changes_nothing(team, db_path):
    agent, fixer, repairer, sup = team["agent"], team["fixer"], team["repairer"], team["super"]
    ticket = create(agent).json()["ticket"]
    ticket = move(agent, ticket, "dispatch").json()["ticket"]
    before = current(sup, ticket["id"])
    refusals = [
        (move(repairer, ticket, "start"), 403),            # another department's member
        (move(agent, ticket, "start"), 403),               # the agent is no member of the department
        (move(fixer, ticket, "close"), 409),               # dispatched is not confirmed
        (move(sup, ticket, "dispatch"), 409),              # already dispatched
        (move(fixer, ticket, "start", version=ticket["version"] - 1), 409),   # stale
        (move(fixer, ticket, "fly"), 400),                 # no such action
        (move(fixer, ticket, "start", version="two"), 400),
        (move(fixer, ticket, "start", version="¹"), 400),
        (move(fixer, ticket, "start", note="x" * 2001), 400),
        (api_call(agent, "POST", f"/api/v1/tickets/{ticket['id']}/satisfaction",
                  {"score": 4, "outcome": "close", "version": ticket["version"]}), 409),   # not resolved yet
        (api_call(agent, "PATCH", f"/api/v1/tickets/{ticket['id']}",
                  {"title": "mine", "version": ticket["version"]}), 403),                # agents do not edit
        (api_call(sup, "PATCH", f"/api/v1/tickets/{ticket['id']}",
                  {"title": "", "version": ticket["version"]}), 400),
        (api_call(sup, "PATCH", f"/api/v1/tickets/{ticket['id']}",
                  {"title": "new", "version": ticket["version"] + 5}), 409),
    ]
    for reply, status in refusals:
        assert reply.status == status, reply.text
        assert reply.json()["error"]
    assert current(sup, ticket["id"]) == before
    stale = move(fixer, ticket, "start", version=ticket["version"] - 1).json()
    assert stale["ticket"]["state"] == "dispatched" and stale["ticket"]["version"] == ticket["version"]
    # Two people with the same version: the first wins, the second is told and changes nothing.
    assert move(fixer, ticket, "start").status == 200
    late = move(sup, ticket, "cancel")
    assert late.status == 409 and late.json()["ticket"]["state"] == "in_progress"


def test_the_form_shows_each_mistake_next_to_its_field_and_keeps_what_was_typed(team):
    agent = team["agent"]
    token = agent.csrf("/tickets/new")
    reply = agent.post("/tickets/new", form={"csrf_token": token, "title": "<b>x</b>" * 30, "category": "nope",
                                             "priority": "normal", "number": "call me", "customer_id": "c-none",
                                             "description": "<script>alert(1)</script>"})
    assert reply.status == 400
    for field in ("title", "category", "number", "customer_id"):
        assert f'id="{field}-error"' in reply.text
    assert "<script>alert(1)</script>" not in reply.text and "&lt;script&gt;" in reply.text
    bad = create(agent, title="", number="12", priority="whenever")
    assert bad.status == 400 and set(bad.json()["problems"]) == {"title", "number", "priority"}
    assert agent.get("/api/v1/tickets").json()["total"] == 0


def test_resolved_during_its_call_is_first_contact_resolution_until_a_follow_up(team, db_path, clock):
    agent = team["agent"]
    add_call(db_path, "call-live", "0215550001", ended_at=None)
    first = create(agent, call_id="call-live", category="consultation", resolve_now=True).json()["ticket"]
    assert first["state"] == "resolved" and first["first_contact_resolution"] == 1
    assert "unless the customer comes back about it" in agent.get(f"/tickets/{first['id']}").text
    team.later(3 * 86400)
    create(agent, number="0215550001", category="consultation")
    assert current(agent, first["id"])["ticket"]["first_contact_resolution"] == 0
    # After the window, a new ticket leaves the earlier one's FCR standing.
    add_call(db_path, "call-live-2", "0215550002", ended_at=None)
    second = create(agent, call_id="call-live-2", category="consultation", resolve_now=True).json()["ticket"]
    team.later(8 * 86400)
    create(agent, number="0215550002", category="consultation")
    assert current(agent, second["id"])["ticket"]["first_contact_resolution"] == 1
    assert "unless the customer comes back about it" not in agent.get(f"/tickets/{second['id']}").text


def test_a_reopened_ticket_goes_back_to_the_department_with_the_customers_words(team):
    agent, fixer = team["agent"], team["fixer"]
    ticket = create(agent).json()["ticket"]
    for who, action in ((agent, "dispatch"), (fixer, "resolve")):
        ticket = move(who, ticket, action).json()["ticket"]
    reply = api_call(agent, "POST", f"/api/v1/tickets/{ticket['id']}/satisfaction",
                     {"score": 2, "comment": "Still broken", "outcome": "reopen", "version": ticket["version"]})
    ticket = reply.json()["ticket"]
    assert ticket["state"] == "reopened" and ticket["resolved_at"] is None
    assert [e["note"] for e in current(agent, ticket["id"])["events"] if e["action"] == "reopen"] == ["Still broken"]


def test_sla_counts_business_hours_only():
    calendar = load_ticket_config(DEFAULTS).calendar
    friday_17 = dt.datetime(2026, 3, 13, 17, 0, tzinfo=SHANGHAI).timestamp()
    # One hour on Friday, Saturday 09:00-12:00 for the other three (Monday to Saturday open).
    assert add_business_hours(calendar, friday_17, 4) == dt.datetime(2026, 3, 14, 12, 0, tzinfo=SHANGHAI).timestamp()
    # Saturday 17:00 + 2 h: Sunday is closed, Monday 10:00.
    saturday_17 = dt.datetime(2026, 3, 14, 17, 0, tzinfo=SHANGHAI).timestamp()
    assert add_business_hours(calendar, saturday_17, 2) == dt.datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI).timestamp()
    # Before opening on 30 April, 9 h: the day's 9 h, then 1 May is a holiday.
    april_30 = dt.datetime(2026, 4, 30, 7, 0, tzinfo=SHANGHAI).timestamp()
    assert add_business_hours(calendar, april_30, 10) == dt.datetime(2026, 5, 2, 10, 0, tzinfo=SHANGHAI).timestamp()


def test_overdue_tickets_are_listed_and_marked(team, clock):
    agent = team["agent"]
    urgent = create(agent, priority="urgent").json()["ticket"]    # complaint, urgent: 4 business hours
    assert urgent["due_at"] == MONDAY_10 + 4 * 3600
    relaxed = create(agent, priority="low").json()["ticket"]
    assert agent.get("/api/v1/tickets?overdue=1").json()["total"] == 0
    team.later(4 * 3600 + 1)
    listed = agent.get("/api/v1/tickets?overdue=1").json()["tickets"]
    assert [t["id"] for t in listed] == [urgent["id"]]
    page = agent.get("/tickets?overdue=1")
    assert 'class="overdue"' in page.text and relaxed["id"][:8] not in page.text
    assert "Overdue: 1</a>" in agent.get("/tickets").text


def test_the_list_filters_and_refuses_bad_filters(team, clock):
    agent = team["agent"]
    create(agent, title="Broken kettle", category="repair", address="88 Nanjing Road")
    team.later(86400)
    create(agent, title="Where is 50% off?", category="consultation")
    for query, titles in (("category=repair", ["Broken kettle"]), ("q=nanjing", ["Broken kettle"]),
                          ("q=50%25", ["Where is 50% off?"]), ("q=_", []), ("department=service", ["Where is 50% off?"]),
                          ("state=open&agent=1001", ["Where is 50% off?", "Broken kettle"]),
                          ("from=2026-03-10&to=2026-03-10", ["Where is 50% off?"])):
        assert [t["title"] for t in agent.get(f"/api/v1/tickets?{query}").json()["tickets"]] == titles, query
    bad = agent.get("/api/v1/tickets?state=lost&from=yesterday&page=0")
    assert bad.status == 400 and set(bad.json()["problems"]) == {"state", "from", "page"}
    assert agent.get("/tickets?state=lost").status == 400


def test_the_ticket_page_shows_the_call_and_plays_its_recording(team, db_path, tmp_path):
    recording = tmp_path / "recordings" / "2026" / "call-rec.wav"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"RIFF" + b"\0" * 40)
    add_call(db_path, "call-rec", "0215550123", ended_at=MONDAY_10, recording=str(recording.relative_to(tmp_path / "recordings")))
    ticket = create(team["agent"], call_id="call-rec").json()["ticket"]
    page = team["agent"].get(f"/tickets/{ticket['id']}")
    assert 'id="linked-call"' in page.text and f"/tickets/{ticket['id']}/recording" in page.text
    audio = team["agent"].get(f"/tickets/{ticket['id']}/recording")
    assert audio.status == 200 and audio.body == recording.read_bytes()
    assert team["agent"].get("/tickets/nope").status == 404


def test_a_call_page_offers_a_ticket_pre_filled_from_the_call(team, db_path):
    add_call(db_path, "call-9", "0215559999", ended_at=MONDAY_10)
    assert "/tickets/new?call_id=call-9" in team["super"].get("/calls/call-9").text
    form = team["agent"].get("/tickets/new?call_id=call-9").text
    assert 'value="0215559999"' in form and 'value="call-9"' in form
    assert team["agent"].get("/tickets/new?call_id=nope").status == 404


def test_values_of_the_wrong_type_are_refused_by_field(team):
    reply = create(team["agent"], category=["complaint"], priority={"a": 1}, department=[1], title=7, number=5)
    assert reply.status == 400
    assert set(reply.json()["problems"]) == {"category", "priority", "department", "title", "number"}


def test_head_office_pulls_the_tickets_their_history_and_the_answers(team, db_path):
    from firmware.store import connect_readonly
    from firmware.store.sync import read_changes

    agent, fixer = team["agent"], team["fixer"]
    ticket = create(agent).json()["ticket"]
    for who, action in ((agent, "dispatch"), (fixer, "resolve")):
        ticket = move(who, ticket, action).json()["ticket"]
    api_call(agent, "POST", f"/api/v1/tickets/{ticket['id']}/satisfaction",
             {"score": 5, "outcome": "close", "version": ticket["version"]})
    conn = connect_readonly(db_path)
    changes = read_changes(conn, 0).changes
    conn.close()
    pulled = [c for c in changes if c["table"] in ("tickets", "ticket_events", "survey_answers")]
    tickets = [c["row"] for c in pulled if c["table"] == "tickets"]
    # The ticket once, at its latest change, whole; its history in the order it happened.
    assert [(t["id"], t["state"], t["satisfaction"]) for t in tickets] == [(ticket["id"], "closed", 5)]
    history = [(c["row"]["kind"], c["row"]["to_state"]) for c in pulled if c["table"] == "ticket_events"]
    assert history == [("created", "new"), ("transition", "dispatched"), ("transition", "resolved"),
                       ("satisfaction", None), ("transition", "confirmed"), ("transition", "closed")]
    assert {c["row"]["question"] for c in pulled if c["table"] == "survey_answers"} == {"score", "comment"}


def test_a_supervisor_corrects_a_ticket_and_the_history_keeps_old_and_new(team):
    agent, sup = team["agent"], team["super"]
    ticket = create(agent, category="consultation", priority="low").json()["ticket"]
    token = sup.csrf(f"/tickets/{ticket['id']}")
    fields = {"csrf_token": token, "version": str(ticket["version"]), "title": "Kettle leaks", "number": "",
              "customer_id": "", "address": "", "category": "repair", "priority": "urgent", "department": "service",
              "description": ""}
    assert sup.post(f"/tickets/{ticket['id']}/edit", form=fields).status == 303
    after = current(sup, ticket["id"])
    # A repair routes to the repair department; the SLA follows the new category and priority.
    assert (after["ticket"]["title"], after["ticket"]["department"], after["ticket"]["due_at"]) == \
        ("Kettle leaks", "repair", MONDAY_10 + 4 * 3600)
    edit = [e for e in after["events"] if e["kind"] == "edit"][0]
    assert edit["username"] == "sue" and edit["data"]["title"] == ["Late delivery", "Kettle leaks"]
    # The department alone: a supervisor re-routes the ticket, the category stays.
    moved = {**fields, "version": str(after["ticket"]["version"]), "department": "logistics"}
    assert sup.post(f"/tickets/{ticket['id']}/edit", form=moved).status == 303
    assert current(sup, ticket["id"])["ticket"]["department"] == "logistics"
    stale = sup.post(f"/tickets/{ticket['id']}/edit", form={**fields, "title": "Other"})
    assert stale.status == 409 and "changed by someone else" in stale.text
    assert agent.post(f"/tickets/{ticket['id']}/edit", form={**fields, "csrf_token": agent.csrf("/tickets")}).status == 403
    assert current(sup, ticket["id"])["ticket"]["title"] == "Kettle leaks"


def test_department_membership_is_an_audited_change_of_the_user(team, admin):
    entries = admin.get("/api/v1/audit?action=user.update").json()["entries"]
    assert {(e["target"], json_detail(e)) for e in entries} >= {("cai", (None, "complaints")),
                                                                ("rui", (None, "repair"))}
    refused = api_call(admin, "PUT", "/api/v1/users/cai/department", {"department": "moon"})
    assert refused.status == 400 and refused.json()["problems"]["department"]
    assert api_call(admin, "PUT", "/api/v1/users/nobody/department", {"department": "repair"}).status == 404


def json_detail(entry) -> tuple:
    detail = json.loads(entry["detail"]) if isinstance(entry["detail"], str) else entry["detail"]
    return tuple(detail.get("department", (None, None)))


def test_names_are_in_the_readers_language(team, staff):
    zoe = staff("zoe", ["agent"], agent_id="1004", locale="zh", remote_addr="192.0.2.44")
    page = zoe.get("/tickets/new").text
    assert "投诉" in page and "投诉处理部" in page
    create(zoe, number="0215550000")
    assert "投诉" in zoe.get("/tickets").text


@pytest.mark.parametrize("written, dialled", [("021-6123 4567", "02161234567"), ("(021) 6123.4567", "02161234567"),
                                              ("+86 21 6123 4567", "00862161234567"), ("", "")])
def test_the_number_is_dialled_as_the_box_dials(written, dialled):
    assert dial_string(written) == dialled


def test_a_callback_that_cannot_be_dialled_says_why_and_dials_nothing(team, engine):
    agent, sup = team["agent"], team["super"]
    without_number = create(agent).json()["ticket"]
    with_number = create(agent, number="0215550199").json()["ticket"]
    assert api_call(agent, "POST", f"/api/v1/tickets/{without_number['id']}/dial").status == 409
    assert api_call(sup, "POST", f"/api/v1/tickets/{with_number['id']}/dial").status == 409   # no agent id
    engine.refusals["agent.dial"] = "agent 1001 cannot dial now (talking)"
    refused = api_call(agent, "POST", f"/api/v1/tickets/{with_number['id']}/dial")
    assert refused.status == 409 and "cannot dial now" in refused.json()["error"]
    assert not [c for c in engine.commands if c[0] == "agent.dial"]
    assert not [e for e in current(agent, with_number["id"])["events"] if e["kind"] == "dial"]


def test_the_page_shows_a_refused_move_and_the_ticket_as_it_was(team):
    agent, fixer = team["agent"], team["fixer"]
    ticket = create(agent).json()["ticket"]
    page = agent.get(f"/tickets/{ticket['id']}").text
    # Only the moves this user may make are offered: its owner dispatches it, only the department starts it.
    assert 'id="action-dispatch"' in page and 'id="action-start"' not in page
    token = fixer.csrf(f"/tickets/{ticket['id']}")
    reply = fixer.post(f"/tickets/{ticket['id']}/transition",
                       form={"csrf_token": token, "action": "start", "note": "", "version": str(ticket["version"])})
    assert reply.status == 409 and 'id="ticket-error"' in reply.text and "New" in reply.text
    assert current(agent, ticket["id"])["ticket"] == ticket


FILTER_KEYS = ("state", "category", "department", "priority", "overdue", "customer", "agent", "from", "to", "q", "page",
               "per_page")


def test_any_filter_is_either_refused_by_name_or_answered(tmp_path):
    from hypothesis import given, settings, strategies as st

    from firmware.store import connect
    from webui.ticket_queries import TicketFilter, TicketFilterError, list_tickets

    config = load_ticket_config(DEFAULTS)
    conn = connect(tmp_path / "b.db")

    @settings(max_examples=200, deadline=None)
    @given(st.dictionaries(st.sampled_from(FILTER_KEYS), st.text(max_size=80)))
    def check(query):
        try:
            f = TicketFilter.from_query(query, config)
        except TicketFilterError as exc:
            assert exc.problems and set(exc.problems) <= set(FILTER_KEYS)
            return
        tickets, total = list_tickets(conn, f, MONDAY_10)
        assert tickets == [] and total == 0

    try:
        check()
    finally:
        conn.close()


def test_the_boxs_own_ticket_settings_are_read_and_a_bad_key_is_named(tmp_path, engine, clock, sign_in_admin):
    from webui.app import create_app
    from webui.ticket_config import TicketConfigError

    config = tmp_path / "config"
    config.mkdir()
    stock = DEFAULTS.read_text()
    own = stock.replace('id = "suggestion"\nname = { en = "Suggestion", zh = "建议" }',
                        'id = "billing"\nname = { en = "Billing", zh = "账单" }')
    (config / "tickets.toml").write_text(own)
    application = create_app(tmp_path / "own.db", engine.path, clock=clock)
    try:
        settings = sign_in_admin(application).get("/api/v1/ticket-settings").json()
        assert settings["categories"]["billing"] == "Billing" and "suggestion" not in settings["categories"]
    finally:
        application.close()
    (config / "tickets.toml").write_text(stock.replace("repeat_window_days = 30", "repeat_window_days = 0"))
    with pytest.raises(TicketConfigError, match="tickets.repeat_window_days"):
        create_app(tmp_path / "bad.db", engine.path, clock=clock)


def test_every_change_a_customer_may_hear_of_goes_to_the_webhooks_in_order(team, db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO webhook_endpoints (id, url, secret, events, created_at, updated_at) VALUES "
                 "('w1', 'http://192.0.2.99/hook', 's', '[\"ticket.created\", \"ticket.changed\"]', 1, 1)")
    conn.commit()
    ticket = create(team["agent"]).json()["ticket"]
    assert api_call(team["agent"], "POST", f"/api/v1/tickets/{ticket['id']}/notes", {"note": "internal"}).status == 201
    assert move(team["agent"], current(team["agent"], ticket["id"])["ticket"], "dispatch").status == 200
    rows = conn.execute("SELECT e.event, e.key, e.payload FROM webhook_events e JOIN webhook_deliveries d"
                        " ON d.event_rowid = e.id WHERE d.endpoint_id = 'w1' ORDER BY e.id").fetchall()
    conn.close()
    # Created, then the dispatch; the internal note stays on the box.
    assert [(event, key) for event, key, _ in rows] == [("ticket.created", f"ticket:{ticket['id']}"),
                                                       ("ticket.changed", f"ticket:{ticket['id']}")]
    changed = json.loads(rows[1][2])["data"]
    assert changed["change"]["to_state"] == "dispatched" and changed["ticket"]["state"] == "dispatched"
    assert "internal" not in rows[0][2] + rows[1][2]


def test_the_ticket_page_searches_the_knowledge_base(team):
    ticket = create(team["agent"]).json()["ticket"]
    page = team["agent"].get(f"/tickets/{ticket['id']}").text
    assert 'action="/kb"' in page and "data-kb-search" in page and "/static/kb_search.js" in page
