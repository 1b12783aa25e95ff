"""The admin's configuration pages and API for the site settings (README, "Configuration from the
browser"): each field checked with its message beside it, the file written atomically with the
previous version kept, a stale form refused, the engine asked to apply the change and the previous
file put back when it refuses, every change in the audit log; a change made on disk shows at once."""
from __future__ import annotations

import json
import re
import sqlite3
import tomllib

import pytest

from webui.site_file import KEEP, SiteFile, StaleVersion, version_of

SITE = """\
# The branch's settings.
[box]
id = "branch-001"
tones = "cn"

[[queue]]
name = "sales"
ring_timeout = 15.0
wrapup = 5.0

[[queue]]
name = "service"

[[agent]]
id = "1001"
name = "Li Wei"
station = "station1"
skills = { sales = 6 }
"""
VERSION_RE = re.compile(r'name="version" value="([0-9a-f]+)"')


@pytest.fixture
def site(engine):
    engine.site_path.parent.mkdir(parents=True, exist_ok=True)
    engine.site_path.write_text(SITE)
    return engine.site_path


def on_disk(path) -> dict:
    return tomllib.loads(path.read_text())


def form_of(admin, path: str) -> dict:
    """The form a page shows, as the browser would send it back unchanged."""
    page = admin.get(path)
    assert page.status == 200, page.status
    values = dict(re.findall(r'<input name="(\w+)" value="([^"]*)"', page.text))
    values.update(re.findall(r'<select name="(\w+)"[^>]*>(?:(?!</select>).)*?<option value="([^"]*)" selected',
                             page.text, re.S))
    values["version"] = VERSION_RE.search(page.text).group(1)
    values["csrf_token"] = admin.CSRF_RE.search(page.text).group(1)
    return values


def audit_rows(db_path) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT username, action, target, detail FROM audit_log WHERE action LIKE 'queue.%' "
                            "OR action LIKE 'agent.%' ORDER BY at").fetchall()
    finally:
        conn.close()


def test_the_queues_page_lists_the_file_and_a_change_on_disk_shows_at_once(admin, site):
    page = admin.get("/config/queues")
    assert page.status == 200 and ">sales<" in page.text and ">service<" in page.text
    site.write_text(SITE + '\n[[queue]]\nname = "billing"\n')
    assert ">billing<" in admin.get("/config/queues").text


def test_editing_a_queue_writes_the_file_keeps_the_previous_and_applies_it(admin, site, engine, db_path):
    before = site.read_bytes()
    form = form_of(admin, "/config/queues/sales")
    assert form["ring_timeout"] == "15" and form["name"] == "sales"
    reply = admin.post("/config/queues/sales", form={**form, "ring_timeout": "9"})
    assert reply.status == 303 and reply.location == "/config/queues?saved=sales"
    assert on_disk(site)["queue"][0]["ring_timeout"] == 9.0
    assert on_disk(site)["queue"][1] == {"name": "service"} and on_disk(site)["agent"][0]["skills"] == {"sales": 6}
    assert (site.parent / "site.toml.1").read_bytes() == before
    assert [c for c, _ in engine.commands][-2:] == ["site.validate", "site.reload"]
    username, action, target, detail = audit_rows(db_path)[-1]
    assert (username, action, target) == ("admin", "queue.update", "sales")
    assert json.loads(detail) == {"ring_timeout": [15.0, 9.0]}


def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_written(admin, site, engine):
    before = site.read_bytes()
    form = form_of(admin, "/config/queues/sales")
    reply = admin.post("/config/queues/sales", form={**form, "ring_timeout": "1", "max_waiting": "many"})
    assert reply.status == 422
    assert re.search(r'name="max_waiting" value="many" class="invalid".*?field-error[^>]*>expected a whole number',
                     reply.text, re.S)
    reply = admin.post("/config/queues/sales", form={**form, "ring_timeout": "1"})
    assert reply.status == 422
    assert re.search(r'name="ring_timeout" value="1" class="invalid".*?field-error[^>]*>1.0 is below the minimum 3.0',
                     reply.text, re.S)
    assert site.read_bytes() == before and not (site.parent / "site.toml.1").exists()
    assert "site.reload" not in [c for c, _ in engine.commands]


