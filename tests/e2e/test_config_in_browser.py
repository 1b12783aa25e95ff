"""Configuration from the browser on the whole box: the engine on the simulated board, the web app,
headless Chromium. The admin shortens a queue's ring timeout on its page; the running engine rings the
next agent for that long, with the caller who was already waiting still in the queue."""
import json
import secrets
import sqlite3
import threading
import time

import pytest

from firmware.core.control import ControlClient
from scenario_builder import agent, caller, run_section, scenario, table
from webui.app import create_app
from webui.server import make_server

pytestmark = pytest.mark.browser

# The agent never picks up in time (60 s): each ring runs out after the queue's ring timeout.
SCENARIO = scenario(
    run_section(3600),
    agent("1001", name="Li Wei", skills={"sales": 5}, login_at=3000.0, answer_after=60.0),
    caller(0.5, "13800138000", keys=[[1.0, "1"]], patience=3000.0),
)
SITE = (table("[box]", {"tones": "cn"}) + table("[[queue]]", {"name": "sales", "ring_timeout": 15.0})
        + table("[[queue]]", {"name": "service"})
        + table("[[agent]]", {"id": "1001", "name": "Li Wei", "station": "station1", "skills": {"sales": 5}}))


@pytest.fixture
def box(live_box):
    run, state = live_box(SCENARIO)
    (state / "config").mkdir(parents=True, exist_ok=True)
    (state / "config" / "site.toml").write_text(SITE)
    app = create_app(state / "branchline.db", state / "control.sock")
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    web_thread = threading.Thread(target=server.serve, daemon=True)
    web_thread.start()
    host, port = server.bind_addr[:2]
    yield run, state, f"http://{host}:{port}"
    server.stop()
    web_thread.join(5)
    app.close()


def ring_times_ms(db_path) -> list[int]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT data FROM call_events WHERE kind = 'agent:noanswer' ORDER BY at").fetchall()
    finally:
        conn.close()
    return [json.loads(d)["ring_ms"] for (d,) in rows]


def test_admin_shortens_a_ring_timeout_and_the_running_engine_rings_that_long(box, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    run, state, url = box
    password = secrets.token_urlsafe(12)
    wait = WebDriverWait(browser, 15)
    browser.get(url + "/setup")
    browser.find_element(By.NAME, "username").clear()
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.NAME, "confirm").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(EC.url_contains("/login"))
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.url_to_be(url + "/"))

    browser.find_element(By.CSS_SELECTOR, ".nav-menu > summary").click()  # the Administration menu
    browser.find_element(By.LINK_TEXT, "Configuration").click()
    wait.until(EC.url_contains("/config/box"))
    browser.find_element(By.CSS_SELECTOR, ".subnav a[href='/config/queues']").click()
    wait.until(EC.url_contains("/config/queues"))
    browser.find_element(By.CSS_SELECTOR, "a[href='/config/queues/sales']").click()
    field = wait.until(EC.presence_of_element_located((By.NAME, "ring_timeout")))
    field.clear()
    field.send_keys("2")
    browser.find_element(By.CSS_SELECTOR, "#config-form button[type=submit]").click()
    error = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".field-error")))
    assert "below the minimum 3.0" in error.text          # the engine's rule, beside the field
    field = browser.find_element(By.NAME, "ring_timeout")
    field.clear()
    field.send_keys("4")
    browser.find_element(By.CSS_SELECTOR, "#config-form button[type=submit]").click()
    wait.until(EC.url_contains("/config/queues?saved=sales"))
    browser.save_screenshot(str(tmp_path / "config-queues-saved.png"))
    assert run.center.acd.queue("sales").cfg.ring_timeout == 4.0

    # The caller who waited through the change is still there; the agent is rung under the new timeout.
    client = ControlClient(state / "control.sock")
    # On a quick machine the form is saved while the caller still hears the menu: wait for the queue.
    deadline = time.monotonic() + 30
    while [c["state"] for c in client.call("status")["calls"]] != ["queued"]:
        assert [c["state"] for c in client.call("status")["calls"]] in (["ivr"], ["queued"]), "the caller left"
        assert time.monotonic() < deadline, "the caller never reached the queue"
        time.sleep(0.1)
    client.call("agent.login", agent="1001")
    client.call("agent.ready", agent="1001")
    deadline = time.monotonic() + 15
    while not ring_times_ms(state / "branchline.db"):
        assert time.monotonic() < deadline, "the agent's ring never ran out"
        time.sleep(0.1)
    assert 4000 <= ring_times_ms(state / "branchline.db")[0] < 5000      # not the 15 s it was
    assert run.center.acd.agents["1001"].state.value == "not_ready"
    # The refused form answered 422, which the browser logs; nothing else went wrong on the pages.
    assert [e for e in browser.get_log("browser") if "422" not in e["message"]] == []
