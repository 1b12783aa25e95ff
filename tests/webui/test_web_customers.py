"""Customer cards in the web UI and /api/v1/customers (docs/requirements.md R4, R17): numbers in any form,
edits that cannot overwrite each other, merging duplicates, CSV import all or nothing, and the export."""
from __future__ import annotations

import csv
import io
import json

import pytest

from firmware.store import connect


@pytest.fixture
def create(admin):
    def make(name: str, *numbers: str, **fields) -> dict:
        reply = admin.api_post("/api/v1/customers", {"name": name, "numbers": list(numbers), **fields})
        assert reply.status == 201, reply.text
        return reply.json()["customer"]
    return make


def patch(client, path: str, body: dict):
    return client.request("PATCH", path, json_body=body, headers={"X-CSRF-Token": client.csrf("/")})


def send_csv(client, text: str, commit: bool = False):
    return client.post(f"/api/v1/customers/import?commit={'true' if commit else 'false'}",
                       raw=(text.encode(), "text/csv"), headers={"X-CSRF-Token": client.csrf("/")})


def audit_actions(db_path) -> list[tuple[str, str, dict]]:
    conn = connect(db_path)
    try:
        return [(a, t, json.loads(d)) for a, t, d in
                conn.execute("SELECT action, target, detail FROM audit_log WHERE action LIKE 'customer.%' ORDER BY at")]
    finally:
        conn.close()


def test_one_number_in_any_form_is_one_number(admin, create):
    card = create("Lin Wei", "021-6123 4567", "+86 138 0013 8000", company="ACME")
    assert [n["number"] for n in card["numbers"]] == ["+862161234567", "+8613800138000"]
    for typed in ("02161234567", "+86 21 61234567", "021 6123-4567", "13800138000"):
        found = admin.get(f"/api/v1/customers/lookup?number={typed.replace('+', '%2B').replace(' ', '%20')}")
        assert found.status == 200 and found.json()["customer"]["id"] == card["id"], typed
    assert admin.get("/api/v1/customers/lookup?number=02161234568").json()["customer"] is None
    # The same number typed another way is the same number: a second card cannot take it.
    again = admin.api_post("/api/v1/customers", {"name": "Lin W.", "numbers": ["+86 21 6123 4567"]})
    assert again.status == 400 and "Lin Wei" in again.json()["problems"]["numbers"]
    # Search by the number in any form, by part of it, by company.
    for q in ("021-61234567", "1234567", "acme"):
        listed = admin.get(f"/api/v1/customers?q={q}").json()
        assert [c["id"] for c in listed["customers"]] == [card["id"]], q


def test_each_bad_field_is_refused_with_its_reason_next_to_it(admin, db_path):
    reply = admin.api_post("/api/v1/customers", {"name": "", "numbers": ["12ab"], "vip": 12, "blocked": "yes",
                                                 "color": "red", "notes": "x" * 2001})
    assert reply.status == 400
    assert set(reply.json()["problems"]) == {"name", "numbers", "vip", "blocked", "color", "notes"}
    token = admin.csrf("/customers/new")
    page = admin.post("/customers/new", form={"csrf_token": token, "name": "Zhang San", "numbers": "021-6123\n555"})
    assert page.status == 400
    assert 'id="error-numbers"' in page.text and "555" in page.text and 'value="Zhang San"' in page.text
    assert admin.get("/api/v1/customers").json()["total"] == 0
    # Markup in a field is text on every page.
    made = admin.post("/customers/new", form={"csrf_token": token, "name": "<b>x</b>", "numbers": "13800138000"})
    assert made.status == 303
    assert "<b>x</b>" not in admin.get(made.location).text and "&lt;b&gt;x&lt;/b&gt;" in admin.get("/customers").text


def test_a_stale_edit_gets_409_with_the_current_card_and_changes_nothing(admin, create, db_path):
    card = create("Lin Wei", "02161234567")
    first = patch(admin, f"/api/v1/customers/{card['id']}", {"version": 1, "company": "ACME"})
    assert first.status == 200 and first.json()["customer"]["version"] == 2
    stale = patch(admin, f"/api/v1/customers/{card['id']}", {"version": 1, "company": "Other"})
    assert stale.status == 409
    assert stale.json()["customer"]["company"] == "ACME" and stale.json()["customer"]["version"] == 2
    assert admin.get(f"/api/v1/customers/{card['id']}").json()["customer"]["company"] == "ACME"
    # The page's form carries its version: a stale save shows the other's card and keeps the typed text.
    page = admin.post(f"/customers/{card['id']}", form={"csrf_token": admin.csrf("/"), "version": "1",
                                                        "name": "Lin Wei", "numbers": "02161234567",
                                                        "company": "Mine", "vip": "0"})
    assert page.status == 409 and 'value="Mine"' in page.text and 'name="version" value="2"' in page.text
    assert [a for a, _, _ in audit_actions(db_path)] == ["customer.create", "customer.update"]
    assert audit_actions(db_path)[1][2] == {"company": [None, "ACME"]}


