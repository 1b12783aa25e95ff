"""Campaigns in the browser and the API (docs/architecture.md §23, issue 16 item 3): a definition checked
field by field and edited with optimistic concurrency, start/pause/stop through the engine, contacts
imported all or nothing with each row's problem, do-not-call numbers never dialled, results exported."""
from __future__ import annotations

import csv
import io
import json

import pytest

from firmware.store import connect

from conftest import api_call

MESSAGE = {"name": "Warranty reminder", "mode": "message", "purpose": "reminder", "prompt": "welcome",
           "confirm_key": "1", "hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"},
           "max_attempts": 3, "retry": {"busy": 600, "no_answer": 3600}, "max_lines": 2, "pace": 2}


@pytest.fixture
def campaign(admin):
    def make(**fields) -> dict:
        reply = api_call(admin, "POST", "/api/v1/campaigns", {**MESSAGE, **fields})
        assert reply.status == 201, reply.text
        return reply.json()["campaign"]
    return make


def audit_actions(db_path, prefix: str) -> list[tuple[str, str, dict]]:
    conn = connect(db_path)
    try:
        return [(a, t, json.loads(d)) for a, t, d in conn.execute(
            "SELECT action, target, detail FROM audit_log WHERE action LIKE ? ORDER BY at", [prefix + "%"])]
    finally:
        conn.close()


def send_csv(client, campaign_id: str, text: str, commit: bool = False):
    return client.post(f"/api/v1/campaigns/{campaign_id}/contacts/import?commit={'true' if commit else 'false'}",
                       raw=(text.encode(), "text/csv"), headers={"X-CSRF-Token": client.csrf("/")})


def contact_rows(db_path, campaign_id: str) -> list[tuple]:
    conn = connect(db_path)
    try:
        return conn.execute("SELECT number, name, state, data FROM campaign_contacts WHERE campaign_id = ?"
                            " ORDER BY rowid", [campaign_id]).fetchall()
    finally:
        conn.close()


def test_a_campaign_is_created_as_a_draft_and_audited(admin, campaign, db_path):
    made = campaign()
    assert made["state"] == "draft" and made["version"] == 1
    assert made["hours"]["days"] == [1, 2, 3, 4, 5] and made["retry"] == {"busy": 600, "no_answer": 3600}
    listed = admin.get("/api/v1/campaigns").json()["campaigns"]
    assert [c["id"] for c in listed] == [made["id"]]
    assert ("campaign.create", made["id"], {"name": "Warranty reminder", "mode": "message"}) in audit_actions(
        db_path, "campaign.")
    page = admin.get("/campaigns")
    assert page.status == 200 and "Warranty reminder" in page.text


@pytest.mark.parametrize("fields, bad", [
    ({"mode": "robocall"}, "mode"),
    ({"prompt": ""}, "prompt"),                         # a message call plays something
    ({"prompt": "no_such_prompt"}, "prompt"),           # the engine has no such prompt
    ({"mode": "progressive", "queue": ""}, "queue"),    # agents of some queue take the calls
    ({"mode": "preview", "queue": "billing"}, "queue"),  # the engine has no such queue
    ({"confirm_key": "12"}, "confirm_key"),
    ({"agent_key": "1"}, "agent_key"),                  # the same key cannot confirm and reach an agent
    ({"hours": {"days": [0, 8], "start": "09:00", "end": "18:00"}}, "days"),
    ({"hours": {"days": [1], "start": "18:00", "end": "09:00"}}, "end"),
    ({"hours": {"days": [1], "start": "9", "end": "18:00"}}, "start"),
    ({"hours": {"days": [1], "start": "09:00", "end": "18:00", "holidays": ["1 May"]}}, "holidays"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"max_lines": 31}, "max_lines"),
    ({"pace": 0}, "pace"),
    ({"retry": {"busy": 5}}, "retry.busy"),             # a retry waits a minute at least
    ({"retry": {"hung_up": 600}}, "retry"),
    ({"purpose": "survey"}, "survey_prompt"),           # a survey asks a question
    ({"survey": {"prompt": "welcome", "keys": "1123"}}, "survey_keys"),
])
def test_each_bad_field_is_named_and_nothing_is_saved(admin, fields, bad):
    reply = api_call(admin, "POST", "/api/v1/campaigns", {**MESSAGE, **fields})
    assert reply.status == 400, reply.text
    assert bad in reply.json()["problems"]
    assert admin.get("/api/v1/campaigns").json()["campaigns"] == []


