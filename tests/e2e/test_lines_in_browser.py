"""A technician in a real browser on the whole box: the lines page live, a line test, the digits a line hears.

The engine runs the simulated board in real time; a caller waits in the queue and keeps pressing 5.
The technician signs in, tests an idle trunk and sees dial tone reported, is refused a test on the
caller's line, and watches the caller's digits arrive.
"""
import secrets
import threading

import pytest

from firmware.tools.scenario import ScenarioRun, load_scenario
from scenario_builder import agent, caller, run_section, scenario, table
from webui.accounts import AccountStore
from webui.app import create_app
from webui.auth import hash_password
from webui.server import make_server

pytestmark = pytest.mark.browser

# The caller picks sales, then presses 5 every 3 s while nobody answers (19 digits: the live view keeps 20).
PRESSES = [[8.0 + 3 * k, "5"] for k in range(18)]
SCENARIO = scenario(
    run_section(3600, trunks=3),
    agent("1001", name="Li Wei", queues=["sales"], login_at=3000.0),
    caller(0.5, "13800138000", name="Zhao Lei", keys=[[1.0, "1"], *PRESSES], patience=3000.0),
    table("[[trunk_groups]]", {"name": "sales-desk", "queues": ["sales"], "guaranteed": 1, "cap": 2}),
)


@pytest.fixture
def box(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    state = tmp_path / "state"
    run = ScenarioRun(load_scenario(path), state, clock="paced", control=True)
    engine_thread = threading.Thread(target=run.engine.run, daemon=True)
    engine_thread.start()
    password = secrets.token_urlsafe(12)
    accounts = AccountStore(state / "branchline.db")
    try:
        accounts.create("admin", ("admin",), hash_password(secrets.token_urlsafe(12)))
        accounts.create("tech", ("technician",), hash_password(password))
    finally:
        accounts.close()
    app = create_app(state / "branchline.db", state / "control.sock")
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    web_thread = threading.Thread(target=server.serve, daemon=True)
    web_thread.start()
    host, port = server.bind_addr[:2]
    yield run, f"http://{host}:{port}", password
    server.stop()
    web_thread.join(5)
    run.engine.stop()
    engine_thread.join(5)
    run.engine.close()


def test_technician_tests_an_idle_line_and_watches_digits_arrive(box, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    run, url, password = box
    wait = WebDriverWait(browser, 15)
    browser.get(url + "/lines")
    wait.until(EC.url_contains("/login"))
    browser.find_element(By.NAME, "username").send_keys("tech")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.url_to_be(url + "/lines"))
    assert browser.find_element(By.CSS_SELECTOR, ".nav a.active").text == "Lines"

    def row(name):
        return browser.find_element(By.CSS_SELECTOR, f'#tech-lines tr[data-line="{name}"]:not(.digits-row)')

    # Every line of the board, live: the caller's trunk shows the caller ID and the queue.
    # (the caller presses 1 during the welcome prompt; on a loaded machine that may take a moment)
    wait.until(lambda _: "13800138000" in row("trunk1").text and "queued" in row("trunk1").text.lower())
    assert "sim:trunk1" in row("trunk1").text
    assert [tr.get_attribute("data-line") for tr in
            browser.find_elements(By.CSS_SELECTOR, "#tech-lines tbody tr:not(.digits-row)")] == \
        ["trunk1", "trunk2", "trunk3", "station1"]
    assert "Idle" in row("trunk2").text and "not tested" in row("trunk2").text
    # The sales desk's trunk group holds the caller's trunk: in use 1 of its guaranteed 1, cap 2.
    groups = browser.find_element(By.ID, "trunk-group-table")
    wait.until(lambda _: [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                          for tr in groups.find_elements(By.CSS_SELECTOR, "tbody tr")]
               == [["sales-desk", "1", "1", "2", "0"], ["(no group)", "0", "—", "—", "—"]])

    # Test an idle line: testing, then the simulated exchange's dial tone.
    row("trunk2").find_element(By.CSS_SELECTOR, "button[data-action=test]").click()
    wait.until(lambda _: "Dial tone" in row("trunk2").text)
    assert "-10.0 dBm0" in row("trunk2").text
    assert run.engine.line_tests and all(t["result"]["dial_tone"] for t in run.engine.line_tests.values())
    # The result came with the line's live event: the page never asked for the test's record.
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert any("/api/v1/lines/1/test" in name for name in fetched)
    assert not [name for name in fetched if "/api/v1/line-tests/" in name]

    # The caller's line carries a call: the box refuses, and says why.
    row("trunk1").find_element(By.CSS_SELECTOR, "button[data-action=test]").click()
    error = row("trunk1").find_element(By.CSS_SELECTOR, ".action-error")
    wait.until(lambda _: "carries a call" in error.text)
    assert "cannot be tested now" in error.text

    # The digits trunk1 hears, live: the next 5 the caller presses appears without a reload.
    row("trunk1").find_element(By.CSS_SELECTOR, "button[data-action=digits]").click()
    chips = '#tech-lines tr.digits-row[data-line="trunk1"] .digit'
    wait.until(lambda _: browser.find_elements(By.CSS_SELECTOR, chips))
    before = len(browser.find_elements(By.CSS_SELECTOR, chips))
    assert browser.find_elements(By.CSS_SELECTOR, chips)[0].text.startswith("1")
    wait.until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, chips)) > before)
    assert browser.find_elements(By.CSS_SELECTOR, chips)[-1].text.startswith("5")
    # No HQ has pulled anything: the page says how much head office lacks and since when.
    summary = browser.find_element(By.ID, "hq-summary")
    wait.until(lambda _: "Not yet taken by head office" in summary.text)
    assert "oldest:" in summary.text and "Taken up to change 0" in summary.text
    assert "No HQ token" in browser.find_element(By.ID, "hq-tokens").text
    # The engine's worker threads, all working and no alarm; a worker that stops is an alarm at once.
    workers = browser.find_element(By.ID, "workers")
    assert [tr.get_attribute("data-worker") for tr in workers.find_elements(By.CSS_SELECTOR, "tbody tr")] == \
        ["store", "journal", "recorder"]
    assert "Fault" not in workers.text and not browser.find_element(By.ID, "worker-alarm").is_displayed()
    run.engine.queue_log.close(timeout=5)
    alarm = browser.find_element(By.ID, "worker-alarm")
    wait.until(lambda _: alarm.is_displayed())
    assert "Records are not being written" in alarm.text and "journal-queue_log thread stopped" in alarm.text
    assert "Fault" in workers.find_element(By.CSS_SELECTOR, 'tr[data-worker="journal"]').text
    # The one complaint in the console is the refused test's 409, which the page showed.
    assert [(e["source"], "409" in e["message"]) for e in browser.get_log("browser")] == [("network", True)]
