"""In real headless Chromium: an agent on their console types a Chinese word into the knowledge-base box, sees
the matching article with the word marked, and opens it, its Markdown rendered and its HTML left inert."""
from __future__ import annotations

import pytest

from tests.webui.conftest import api_call

# Passwords hashed at a lower scrypt cost while it runs (conftest.py cheap_hashes).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]


def test_an_agent_finds_an_article_from_the_console_and_reads_it(browser, live_server, admin, staff, password):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    created = api_call(admin, "POST", "/api/v1/kb/articles", {
        "title": "如何办理退货手续", "tags": ["退货"],
        "body": "**先核对发票**，再办理退货。\n\n<img src=x onerror=\"document.title='pwned'\">"
                "[说明](javascript:document.title='pwned')"})
    assert created.status == 201
    staff("ana", ["agent"], agent_id="1001")
    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/login")
    browser.find_element(By.NAME, "username").send_keys("ana")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "console")))

    box = browser.find_element(By.CSS_SELECTOR, "form[data-kb-search] input[name=q]")
    box.send_keys("退货")
    hit = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".kb-hits .kb-title")))
    assert hit.text == "如何办理退货手续"
    marks = browser.find_elements(By.CSS_SELECTOR, ".kb-hits .kb-snippet mark")
    assert marks and {m.text for m in marks} == {"退货"}

    browser.get(hit.get_attribute("href"))
    body = wait.until(EC.presence_of_element_located((By.ID, "kb-body")))
    assert body.find_element(By.TAG_NAME, "strong").text == "先核对发票"
    assert body.find_elements(By.TAG_NAME, "img") == [] and body.find_elements(By.TAG_NAME, "a") == []
    assert "onerror" in body.text          # shown as the text it is
    assert browser.title != "pwned"
    assert browser.get_log("browser") == []