def test_the_form_shows_each_problem_next_to_its_field(admin):
    reply = admin.post("/campaigns/new", form={"csrf_token": admin.csrf("/campaigns/new"), "name": "Spring sale",
                                               "mode": "progressive", "purpose": "sales", "queue": "",
                                               "start": "10:00", "end": "09:00", "max_attempts": "3",
                                               "max_lines": "2", "pace": "1"})
    assert reply.status == 400
    for field in ("queue", "end", "days"):
        assert f'id="{field}-error"' in reply.text
    assert 'value="Spring sale"' in reply.text          # what was typed is kept
    # A browser sends each ticked day as a field of its own.
    fields = {"csrf_token": admin.csrf("/campaigns/new"), "name": "Spring sale", "mode": "progressive",
              "purpose": "sales", "queue": "sales", "start": "09:00", "end": "17:30", "max_attempts": "2",
              "max_lines": "3", "pace": "1.5", "retry_busy": "900"}
    good = admin.post("/campaigns/new", form=[*fields.items(), ("days", "1"), ("days", "3")])
    assert good.status == 303
    made = admin.get("/api/v1/campaigns").json()["campaigns"][0]
    assert (made["queue"], made["hours"]["days"], made["retry"], made["pace"]) == ("sales", [1, 3], {"busy": 900}, 1.5)


def test_an_edit_needs_the_version_read_and_a_draft_or_paused_campaign(admin, campaign, engine, db_path):
    made = campaign()
    path = f"/api/v1/campaigns/{made['id']}"
    changed = api_call(admin, "PATCH", path, {"max_lines": 4, "version": 1})
    assert changed.status == 200 and changed.json()["campaign"]["max_lines"] == 4
    stale = api_call(admin, "PATCH", path, {"max_lines": 6, "version": 1})
    assert stale.status == 409 and stale.json()["campaign"]["max_lines"] == 4
    assert ("campaign.update", made["id"], {"max_lines": [2, 4]}) in audit_actions(db_path, "campaign.")
    assert api_call(admin, "POST", f"{path}/start").status == 200
    running = api_call(admin, "PATCH", path, {"max_lines": 6, "version": 2})
    assert running.status == 409 and "pause" in running.json()["error"]
    assert api_call(admin, "POST", f"{path}/pause").status == 200
    assert api_call(admin, "PATCH", path, {"max_lines": 6, "version": 2}).status == 200


def test_start_pause_stop_are_engine_commands_audited_and_its_refusal_is_shown(admin, campaign, engine, db_path):
    made = campaign()
    path = f"/api/v1/campaigns/{made['id']}"
    assert api_call(admin, "POST", f"{path}/start").status == 200
    assert ("campaign.start", {"id": made["id"]}) in engine.commands
    assert admin.get(path).json()["campaign"]["state"] == "running"
    refused = api_call(admin, "POST", f"{path}/start")       # the engine's own refusal: already running
    assert refused.status == 409 and "running" in refused.json()["error"]
    page = admin.post(f"/campaigns/{made['id']}/stop", form={"csrf_token": admin.csrf(f"/campaigns/{made['id']}")})
    assert page.status == 303
    assert admin.get(path).json()["campaign"]["state"] == "stopped"
    assert [a for a, _t, _d in audit_actions(db_path, "campaign.")] == ["campaign.create", "campaign.start",
                                                                        "campaign.stop"]
    engine.refusals["campaign.start"] = "no usable trunk: every trunk is kept for incoming calls"
    other = campaign(name="Greetings")
    shown = admin.post(f"/campaigns/{other['id']}/start", form={"csrf_token": admin.csrf(f"/campaigns/{other['id']}")})
    assert shown.status == 409 and "no usable trunk" in shown.text


def test_a_bad_contact_list_is_reported_row_by_row_and_nothing_is_imported(admin, campaign, db_path):
    made = campaign()
    api_call(admin, "POST", "/api/v1/dnc", {"numbers": ["13900139000"], "reason": "asked on 3 March"})
    text = ("电话,姓名,model\n"
            "13800138000,李伟,EC-200\n"
            "not a number,Bad,\n"
            "138 0013 8000,Again,\n"
            "13900139000,Listed,\n")
    check = send_csv(admin, made["id"], text)
    assert check.status == 200
    rows = {r["line"]: r for r in check.json()["rows"]}
    assert [bool(rows[n]["problem"]) for n in (2, 3, 4, 5)] == [False, True, True, False]
    assert rows[2]["number"] == "+8613800138000" and rows[2]["data"] == {"model": "EC-200"}
    assert rows[5]["dnc"] and not rows[2]["dnc"]
    committed = send_csv(admin, made["id"], text, commit=True)
    assert committed.status == 400 and committed.json()["imported"] == 0
    assert contact_rows(db_path, made["id"]) == []
    page = admin.post(f"/campaigns/{made['id']}/import", form={"csrf_token": admin.csrf("/campaigns")},
                      files={"file": ("list.csv", text.encode("gb18030"))})
    assert page.status == 400 and page.text.count('class="row-bad"') == 2 and 'id="import-commit"' not in page.text


