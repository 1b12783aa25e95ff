"""An agent-only user's `/` is their own console: their agent's live state and controls over themselves only."""
from __future__ import annotations

import re

import pytest

from tests.webui.conftest import Client, api_call
from webui.accounts import AccountStore

# Passwords hashed at a lower scrypt cost while these tests run (conftest.py cheap_hashes).
pytestmark = pytest.mark.usefixtures("cheap_hashes")


def test_an_agent_sees_their_own_agent_and_no_one_elses(staff):
    ana = staff("ana", ["agent"], agent_id="1001")
    page = ana.get("/")
    assert page.status == 200 and 'id="console"' in page.text
    assert re.search(r'id="my-agent-id">1001<', page.text)
    assert re.search(r'id="my-state" class="st st-ready">Ready<', page.text)
    # Ben (1002) is on a call and Chen (1003) at lunch: neither shows on Ana's console.
    for other in ("Ben Okafor", "Chen Jing", "0215559876", "1002", "1003"):
        assert other not in page.text
    assert api_call(ana, "GET", "/api/v1/me/agent").json()["agent"]["id"] == "1001"


@pytest.mark.parametrize("action, body, command", [
    ("ready", {}, ("agent.ready", {"agent": "1001"})),
    ("not_ready", {"reason": "Lunch"}, ("agent.not_ready", {"agent": "1001", "reason": "Lunch"})),
    ("login", {"agent": "1002"}, ("agent.login", {"agent": "1001"})),   # naming another agent changes nothing
    ("logout", {}, ("agent.logout", {"agent": "1001"})),
])
def test_an_agent_acts_on_their_own_agent_only(staff, engine, action, body, command):
    ana = staff("ana", ["agent"], agent_id="1001")
    reply = api_call(ana, "POST", f"/api/v1/me/{action}", body)
    assert reply.status == 200 and reply.json() == {"ok": True, "agent": "1001", "action": action}
    assert engine.commands == [command]


def test_an_agent_may_not_steer_other_agents_through_the_supervisors_route(staff, engine):
    ana = staff("ana", ["agent"], agent_id="1001")
    assert api_call(ana, "POST", "/api/v1/agents/1002/logout").status == 403
    assert engine.commands == []


def test_bad_requests_to_ones_own_agent_are_json_errors(staff, engine):
    ana = staff("ana", ["agent"], agent_id="1001")
    assert api_call(ana, "POST", "/api/v1/me/dance").status == 404
    assert api_call(ana, "POST", "/api/v1/me/not_ready", {}).json()["error"] == "choose a reason for not ready"
    engine.refusals["agent.ready"] = "agent 1001 is on a call"
    refused = api_call(ana, "POST", "/api/v1/me/ready")
    assert refused.status == 409 and refused.json()["error"] == "agent 1001 is on a call"
    assert engine.commands == []


def test_an_agent_whose_id_the_box_lacks_is_told_to_ask_an_admin(staff, db_path):
    ana = staff("ana", ["agent"], agent_id="1001")
    # Linked while the engine was down, or the agent since removed from the site's configuration.
    store = AccountStore(db_path)
    try:
        store.update("ana", {"agent_id": "2001"})
    finally:
        store.close()
    page = ana.get("/").text
    assert "Agent 2001 is not configured on this box" in page
    assert api_call(ana, "GET", "/api/v1/me/agent").status == 404


def test_an_agent_without_a_link_is_told_so(add_user):
    # Made before links were required (or by hand in the database): no agent to act as.
    ana = add_user("ana", "agent")
    assert "not linked to an agent id" in ana.get("/").text
    assert api_call(ana, "POST", "/api/v1/me/ready").status == 409


def test_the_console_says_when_the_engine_does_not_answer(app_without_engine, sign_in_admin, password):
    admin = sign_in_admin(app_without_engine)
    created = api_call(admin, "POST", "/api/v1/users", {"username": "ana", "roles": ["agent"], "agent_id": "1001",
                                                        "password": password + "-temporary"})
    assert created.status == 201
    ana = Client(app_without_engine, "192.0.2.44")
    ana.login("ana", password + "-temporary")
    ana.post("/account/password", form={"csrf_token": ana.csrf("/account"), "current": password + "-temporary",
                                        "password": password, "confirm": password})
    assert "engine is not answering" in ana.get("/").text
    assert api_call(ana, "GET", "/api/v1/me/agent").status == 503
    assert api_call(ana, "POST", "/api/v1/me/ready").status == 503


def test_users_with_a_dashboard_role_keep_the_dashboard(staff):
    both = staff("lee", ["agent", "supervisor"], agent_id="1003")
    page = both.get("/").text
    assert 'id="dashboard"' in page and 'id="console"' not in page
    # The own-agent routes are an agent's: a supervisor-only user has no agent to act as.
    sup = staff("sue", ["supervisor"], remote_addr="192.0.2.41")
    assert api_call(sup, "POST", "/api/v1/me/ready").status == 403


def test_the_console_offers_the_sites_wrap_up_codes_and_reasons_and_a_queues_own(staff, engine):
    import html
    import json

    ana = staff("ana", ["agent"], agent_id="1001")
    # No list in the file: the stock ones, translated for the reader.
    page = ana.get("/")
    assert '<option value="information">Information given</option>' in page.text
    assert '<option value="Back-office work">Back-office work</option>' in page.text
    engine.site_path.parent.mkdir(parents=True, exist_ok=True)
    engine.site_path.write_text('[box]\nid = "branch-001"\nwrapup_codes = ["resolved", "warranty_claim"]\n'
                                'not_ready_reasons = ["Break", "Team huddle"]\n\n'
                                '[[queue]]\nname = "sales"\nwrapup_codes = ["sold", "quoted"]\n\n'
                                '[[queue]]\nname = "service"\n')
    page = ana.get("/")
    options = re.findall(r'<option value="([^"]+)">', page.text)
    assert options[:2] == ["Break", "Team huddle"] and "Lunch" not in options
    assert options[2:] == ["resolved", "warranty_claim"]
    assert '<option value="warranty_claim">warranty_claim</option>' in page.text   # a site's own code as written
    own = json.loads(html.unescape(re.search(r'data-queue-codes="([^"]*)"', page.text).group(1)))
    assert own == {"sales": [["sold", "sold"], ["quoted", "quoted"]]}


def test_every_shortcut_of_the_console_is_one_control_only(staff):
    # A key shared by two controls acts on whichever the page finds first (issue 14 item 3: each control
    # its own shortcut).
    page = staff("ana", ["agent"], agent_id="1001").get("/console").text
    keys = re.findall(r'data-key="([^"]+)"', page)
    assert keys and len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
