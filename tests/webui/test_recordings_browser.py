"""In real headless Chromium (issue 15 item 7): a supervisor finds a call by its number, plays its recording,
sees the waveform of both channels and the call's events on its timeline, seeks to an event, and scores it."""
from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import sample_call
from test_web_recordings import audit_rows, rec_id, recorded, tone_wav  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]

SECONDS = 3.0


@pytest.fixture
def long_recording(recorded, db_path):  # noqa: F811 (the fixture imported above)
    """call-0001's recording made 3 s long, with a hold 1.5 s before its end."""
    call = sample_call(1)
    path = recorded / "2025/03/10" / f"{call['id']}.wav"
    path.write_bytes(tone_wav(SECONDS))
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE recordings SET duration = ?, size = ? WHERE id = ?",
                     [SECONDS, path.stat().st_size, rec_id(call)])
        conn.execute("INSERT INTO call_events (id, call_id, at, kind, data) VALUES (?, ?, ?, 'call:hold', ?)",
                     [f"{call['id']}-hold", call["id"], call["ended_at"] - 1.5, json.dumps({"agent": "1002"})])
    return call


def test_a_supervisor_finds_a_call_by_number_plays_it_sees_waveform_and_events_and_scores_it(
        browser, live_server, staff, password, long_recording, db_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    staff("sue", ["supervisor"])
    call = long_recording
    wait = WebDriverWait(browser, 10)
    browser.get(live_server + "/login?next=/recordings")
    browser.find_element(By.NAME, "username").send_keys("sue")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    search = wait.until(EC.presence_of_element_located((By.ID, "recording-search")))
    search.find_element(By.NAME, "number").send_keys(call["number"])
    search.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    link = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"a[href='/recordings/{rec_id(call)}']")))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".table-recordings tbody tr")) == 1
    link.click()

    # The waveform: drawn from the box's peaks; the caller's tone fills the top lane, the bottom is flat.
    wait.until(lambda b: b.execute_script("return document.getElementById('player-status').textContent === ''"))
    lanes = browser.execute_script("""
        const c = document.getElementById('waveform');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const inked = (y0, y1) => { let n = 0;
          for (let i = 4 * y0 * c.width + 3; i < 4 * y1 * c.width; i += 4) if (d[i] > 0) n++; return n; };
        const h = c.height; return [inked(Math.round(h * 0.1), Math.round(h * 0.45)),
                                    inked(Math.round(h * 0.55), Math.round(h * 0.9))];""")
    assert lanes[0] > 10 * lanes[1] > 0, lanes

    # The call's events on the recording's timeline; choosing the hold seeks there.
    hold = browser.find_element(By.CSS_SELECTOR, "#events button[data-kind='call:hold']")
    assert hold.text in ("0:01", "0:02")   # 1.5 s, as the page rounds it
    hold.click()
    assert browser.execute_script("return document.getElementById('audio').currentTime") == pytest.approx(1.5, abs=0.05)
    assert browser.switch_to.active_element.get_attribute("id") == "waveform"

    # Play at 1.5x: the audio is fetched and plays; the play is in the audit log.
    Select(browser.find_element(By.ID, "speed")).select_by_value("1.5")
    browser.find_element(By.ID, "play").click()
    wait.until(lambda b: b.execute_script("const a = document.getElementById('audio');"
                                          " return !a.paused && a.currentTime > 1.6"))
    assert browser.execute_script("return document.getElementById('audio').playbackRate") == 1.5
    assert browser.find_element(By.ID, "play").get_attribute("aria-pressed") == "true"
    assert [target for _, target, _ in audit_rows(db_path, "recording.play")] == [rec_id(call)]

    # The keyboard: Home goes back to the start.
    browser.find_element(By.ID, "play").click()
    browser.find_element(By.ID, "waveform").send_keys("\ue011")   # Home
    assert browser.execute_script("return document.getElementById('audio').currentTime") == 0

    # Score it: every criterion at its maximum but one, with a comment; the score shows on the page.
    form = browser.find_element(By.ID, "evaluate")
    selects = form.find_elements(By.CSS_SELECTOR, "select[data-criterion]")
    for select in selects:
        options = Select(select)
        options.select_by_index(1)   # the first after the blank is the maximum
    Select(selects[0]).select_by_value("0")
    browser.find_element(By.ID, "evaluate-comment").send_keys("Greet the caller first.")
    browser.find_element(By.ID, "evaluate-save").click()
    score = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#evaluations .evaluation .score")))
    with sqlite3.connect(db_path) as conn:
        stored, = conn.execute("SELECT score, comment FROM evaluations").fetchall()
    assert score.text == str(stored[0]).rstrip("0").rstrip(".") and stored[1] == "Greet the caller first."
    # The stock form's first criterion weighs 10 of 100: the rest at their maximum score 90.
    assert stored[0] == 90.0
    assert browser.get_log("browser") == []
