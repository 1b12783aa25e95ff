"""In real headless Chromium: a supervisor's day with the customer book: a card created with a number
typed locally, a duplicate found by the same number in another form, and merged into the first."""
from __future__ import annotations

import pytest

# Passwords hashed at a lower scrypt cost while it runs (conftest.py cheap_hashes).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]


def test_create_a_card_then_merge_a_duplicate_into_it(browser, live_server, admin, password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 10)

    def fill(name: str, text: str) -> None:
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(text)

    browser.get(live_server + "/login")
    fill("username", "admin")
    fill("password", password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.LINK_TEXT, "Customers"))).click()
    wait.until(EC.url_contains("/customers"))
    ids = []
    for name, number in (("Lin Wei", "021-6123 4567"), ("Lin W", "13800138000")):
        browser.get(live_server + "/customers/new")
        fill("name", name)
        fill("numbers", number)
        browser.find_element(By.CSS_SELECTOR, "#customer-form button[type=submit]").click()
        wait.until(EC.url_contains("?created=1"))
        ids.append(browser.current_url.split("/customers/")[1].split("?")[0])
    # The first card is found by its number as the line delivers it.
    browser.get(live_server + "/customers")
    fill("q", "02161234567")
    browser.find_element(By.ID, "customer-search").submit()
    wait.until(EC.url_contains("q=02161234567"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#customers tbody tr")
    assert [r.get_attribute("data-key") for r in rows] == [ids[0]]
    assert "+86 21 6123 4567" in rows[0].text
    rows[0].find_element(By.TAG_NAME, "a").click()
    wait.until(EC.presence_of_element_located((By.ID, "merge-form")))
    fill("other", ids[1])
    browser.find_element(By.CSS_SELECTOR, "#merge-form button[type=submit]").click()
    wait.until(EC.url_contains("?merged=1"))
    numbers = browser.find_element(By.NAME, "numbers").get_attribute("value")
    assert numbers.splitlines() == ["+86 21 6123 4567", "+86 138 0013 8000"]
    # The duplicate's address now leads to the card it went into.
    browser.get(live_server + f"/customers/{ids[1]}")
    wait.until(EC.url_contains(f"/customers/{ids[0]}"))