def test_a_form_built_from_an_older_version_is_refused_and_shows_the_file_as_it_is(admin, site, engine):
    form = form_of(admin, "/config/queues/sales")
    site.write_text(SITE.replace("ring_timeout = 15.0", "ring_timeout = 30.0"))   # another admin, or a shell
    reply = admin.post("/config/queues/sales", form={**form, "wrapup": "20"})
    assert reply.status == 409 and "changed since this page was loaded" in reply.text
    assert 'name="ring_timeout" value="30"' in reply.text
    assert on_disk(site)["queue"][0] == {"name": "sales", "ring_timeout": 30.0, "wrapup": 5.0}


def test_when_the_engine_refuses_the_previous_file_is_put_back(admin, site, engine):
    before = site.read_bytes()
    engine.refusals["site.reload"] = "site not reloaded, the running settings stay: station1 still carries a call"
    form = form_of(admin, "/config/queues/sales")
    reply = admin.post("/config/queues/sales", form={**form, "wrapup": "20"})
    assert reply.status == 409 and "station1 still carries a call" in reply.text
    assert site.read_bytes() == before and not (site.parent / "site.toml.1").exists()


def test_adding_and_removing_an_agent(admin, site, db_path):
    form = form_of(admin, "/config/agents/new")
    reply = admin.post("/config/agents", form={**form, "id": "1002", "name": "Wang Fang", "phone": "13800138000",
                                               "skills": "service=7, sales=4"})
    assert reply.status == 303
    assert on_disk(site)["agent"][1] == {"id": "1002", "name": "Wang Fang", "phone": "13800138000",
                                         "skills": {"service": 7, "sales": 4}}
    form = form_of(admin, "/config/agents/new")
    reply = admin.post("/config/agents", form={**form, "id": "1003", "station": "station2", "skills": "billing=3"})
    assert reply.status == 422 and "no queue needs skill" in reply.text
    version = VERSION_RE.search(admin.get("/config/agents").text).group(1)
    reply = admin.post("/config/agents/1001/delete", form={"csrf_token": admin.csrf("/config/agents"),
                                                           "version": version})
    assert reply.status == 303
    assert [a["id"] for a in on_disk(site)["agent"]] == ["1002"]
    assert [(a, t) for _, a, t, _ in audit_rows(db_path)] == [("agent.create", "1002"), ("agent.delete", "1001")]


def test_the_api_takes_the_version_in_if_match_and_answers_errors_as_json(admin, site, db_path):
    token = admin.csrf("/")
    listed = admin.get("/api/v1/config/queues")
    assert listed.status == 200 and [q["name"] for q in listed.json()["items"]] == ["sales", "service"]
    etag = listed.header("ETag")
    assert etag == f'"{version_of(site.read_bytes())}"'
    item = admin.get("/api/v1/config/queues/sales").json()["item"]
    body = json.dumps({**item, "strategy": "round_robin"}).encode()

    def put(headers, payload=body):
        return admin.request("PUT", "/api/v1/config/queues/sales", json_body=json.loads(payload),
                             headers={"X-CSRF-Token": token, **headers})

    assert put({}).status == 428
    reply = put({"If-Match": etag})
    assert reply.status == 200 and reply.json()["changed"] == {"strategy": [None, "round_robin"]}
    assert on_disk(site)["queue"][0]["strategy"] == "round_robin"
    stale = put({"If-Match": etag})
    assert stale.status == 412 and "changed since" in stale.json()["error"]
    bad = admin.request("PUT", "/api/v1/config/queues/sales", json_body={**item, "strategy": "fastest"},
                        headers={"X-CSRF-Token": token, "If-Match": reply.header("ETag")})
    assert bad.status == 422 and "is not one of" in bad.json()["fields"]["strategy"]
    created = admin.request("POST", "/api/v1/config/queues", json_body={"name": "billing", "wrapup": 10},
                            headers={"X-CSRF-Token": token, "If-Match": reply.header("ETag")})
    assert created.status == 201 and on_disk(site)["queue"][2] == {"name": "billing", "wrapup": 10}
    gone = admin.request("DELETE", "/api/v1/config/queues/billing",
                         headers={"X-CSRF-Token": token, "If-Match": created.header("ETag")})
    assert gone.status == 200 and [q["name"] for q in on_disk(site)["queue"]] == ["sales", "service"]
    assert admin.get("/api/v1/config/queues/billing").status == 404
    assert [a for _, a, _, _ in audit_rows(db_path)] == ["queue.update", "queue.create", "queue.delete"]


