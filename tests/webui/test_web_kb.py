"""The knowledge base (docs/requirements.md R22): Chinese and English search, safe rendering, who may write,
versions that keep two editors from overwriting each other, and the audit of every change."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest

from firmware.store import connect_readonly
from firmware.store.sync import read_changes
from webui.kb_render import render
from webui.kb_search import index_text, match_expression, snippet

from tests.webui.conftest import api_call

RETURNS = {"title": "如何办理退货手续", "category": "售后",
           "body": "客户要求退货时，先核对发票和购买日期。\n\nA return needs the receipt; refunds take 7 days.",
           "tags": ["退货", "refund"]}
REPAIR = {"title": "Repair policy", "category": "Service", "body": "Repairs are free within 12 months of purchase.",
          "tags": ["repair", "维修"]}
INVOICE = {"title": "开具发票", "category": "财务", "body": "增值税专用发票需要提供税号。", "tags": []}


@pytest.fixture
def kb(admin):
    """The three articles above, created by the admin through the API; returns {title: article}."""
    made = {}
    for article in (RETURNS, REPAIR, INVOICE):
        reply = api_call(admin, "POST", "/api/v1/kb/articles", article)
        assert reply.status == 201, reply.text
        made[article["title"]] = reply.json()["article"]
    return made


def titles(client, q: str) -> list[str]:
    reply = client.get("/api/v1/kb/search?" + json_query(q))
    assert reply.status == 200, reply.text
    return [hit["title"] for hit in reply.json()["hits"]]


def json_query(q: str) -> str:
    from urllib.parse import urlencode
    return urlencode({"q": q})


@pytest.mark.parametrize("query, expected", [
    ("退货", ["如何办理退货手续"]),          # a 2-character word inside a run of Han characters
    ("办理退货", ["如何办理退货手续"]),
    ("货", ["如何办理退货手续"]),            # one character
    ("发票", ["开具发票", "如何办理退货手续"]),  # title before body (bm25 weights)
    ("returns", ["如何办理退货手续"]),        # Porter stemmer: returns -> return
    ("REPAIR", ["Repair policy"]),          # case folded
    ("repa", ["Repair policy"]),            # the last word typed so far, as a prefix
    ("维修", ["Repair policy"]),            # a tag
    ("发票 receipt", ["如何办理退货手续"]),   # every term required, scripts mixed
    ("退款", []),                            # characters present but not adjacent: no match
    ("税号 repair", []),
])
def test_search_finds_chinese_words_inside_text_and_english_words(admin, kb, query, expected):
    assert titles(admin, query) == expected


@pytest.mark.parametrize("query", ['"', "NEAR(", "a OR", "*", "title:x", "')--", "\\", "AND", "^退货"])
def test_no_query_breaks_the_search(admin, kb, query):
    reply = admin.get("/api/v1/kb/search?" + json_query(query))
    assert reply.status in (200, 400), reply.text
    if reply.status == 400:
        assert reply.json()["problems"]["q"]
    page = admin.get("/kb?" + json_query(query))
    assert page.status == 200


def test_a_search_may_keep_to_one_category(admin, kb):
    reply = admin.get("/api/v1/kb/search?q=%E5%8F%91%E7%A5%A8&category=%E8%B4%A2%E5%8A%A1")   # 发票 in 财务
    assert [hit["title"] for hit in reply.json()["hits"]] == ["开具发票"]
    assert reply.json()["total"] == 1


def test_fts_syntax_in_a_query_is_taken_as_words():
    assert match_expression('title:退货 OR "x') == '"title" AND "退 货" AND "OR" AND "x"*'
    assert index_text("办理abc退货") == " 办  理 abc 退  货 "


def test_a_hit_shows_an_escaped_snippet_with_the_terms_marked(admin):
    api_call(admin, "POST", "/api/v1/kb/articles",
             {"title": "Escaping", "body": "Before <script>alert(1)</script> the 退货 policy & more"})
    hit = admin.get("/api/v1/kb/search?" + json_query("退货")).json()["hits"][0]
    assert "<mark>退货</mark>" in hit["snippet"]
    assert "<script>" not in hit["snippet"] and "&lt;script&gt;" in hit["snippet"]
    page = admin.get("/kb?" + json_query("退货")).text
    assert "<mark>退货</mark>" in page and "<script>alert" not in page


@pytest.mark.parametrize("markdown, forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ("<img src=x onerror=alert(1)>", "<img"),
    ("[click](javascript:alert(1))", "href"),
    ("[click](JaVaScRiPt:alert(1))", "href"),
    ("[click](java\tscript:alert(1))", "href"),
    ("[click](&#106;avascript:alert(1))", "href"),
    ("[click](vbscript:msgbox(1))", "href"),
    ("[click](data:text/html;base64,PHNjcmlwdD4=)", "href"),
    ("![x](data:image/svg+xml,<svg onload=alert(1)>)", "<img"),
    ("<a href='javascript:alert(1)'>x</a>", "<a "),
    ("<javascript:alert(1)>", "href"),
    ('[x](https://ok.example/" onmouseover="alert(1))', "onmouseover=\""),
])
def test_markdown_renders_no_script_html_or_javascript_link(markdown, forbidden):
    html = render(markdown)
    assert forbidden.lower() not in html.lower(), html


def test_markdown_keeps_what_an_article_needs():
    html = render("# Steps\n\n1. **Check** the [receipt](https://example.com/r)\n2. Call [us](tel:+862161234567)\n\n"
                  "| a | b |\n|---|---|\n| 1 | 2 |\n\n[back](/kb)")
    assert "<h1>Steps</h1>" in html and "<strong>Check</strong>" in html and "<table>" in html
    assert 'href="https://example.com/r"' in html and 'href="tel:+862161234567"' in html and 'href="/kb"' in html


def test_the_article_page_shows_markdown_safely(admin):
    reply = api_call(admin, "POST", "/api/v1/kb/articles",
                     {"title": "<b>Title</b>", "body": "**bold** <script>alert(1)</script> [x](javascript:alert(1))"})
    article = reply.json()["article"]
    page = admin.get(f"/kb/{article['id']}")
    assert page.status == 200
    assert "<strong>bold</strong>" in page.text
    assert "<script>alert" not in page.text and 'href="javascript' not in page.text
    assert "&lt;b&gt;Title&lt;/b&gt;" in page.text


@pytest.mark.parametrize("role", ["agent", "technician"])
def test_every_role_reads_and_searches_but_only_supervisors_and_admins_write(staff, kb, role):
    user = staff(f"u-{role}", [role], agent_id="1001" if role == "agent" else None)
    article = kb["Repair policy"]
    assert titles(user, "repair") == ["Repair policy"]
    assert user.get(f"/kb/{article['id']}").status == 200
    assert user.get("/kb").status == 200
    assert api_call(user, "POST", "/api/v1/kb/articles", REPAIR).status == 403
    edit = {**REPAIR, "title": "Mine now", "version": article["version"]}
    assert api_call(user, "PUT", f"/api/v1/kb/articles/{article['id']}", edit).status == 403
    assert api_call(user, "DELETE", f"/api/v1/kb/articles/{article['id']}?version=1").status == 403
    assert user.get("/kb/new").status == 403
    assert titles(user, "repair") == ["Repair policy"]


def test_a_supervisor_edits_and_the_change_is_audited_and_searchable(staff, admin, kb, db_path):
    boss = staff("boss", ["supervisor"])
    article = kb["Repair policy"]
    reply = api_call(boss, "PUT", f"/api/v1/kb/articles/{article['id']}",
                     {**REPAIR, "body": "上门维修需要预约。", "tags": ["上门"], "version": 1})
    assert reply.status == 200, reply.text
    saved = reply.json()["article"]
    assert saved["version"] == 2 and saved["author"] == "boss"
    assert titles(boss, "预约") == ["Repair policy"]
    assert titles(boss, "months") == []           # the old text is gone from the index
    conn = connect_readonly(db_path)
    entries = conn.execute("SELECT username, action, target, detail FROM audit_log WHERE action LIKE 'kb.%'"
                           " ORDER BY at, rowid").fetchall()
    assert ("admin", "kb.create", article["id"]) in [e[:3] for e in entries]
    update = [e for e in entries if e[1] == "kb.update"]
    assert update and update[0][0] == "boss" and set(json.loads(update[0][3])) == {"body", "tags"}


def test_a_stale_write_gets_409_with_the_current_article_and_changes_nothing(staff, admin, kb):
    boss = staff("boss", ["supervisor"])
    article = kb["Repair policy"]
    first = api_call(admin, "PUT", f"/api/v1/kb/articles/{article['id']}", {**REPAIR, "title": "First", "version": 1})
    assert first.status == 200
    stale = api_call(boss, "PUT", f"/api/v1/kb/articles/{article['id']}", {**REPAIR, "title": "Second", "version": 1})
    assert stale.status == 409
    assert stale.json()["current"]["title"] == "First" and stale.json()["current"]["version"] == 2
    assert "version" in stale.json()["error"]
    assert admin.get(f"/api/v1/kb/articles/{article['id']}").json()["article"]["title"] == "First"
    gone = api_call(boss, "DELETE", f"/api/v1/kb/articles/{article['id']}?version=1")
    assert gone.status == 409
    assert admin.get(f"/api/v1/kb/articles/{article['id']}").status == 200


def test_the_edit_form_keeps_a_stale_text_and_says_so(admin, kb):
    article = kb["Repair policy"]
    api_call(admin, "PUT", f"/api/v1/kb/articles/{article['id']}", {**REPAIR, "title": "Newer", "version": 1})
    token = admin.csrf(f"/kb/{article['id']}/edit")
    reply = admin.post(f"/kb/{article['id']}/edit", form={"csrf_token": token, "title": "Mine", "body": "my text",
                                                          "tags": "", "category": "", "version": "1"})
    assert reply.status == 409
    assert "my text" in reply.text and 'name="version" value="2"' in reply.text


@pytest.mark.parametrize("body, field", [
    ({"title": "", "body": "x"}, "title"),
    ({"title": "x" * 201, "body": "x"}, "title"),
    ({"title": "x", "body": ""}, "body"),
    ({"title": "x", "body": "x" * 100_001}, "body"),
    ({"title": 5, "body": "x"}, "title"),
    ({"title": "x", "body": "x", "tags": ["t" * 41]}, "tags"),
    ({"title": "x", "body": "x", "tags": [f"t{i}" for i in range(21)]}, "tags"),
    ({"title": "x", "body": "x", "tags": {"a": 1}}, "tags"),
    ({"title": "x", "body": "x", "category": "c" * 61}, "category"),
    ({"title": "bad\x00title", "body": "x"}, "title"),
])
def test_bad_fields_are_refused_with_the_field_named(admin, body, field):
    reply = api_call(admin, "POST", "/api/v1/kb/articles", body)
    assert reply.status == 400
    assert field in reply.json()["problems"]
    assert admin.get("/api/v1/kb/articles").json()["total"] == 0


def test_the_form_shows_each_problem_next_to_its_field(admin):
    token = admin.csrf("/kb/new")
    reply = admin.post("/kb/new", form={"csrf_token": token, "title": "", "body": "text", "tags": "", "category": ""})
    assert reply.status == 400
    assert 'id="error-title"' in reply.text and "text</textarea>" in reply.text


def test_the_form_creates_an_article_and_the_page_shows_it(admin):
    token = admin.csrf("/kb/new")
    reply = admin.post("/kb/new", form={"csrf_token": token, "title": "开具发票", "body": "**需要**税号",
                                        "tags": "发票，invoice", "category": "财务"})
    assert reply.status == 303
    page = admin.get(reply.location)
    assert "<strong>需要</strong>" in page.text and "#invoice" in page.text and "#发票" in page.text


def test_deleting_removes_the_article_from_search_and_leaves_a_tombstone(admin, kb, db_path):
    article = kb["开具发票"]
    assert api_call(admin, "DELETE", f"/api/v1/kb/articles/{article['id']}?version=1").status == 200
    assert titles(admin, "税号") == []
    assert admin.get(f"/kb/{article['id']}").status == 404
    conn = connect_readonly(db_path)
    assert conn.execute("SELECT 1 FROM tombstones WHERE table_name = 'kb_articles' AND row_id = ?",
                        [article["id"]]).fetchone()


def test_articles_are_in_the_hq_change_feed(kb, db_path):
    conn = connect_readonly(db_path)
    conn.row_factory = sqlite3.Row
    page = read_changes(conn, 0, 500)
    ids = {c["row"]["id"] for c in page.changes if c["table"] == "kb_articles"}
    assert ids == {a["id"] for a in kb.values()}


def test_the_agent_console_carries_the_search_box_and_the_nav_the_kb(staff, kb):
    agent = staff("agent1", ["agent"], agent_id="1001")
    page = agent.get("/")
    assert "data-kb-search" in page.text and "/static/kb_search.js" in page.text
    assert re.search(r'<a href="/kb"', page.text)


def test_an_unknown_article_is_404(admin):
    assert admin.get("/kb/" + "0" * 32).status == 404
    assert admin.get("/api/v1/kb/articles/nothex").json()["error"]


def test_a_snippet_reads_as_text_without_markdown_marks():
    text = ("# Steps\n\n1. **Check the invoice** [first](https://x.example), order #5.\n\n| item | days |\n|---|---|\n"
            "| return | 7 |\n\n<b>")
    shown = snippet(text, "return", width=200)
    assert shown == "Steps 1. Check the invoice first, order #5. item days <mark>return</mark> 7 &lt;b&gt;"
