"""Reasons the engine gives (a site setting's error from `site.validate`, a flow's problem from
`flow.validate`) reach the web in English with their template and params; the web shows them in the
user's own language (docs/architecture.md §10), the English text to an English user."""
from __future__ import annotations

import hashlib
import re

import pytest

from firmware.config.site import DEFAULTS_DIR

SITE = """\
[box]
id = "branch-001"
tones = "cn"

[[queue]]
name = "sales"
ring_timeout = 15.0

[[queue]]
name = "service"

[[agent]]
id = "1001"
name = "Li Wei"
station = "station1"
skills = { sales = 6 }
"""
STOCK_FLOW = (DEFAULTS_DIR / "flows" / "main.toml").read_text()
VERSION_RE = re.compile(r'name="version" value="([0-9a-f]+)"')


@pytest.fixture
def site(engine):
    engine.site_path.parent.mkdir(parents=True, exist_ok=True)
    engine.site_path.write_text(SITE)
    return engine.site_path


@pytest.fixture
def flows_dir(engine):
    directory = engine.state / "config" / "flows"
    directory.mkdir(parents=True)
    (directory / "main.toml").write_text(STOCK_FLOW)
    return directory


@pytest.fixture
def zh_admin(staff):
    return staff("wang", ["admin"], locale="zh")


def save_queue(client, **change) -> str:
    """Posts the sales queue's form with `change`; the page the web answers with (422: refused)."""
    page = client.get("/config/queues/sales")
    assert page.status == 200, page.status
    form = dict(re.findall(r'<input name="(\w+)" value="([^"]*)"', page.text))
    form.update(re.findall(r'<select name="(\w+)"[^>]*>(?:(?!</select>).)*?<option value="([^"]*)" selected',
                           page.text, re.S))
    form["version"] = VERSION_RE.search(page.text).group(1)
    form["csrf_token"] = client.CSRF_RE.search(page.text).group(1)
    reply = client.post("/config/queues/sales", form={**form, **change})
    assert reply.status == 422, reply.status
    return reply.text


def field_error(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" [^>]*class="invalid".*?field-error[^>]*>([^<]*)<', page, re.S)
    assert found, page
    return found.group(1).strip()


def test_a_zh_admin_sees_the_engines_reason_beside_the_field_in_chinese(zh_admin, site):
    before = site.read_bytes()
    page = save_queue(zh_admin, ring_timeout="1")
    assert field_error(page, "ring_timeout") == "1.0 低于最小值 3.0"
    assert "below the minimum" not in page
    assert site.read_bytes() == before


def test_an_english_admin_still_sees_the_engines_english_reason(admin, site):
    page = save_queue(admin, ring_timeout="1")
    assert field_error(page, "ring_timeout") == "1.0 is below the minimum 3.0"


def flow_with_a_missing_target() -> str:
    text = STOCK_FLOW.replace('"2" = "service"', '"2" = "service", "3" = "nowhere"')
    assert text != STOCK_FLOW
    return text


def test_a_zh_admin_checking_a_flow_sees_its_problems_in_chinese(zh_admin, flows_dir):
    reply = zh_admin.api_post("/api/v1/flows/validate", {"text": flow_with_a_missing_target(), "name": "main"})
    assert reply.status == 200, reply.text
    problems = {(p["node"], p["field"]): p["message"] for p in reply.json()["problems"]}
    assert problems == {("main_menu", "choices"): "转到 'nowhere'，但这不是一个节点"}


def test_a_nested_reason_is_translated_whole(zh_admin, flows_dir):
    """A key map's own key: "'1': expected a string, got 5", both parts in the user's language."""
    text = STOCK_FLOW.replace('"1" = "sales"', '"1" = 5')
    assert text != STOCK_FLOW
    reply = zh_admin.api_post("/api/v1/flows/validate", {"text": text, "name": "main"})
    messages = {(p["node"], p["field"]): p["message"] for p in reply.json()["problems"]}
    assert messages[("main_menu", "choices")] == "'1'：应为字符串，实际为 5"


def test_an_english_admin_checking_a_flow_sees_the_engines_english(admin, flows_dir):
    reply = admin.api_post("/api/v1/flows/validate", {"text": flow_with_a_missing_target(), "name": "main"})
    assert reply.status == 200, reply.text
    problems = {(p["node"], p["field"]): p["message"] for p in reply.json()["problems"]}
    assert problems == {("main_menu", "choices"): "goes to 'nowhere', which is not a node"}


def test_a_flow_saved_with_problems_answers_them_in_chinese(zh_admin, flows_dir):
    version = hashlib.sha256(STOCK_FLOW.encode()).hexdigest()
    reply = zh_admin.request("PUT", "/api/v1/flows/main", headers={"X-CSRF-Token": zh_admin.csrf("/")},
                             json_body={"text": flow_with_a_missing_target(), "version": version})
    assert reply.status == 422, reply.text
    assert [p["message"] for p in reply.json()["report"]["problems"]] == ["转到 'nowhere'，但这不是一个节点"]