def test_a_good_list_imports_whole_dnc_numbers_are_never_pending_and_export_has_the_results(admin, campaign, db_path):
    made = campaign()
    api_call(admin, "POST", "/api/v1/dnc", {"numbers": ["13900139000"]})
    text = "Number,Name,model\n13800138000,李伟,EC-200\n13900139000,Listed,\n=1+1,,\n"
    assert send_csv(admin, made["id"], text).json()["problems"] == 1       # a formula is no number
    text = "Number,Name,model\n13800138000,李伟,EC-200\n13900139000,Listed,\n"
    page = admin.post(f"/campaigns/{made['id']}/import", form={"csrf_token": admin.csrf("/campaigns"), "commit": "1",
                                                               "text": text}, files={})
    assert page.status == 303 and page.location == f"/campaigns/{made['id']}?imported=2"
    assert contact_rows(db_path, made["id"]) == [("+8613800138000", "李伟", "pending", '{"model": "EC-200"}'),
                                                 ("+8613900139000", "Listed", "dnc", None)]
    assert ("campaign.import", made["id"], {"contacts": 2}) in audit_actions(db_path, "campaign.")
    again = send_csv(admin, made["id"], "number\n13800138000\n", commit=True)   # already in the campaign
    assert again.status == 400 and len(contact_rows(db_path, made["id"])) == 2
    # The dialer's results, as it writes them, in the export Excel opens as it is.
    conn = connect(db_path)
    with conn:
        conn.execute("UPDATE campaign_contacts SET state = 'done', attempts = 2, outcome = 'answered_human',"
                     " result = '1' WHERE number = '+8613800138000'")
    conn.close()
    exported = admin.get(f"/campaigns/{made['id']}/contacts.csv")
    assert exported.status == 200 and exported.body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.body.decode("utf-8-sig"))))
    # A leading + is a formula to Excel: the number goes out as text (OWASP CSV injection).
    assert rows[1][:6] == ["'+8613800138000", "李伟", "done", "2", "answered_human", "1"]
    listed = admin.get(f"/api/v1/campaigns/{made['id']}/contacts?outcome=answered_human").json()
    assert listed["total"] == 1 and listed["contacts"][0]["result"] == "1"
    detail = admin.get(f"/api/v1/campaigns/{made['id']}").json()["counts"]
    assert detail["states"] == {"done": 1, "dnc": 1} and detail["results"] == {"1": 1}
    shown = admin.get(f"/campaigns/{made['id']}?state=done")
    assert shown.status == 200 and "+8613800138000" in shown.text and "+8613900139000" not in shown.text


def test_contacts_through_the_json_api_are_checked_the_same_way(admin, campaign, db_path):
    made = campaign()
    path = f"/api/v1/campaigns/{made['id']}/contacts"
    bad = api_call(admin, "POST", path, {"contacts": [{"number": "13800138000"}, {"number": "12"}], "commit": True})
    assert bad.status == 400 and contact_rows(db_path, made["id"]) == []
    good = api_call(admin, "POST", path, {"contacts": [{"number": "+86 138 0013 8000", "name": "Li",
                                                        "data": {"due": "2026-01-31"}}], "commit": True})
    assert good.status == 201 and good.json()["imported"] == 1
    assert admin.get(path).json()["contacts"][0]["data"] == {"due": "2026-01-31"}


def test_the_do_not_call_list_marks_waiting_contacts_and_is_audited(admin, campaign, db_path):
    made = campaign()
    api_call(admin, "POST", f"/api/v1/campaigns/{made['id']}/contacts",
             {"contacts": [{"number": "13800138000"}], "commit": True})
    bad = api_call(admin, "POST", "/api/v1/dnc", {"numbers": ["13800138000", "nonsense"]})
    assert bad.status == 400 and admin.get("/api/v1/dnc").json()["numbers"] == []     # none added half
    added = api_call(admin, "POST", "/api/v1/dnc", {"numbers": ["138-0013-8000"], "reason": "complained"})
    assert added.status == 201
    assert contact_rows(db_path, made["id"])[0][2] == "dnc"
    assert [n["number"] for n in admin.get("/api/v1/dnc").json()["numbers"]] == ["+8613800138000"]
    page = admin.get("/dnc")
    assert page.status == 200 and "+8613800138000" in page.text
    removed = api_call(admin, "DELETE", "/api/v1/dnc/13800138000")
    assert removed.status == 200 and admin.get("/api/v1/dnc").json()["numbers"] == []
    assert api_call(admin, "DELETE", "/api/v1/dnc/13800138000").status == 404
    assert [a for a, _t, _d in audit_actions(db_path, "dnc.")] == ["dnc.add", "dnc.remove"]