def test_an_agent_keeps_cards_but_routing_is_for_supervisors(admin, create, add_user):
    card = create("Lin Wei", "02161234567")
    agent = add_user("li", "agent")
    changed = patch(agent, f"/api/v1/customers/{card['id']}", {"version": 1, "address": "Shanghai"})
    assert changed.status == 200 and changed.json()["customer"]["address"] == "Shanghai"
    refused = patch(agent, f"/api/v1/customers/{card['id']}", {"version": 2, "vip": 3, "blocked": True})
    assert refused.status == 400 and set(refused.json()["problems"]) == {"vip", "blocked"}
    assert admin.get(f"/api/v1/customers/{card['id']}").json()["customer"]["vip"] == 0
    # The agent's form has no routing fields, and saving it leaves them as they are.
    assert patch(admin, f"/api/v1/customers/{card['id']}", {"version": 2, "vip": 3}).status == 200
    page = agent.get(f"/customers/{card['id']}")
    assert 'name="vip"' not in page.text
    saved = agent.post(f"/customers/{card['id']}", form={"csrf_token": agent.csrf("/customers"), "version": "3",
                                                         "name": "Lin Wei", "numbers": "02161234567"})
    assert saved.status == 303
    assert admin.get(f"/api/v1/customers/{card['id']}").json()["customer"]["vip"] == 3


def test_merging_moves_numbers_and_history_and_leaves_a_redirect(admin, create, db_path):
    keep = create("Lin Wei", "02161234567", company="ACME")
    dup = create("Lin W", "13800138000", address="Pudong", vip=2, notes="prefers mornings")
    conn = connect(db_path)
    try:
        conn.execute("INSERT INTO calls (id, number, arrived_at, customer_id, disposition) VALUES "
                     "('call-old', '13800138000', 1000, ?, 'answered')", [dup["id"]])
        conn.execute("INSERT INTO recordings (id, call_id, duration) VALUES ('rec-1', 'call-old', 61)")
        conn.execute("INSERT INTO survey_answers (id, call_id, survey, question, answer, at) VALUES "
                     "('s1', 'call-old', 'csat', 'q1', '5', 1100)")
    finally:
        conn.close()
    namesake = create("Lin Wei", "13900139000")
    offered = admin.get(f"/customers/{keep['id']}").text
    assert 'id="duplicates"' in offered and f'name="other" value="{namesake["id"]}"' in offered
    stale = admin.api_post(f"/api/v1/customers/{keep['id']}/merge", {"other": dup["id"], "version": 7})
    assert stale.status == 409
    merged = admin.api_post(f"/api/v1/customers/{keep['id']}/merge", {"other": dup["id"], "version": 1})
    assert merged.status == 200, merged.text
    card = merged.json()["customer"]
    assert [n["number"] for n in card["numbers"]] == ["+862161234567", "+8613800138000"]
    assert (card["company"], card["address"], card["vip"], card["notes"]) == ("ACME", "Pudong", 2,
                                                                              "prefers mornings")
    assert admin.get("/api/v1/customers/lookup?number=13800138000").json()["customer"]["id"] == keep["id"]
    assert admin.get(f"/api/v1/customers/{dup['id']}").json()["customer"]["merged_into"] == keep["id"]
    assert admin.get("/api/v1/customers").json()["total"] == 2
    old = admin.get(f"/customers/{dup['id']}")
    assert old.status in (302, 303) and old.location.startswith(f"/customers/{keep['id']}")
    page = admin.get(f"/customers/{keep['id']}").text
    assert 'href="/calls/call-old"' in page and "1:01" in page and "csat" in page
    assert audit_actions(db_path)[-1][:2] == ("customer.merge", keep["id"])
    again = admin.api_post(f"/api/v1/customers/{keep['id']}/merge", {"other": dup["id"], "version": 2})
    assert again.status == 400 and "other" in again.json()["problems"]


BAD_FILE = ("Name,Phone numbers,Company,VIP level\n"
            "Lin Wei,021-6123 4567; 13800138000,ACME,1\n"
            ",13900139000,,0\n"
            "Zhang San,not a number,,0\n"
            "Wang Fang,02161234567,,0\n"
            "Chen Jing,13700137000,,11\n")


