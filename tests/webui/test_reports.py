"""Reports (docs/kpi.md, docs/requirements.md R16): every figure of a scripted day worked out by hand and
compared with the API's; filters, groupings, role limits, and the answers to bad requests."""
import csv
import io
import json

import pytest

import report_scenario as day
from conftest import api_call

RANGE = "from=2025-03-10&to=2025-03-10"


@pytest.fixture
def filled(db_path, app):
    day.fill(db_path)


def report(client, name: str, query: str = RANGE) -> dict:
    reply = client.get(f"/api/v1/reports/{name}?{query}")
    assert reply.status == 200, reply.text
    return reply.json()


def table(body: dict, name: str) -> list[dict]:
    """The named table's rows as {column key: value}."""
    found = next(t for t in body["tables"] if t["name"] == name)
    keys = [c["key"] for c in found["columns"]]
    return [dict(zip(keys, row)) for row in found["rows"]]


def test_calls_figures_by_hand(admin, filled):
    [whole] = table(report(admin, "calls", RANGE + "&group=day&short_abandon=5"), "calls")
    # Offered: c1-c6 and c9 entered the queue; c7, c8 stayed in the IVR, c10 found it full, c11 is outbound.
    assert whole["period"] == "2025-03-10"
    assert (whole["offered"], whole["answered"], whole["abandoned"], whole["short_abandoned"]) == (7, 3, 2, 1)
    assert (whole["timeouts"], whole["overflows"], whole["voicemails"], whole["callbacks"]) == (1, 1, 1, 1)
    # Service level: c1 (5 s) and c5 (15 s) within 20 s, over offered less the one short abandon.
    assert whole["service_level"] == pytest.approx(2 / 6, abs=1e-4)
    assert whole["abandon_rate"] == pytest.approx(1 / 6, abs=1e-4)
    assert whole["asa"] == pytest.approx((5 + 30 + 15) / 3, abs=1e-3)
    assert whole["longest_wait"] == 60
    # Traffic: 600 s of connected time over the day's 86,400 s.
    assert whole["erlangs"] == pytest.approx(600 / 86400, abs=1e-3)


def test_the_short_abandon_threshold_moves_a_caller_in_or_out_of_service_level(admin, filled):
    [none] = table(report(admin, "calls", RANGE + "&short_abandon=0"), "calls")
    assert none["short_abandoned"] == 0
    assert none["service_level"] == pytest.approx(2 / 7, abs=1e-4)
    assert none["abandon_rate"] == pytest.approx(2 / 7, abs=1e-4)
    [wide] = table(report(admin, "calls", RANGE + "&short_abandon=45"), "calls")
    assert wide["short_abandoned"] == 2
    assert wide["service_level"] == pytest.approx(2 / 5, abs=1e-4)


def test_calls_by_hour_outcomes_and_busy_hour(admin, filled):
    body = report(admin, "calls", RANGE + "&group=hour")
    hours = table(body, "calls")
    assert [(h["period"], h["offered"], h["answered"]) for h in hours] == [
        ("2025-03-10T09:00:00", 4, 2), ("2025-03-10T10:00:00", 3, 1)]
    assert hours[0]["service_level"] == pytest.approx(1 / 3, abs=1e-4)
    assert hours[0]["erlangs"] == pytest.approx(500 / 3600, abs=1e-3)
    assert hours[1]["erlangs"] == pytest.approx(100 / 3600, abs=1e-3)
    outcomes = {r["outcome"]: r["calls"] for r in table(body, "outcomes")}
    assert outcomes == {"Answered": 3, "Short abandons": 1, "Abandoned": 1, "Voicemails": 1, "Callbacks": 1,
                        "Other (timeouts, overflows, IVR)": 0}
    by_hour = {r["hour"]: r for r in table(body, "hours")}
    assert by_hour[9]["busy_hour"] == "*" and by_hour[10]["busy_hour"] == ""
    assert by_hour[9]["offered"] == 4


def test_queue_and_skill_filters(admin, filled):
    [sales] = table(report(admin, "calls", RANGE + "&queue=sales"), "calls")
    assert sales["offered"] == 7
    assert table(report(admin, "calls", RANGE + "&queue=service"), "calls") == []
    assert table(report(admin, "calls", RANGE + "&skill=care"), "calls") == []
    [ana] = table(report(admin, "calls", RANGE + "&agent=1001"), "calls")
    assert (ana["offered"], ana["answered"]) == (2, 2)
    # A ticket category selects the calls its tickets came from: t1 and t2 (complaints) from c1 and c5.
    [complaints] = table(report(admin, "calls", RANGE + "&category=complaint"), "calls")
    assert (complaints["offered"], complaints["answered"], complaints["asa"]) == (2, 2, 10)


