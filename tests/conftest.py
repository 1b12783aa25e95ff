"""Fixtures shared by every test package: a real headless Chromium driven through selenium, and the
process's temporary-file and logging settings put back after every test."""
from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


SCRATCH_VARIABLES = ("TMPDIR", "SQLITE_TMPDIR")


@pytest.fixture(autouse=True)
def scratch_as_found():
    """A test that runs `branchline run` or the web server in this process also gets their scratch
    directory (firmware/core/scratch.py): settings of the whole process that would send every later
    test's temporary files (Chromium's profile, PostgreSQL's data, SQLite's sorts) to a directory
    removed with that test's own."""
    before = {name: os.environ.get(name) for name in SCRATCH_VARIABLES}, tempfile.tempdir
    yield
    if ({name: os.environ.get(name) for name in SCRATCH_VARIABLES}, tempfile.tempdir) == before:
        return
    for name, value in before[0].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    tempfile.tempdir = before[1]
    # An empty name puts SQLite's own choice back (sqlite.org/pragma.html#pragma_temp_store_directory).
    with sqlite3.connect(":memory:") as conn:
        conn.execute("PRAGMA temp_store_directory = ''")
    conn.close()


@pytest.fixture(autouse=True)
def logging_as_found():
    """A test that configures logging in this process (firmware/core/logfiles.py) leaves the root logger
    writing to that test's captured stderr, closed once it ends: every later record would be a
    "Logging error" instead of reaching pytest's own capture."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    if root.handlers == handlers and root.level == level:
        return
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


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


@pytest.fixture
def heard(mocker):
    """level(ran, channel_name, hz, start, end): the level (dBm0) of a tone at `hz` in what the box sent
    to a channel between two engine times (s), measured on every tick's output frame. `ran` has the
    engine's channels as `engine_channels`. Who hears whom is measured, not assumed: each party speaks
    a steady tone of its own (tests/firmware/test_operations.py)."""
    import threading

    import numpy as np

    from firmware.callcenter.recording import Recordings

    frames: list = []
    lock = threading.Lock()   # the engine may run on a thread of its own (live_box)
    real = Recordings.frames

    def spy(self, rx, tx):
        with lock:
            frames.append((self.svc.clock.seconds, tx.copy()))
        return real(self, rx, tx)
    mocker.patch.object(Recordings, "frames", spy)

    def level(ran, channel_name, hz, start, end):
        names = [c.name for c in ran.engine_channels]
        ch = names.index(channel_name)
        with lock:
            chosen = [f[ch] for t, f in frames if start <= t < end]
        if not chosen:
            return -200.0
        x = np.concatenate(chosen).astype(float)
        spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size))) / (x.size / 4)
        freqs = np.fft.rfftfreq(x.size, 1 / 8000)
        band = spectrum[(freqs > hz - 8) & (freqs < hz + 8)].max()
        return 20 * np.log10(max(band, 1e-9) / 32767) + 3.14
    return level