def test_a_file_with_bad_rows_is_previewed_row_by_row_and_nothing_is_imported(admin, create, db_path):
    create("Existing", "13600136000")
    check = send_csv(admin, BAD_FILE + "Dup,136-0013-6000,,0\n")
    assert check.status == 200
    report = {r["line"]: set(r["problems"]) for r in check.json()["rows"]}
    assert report == {2: set(), 3: {"name"}, 4: {"numbers"}, 5: {"numbers"}, 6: {"vip"}, 7: {"numbers"}}
    committed = send_csv(admin, BAD_FILE, commit=True)
    assert committed.status == 400 and committed.json()["imported"] == 0
    assert admin.get("/api/v1/customers").json()["total"] == 1
    # The page shows the same rows with their problems and offers no import.
    page = admin.post("/customers/import", form={"csrf_token": admin.csrf("/customers/import")},
                      files={"file": ("book.csv", BAD_FILE.encode("gb18030"))})
    assert page.status == 400 and 'id="import-commit"' not in page.text
    assert page.text.count('class="row-bad"') == 4
    assert admin.get("/api/v1/customers").json()["total"] == 1


def test_a_good_file_imports_whole_and_an_export_imports_back(admin, db_path):
    good = "Name,Phone numbers,Company,Blocked\n李伟,021-6123 4567; 13800138000,上海公司,0\nZhang San,+1 650 253 0000,,1\n"
    page = admin.post("/customers/import", form={"csrf_token": admin.csrf("/customers/import")},
                      files={"file": ("book.csv", ("\ufeff" + good).encode())})
    assert page.status == 200 and 'id="import-commit"' in page.text
    done = admin.post("/customers/import", form={"csrf_token": admin.csrf("/customers/import"), "commit": "1",
                                                  "text": good}, files={})
    assert done.status == 303
    assert admin.get("/api/v1/customers").json()["total"] == 2
    assert ("customer.import", "", {"cards": 2}) in audit_actions(db_path)
    exported = admin.get("/api/v1/customers/export.csv")
    assert exported.status == 200 and exported.body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Name", "Phone numbers"]
    # Excel must not run a number as a formula; the import takes the apostrophe off again.
    # The last two: the warranty and service dates (none here).
    assert rows[2] == ["李伟", "'+862161234567; +8613800138000", "上海公司", "", "0", "", "0", "", "", ""] or \
        rows[1] == ["李伟", "'+862161234567; +8613800138000", "上海公司", "", "0", "", "0", "", "", ""]
    again = send_csv(admin, exported.body.decode("utf-8-sig"))
    # Every row of the export is well formed; each number is already on its card.
    assert all(set(r["problems"]) == {"numbers"} for r in again.json()["rows"])


def test_agents_cannot_import_export_or_merge(add_user, admin, create):
    card = create("Lin Wei", "02161234567")
    agent = add_user("li", "agent")
    assert agent.get("/api/v1/customers/export.csv").status == 403
    assert send_csv(agent, "Name\n").status == 403
    assert agent.api_post(f"/api/v1/customers/{card['id']}/merge", {"other": "x", "version": 1}).status == 403
    assert 'id="merge-form"' not in agent.get(f"/customers/{card['id']}").text


def test_numbers_without_country_code_are_read_in_the_sites_region(admin, db_path):
    (db_path.parent / "config").mkdir(exist_ok=True)
    (db_path.parent / "config" / "site.toml").write_text('[box]\nregion = "HK"\n')
    card = admin.api_post("/api/v1/customers", {"name": "Chan Tai Man", "numbers": ["2123 4567"]}).json()["customer"]
    assert [n["number"] for n in card["numbers"]] == ["+85221234567"]
    assert admin.get("/api/v1/customers/lookup?number=21234567").json()["customer"]["id"] == card["id"]


def test_a_book_larger_than_the_in_memory_body_limit_imports_from_the_page_and_the_api(admin):
    # 3,000 rows are about 150 kB: beyond the 100 kB bottle holds in memory for a form or JSON body.
    def book(prefix: str) -> str:
        return "Name,Phone numbers,Company,Address\n" + "".join(
            f"Customer {i:05d},+86 {prefix} {i:04d} {i:04d},Company {i % 7},Road {i}\n" for i in range(3000))
    text = book("139")
    assert len(text.encode()) > 102_400
    page = admin.post("/customers/import", form={"csrf_token": admin.csrf("/customers/import")},
                      files={"file": ("book.csv", text.encode())})
    assert page.status == 200 and 'id="import-commit"' in page.text
    # The preview's form sends the text back, as a browser does (multipart).
    done = admin.post("/customers/import", form={"csrf_token": admin.csrf("/customers/import"), "commit": "1",
                                                  "text": text}, files={})
    assert done.status == 303 and admin.get("/api/v1/customers").json()["total"] == 3000
    reply = send_csv(admin, book("137"), commit=True)
    assert reply.status == 200 and reply.json()["imported"] == 3000
    assert admin.get("/api/v1/customers").json()["total"] == 6000
