"""The agent console in a real browser on the live box (R21, issue 14): all by keyboard, an agent logs in
and goes ready, a known customer calls and the screen pop shows their name and open ticket while the
agent's phone still rings; the simulated station answers, the agent holds, resumes, transfers the caller
to a queue and gives the wrap-up code; or sends the caller to the queue's post-call survey (v)."""
import secrets
import sqlite3
import threading

import pytest

from scenario_builder import agent, caller, queue, run_section, scenario
from tests.webui.conftest import Client
from webui import auth
from webui.accounts import AccountStore
from webui.app import create_app
from webui.server import make_server

pytestmark = pytest.mark.browser

CUSTOMER = "13800138000"
# The station answers 8 s after it rings: the pop must be on screen before that.
ANSWER_AFTER_S = 8.0
SCENARIO = scenario(
    run_section(3600),
    # A long wrap-up: the code is given inside it, however slowly the browser runs.
    queue("sales", wrapup=120.0, survey="csat"), queue("service"),
    agent("1001", name="Li Wei", skills={"sales": 5}, login_at=3000.0, answer_after=ANSWER_AFTER_S, talk=3000.0),
    caller(0.5, CUSTOMER, keys=[[1.0, "1"]], patience=3000.0, talk=3000.0),
)


@pytest.fixture
def password():
    return secrets.token_urlsafe(12)


@pytest.fixture
def box(live_box, password, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    run, state = live_box(SCENARIO)
    app = create_app(state / "branchline.db", state / "control.sock")
    admin = Client(app)
    assert admin.setup("admin", password).status == 303 and admin.login("admin", password).status == 303
    store = AccountStore(state / "branchline.db")
    store.create("li", ("agent",), auth.hash_password(password), agent_id="1001")
    store.close()
    # The caller's card and an open ticket, made as staff would through the API.
    card = admin.api_post("/api/v1/customers", {"name": "Wang Fang", "numbers": [CUSTOMER], "vip": 2}).json()
    ticket = admin.api_post("/api/v1/tickets", {"category": "complaint", "priority": "normal",
                                                "title": "Parcel never arrived", "number": CUSTOMER,
                                                "customer_id": card["customer"]["id"]})
    assert ticket.status == 201, ticket.text
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    web_thread = threading.Thread(target=server.serve, daemon=True)
    web_thread.start()
    host, port = server.bind_addr[:2]
    yield run, state, f"http://{host}:{port}"
    server.stop()
    web_thread.join(5)
    app.close()


def test_an_agent_works_a_call_from_the_console_by_keyboard(box, browser, password, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    run, state, url = box
    shots = tmp_path / "artifacts"
    shots.mkdir()
    wait = WebDriverWait(browser, 20)
    li = run.engine.app.acd.agents["1001"]

    def find(css):
        return browser.find_element(By.CSS_SELECTOR, css)

    def press(keys):
        # Keys go to whatever has the focus, as a person's do.
        browser.switch_to.active_element.send_keys(keys)

    def focused(css):
        return browser.execute_script("return document.activeElement.matches(arguments[0])", css)

    browser.get(url + "/login")
    find("input[name=username]").send_keys("li")
    find("input[name=password]").send_keys(password + Keys.ENTER)
    wait.until(lambda _: find("#live-state").text == "Live")
    assert "i" in find("button[data-action=login] kbd").text

    # ? lists every key with its control; Esc closes the list.
    find("body").send_keys("?")
    wait.until(lambda _: find("#keys-help").is_displayed())
    shortcuts = find("#keys-help-list").text
    for line in ("h\nHold", "t\nBlind transfer", "w\nWrap-up code", "r\nReady"):
        assert line in shortcuts
    press(Keys.ESCAPE)
    wait.until(lambda _: not find("#keys-help").is_displayed())
    find("body").send_keys("i")
    wait.until(lambda _: find("#my-state").text == "Not ready")
    find("body").send_keys("r")
    # Ready, and at once offered the caller who waits in sales.
    wait.until(lambda _: li.state.value in ("ready", "ringing"))

    # The caller waiting in sales is offered to Li: the pop comes while the phone rings, focused.
    wait.until(lambda _: find("#pop").is_displayed() and "Wang Fang" in find("#pop-name").text)
    assert li.state.value == "ringing", "the pop came only after the call was answered"
    assert "Parcel never arrived" in find("#pop-tickets").text
    assert CUSTOMER in find("#pop-number").text and "VIP 2" in find("#pop-vip").text
    assert focused("#pop")
    assert browser.save_screenshot(str(shots / "console-pop.png"))

    wait.until(lambda _: li.state.value == "talking" and find("#my-state").text == "Talking")
    call_id = li.call.id
    press("h")
    wait.until(lambda _: li.call is not None and li.call.hold_started is not None)
    wait.until(lambda _: find("#call-state").get_attribute("textContent") == "on hold")
    press("u")
    wait.until(lambda _: li.call is not None and li.call.hold_started is None)

    # g: the transfer target; typing picks the service queue, Enter transfers blind.
    press("g")
    assert focused("#target")
    wait.until(lambda _: "service" in find("#target").text)
    press("ser")
    press(Keys.ENTER)
    wait.until(lambda _: li.state.value == "wrapup")
    assert next(c for c in run.engine.app.calls.values() if c.id == call_id).queue == "service"
    wait.until(lambda _: focused("#wrapup-code"))
    press("s")   # Sale
    press(Keys.ENTER)
    wait.until(lambda _: "saved" in find("#wrapup-saved").text)
    assert browser.save_screenshot(str(shots / "console-wrapup.png"))

    def code():
        db = sqlite3.connect(f"file:{state / 'branchline.db'}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT wrapup_code FROM calls WHERE id = ?", [call_id]).fetchone()
        finally:
            db.close()
        return row[0] if row else None
    wait.until(lambda _: code() == "sale")
    assert find("#my-error").text == ""
    # On a phone's width the console is one column, nothing wider than the screen.
    browser.set_window_size(390, 844)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert browser.save_screenshot(str(shots / "console-phone.png"))
    assert all(p.stat().st_size > 0 for p in shots.iterdir())
    assert browser.get_log("browser") == []


def test_the_agent_sends_the_caller_to_the_queues_survey_with_one_key(box, browser, password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    run, _, url = box
    wait = WebDriverWait(browser, 20)
    li = run.engine.app.acd.agents["1001"]
    browser.get(url + "/login")
    browser.find_element(By.CSS_SELECTOR, "input[name=username]").send_keys("li")
    browser.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(password + Keys.ENTER)
    body = browser.find_element(By.CSS_SELECTOR, "body")
    wait.until(lambda _: browser.find_element(By.CSS_SELECTOR, "#live-state").text == "Live")
    body.send_keys("i")
    wait.until(lambda _: li.state.value == "not_ready")
    body.send_keys("r")
    wait.until(lambda _: li.state.value == "talking")
    call = li.call
    wait.until(lambda _: browser.find_element(By.CSS_SELECTOR, "button[data-action=survey]").is_enabled())
    browser.switch_to.active_element.send_keys("v")
    wait.until(lambda _: li.state.value == "wrapup")
    # The caller hears the survey's question (the stock csat flow), the agent no longer hears them.
    assert call.state.value == "ivr" and call.node == "rate"
    assert browser.find_element(By.CSS_SELECTOR, "#my-error").text == ""
    assert browser.get_log("browser") == []
