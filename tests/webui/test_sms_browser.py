"""In real headless Chromium: an admin finds the texts page in the Administration menu, sends a test text
from the keyboard, and finds the mail page; no script error, at 1280x800 and on a phone's width."""
import pytest

pytestmark = pytest.mark.browser


def test_admin_sends_a_test_text_from_the_keyboard(browser, live_server, password, engine, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
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

    browser.find_element(By.CSS_SELECTOR, ".nav-menu > summary").click()
    browser.find_element(By.LINK_TEXT, "Texts").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "modem"), "CHINA MOBILE"))
    number = browser.find_element(By.NAME, "number")
    number.send_keys("138 0013 8000")
    number.send_keys(Keys.TAB, "线路测试", Keys.ENTER)      # from the keyboard: Tab to the text, Enter sends
    wait.until(EC.visibility_of_element_located((By.ID, "sms-notice")))
    assert ("sms.send", {"number": "138 0013 8000", "text": "线路测试", "purpose": "test",
                         "requested_by": "admin"}) in engine.commands
    browser.save_screenshot(str(tmp_path / "sms-1280.png"))
    browser.set_window_size(390, 844)
    browser.get(live_server + "/sms")
    assert browser.find_element(By.NAME, "number").is_displayed()
    browser.save_screenshot(str(tmp_path / "sms-phone.png"))
    browser.set_window_size(1280, 800)
    browser.get(live_server + "/mail")
    assert "No mail yet." in browser.find_element(By.TAG_NAME, "main").text
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