@pytest.mark.parametrize("role", ["supervisor", "agent", "technician"])
def test_only_admins_configure(add_user, site, role):
    other = add_user(f"u-{role}", role)
    assert other.get("/config/queues").status == 403
    assert other.get("/api/v1/config/queues").status == 403


def test_with_the_engine_stopped_nothing_is_written(admin, site, engine):
    form = form_of(admin, "/config/queues/sales")
    engine.stop()
    reply = admin.post("/config/queues/sales", form={**form, "wrapup": "20"})
    assert reply.status == 503 and "engine is not running" in reply.text
    assert on_disk(site)["queue"][0]["wrapup"] == 5.0


def test_the_file_is_replaced_whole_and_keeps_its_last_generations(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text("n = 0\n")
    site = SiteFile(path)
    for n in range(1, KEEP + 3):
        with site.locked():
            site.replace(f"n = {n}\n", version_of(path.read_bytes()))
    assert path.read_text() == f"n = {KEEP + 2}\n"
    assert [p.read_text() for p in site.generations()] == [f"n = {KEEP + 1 - i}\n" for i in range(KEEP)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["site.toml", "site.toml.lock", *(f"site.toml.{i}" for i in range(1, KEEP + 1))])   # no temp file left
    with site.locked(), pytest.raises(StaleVersion):
        site.replace("n = -1\n", version_of(b"n = 0\n"))
    with site.locked():
        previous = site.replace("n = 99\n", version_of(path.read_bytes()))
        site.put_back(previous)
    assert path.read_text() == f"n = {KEEP + 2}\n"
    assert [p.read_text() for p in site.generations()][0] == f"n = {KEEP + 1}\n"


def test_openapi_documents_every_configuration_route_with_its_roles(app):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "webui" / "openapi.yaml").read_text()
    documented = {}
    for block in re.split(r"^(?=  /)", text, flags=re.M):
        path = re.match(r"  (/(?:api/v1/)?config\S*):$", block, re.M)
        if path:
            for method, roles in re.findall(r"^    (get|post|put|delete):\n(?:      .*\n)*?      x-roles: (.*)$",
                                            block, re.M):
                documented[(path.group(1), method)] = roles
    served = {(re.sub(r"<([^>]+)>", r"{\1}", r.rule), r.method.lower()) for r in app.routes
              if r.rule.startswith(("/config", "/api/v1/config"))}
    assert set(documented) == served
    assert set(documented.values()) == {"[admin]"}


def test_a_schedule_with_its_holidays_is_added_from_the_page(admin, site):
    form = form_of(admin, "/config/schedules/new")
    reply = admin.post("/config/schedules", form={**form, "name": "office", "open": "18:00", "close": "09:00"})
    assert reply.status == 422
    assert re.search(r'name="close" value="09:00" class="invalid".*?field-error[^>]*>closes at 09:00, not after',
                     reply.text, re.S)
    reply = admin.post("/config/schedules", form={**form, "name": "office", "days": "mon, tue, sat",
                                                  "holidays": "2026-10-01, 2026-10-02"})
    assert reply.status == 303
    assert on_disk(site)["schedule"] == [{"name": "office", "days": ["mon", "tue", "sat"],
                                          "holidays": ["2026-10-01", "2026-10-02"]}]
    assert "mon, tue, sat" in admin.get("/config/schedules").text


