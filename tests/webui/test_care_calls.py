"""The ticket satisfaction call (docs/architecture.md §23, issue 16 item 4): with tickets.toml's
`satisfaction_call`, a resolved ticket's customer joins the standing satisfaction campaign, and the answer the
dialer writes is recorded on the ticket as the agent's satisfaction callback records it."""
from __future__ import annotations

import pytest

from firmware.store import connect
from webui.care_calls import SatisfactionAnswers
from webui.ticket_config import DEFAULTS

from conftest import api_call

SURVEY = {"name": "After-service survey", "mode": "message", "purpose": "satisfaction", "prompt": "welcome",
          "survey": {"prompt": "welcome", "keys": "12345"}, "hours": {"days": [1, 2, 3, 4, 5, 6, 7],
                                                                     "start": "08:00", "end": "20:00"}}


@pytest.fixture
def satisfaction_call(tmp_path):
    """The box's tickets.toml with the satisfaction call on (written before the app starts and reads it)."""
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    text = DEFAULTS.read_text()
    assert "satisfaction_call = false" in text
    (config / "tickets.toml").write_text(text.replace("satisfaction_call = false", "satisfaction_call = true"))


def resolved_ticket(admin, number: str) -> dict:
    reply = api_call(admin, "POST", "/api/v1/tickets", {"title": "Fridge not cooling", "category": "repair",
                                                        "priority": "normal", "number": number, "resolve_now": True})
    assert reply.status == 201, reply.text
    assert reply.json()["ticket"]["state"] == "resolved"
    return reply.json()["ticket"]


def satisfaction_contacts(db_path) -> list[tuple]:
    conn = connect(db_path)
    try:
        return conn.execute("SELECT id, number, state, ticket_id FROM campaign_contacts ORDER BY rowid").fetchall()
    finally:
        conn.close()


def answer(db_path, contact_id: str, key: str, at: float) -> None:
    """What the dialer writes when the customer pressed `key` at the survey question."""
    conn = connect(db_path)
    with conn:
        conn.execute("UPDATE campaign_contacts SET state = 'done', attempts = 1, outcome = 'answered_human',"
                     " result = ?, updated_at = ? WHERE id = ?", [key, at, contact_id])
    conn.close()


def test_a_resolved_ticket_is_called_and_the_answer_closes_or_reopens_it(satisfaction_call, admin, db_path, clock):
    campaign = api_call(admin, "POST", "/api/v1/campaigns", SURVEY)
    assert campaign.status == 201, campaign.text
    happy, unhappy = resolved_ticket(admin, "13800138000"), resolved_ticket(admin, "021-6123 4567")
    contacts = satisfaction_contacts(db_path)
    assert [(n, s, t) for _id, n, s, t in contacts] == [("+8613800138000", "pending", happy["id"]),
                                                        ("+862161234567", "pending", unhappy["id"])]
    answers = SatisfactionAnswers(db_path, clock)
    try:
        assert answers.pass_once() is False and answers.waiting() == []       # nothing answered yet
        answer(db_path, contacts[0][0], "5", clock() + 60)
        answer(db_path, contacts[1][0], "2", clock() + 60)
        answers.pass_once()
        answers.pass_once()        # a second pass (a restart) records nothing twice
    finally:
        answers.close()
    closed = admin.get(f"/api/v1/tickets/{happy['id']}").json()
    assert closed["ticket"]["state"] == "closed" and closed["ticket"]["satisfaction"] == 5
    reopened = admin.get(f"/api/v1/tickets/{unhappy['id']}").json()
    assert reopened["ticket"]["state"] == "reopened" and reopened["ticket"]["satisfaction"] == 2
    # The history reads as the agent's callback would have left it: one answer, then the moves.
    kinds = [(e["kind"], e["to_state"]) for e in closed["events"]]
    assert kinds.count(("satisfaction", None)) == 1
    assert kinds[-2:] in ([("transition", "confirmed"), ("transition", "closed")],
                          [("transition", "closed"), ("transition", "confirmed")])


def test_a_key_that_is_no_score_leaves_the_ticket_for_the_agents_callback(satisfaction_call, admin, db_path, clock):
    api_call(admin, "POST", "/api/v1/campaigns", SURVEY)
    ticket = resolved_ticket(admin, "13800138000")
    answer(db_path, satisfaction_contacts(db_path)[0][0], "9", clock() + 60)
    answers = SatisfactionAnswers(db_path, clock)
    try:
        answers.pass_once()
    finally:
        answers.close()
    assert admin.get(f"/api/v1/tickets/{ticket['id']}").json()["ticket"]["state"] == "resolved"


def test_without_the_setting_or_a_campaign_no_call_is_made(admin, db_path):
    api_call(admin, "POST", "/api/v1/campaigns", SURVEY)
    resolved_ticket(admin, "13800138000")
    assert satisfaction_contacts(db_path) == []


def test_with_the_setting_and_no_open_campaign_the_ticket_still_resolves(satisfaction_call, admin, db_path):
    resolved_ticket(admin, "13800138000")
    assert satisfaction_contacts(db_path) == []


def test_a_reminder_rule_adds_each_customer_once_for_each_date_as_the_date_nears(admin, db_path, clock):
    import datetime as dt

    from webui.care_calls import Reminders

    today = dt.date.fromtimestamp(clock())
    day = lambda n: (today + dt.timedelta(days=n)).isoformat()   # noqa: E731
    campaign = api_call(admin, "POST", "/api/v1/campaigns", {
        "name": "Warranty ends", "mode": "message", "purpose": "reminder", "prompt": "welcome",
        "hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}}).json()["campaign"]
    for name, number, until in (("Soon", "13800138001", day(20)), ("Later", "13800138002", day(45)),
                                ("Past", "13800138003", day(-1)), ("None", "13800138004", "")):
        made = api_call(admin, "POST", "/api/v1/customers", {"name": name, "numbers": [number],
                                                             "warranty_until": until})
        assert made.status == 201, made.text
    bad = api_call(admin, "POST", "/api/v1/customers", {"name": "Bad", "numbers": ["13800138009"],
                                                        "warranty_until": "31/12/2026"})
    assert bad.status == 400 and "warranty_until" in bad.json()["problems"]
    refused = api_call(admin, "POST", f"/api/v1/campaigns/{campaign['id']}/rules", {"field": "birthday",
                                                                                    "days_before": 400})
    assert refused.status == 400 and set(refused.json()["problems"]) == {"field", "days_before"}
    rule = api_call(admin, "POST", f"/api/v1/campaigns/{campaign['id']}/rules",
                    {"field": "warranty_until", "days_before": 30})
    assert rule.status == 201, rule.text
    reminders = Reminders(db_path, clock)
    try:
        reminders.pass_once()
        reminders.pass_once()                   # the next pass (or a restart) adds nobody twice
        contacts = admin.get(f"/api/v1/campaigns/{campaign['id']}/contacts").json()["contacts"]
        assert [(c["name"], c["number"], c["data"]) for c in contacts] == [
            ("Soon", "+8613800138001", {"warranty_until": day(20)})]
        page = admin.get(f"/campaigns/{campaign['id']}")
        assert page.status == 200 and "30 days before Warranty until" in page.text
        clock.advance(20 * 86400)                # twenty days on, the later warranty is 25 days away
        reminders.pass_once()
        conn = connect(db_path)
        names = [n for (n,) in conn.execute("SELECT name FROM campaign_contacts ORDER BY rowid")]
        conn.close()
        assert names == ["Soon", "Later"]
    finally:
        reminders.close()