def test_agents_may_not_see_or_run_campaigns(add_user, admin, campaign):
    made = campaign()
    agent = add_user("li", "agent")
    assert agent.get("/campaigns").status == 403
    assert agent.get(f"/api/v1/campaigns/{made['id']}").status == 403
    assert api_call(agent, "POST", f"/api/v1/campaigns/{made['id']}/start", token=agent.csrf("/")).status == 403


def test_customers_chosen_by_a_query_are_added_with_their_card(admin, campaign, db_path):
    made = campaign(name="Spring greetings", purpose="greeting")
    for name, number, vip in (("Gold Li", "13800138000", "3"), ("Plain Wang", "13900139000", "0"),
                              ("Blocked Zhao", "13700137000", "5")):
        reply = api_call(admin, "POST", "/api/v1/customers", {"name": name, "numbers": [number], "vip": vip,
                                                              "blocked": name.startswith("Blocked")})
        assert reply.status == 201, reply.text
    path = f"/api/v1/campaigns/{made['id']}/contacts"
    bad = api_call(admin, "POST", path, {"query": {"vip_min": "ten", "last_before": "May 1"}})
    assert bad.status == 400 and set(bad.json()["problems"]) == {"vip_min", "last_before"}
    # VIP 1 and up, never called before 2020: the gold customer alone (a blocked card is never called).
    check = api_call(admin, "POST", path, {"query": {"vip_min": "1", "last_before": "2020-01-01"}})
    assert [(r["name"], r["number"]) for r in check.json()["rows"]] == [("Gold Li", "+8613800138000")]
    page = admin.post(f"/campaigns/{made['id']}/customers", form={"csrf_token": admin.csrf("/campaigns"),
                                                                   "vip_min": "1", "commit": "1"})
    assert page.status == 303
    assert [(n, name) for n, name, _s, _d in contact_rows(db_path, made["id"])] == [("+8613800138000", "Gold Li")]
    conn = connect(db_path)
    card = conn.execute("SELECT customer_id FROM campaign_contacts").fetchone()[0]
    conn.close()
    assert card is not None        # the agent's preview shows the card


def test_the_campaign_report_counts_attempts_reached_confirmed_answers_and_agents(admin, campaign, db_path, clock):
    import datetime as dt

    made = campaign(survey={"prompt": "welcome", "keys": "12345"}, purpose="survey")
    api_call(admin, "POST", f"/api/v1/campaigns/{made['id']}/contacts", {"commit": True, "contacts": [
        {"number": n} for n in ("13800138001", "13800138002", "13800138003", "13800138004")]})
    now = clock()
    # What the dialer writes: four contacts tried, five calls, one put through to an agent.
    ends = {"+8613800138001": ("done", "answered_human", "5"), "+8613800138002": ("done", "answered_human", "1"),
            "+8613800138003": ("done", "answered_unsure", "4"), "+8613800138004": ("failed", "busy", None)}
    conn = connect(db_path)
    with conn:
        for number, (state, outcome, result) in ends.items():
            conn.execute("UPDATE campaign_contacts SET state = ?, outcome = ?, result = ?, attempts = 1, updated_at = ?"
                         " WHERE number = ?", [state, outcome, result, now, number])
        for i in range(5):
            conn.execute("INSERT INTO calls (id, direction, number, arrived_at, campaign_id, connected_at, agent_id)"
                         " VALUES (?, 'outbound', ?, ?, ?, ?, ?)", [f"o{i}", "13800138001", now, made["id"],
                                                                   now + 5 if i == 0 else None, "1001" if i == 0 else None])
    conn.close()
    day = dt.date.fromtimestamp(now).isoformat()
    body = admin.get(f"/api/v1/reports/campaigns?from={day}&to={day}").json()
    found = next(t for t in body["tables"] if t["name"] == "campaigns")
    row = dict(zip([c["key"] for c in found["columns"]], found["rows"][0]))
    assert (row["contacts"], row["attempts"], row["reached"], row["confirmed"], row["survey_answers"],
            row["agent_connects"]) == (4, 5, 3, 1, 3, 1)    # confirm key 1 is also an answer here
    assert row["reached_share"] == pytest.approx(0.75) and row["survey_mean"] == pytest.approx(10 / 3, abs=1e-3)
    outcomes = next(t for t in body["tables"] if t["name"] == "campaign_outcomes")["rows"]
    assert sorted(outcomes) == sorted([["answered by a person", 2], ["answered (unsure)", 1], ["busy", 1]])
    exported = admin.get(f"/api/v1/reports/campaigns?from={day}&to={day}&format=csv")
    assert exported.status == 200 and exported.body.startswith("\ufeff".encode())
    assert admin.get(f"/api/v1/reports/campaigns?from={day}&to={day}&format=xlsx").status == 200
    assert admin.get(f"/reports/campaigns?from={day}&to={day}").status == 200