def test_the_box_page_sets_the_lines_caller_id_scheme_and_tone_plan(admin, site, db_path):
    form = form_of(admin, "/config/box")
    assert form["id"] == "branch-001" and form["tones"] == "cn"
    reply = admin.post("/config/box", form={**form, "callerid": "bell202", "tones": "etsi", "answer_rings": "0"})
    assert reply.status == 422 and "0 is below the minimum 1" in reply.text
    reply = admin.post("/config/box", form={**form, "callerid": "bell202", "tones": "etsi"})
    assert reply.status == 303
    assert on_disk(site)["box"] == {"id": "branch-001", "tones": "etsi", "callerid": "bell202"}
    assert on_disk(site)["queue"][0]["name"] == "sales"
    conn = sqlite3.connect(db_path)
    detail = conn.execute("SELECT detail FROM audit_log WHERE action = 'box.update'").fetchone()[0]
    conn.close()
    assert json.loads(detail) == {"callerid": [None, "bell202"], "tones": ["cn", "etsi"]}
    token = admin.csrf("/")
    etag = admin.get("/api/v1/config/box").header("ETag")
    bad = admin.request("PUT", "/api/v1/config/box", json_body={"language": "fr"},
                        headers={"X-CSRF-Token": token, "If-Match": etag})
    assert bad.status == 422 and "'fr' is not one of en, zh" in bad.json()["fields"]["language"]


def test_without_a_site_file_the_pages_say_so_instead_of_failing(admin, engine):
    assert not engine.site_path.exists()
    for path in ("/config/queues", "/config/queues/new", "/config/agents/1001", "/config/box"):
        reply = admin.get(path)
        assert reply.status == 503 and "the engine writes it at its first start" in reply.text, path
    reply = admin.get("/api/v1/config/queues")
    assert reply.status == 503 and "first start" in reply.json()["error"]


def test_the_mail_page_sets_the_smtp_server_and_checks_every_address(admin, site, db_path):
    form = form_of(admin, "/config/mail")
    assert form["host"] == "" and form.get("security", "") == ""      # unset: STARTTLS, the default
    mail = {**form, "security": "starttls", "host": "smtp.example.com", "from": "branch-001@example.com", "user": "branch-001",
            "password_file": "/etc/branchline/smtp-password", "overdue_to": "boss@example.com, ops@example.com",
            "voicemail": "sales=sales-lead@example.com"}
    reply = admin.post("/config/mail", form={**mail, "overdue_to": "boss@example.com, nobody"})
    assert reply.status == 422 and "expected an e-mail address" in reply.text
    reply = admin.post("/config/mail", form={**mail, "password_file": "smtp-password"})
    assert reply.status == 422 and "expected an absolute path" in reply.text
    assert "mail" not in on_disk(site)
    assert admin.post("/config/mail", form=mail).status == 303
    assert on_disk(site)["mail"] == {"host": "smtp.example.com", "security": "starttls", "user": "branch-001",
                                     "password_file": "/etc/branchline/smtp-password", "from": "branch-001@example.com",
                                     "overdue_to": ["boss@example.com", "ops@example.com"],
                                     "voicemail": {"sales": "sales-lead@example.com"}}
    conn = sqlite3.connect(db_path)
    (detail,) = conn.execute("SELECT detail FROM audit_log WHERE action = 'mail.update' AND target = 'mail'").fetchone()
    conn.close()
    assert json.loads(detail)["host"] == [None, "smtp.example.com"]


