"""The whole box in a real browser: the engine on the simulated board, the web app, headless Chromium.

Set the admin password, sign in, see the real waiting caller on the dashboard, then log an agent in
and make them ready from the dashboard and see the caller leave the queue for that agent.
"""
import secrets
import threading

import pytest

from webui.app import create_app
from scenario_builder import agent, caller, run_section, scenario
from webui.server import make_server

pytestmark = pytest.mark.browser

SCENARIO = scenario(
    run_section(3600),
    agent("1001", name="Li Wei", skills={"sales": 5}, login_at=3000.0, answer_after=1.0, talk=3000.0),
    caller(0.5, "13800138000", name="Zhao Lei", keys=[[1.0, "1"]], patience=3000.0, talk=3000.0),
)


@pytest.fixture
def box(live_box):
    run, state = live_box(SCENARIO)
    app = create_app(state / "branchline.db", state / "control.sock")
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    web_thread = threading.Thread(target=server.serve, daemon=True)
    web_thread.start()
    host, port = server.bind_addr[:2]
    yield run, f"http://{host}:{port}"
    server.stop()
    web_thread.join(5)


def test_set_password_sign_in_see_waiting_call_and_answer_it(box, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    run, url = box
    password = secrets.token_urlsafe(12)
    wait = WebDriverWait(browser, 15)
    browser.get(url + "/")
    wait.until(EC.url_contains("/setup"))
    browser.find_element(By.NAME, "username").clear()
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.NAME, "confirm").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(EC.url_contains("/login"))
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    # The caller pressed 1 after the welcome prompt began: waiting in sales, named from caller ID.
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#waiting tbody"), "13800138000"))
    waiting = browser.find_element(By.CSS_SELECTOR, "#waiting tbody").text
    assert "sales" in waiting and "Zhao Lei" in waiting

    def agent_row():
        return next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#agents tbody tr") if "1001" in tr.text)

    def click(action):
        wait.until(lambda _: agent_row().find_element(By.CSS_SELECTOR, f"button[data-action={action}]").is_displayed())
        agent_row().find_element(By.CSS_SELECTOR, f"button[data-action={action}]").click()

    click("login")
    click("ready")
    # The agent's phone rings and is picked up after a second: the caller leaves the queue.
    wait.until(lambda _: "13800138000" not in browser.find_element(By.CSS_SELECTOR, "#waiting tbody").text)
    wait.until(lambda _: "13800138000" in agent_row().text)
    assert run.engine.app.acd.agents["1001"].state.value == "talking"
    assert browser.get_log("browser") == []
