"""In real headless Chromium: the admin creates an agent, who signs in, must choose a password, and
lands on their own console in their language."""
from __future__ import annotations

import secrets

import pytest

# Passwords hashed at a lower scrypt cost while it runs (conftest.py cheap_hashes).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]


def test_admin_creates_an_agent_who_signs_in_changes_the_password_and_sees_their_console(
        browser, live_server, admin, engine, password, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 10)

    def fill(name: str, text: str) -> None:
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(text)

    def sign_in(username: str, secret: str) -> None:
        browser.get(live_server + "/login")
        fill("username", username)
        fill("password", secret)
        browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()

    sign_in("admin", password)
    wait.until(EC.presence_of_element_located((By.ID, "dashboard")))
    browser.find_element(By.CSS_SELECTOR, ".nav-menu > summary").click()  # the Administration menu
    browser.find_element(By.LINK_TEXT, "Users").click()
    wait.until(EC.url_contains("/users"))
    temporary = secrets.token_urlsafe(12)
    form = browser.find_element(By.CSS_SELECTOR, "form[action='/users']")
    fill("username", "ana")
    fill("display_name", "Ana Costa")
    assert form.find_element(By.CSS_SELECTOR, "input[name=roles][value=agent]").is_selected()
    fill("agent_id", "1001")
    Select(form.find_element(By.NAME, "locale")).select_by_value("zh")
    fill("password", temporary)
    fill("confirm", temporary)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(EC.url_contains("/users/ana?created=1"))
    assert browser.find_element(By.CSS_SELECTOR, ".notice").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait.until(EC.url_contains("/login"))

    sign_in("ana", temporary)
    # Nothing but the password change until she has chosen her own.
    wait.until(EC.presence_of_element_located((By.ID, "must-change")))
    assert browser.current_url.endswith("/account")
    form = browser.find_element(By.CSS_SELECTOR, "form[action='/account/password']")
    fill("current", temporary)
    fill("password", password)
    fill("confirm", password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    wait.until(EC.presence_of_element_located((By.ID, "console")))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh"
    assert browser.find_element(By.ID, "my-agent-id").text == "1001"
    # Agent 1001 is ready: the console offers not-ready, and it reaches the engine for her agent only.
    ready = browser.find_element(By.CSS_SELECTOR, "button[data-action=ready]")
    wait.until(lambda _: not ready.is_enabled())
    Select(browser.find_element(By.ID, "my-reason-choice")).select_by_value("Lunch")
    browser.find_element(By.CSS_SELECTOR, "button[data-action=not_ready]").click()
    wait.until(lambda _: engine.commands)
    assert engine.commands == [("agent.not_ready", {"agent": "1001", "reason": "Lunch"})]
    shot = tmp_path / "artifacts" / "agent-console.png"
    shot.parent.mkdir()
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 0
    assert browser.get_log("browser") == []
