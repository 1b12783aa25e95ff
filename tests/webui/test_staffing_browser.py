"""In real headless Chromium: a supervisor's staffing page draws its chart from the observed day and answers
the what-if as the figures are typed, with no script error."""
import pytest

from test_web_staffing import scripted_day  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def test_the_staffing_chart_and_the_what_if_as_typed(browser, live_server, password, scripted_day, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/setup")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.NAME, "confirm").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(EC.url_contains("/login"))
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.url_to_be(live_server + "/"))

    browser.get(live_server + "/reports/staffing?from=2025-03-10&to=2025-03-10")
    # The chart is drawn from the API: its half hours run from the first call (09:00) to the last (14:30).
    labels = wait.until(lambda b: b.execute_script(
        "const c = Chart.getChart(document.getElementById('staffing-chart')); return c && c.data.labels;"))
    assert labels[0] == "09:00" and labels[-1] == "14:30"
    calls = browser.find_element(By.CSS_SELECTOR, "#what-if-form [name=calls_per_hour]")
    calls.clear()
    calls.send_keys("200")
    aht = browser.find_element(By.CSS_SELECTOR, "#what-if-form [name=aht_s]")
    aht.clear()
    aht.send_keys("180")
    # Call Centre Helper's worked example: 14 agents answering, 20 scheduled after 30% shrinkage.
    wait.until(EC.text_to_be_present_in_element((By.ID, "what-if-answer"), "14 agents answering (20 scheduled)"))
    chosen = browser.find_element(By.CSS_SELECTOR, "#what-if-table tr.chosen td").text
    assert chosen == "14"
    browser.save_screenshot(str(tmp_path / "staffing.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