def test_ivr_nodes_paths_and_self_service(admin, filled):
    body = report(admin, "ivr")
    nodes = {r["node"]: r for r in table(body, "nodes")}
    assert {k: (v["entered"], v["completed"], v["abandoned"]) for k, v in nodes.items()} == {
        "welcome": (10, 10, 0), "menu": (10, 9, 1), "q_sales": (8, 8, 0), "balance": (1, 1, 0)}
    paths = {r["path"]: r for r in table(body, "paths")}
    assert paths["welcome › menu › q_sales"]["calls"] == 8
    assert paths["welcome › menu › q_sales"]["answered"] == 3
    assert paths["welcome › menu"]["ivr_hangup"] == 1
    assert paths["welcome › menu › balance"]["self_service"] == 1
    [period] = table(body, "self_service")
    assert (period["ivr_calls"], period["self_service"], period["to_queue"], period["ivr_hangup"]) == (10, 1, 7, 1)
    assert period["self_service_rate"] == pytest.approx(0.1)


def test_agent_figures_by_hand(admin, filled):
    body = report(admin, "agents")
    agents = {r["agent"]: r for r in table(body, "agents")}
    ana, ben = agents["Ana Costa (1001)"], agents["Ben Okafor (1002)"]
    # Ana: c1 (300 s connected, 60 on hold) and c5 (100 s); wrap-up 60 + 30 s; lunch 09:30-10:00.
    assert (ana["calls"], ana["talk"], ana["hold"], ana["wrapup"]) == (2, 340, 60, 90)
    assert ana["aht"] == pytest.approx((400 + 90) / 2)
    assert (ana["not_ready"], ana["logged_in"]) == (1800, 4 * 3600)
    assert ana["occupancy"] == pytest.approx(490 / (12110 + 490), abs=1e-4)
    assert ana["transfers"] == 0
    assert ana["fcr"] == pytest.approx(0.5) and ana["satisfaction"] == pytest.approx(4.0)
    # The ticket callback's "1" is the ticket's satisfaction, not a survey of the call.
    assert ana["survey"] == pytest.approx(3.0)
    # Ben: in a meeting since the evening before, so from midnight until 09:00; c2 with one transfer.
    assert (ben["calls"], ben["talk"], ben["wrapup"], ben["not_ready"]) == (1, 200, 20, 9 * 3600)
    assert ben["logged_in"] == 11 * 3600
    assert ben["occupancy"] == pytest.approx(220 / 7200, abs=1e-4)
    assert (ben["transfers"], ben["fcr"], ben["survey"], ben["satisfaction"]) == (1, None, 5.0, None)
    reasons = {(r["agent"], r["reason"]): r for r in table(body, "not_ready")}
    assert reasons[("Ana Costa (1001)", "Lunch")]["time"] == 1800
    assert reasons[("Ana Costa (1001)", "Lunch")]["share"] == pytest.approx(0.125)
    assert reasons[("Ben Okafor (1002)", "Meeting")]["share"] == pytest.approx(32400 / 39600, abs=1e-4)
    assert {r["reason"]: r["time"] for r in table(body, "reasons")} == {"Meeting": 32400, "Lunch": 1800}


def test_ticket_figures_by_hand(admin, filled, clock):
    body = report(admin, "tickets")
    categories = {r["category"]: r for r in table(body, "categories")}
    complaint, consultation = categories["Complaint"], categories["Consultation"]
    assert (complaint["created"], complaint["resolved"], complaint["closed"], complaint["open"]) == (2, 2, 1, 0)
    assert (complaint["repeats"], complaint["fcr"], complaint["satisfaction"]) == (1, 0.5, 4.0)
    assert complaint["time_to_resolve"] == pytest.approx((60 + 7200) / 2)
    assert (consultation["created"], consultation["open"], consultation["overdue"]) == (1, 1, 1)
    assert consultation["time_to_resolve"] is None and consultation["fcr"] is None
    departments = {r["department"]: r for r in table(body, "departments")}
    assert (departments["Complaints"]["dispatched"], departments["Complaints"]["backlog"]) == (1, 0)
    assert (departments["Customer service"]["dispatched"], departments["Customer service"]["backlog"],
            departments["Customer service"]["overdue_now"]) == (1, 1, 1)
    assert {r["state"]: r["tickets"] for r in table(body, "states")} == {"Closed": 1, "Resolved": 1,
                                                                         "Dispatched": 1}
    [period] = table(body, "periods")
    assert (period["created"], period["resolved"]) == (3, 2)
    [only] = table(report(admin, "tickets", RANGE + "&category=consultation"), "categories")
    assert only["category"] == "Consultation"


