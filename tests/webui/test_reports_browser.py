"""In real headless Chromium: a supervisor opens the calls report, sees its charts drawn by the box's own
Chart.js with the figures of the table, switches to Chinese and sees the same charts labelled in Chinese."""
from __future__ import annotations

import pytest

import report_scenario as day

# Passwords hashed at a lower scrypt cost while it runs (conftest.py cheap_hashes).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]

CHART_TITLES = ("return [...document.querySelectorAll('canvas[data-chart]')].map(c => window.Chart.getChart(c))"
                ".filter(Boolean).map(c => [c.config.type, c.options.plugins.title.text, c.data.datasets[0].data])")


def test_the_report_draws_its_charts_and_speaks_chinese(browser, live_server, db_path, staff, password):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    day.fill(db_path)
    staff("sam", ["supervisor"])
    # Submitting the form loads the report page anew: an element found on the page being left goes stale
    # under the wait, which then looks again on the new page.
    wait = WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,))
    browser.get(live_server + "/login")
    browser.find_element(By.NAME, "username").send_keys("sam")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "a[href='/reports']"))).click()

    # The form: the range (date inputs take their value), the grouping chosen, Enter in a field to show it.
    start = wait.until(EC.presence_of_element_located((By.NAME, "from")))
    browser.execute_script("arguments[0].value = '2025-03-10'; document.getElementsByName('to')[0].value ="
                           " '2025-03-10';", start)
    Select(browser.find_element(By.NAME, "group")).select_by_value("hour")
    browser.find_element(By.NAME, "short_abandon").send_keys("\n")
    wait.until(lambda b: b.find_element(By.ID, "report").get_attribute("data-drawn") == "4")
    charts = browser.execute_script(CHART_TITLES)
    assert ["bar", "Offered, answered and abandoned", [4, 3]] in charts
    assert [c[:2] for c in charts] == [["bar", "Offered, answered and abandoned"], ["line", "Service level"],
                                       ["pie", "Outcomes of offered calls"], ["bar", "Traffic by hour of day"]]
    assert browser.get_log("browser") == []

    browser.get(live_server + "/account")
    Select(browser.find_element(By.NAME, "locale")).select_by_value("zh")
    browser.find_element(By.CSS_SELECTOR, "form[action='/account/language'] button[type=submit]").click()
    wait.until(EC.url_contains("changed=language"))
    browser.get(live_server + "/reports/calls?from=2025-03-10&to=2025-03-10&group=hour")
    wait.until(lambda b: b.find_element(By.ID, "report").get_attribute("data-drawn") == "4")
    titles = [c[1] for c in browser.execute_script(CHART_TITLES)]
    assert titles == ["进线、接听和放弃", "服务水平", "进线电话的结果", "按小时的话务量"]
    assert browser.find_element(By.CSS_SELECTOR, "h1").text.startswith("报表")
    assert browser.get_log("browser") == []
