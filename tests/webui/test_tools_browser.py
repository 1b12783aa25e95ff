"""In real headless Chromium: an admin runs a load test from the tools page and watches it, stops it,
reads the log tail, creates an HQ token (shown once) and revokes it, and installs an HTTPS certificate,
with no script error."""
import subprocess

import pytest

pytestmark = pytest.mark.browser


def test_admin_runs_a_load_test_reads_the_logs_and_manages_an_hq_token(browser, live_server, password, db_path,
                                                                        tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    (db_path.parent / "logs").mkdir()
    (db_path.parent / "logs" / "engine.log").write_text(
        "2025-03-10 09:00:03,004 ERROR firmware.callcenter.center: fault on trunk1: boom\n")
    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/setup")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.NAME, "confirm").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(EC.url_contains("/login"))
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.url_to_be(live_server + "/"))

    browser.find_element(By.LINK_TEXT, "Tools").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "loadtest-state"), "No load test is running."))
    assert browser.find_element(By.ID, "callers-limit").text == "≤ 28"
    callers = browser.find_element(By.NAME, "callers")
    callers.clear()
    callers.send_keys("12")
    browser.find_element(By.ID, "loadtest-start").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "loadtest-state"), "Running: 12 virtual callers"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-fig=connected]").text == "7"
    assert browser.find_element(By.CSS_SELECTOR, "[data-fig=p99_ms]").text == "2.4"
    # The engine's log, newest first, at INFO and above.
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#log-entries tbody"), "fault on trunk1: boom"))
    browser.save_screenshot(str(tmp_path / "tools-running.png"))
    browser.find_element(By.ID, "loadtest-stop").click()
    browser.switch_to.alert.accept()
    wait.until(EC.text_to_be_present_in_element((By.ID, "loadtest-state"), "stopped by the operator"))
    assert browser.find_element(By.ID, "loadtest-start").is_displayed()

    browser.find_element(By.CSS_SELECTOR, ".nav-menu > summary").click()  # the Administration menu
    browser.find_element(By.LINK_TEXT, "HQ tokens").click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#tokens tbody"), "No HQ token yet"))
    browser.find_element(By.ID, "token-name").send_keys("HQ Shanghai")
    browser.find_element(By.CSS_SELECTOR, "#create-token button[type=submit]").click()
    wait.until(EC.visibility_of_element_located((By.ID, "new-token")))
    token = browser.find_element(By.ID, "new-token-value").get_attribute("value")
    assert token.startswith("blhq_")
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#tokens tbody"), "HQ Shanghai"))
    assert token not in browser.find_element(By.ID, "tokens").text
    browser.find_element(By.ID, "hide-token").click()
    assert browser.find_element(By.ID, "new-token-value").get_attribute("value") == ""
    browser.find_element(By.CSS_SELECTOR, "#tokens button.btn-warn").click()
    browser.switch_to.alert.accept()
    wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, "#tokens button.btn-warn"))
    browser.save_screenshot(str(tmp_path / "hq-tokens.png"))

    # The HTTPS certificate: none yet (this server is plain HTTP on loopback), then one pasted in.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem"), "-days", "30",
                    "-subj", "/CN=branch-7"], check=True, capture_output=True)
    browser.find_element(By.CSS_SELECTOR, ".nav-menu > summary").click()
    browser.find_element(By.LINK_TEXT, "HTTPS certificate").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "no-certificate"), "No certificate yet"))
    browser.find_element(By.ID, "certificate-text").send_keys((tmp_path / "c.pem").read_text())
    browser.find_element(By.ID, "key-text").send_keys((tmp_path / "k.pem").read_text())
    browser.find_element(By.CSS_SELECTOR, "#upload-certificate button[type=submit]").click()
    wait.until(EC.visibility_of_element_located((By.ID, "upload-result")))
    assert browser.find_element(By.ID, "cert-subject").text == "CN=branch-7"
    assert len(browser.find_element(By.ID, "cert-fingerprint").text.split(":")) == 32
    assert browser.find_element(By.ID, "key-text").get_attribute("value") == ""   # the key is not left on screen
    browser.save_screenshot(str(tmp_path / "certificate.png"))
    assert browser.get_log("browser") == []
