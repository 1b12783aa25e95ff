"""In real headless Chromium: an agent of a preview campaign sees the contact the dialer offers (the contact's
own fields and the customer card of the number) and dials it from the keyboard (docs/architecture.md §23)."""
from __future__ import annotations

import time

import pytest

from tests.webui.conftest import api_call

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]


def test_an_agent_sees_the_previewed_contact_with_its_card_and_dials_it_with_a_key(browser, live_server, admin,
                                                                                    staff, password, engine):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    card = api_call(admin, "POST", "/api/v1/customers", {"name": "李伟", "numbers": ["13800138000"], "vip": "2",
                                                         "company": "上海电器"})
    assert card.status == 201, card.text
    staff("ana", ["agent"], agent_id="1001")
    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/login")
    browser.find_element(By.NAME, "username").send_keys("ana")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "live-state"), "Live"))

    engine.events.publish("preview", {"agent": "1001", "campaign": "c-spring", "contact": "k-0417",
                                      "number": "+8613800138000", "name": "Li Wei",
                                      "data": {"model": "EC-200", "warranty": "2026-12-31"}})
    panel = wait.until(EC.visibility_of_element_located((By.ID, "preview")))
    assert "+8613800138000" in panel.text and "Li Wei" in panel.text and "EC-200" in panel.text
    wait.until(EC.text_to_be_present_in_element((By.ID, "pop-name"), "李伟"))      # the card of the number
    assert "上海电器" in browser.find_element(By.ID, "pop-company").text

    browser.find_element(By.TAG_NAME, "body").send_keys("y")
    deadline = time.monotonic() + 10
    while ("agent.preview_dial", {"agent": "1001", "contact": "k-0417"}) not in engine.commands:
        assert time.monotonic() < deadline, engine.commands
        time.sleep(0.05)
    wait.until(EC.invisibility_of_element_located((By.ID, "preview")))
    assert browser.get_log("browser") == []


def test_the_campaigns_list_follows_the_engines_campaign_events(browser, live_server, admin, password, engine):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    made = api_call(admin, "POST", "/api/v1/campaigns", {
        "name": "Warranty reminder", "mode": "message", "purpose": "reminder", "prompt": "welcome",
        "hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}})
    assert made.status == 201, made.text
    campaign = made.json()["campaign"]["id"]
    browser.get(live_server + "/login")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    # The sign-in's answer first: a page asked for while it is on its way would find no session yet.
    WebDriverWait(browser, 10).until(lambda b: "/login" not in b.current_url)
    browser.get(live_server + "/campaigns")
    row = f"tr[data-campaign='{campaign}']"
    assert browser.find_element(By.CSS_SELECTOR, f"{row} [data-field=state]").text == "draft"
    state = browser.find_element(By.CSS_SELECTOR, f"{row} [data-field=state]")

    def changed(_browser) -> bool:
        # The page's stream opens after the page: the engine's event is said again until the page has heard it,
        # as the dialer says each change.
        engine.events.publish("campaign", {"campaign": campaign, "state": "running", "lines": 2, "counts": {
            "states": {"pending": 40, "dialing": 2, "done": 7, "failed": 1}}})
        return state.text == "running"
    WebDriverWait(browser, 10, poll_frequency=0.2).until(changed)
    assert browser.find_element(By.CSS_SELECTOR, f"{row} [data-field=done]").text == "8"
    assert browser.find_element(By.CSS_SELECTOR, f"{row} [data-field=pending]").text == "40"