def test_complaints_by_admin_keywords_in_chinese_and_english(admin, filled, db_path):
    reply = api_call(admin, "PUT", "/api/v1/reports/keywords", {"keywords": ["退款", " RUDE ", "投诉", "地址", "rude"]})
    assert reply.status == 200, reply.text
    assert reply.json()["keywords"] == ["退款", "RUDE", "投诉", "地址"]
    body = report(admin, "complaints")
    found = {r["keyword"]: r for r in table(body, "keywords")}
    # 投诉 is the complaint category's Chinese name: both complaint tickets hold it through their category.
    assert {k: v["tickets"] for k, v in found.items()} == {"投诉": 2, "退款": 1, "RUDE": 1, "地址": 1}
    assert found["投诉"]["share"] == pytest.approx(2 / 3, abs=1e-4)
    assert (found["投诉"]["repeats"], found["地址"]["open"], found["地址"]["overdue"]) == (1, 1, 1)
    assert {r["category"]: r["tickets"] for r in table(body, "complaint_categories")} == {"Complaint": 2,
                                                                                        "Consultation": 1}
    audit = admin.get("/api/v1/audit?action=report.keywords")
    assert audit.status == 200
    [entry] = [e for e in audit.json()["entries"] if e["action"] == "report.keywords"]
    assert entry["detail"]["after"] == ["退款", "RUDE", "投诉", "地址"]


def test_keyword_changes_are_for_admins_and_checked(admin, filled, staff):
    supervisor = staff("sam", ["supervisor"])
    assert supervisor.get("/api/v1/reports/keywords").status == 200
    assert api_call(supervisor, "PUT", "/api/v1/reports/keywords", {"keywords": ["x"]}).status == 403
    too_long = api_call(admin, "PUT", "/api/v1/reports/keywords", {"keywords": ["x" * 33]})
    assert too_long.status == 400 and "keywords" in too_long.json()["problems"]
    assert api_call(admin, "PUT", "/api/v1/reports/keywords", {"keywords": "退款"}).status == 400
    form = admin.post("/reports/keywords", form={"csrf_token": admin.csrf("/reports/keywords"),
                                                 "keywords": "延误\r\n\r\nlate delivery\n"})
    assert form.status == 303
    assert admin.get("/api/v1/reports/keywords").json()["keywords"] == ["延误", "late delivery"]


def test_details_hold_every_call_paged(admin, filled):
    first = report(admin, "call_details", RANGE + "&per_page=4")
    [t] = first["tables"]
    assert t["total"] == 11 and len(t["rows"]) == 4
    rows = table(first, "call_details")
    assert [r["id"] for r in rows] == ["c1", "c2", "c3", "c4"]
    assert rows[0]["arrived_at"] == "2025-03-10T09:00:00" and rows[0]["talk"] == 240 and rows[0]["hold"] == 60
    assert rows[0]["disposition"] == "Answered" and rows[0]["agent_name"] == "Ana Costa"
    page = admin.get(f"/reports/call_details?{RANGE}&per_page=4&page=2")
    assert "5–8 of 11 rows" in page.text and 'rel="next"' in page.text and 'rel="prev"' in page.text
    last = table(report(admin, "call_details", RANGE + "&per_page=4&page=3"), "call_details")
    assert [r["id"] for r in last] == ["c9", "c10", "c11"]
    tickets = table(report(admin, "ticket_details"), "ticket_details")
    assert [(t["id"], t["state"], t["fcr"]) for t in tickets] == [("t1", "Closed", "yes"), ("t2", "Resolved", "no"),
                                                                   ("t3", "Dispatched", None)]


@pytest.mark.parametrize("name", ["calls", "ivr", "agents", "tickets", "complaints", "campaigns", "call_details",
                                  "ticket_details"])
def test_a_range_without_records_is_an_empty_report(admin, filled, name):
    body = report(admin, name, "from=2024-01-01&to=2024-01-31&group=week")
    assert body["tables"] and all(t["rows"] == [] for t in body["tables"])