def test_the_texts_page_sets_the_satisfaction_text_and_callback_keywords(admin, site):
    form = form_of(admin, "/config/sms")
    reply = admin.post("/config/sms", form={**form, "after_call": "感谢来电！请回复1-5为本次服务打分。",
                                            "callback_keywords": "回电, call me", "callback_queue": "service"})
    assert reply.status == 303
    assert on_disk(site)["sms"] == {"after_call": "感谢来电！请回复1-5为本次服务打分。",
                                    "callback_keywords": ["回电", "call me"], "callback_queue": "service"}
    reply = admin.post("/config/sms", form={**form_of(admin, "/config/sms"), "after_call": "x" * 300})
    assert reply.status == 422 and "at most 201 characters" in reply.text


def test_a_trunk_group_is_added_from_its_page_checked_and_audited(admin, site, db_path):
    form = form_of(admin, "/config/trunk-groups/new")
    rental = {**form, "name": "rental", "lines": "trunk1, trunk2", "queues": "service", "guaranteed": "1",
              "cap": "2", "overflow": "hangup", "overflow_prompts": "goodbye"}
    bad = admin.post("/config/trunk-groups", form={**rental, "guaranteed": "3"})
    assert bad.status == 422
    assert re.search(r'name="guaranteed" value="3" class="invalid".*?field-error[^>]*>3 trunks guaranteed is more '
                     r'than the cap of 2', bad.text, re.S)
    assert "trunk_group" not in on_disk(site)
    reply = admin.post("/config/trunk-groups", form=rental)
    assert reply.status == 303 and reply.location == "/config/trunk-groups?saved=rental"
    assert on_disk(site)["trunk_group"] == [{"name": "rental", "lines": ["trunk1", "trunk2"], "queues": ["service"],
                                             "guaranteed": 1, "cap": 2, "overflow": "hangup",
                                             "overflow_prompts": ["goodbye"]}]
    assert ">rental<" in admin.get("/config/trunk-groups").text
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT username, target FROM audit_log WHERE action = 'trunk_group.create'").fetchall() \
            == [("admin", "rental")]
    finally:
        conn.close()


def test_a_queues_post_call_survey_is_set_from_its_page(admin, site):
    form = form_of(admin, "/config/queues/sales")
    assert form.get("survey_after", "") == ""          # (default): the call ends with the agent
    reply = admin.post("/config/queues/sales", form={**form, "survey": "csat", "survey_after": "true"})
    assert reply.status == 303
    assert {k: on_disk(site)["queue"][0][k] for k in ("survey", "survey_after")} == {"survey": "csat",
                                                                                      "survey_after": True}
    assert form_of(admin, "/config/queues/sales")["survey_after"] == "true"
    refused = admin.post("/config/queues/sales", form={**form_of(admin, "/config/queues/sales"), "survey": ""})
    assert refused.status == 422 and "needs survey" in refused.text


def test_the_outbound_page_keeps_trunks_for_incoming_calls_checked_and_audited(admin, site, db_path):
    form = form_of(admin, "/config/outbound")
    assert form["reserved_incoming"] == "" and form["max_lines"] == ""      # unset: the defaults, 1 and 2
    bad = admin.post("/config/outbound", form={**form, "reserved_incoming": "-1", "max_lines": "4"})
    assert bad.status == 422 and 'name="reserved_incoming" value="-1" class="invalid"' in bad.text
    assert "outbound" not in on_disk(site)
    assert admin.post("/config/outbound", form={**form, "reserved_incoming": "2", "max_lines": "4"}).status == 303
    assert on_disk(site)["outbound"] == {"reserved_incoming": 2, "max_lines": 4}
    conn = sqlite3.connect(db_path)
    try:
        (detail,) = conn.execute("SELECT detail FROM audit_log WHERE action = 'outbound.update'").fetchone()
    finally:
        conn.close()
    assert json.loads(detail) == {"reserved_incoming": [None, 2], "max_lines": [None, 4]}
