"""In real headless Chromium: set the admin password, sign in, and see the waiting caller live."""
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
    # The wait keeps counting in the browser between polls.
    wait.until(lambda _: wait_seconds(counter()) >= wait_seconds(first) + 2)
    assert browser.find_element(By.CSS_SELECTOR, "#t-waiting .tile-value").text == "1"
    assert browser.find_element(By.ID, "engine-banner").is_displayed() is False
    assert browser.get_log("browser") == []