@pytest.mark.parametrize("query, field", [
    ("from=2025-03-10&to=2025-03-01", "to"),
    ("from=1970-01-01&to=2025-03-01", "from"),
    ("from=2020-01-01&to=2025-03-01", "to"),
    ("from=2025-13-01", "from"),
    ("group=fortnight", "group"),
    ("format=pdf", "format"),
    ("short_abandon=61", "short_abandon"),
    ("per_page=0", "per_page"),
])
def test_bad_requests_get_a_clear_400(admin, filled, query, field):
    reply = admin.get(f"/api/v1/reports/calls?{query}")
    assert reply.status == 400
    assert field in reply.json()["problems"] and reply.json()["error"]
    if field != "format":   # the page shows the report; its export buttons choose the format
        page = admin.get(f"/reports/calls?{query}")
        assert page.status == 400 and "Fix the form" in page.text


def test_an_unknown_report_or_table_is_refused(admin, filled):
    assert admin.get("/api/v1/reports/nonsense").status == 404
    reply = admin.get(f"/api/v1/reports/calls?{RANGE}&format=csv&table=nonsense")
    assert reply.status == 400 and "table" in reply.json()["problems"]


def test_an_agent_reads_only_their_own_figures(admin, filled, staff, add_user):
    amy = staff("amy", ["agent"], agent_id="1001")
    body = report(amy, "agents")
    assert [r["agent"] for r in table(body, "agents")] == ["Ana Costa (1001)"]
    assert body["params"]["agent"] == "1001"
    assert amy.get(f"/api/v1/reports/agents?{RANGE}&agent=1002").status == 403
    for name in ("calls", "call_details", "tickets", "complaints"):
        assert amy.get(f"/api/v1/reports/{name}?{RANGE}").status == 403, name
    assert [r["name"] for r in amy.get("/api/v1/reports").json()["reports"]] == ["agents"]
    assert amy.get("/reports").location.endswith("/reports/agents")
    page = amy.get(f"/reports/agents?{RANGE}")
    assert page.status == 200 and "Ana Costa" in page.text and "Ben Okafor" not in page.text
    # An account made before the link was required (the users page now refuses an agent without one).
    unlinked = add_user("una", "agent", remote_addr="192.0.2.44")
    assert unlinked.get(f"/api/v1/reports/agents?{RANGE}").status == 409


def test_the_page_shows_each_figures_definition_and_links_the_rest(admin, filled):
    page = admin.get(f"/reports/calls?{RANGE}&group=hour")
    assert page.status == 200
    assert ('title="Answered within the service-level target (the site&#039;s, 20 s unless set otherwise on the '
            'Reports configuration page) of entering the queue / (offered - short abandons)."') in page.text
    assert 'href="/reports/definitions#report-calls"' in page.text
    assert "vendor/chart.js-4.5.1/chart.umd.min.js" in page.text
    definitions = admin.get("/reports/definitions")
    assert definitions.status == 200 and "Average speed of answer" in definitions.text


def test_json_figures_match_the_csv(admin, filled):
    body = report(admin, "calls", RANGE)
    csv_text = admin.get(f"/api/v1/reports/calls?{RANGE}&format=csv").body.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(csv_text)))[:2]
    [whole] = table(body, "calls")
    cells = dict(zip(header, row))
    assert cells["Offered"] == str(whole["offered"])
    assert cells["Service level"] == f"{whole['service_level'] * 100:.1f}%"
    assert json.loads(json.dumps(body))   # plain JSON all through


@pytest.mark.parametrize("group, period", [("day", "2025-03-10"), ("week", "2025-03-10"), ("month", "2025-03-01")])
def test_weeks_start_on_monday_and_traffic_is_over_the_part_of_the_period_in_the_range(admin, filled, group, period):
    # 10 March 2025 is a Monday. A week or month bucket reaching past the one-day range counts its traffic
    # over the day the range covers, not over 7 or 31 days.
    [row] = table(report(admin, "calls", f"{RANGE}&group={group}"), "calls")
    assert row["period"] == period
    assert row["erlangs"] == pytest.approx(600 / 86400, abs=1e-3)
    assert row["offered"] == 7


def test_keywords_match_whatever_the_case_or_width_and_inside_chinese_text():
    from webui.reports.complaints import fold
    assert fold("ＲＥＦＵＮＤ") in fold("Customer wants a refund") and fold("Rude") in fold("RUDE agent")
    assert fold("退款") in fold("客户投诉退款延误")
