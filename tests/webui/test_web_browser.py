"""In real headless Chromium: set the admin password, sign in, and see the waiting caller live; the
dashboard follows the live events without polling."""
import re

import pytest

WAITING_NUMBER = "0215550123"

pytestmark = pytest.mark.browser


def wait_seconds(text: str) -> int:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def test_setup_sign_in_and_see_the_waiting_call(browser, live_server, password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/")
    wait.until(EC.url_contains("/setup"))
    username = browser.find_element(By.NAME, "username")
    username.clear()
    username.send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.NAME, "confirm").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    wait.until(EC.url_contains("/login"))
    assert "Administrator admin created" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert browser.find_element(By.NAME, "username").get_attribute("value") == "admin"
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#waiting tbody"), WAITING_NUMBER))
    row = browser.find_element(By.CSS_SELECTOR, "#waiting tbody tr[data-key='c-wait']")
    assert "sales" in row.text and "Lin Wei" in row.text
    def counter():
        return browser.find_element(By.CSS_SELECTOR, "#waiting tr[data-key='c-wait'] td.num .live").text
    first = counter()
    assert re.fullmatch(r"\d+:\d\d", first) and wait_seconds(first) >= 42
    # The wait keeps counting in the browser between events.
    wait.until(lambda _: wait_seconds(counter()) >= wait_seconds(first) + 2)
    assert browser.find_element(By.CSS_SELECTOR, "#t-waiting .tile-value").text == "1"
    assert browser.find_element(By.ID, "engine-banner").is_displayed() is False
    assert browser.get_log("browser") == []


def test_the_dashboard_follows_the_live_events_without_polling(browser, live_server, admin, engine):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/login")
    for name, value in admin.cookies.items():
        browser.add_cookie({"name": name, "value": value, "path": "/"})
    browser.get(live_server + "/")
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#waiting tbody"), WAITING_NUMBER))
    wait.until(lambda _: engine.events.subscribed)
    # The agent at lunch comes back, and the waiting caller is answered by another agent.
    engine.events.publish("agent", {"agent": "1003", "name": "Chen Jing", "state": "ready", "reason": None,
                                    "since": 1.0, "call": None, "number": None, "station": "station-2",
                                    "trunk": None, "calls": 9, "talk_s": 1985.0})
    engine.events.publish("call", {"call": "c-wait", "state": "talking", "phase": "connected", "agent": "1001",
                                   "queue": "sales", "number": WAITING_NUMBER, "name": "Lin Wei",
                                   "channel": "trunk-1", "arrived_at": 1.0, "queued_at": 2.0, "priority": 0})
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#agents tr[data-key='1003']"), "Ready"))
    wait.until(lambda _: not browser.find_elements(By.CSS_SELECTOR, "#waiting tr[data-key='c-wait']"))
    assert browser.find_element(By.CSS_SELECTOR, "#t-waiting .tile-value").text == "0"
    # Read once (and once more when the web's subscription began); never again while events flow.
    read = engine.statuses
    assert read <= 2
    engine.events.publish("queue", {"name": "sales", "queue": "sales", "strategy": "longest_idle", "waiting": 0,
                                    "longest_wait_s": 0.0, "agents_logged_in": 2, "agents_ready": 1,
                                    "agents_busy": 1, "offered": 39, "answered": 34, "abandoned": 4})
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#queues tr[data-key='sales']"), "34"))
    assert engine.statuses == read
    assert browser.find_element(By.ID, "engine-banner").is_displayed() is False
    assert browser.get_log("browser") == []
