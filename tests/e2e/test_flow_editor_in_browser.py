"""An admin edits the IVR flow in a real browser on the whole box (README, "IVR flows"): adds a menu
choice, sees the graph grow an edge for it, saves, and the running engine gives the next caller the
new choice. A screenshot of the editor is kept (BRANCHLINE_ARTIFACTS, else the test's directory)."""
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from flow_box import MENU_AFTER, MENU_BEFORE, reached_service_by_3, start
from firmware.core.control import ControlClient
from webui.accounts import AccountStore
from webui.app import create_app
from webui.auth import hash_password
from webui.server import make_server

pytestmark = pytest.mark.browser


@pytest.fixture
def box(live_box, tmp_path):
    run, state = start(live_box, tmp_path)
    password = "flows-" + os.urandom(8).hex()
    accounts = AccountStore(state / "branchline.db")
    try:
        accounts.create("admin", ("admin",), hash_password(password))
    finally:
        accounts.close()
    app = create_app(state / "branchline.db", state / "control.sock")
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    web_thread = threading.Thread(target=server.serve, daemon=True)
    web_thread.start()
    host, port = server.bind_addr[:2]
    yield run, state, f"http://{host}:{port}", password
    server.stop()
    web_thread.join(5)
    app.close()


def test_admin_adds_a_menu_choice_sees_the_graph_saves_and_the_next_caller_gets_it(box, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    run, state, url, password = box
    wait = WebDriverWait(browser, 20)
    browser.get(url + "/login?next=/flows/main")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#flow-graph g.node[data-node="main_menu"]')))
    edges = '#flow-graph g.edge[data-from="main_menu"][data-to="service"]'
    assert [e.get_attribute("data-label") for e in browser.find_elements(By.CSS_SELECTOR, edges)] == ["2"]
    assert browser.find_element(By.ID, "flow-verdict").get_attribute("textContent") == "valid"
    # The cursor in the menu node: its keys, from the engine's schema, are listed beside the text.
    browser.find_element(By.CSS_SELECTOR, '#flow-graph g.node[data-node="main_menu"]').click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "node-help-title"), "Keys of a menu node"))
    assert "s to wait for the first key after the prompt" in browser.find_element(By.ID, "node-help").text

    # A typo first: the graph shows the jump to a node that does not exist, the line is marked.
    text = browser.find_element(By.ID, "flow-text")
    typo = browser.execute_script("return arguments[0].value", text).replace(MENU_BEFORE, MENU_BEFORE.replace(
        '"service" }', '"service", "3" = "servce" }'))
    browser.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                           text, typo)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#flow-graph g.node.missing[data-node="servce"]')))
    assert "goes to 'servce', which is not a node" in browser.find_element(By.ID, "flow-problems").text
    assert browser.find_elements(By.CSS_SELECTOR, "#flow-gutter .ln.err")
    assert not browser.find_element(By.ID, "flow-save").is_enabled()

    # Corrected: 3 now leads to service too.
    fixed = typo.replace('"3" = "servce"', '"3" = "service"')
    assert MENU_AFTER in fixed
    browser.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                           text, fixed)
    wait.until(lambda _: sorted(e.get_attribute("data-label") for e in browser.find_elements(By.CSS_SELECTOR, edges))
               == ["2", "3"])
    wait.until(lambda _: browser.find_element(By.ID, "flow-save").is_enabled())
    engine = ControlClient(state / "control.sock")
    # Callers have been pressing 3; so far it was not a choice.
    assert reached_service_by_3(engine.call("status")) == []
    browser.find_element(By.ID, "flow-save").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "flow-saved"), "the running flow was swapped in"))
    assert (state / "config" / "flows" / "main.toml").read_text() == fixed
    assert dict(run.engine.app.flow.nodes["main_menu"].choices)["3"] == "service"

    deadline = time.monotonic() + 20
    while not reached_service_by_3(engine.call("status")):
        assert time.monotonic() < deadline, "no caller reached service with 3 after the save"
        time.sleep(0.2)
    engine.close()
    shots = Path(os.environ.get("BRANCHLINE_ARTIFACTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / "flow-editor.png"))
    # The prompts the flow plays, each with its recording and a play button.
    prompts = browser.find_element(By.ID, "flow-prompts")
    browser.execute_script("arguments[0].scrollIntoView()", prompts)
    rows = {r.get_attribute("data-prompt"): r for r in prompts.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert {"welcome", "main-menu", "goodbye"} <= set(rows)
    assert rows["welcome"].find_element(By.CSS_SELECTOR, "button.play").is_enabled()
    # A recording made on a PC (44.1 kHz stereo) uploaded as a new prompt: converted and its level told.
    t = np.arange(44100 * 2) / 44100
    tone = np.round(2300 * np.sin(2 * np.pi * 600 * t) * ((t % 1.0) < 0.6)).astype(np.int16)
    recording = tmp_path / "promo.wav"
    wavfile.write(recording, 44100, np.stack([tone, tone], axis=1))
    browser.find_element(By.ID, "prompt-name").send_keys("promo")
    browser.find_element(By.ID, "prompt-file").send_keys(str(recording))
    browser.find_element(By.CSS_SELECTOR, "#prompt-upload button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "prompt-result"), "Taken: 2 s, active level"))
    assert "promo" in run.engine.prompts.names()
    # Every prompt of the box is listed, the new one among them, for a flow to name.
    browser.find_element(By.CSS_SELECTOR, ".all-prompts summary").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#all-prompts tr[data-prompt="promo"]')))
    assert browser.save_screenshot(str(shots / "flow-editor-prompts.png"))
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
