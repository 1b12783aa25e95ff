"""In real headless Chromium, the ticket loop (docs/requirements.md R13, R14): a call ends, its agent makes a
complaint ticket from it, dispatches it, the complaints department resolves it, the agent calls the
customer back and records their satisfaction, and the same caller's next complaint is flagged a repeat."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import api_call

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]


def test_a_call_becomes_a_complaint_that_comes_back_to_the_caller(browser, live_server, admin, staff, engine,
                                                                  password, db_path, clock, tmp_path):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    staff("amy", ["agent"], agent_id="1001")
    staff("cai", ["agent"], agent_id="1002")
    assert api_call(admin, "PUT", "/api/v1/users/cai/department", {"department": "complaints"}).status == 200
    conn = sqlite3.connect(db_path)
    # The call has ended: the engine wrote its record with the agent who took it.
    conn.execute("INSERT INTO calls (id, direction, number, arrived_at, ended_at, agent_id, talk)"
                 " VALUES ('call-77', 'inbound', '021-6123 4567', ?, ?, '1001', 240)", [clock() - 600, clock() - 300])
    conn.commit()
    conn.close()
    # A state read while the next page replaces this one is read again.
    wait = WebDriverWait(browser, 10, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    shots = tmp_path / "artifacts"
    shots.mkdir()

    def find(css: str):
        return browser.find_element(By.CSS_SELECTOR, css)

    def sign_in(username: str) -> None:
        browser.get(live_server + "/login")
        for name, text in (("username", username), ("password", password)):
            browser.find_element(By.NAME, name).send_keys(text)
        find("form[action='/login'] button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[action='/logout']")))

    def sign_out() -> None:
        find("form[action='/logout'] button").click()
        wait.until(EC.url_contains("/login"))

    def act(action: str, note: str = "") -> None:
        if note:
            find("#actions textarea[name=note]").send_keys(note)
        find(f"#action-{action}").click()

    def state() -> str:
        return find("#ticket-state").text

    def complaint_from_the_call(title: str) -> None:
        browser.get(live_server + "/tickets/new")
        find("#recent-calls a[data-call='call-77']").click()
        wait.until(EC.url_contains("call_id=call-77"))
        assert find("input[name=number]").get_attribute("value") == "021-6123 4567"
        Select(find("select[name=category]")).select_by_value("complaint")
        find("input[name=title]").send_keys(title)
        find("#ticket-form button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.ID, "ticket-state")))

    sign_in("amy")
    complaint_from_the_call("Parcel a week late")
    assert state() == "New" and find("#linked-call").get_attribute("data-call") == "call-77"
    ticket_url = browser.current_url
    act("dispatch", "Customer is upset")
    wait.until(lambda _: state() == "Dispatched")
    sign_out()

    sign_in("cai")
    browser.get(live_server + "/tickets/queue")
    find(f"a[href='{ticket_url.removeprefix(live_server)}']").click()
    act("start")
    wait.until(lambda _: state() == "In progress")
    act("resolve", "Re-sent by courier")
    wait.until(lambda _: state() == "Resolved")
    sign_out()

    sign_in("amy")
    browser.get(live_server + "/tickets/callbacks")
    find(f"a[href='{ticket_url.removeprefix(live_server)}']").click()
    find("#dial").click()
    wait.until(EC.url_contains("dialled=1"))
    assert ("agent.dial", {"agent": "1001", "number": "02161234567"}) in engine.commands
    find("#callback input[name=score][value='4']").click()
    find("#callback textarea[name=comment]").send_keys("Arrived, thanks")
    find("#outcome-close").click()
    wait.until(lambda _: state() == "Closed")
    assert find("#satisfaction").text == "4"
    history = find("#history").text
    for step in ("New → Dispatched", "Dispatched → In progress", "In progress → Resolved", "Resolved → Confirmed",
                 "Confirmed → Closed", "Re-sent by courier"):
        assert step in history
    assert browser.save_screenshot(str(shots / "ticket-closed.png"))

    complaint_from_the_call("Parcel late again")
    assert find("#repeat-flag").is_displayed()
    assert ticket_url.removeprefix(live_server) in find("#related").get_attribute("innerHTML")
    assert browser.save_screenshot(str(shots / "ticket-repeat.png"))
    assert all(p.stat().st_size > 0 for p in shots.iterdir())
    assert browser.get_log("browser") == []
