"""Fixtures shared by every test package: a real headless Chromium driven through selenium."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium (selenium WebDriver) at 1280x900 with a fresh profile; quit afterwards."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"{' and '.join(missing)} not installed (Debian packages chromium, chromium-driver)"
        if _in_ci():
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    # Explicit binary and driver paths keep Selenium Manager from trying to download either.
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def live_box(tmp_path):
    """live_box(scenario_toml) -> (ScenarioRun, state dir): the engine in real time on the simulated
    board, its control socket open, running in a thread until the test ends."""
    import threading

    from firmware.tools.scenario import ScenarioRun, load_scenario

    started = []

    def start(scenario: str):
        path = tmp_path / "scenario.toml"
        path.write_text(scenario)
        run = ScenarioRun(load_scenario(path), tmp_path / "state", clock="paced", control=True)
        thread = threading.Thread(target=run.engine.run, name="engine", daemon=True)
        thread.start()
        started.append((run, thread))
        return run, tmp_path / "state"
    yield start
    for run, thread in started:
        run.engine.stop()
        thread.join(5)
        run.engine.close()
