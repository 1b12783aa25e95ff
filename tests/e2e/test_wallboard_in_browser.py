"""The supervisors' wallboard on the whole box: the engine on the simulated board in real time, the web app,
headless Chromium. A supervisor sees the agent start talking on the board, whispers to them from the
keyboard, their own phone is rung and joins, and the audio each party is sent shows the agent hears the
coach and the caller hears no trace of it (R6; the measurement of tests/firmware/test_operations.py).
Screenshots of the board and of its TV mode are kept (BRANCHLINE_ARTIFACTS, else the test's directory)."""
import os
import secrets
import threading
import time
from pathlib import Path

import pytest

from firmware.callcenter.supervisors import SupervisorState
from scenario_builder import agent, caller, queue, run_section, scenario, supervisor
from webui.accounts import AccountStore
from webui.app import create_app
from webui.auth import hash_password
from webui.server import make_server

pytestmark = pytest.mark.browser

# Tones apart from each other's harmonics, as tests/firmware/test_operations.py chooses them.
CALLER_HZ, AGENT_HZ, SUP_HZ = 624, 930, 1876
HEARD, SILENT = -35.0, -60.0
SCENARIO = scenario(
    run_section(3600),
    queue("sales", wrapup=0.0), queue("service", wrapup=0.0),
    agent("1001", name="Li Wei", skills={"sales": 5}, login_at=0.2, answer_after=1.0, talk=3000.0,
          voice_hz=AGENT_HZ),
    supervisor("9001", name="Sun Li", answer_after=1.0, voice_hz=SUP_HZ),
    caller(0.5, "13800138000", keys=[[1.0, "1"]], patience=3000.0, talk=3000.0, voice_hz=CALLER_HZ),
)


@pytest.fixture
def box(heard, live_box):
    run, state = live_box(SCENARIO)
    run.engine_channels = run.engine.board.channels   # what `heard` names channels by
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


def test_a_supervisor_whispers_from_the_keyboard_and_the_caller_hears_none_of_it(box, heard, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    run, state, url = box
    password = secrets.token_urlsafe(12)
    accounts = AccountStore(state / "branchline.db")
    try:
        accounts.create("sun", ("supervisor",), hash_password(password), supervisor_id="9001")
    finally:
        accounts.close()
    wait = WebDriverWait(browser, 20)
    browser.get(url + "/login?next=/wallboard")
    browser.find_element(By.NAME, "username").send_keys("sun")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.url_to_be(url + "/wallboard"))

    def row():
        return browser.find_element(By.CSS_SELECTOR, '#wb-agents tr[data-agent="1001"]')

    # The caller goes through the IVR to the sales queue and Li Wei answers: the board follows it live.
    wait.until(lambda _: row().get_attribute("data-state") == "talking")
    assert "13800138000" in row().text
    keys = ActionChains(browser)
    keys.send_keys("j").perform()      # the first agent's row
    assert browser.switch_to.active_element == row()
    keys.send_keys("w").perform()      # whisper
    # The supervisor's own phone rings and picks up after a second; the board says whom they coach.
    sup = run.engine.app.supervisors.supervisors["9001"]
    wait.until(lambda _: sup.state == SupervisorState.LISTENING)
    joined = run.engine.clock.seconds
    wait.until(EC.text_to_be_present_in_element((By.ID, "listening"), "Li Wei"))
    assert "whispering" in browser.find_element(By.ID, "listening").text
    assert row().find_element(By.CSS_SELECTOR, ".action-error").text == ""
    assert row().find_element(By.CSS_SELECTOR, ".wb-listener").text == "coached by Sun Li"
    shots = Path(os.environ.get("BRANCHLINE_ARTIFACTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / "wallboard-whisper.png"))

    deadline = time.monotonic() + 15
    while run.engine.clock.seconds < joined + 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    window = (joined + 0.5, run.engine.clock.seconds)
    assert window[1] - window[0] >= 5, "the engine ran on long enough to measure"
    assert heard(run, "station1", SUP_HZ, *window) > HEARD      # the agent hears the coach
    assert heard(run, "trunk1", SUP_HZ, *window) < SILENT       # the caller hears no trace of it
    assert heard(run, "trunk1", AGENT_HZ, *window) > HEARD      # and still hears the agent
    assert heard(run, "station2", CALLER_HZ, *window) > HEARD   # the supervisor hears the caller

    # Stop listening with its key; the supervisor's phone is hung up.
    keys.send_keys("s").perform()
    wait.until(lambda _: sup.state == SupervisorState.IDLE)
    wait.until(lambda _: not browser.find_element(By.ID, "listening").text)
    # Taking the call over needs listening first: the engine's refusal is shown in the row, nothing changes.
    row().click()
    keys.send_keys("i").perform()
    wait.until(lambda _: "must be listening" in row().find_element(By.CSS_SELECTOR, ".action-error").text)
    assert sup.state == SupervisorState.IDLE and run.engine.app.acd.agents["1001"].state.value == "talking"

    browser.get(url + "/wallboard?tv=1")
    wait.until(lambda _: row().get_attribute("data-state") == "talking")
    assert not browser.find_elements(By.CSS_SELECTOR, "header.topbar")
    assert browser.save_screenshot(str(shots / "wallboard-tv.png"))
    # The one failed request is the refused intercept; no script error.
    problems = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert [e["source"] for e in problems] == ["network"] and "/intercept" in problems[0]["message"]
