"""`make install BOARD=... DESTDIR=...` stages the box for a Pi: code, systemd units, udev rules, ALSA names."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.tools import bytecode
from firmware.tools.web_child import WEB_PYTHON_FLAGS

ROOT = Path(__file__).resolve().parents[2]
# tomli_w is not among them: the web process writes site.toml with it (webui/site_file.py).
TEST_TOOLS = {"pytest", "pytest-mock", "hypothesis", "selenium", "ruff", "mypy", "import-linter"}
DSP_STACK = {"numpy", "scipy"}


def requirements(path: Path) -> set[str]:
    """The package names a pip requirements file installs, following its -r includes."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            names |= requirements(path.parent / line[2:].strip())
        elif line:
            names.add(re.match(r"[A-Za-z0-9._-]+", line).group(0).lower().replace("_", "-"))
    return names


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_install_into_a_temporary_root(tmp_path):
    dest = tmp_path / "root"
    proc = subprocess.run(["make", "-s", "install", "BOARD=usb-modems", f"DESTDIR={dest}", "PREFIX=/opt/bl"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    engine = (dest / "etc/systemd/system/branchline-engine.service").read_text()
    web = (dest / "etc/systemd/system/branchline-web.service").read_text()
    # docs/standards.md §16: Type=notify with a watchdog; the board and prefix filled in.
    assert "Type=notify" in engine and "WatchdogSec=30s" in engine and not re.search(r"@[A-Z]+@", engine)
    assert "ExecStart=/opt/bl/venv/bin/branchline run --no-web --state /var/lib/branchline --board usb-modems" in engine
    assert "SupplementaryGroups=dialout audio" in engine
    assert "ExecStart=/opt/bl/venv/bin/branchline web" in web and "After=branchline-engine.service" in web
    # A restore is applied at the engine's start: restarting the engine restarts the web process with it.
    assert "PartOf=branchline-engine.service" in web
    # Retention runs daily and only deletes what HQ has acknowledged (the command's own rule).
    retention = (dest / "etc/systemd/system/branchline-retention.service").read_text()
    assert "ExecStart=/opt/bl/venv/bin/branchline retention --state /var/lib/branchline --days 90" in retention
    assert "OnCalendar=" in (dest / "etc/systemd/system/branchline-retention.timer").read_text()
    assert (dest / "etc/udev/rules.d/70-branchline-modems.rules").read_text() == \
        (ROOT / "board/udev/70-branchline-modems.rules").read_text()
    assert (dest / "etc/alsa/conf.d/60-branchline.conf").exists()
    assert "u branchline" in (dest / "usr/lib/sysusers.d/branchline.conf").read_text()
    app = dest / "opt/bl"
    assert (app / "board/profiles/usb-modems.toml").exists() and (app / "board/modems.toml").exists()
    assert (app / "drivers/voice_modem.py").exists() and not list(app.rglob("__pycache__"))
    # The native kernels come as source and are compiled by the target's venv for its CPU and Python.
    assert (app / "setup.py").exists() and (app / "dsp/dtmf_kernel.c").exists() and (app / "dsp/mfr2_kernel.c").exists()
    assert not list(app.rglob("*.so"))
    # DESTDIR stages files only: no venv is built, nothing outside the root is touched.
    assert not (app / "venv").exists()
    # What the box installs is only what it runs: no test tool, no HQ collector or its database client.
    box = requirements(app / "requirements.txt")
    assert {"numpy", "bottle", "pyserial"} <= box and not box & (TEST_TOOLS | {"psycopg"})
    assert not (app / "hq").exists() and not (app / "tests").exists() and not list(app.glob("requirements-*"))


def test_hq_installs_no_dsp_stack_and_the_test_set_holds_everything():
    hq = requirements(ROOT / "requirements-hq.txt")
    assert "psycopg" in hq and not hq & (DSP_STACK | TEST_TOOLS)
    everything = requirements(ROOT / "requirements-test.txt")
    assert requirements(ROOT / "requirements.txt") | hq | {"pytest", "hypothesis", "selenium"} <= everything


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_the_venv_is_rebuilt_when_any_requirements_file_or_native_kernel_changes():
    rules = subprocess.run(["make", "-pn", "deps"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    stamp = next(line for line in rules.splitlines() if line.startswith(".venv/.installed:"))
    needs = set(stamp.split(":", 1)[1].split())
    assert {p.name for p in ROOT.glob("requirements*.txt")} <= needs
    assert {"setup.py", "dsp/dtmf_kernel.c", "dsp/mfr2_kernel.c"} <= needs


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_install_refuses_an_unknown_board(tmp_path):
    proc = subprocess.run(["make", "-s", "install", "BOARD=nope", f"DESTDIR={tmp_path}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "no board profile board/profiles/nope.toml" in proc.stderr
    assert not any(tmp_path.iterdir())


def staged(tmp_path: Path) -> Path:
    dest = tmp_path / "root"
    proc = subprocess.run(["make", "-s", "install", "BOARD=usb-modems", f"DESTDIR={dest}", "PREFIX=/opt/bl"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return dest


def settings(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if re.match(r"^[A-Z]\w*=", line):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_every_service_runs_with_a_read_only_root_but_its_state_directory(tmp_path):
    dest = staged(tmp_path)
    for name in ("branchline-engine", "branchline-web", "branchline-retention"):
        unit = settings((dest / f"etc/systemd/system/{name}.service").read_text())
        # docs/architecture.md §30: everything read-only (systemd.exec(5) ProtectSystem=strict) but the
        # state directory, no /tmp shared with others, no way to gain privileges, no bytecode written.
        assert unit["ProtectSystem"] == ["strict"] and unit["StateDirectory"] == ["branchline"], name
        assert "--state /var/lib/branchline" in unit["ExecStart"][0], name
        assert unit["PrivateTmp"] == ["yes"] and unit["NoNewPrivileges"] == ["yes"], name
        assert unit["CapabilityBoundingSet"] == [""] and "ReadWritePaths" not in unit, name
        assert "PYTHONDONTWRITEBYTECODE=1" in " ".join(unit["Environment"]), name
    # The card keeps room for the day's calls: retention every hour makes 4 GB free with what HQ holds.
    retention = (dest / "etc/systemd/system/branchline-retention.service").read_text()
    assert "--days 90 --keep-free-mb 4096" in retention
    assert "OnCalendar=hourly" in (dest / "etc/systemd/system/branchline-retention.timer").read_text()
    # The journal keeps what explains a restart across it, within bounds.
    journald = settings((dest / "etc/systemd/journald.conf.d/60-branchline.conf").read_text())
    assert journald["Storage"] == ["persistent"] and journald["SystemMaxUse"] == ["64M"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None or shutil.which("make") is None,
                    reason="needs make and systemd-analyze")
def test_systemd_rates_every_service_s_exposure_low(tmp_path):
    dest = staged(tmp_path)
    # The program itself is not staged (the venv is built on the target); the analysis only needs it there.
    program = dest / "opt/bl/venv/bin/branchline"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    for name in ("branchline-engine", "branchline-web", "branchline-retention"):
        proc = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={dest}",
                               f"{name}.service"], capture_output=True, text=True, timeout=60)
        level = re.search(r"Overall exposure level for \S+: ([\d.]+)", proc.stdout)
        assert level, proc.stdout + proc.stderr
        # systemd-analyze(1): 0 is fully locked down, 10 not at all; below 2 it calls a service "OK".
        assert float(level.group(1)) < 2.0, proc.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_the_installed_code_is_compiled_once_at_install():
    # The services cannot write beside their code, and would compile every module at each start.
    recipe = subprocess.run(["make", "-n", "install", "BOARD=usb-modems", "PREFIX=/opt/bl"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60).stdout
    assert "/opt/bl/venv/bin/python -m firmware.tools.bytecode" in recipe
    # The same packages as the Makefile installs. The engine runs plain, the web process with its own
    # flags (-OO: optimization level 2).
    listed = re.search(r"^PACKAGES := (.*)$", (ROOT / "Makefile").read_text(), re.M)[1].split()
    assert tuple(listed) == bytecode.PACKAGES
    assert WEB_PYTHON_FLAGS == ("-OO",) and bytecode.WEB_LEVEL == 2


def test_bytecode_covers_both_levels_of_ours_and_the_web_level_of_the_rest(tmp_path, monkeypatch):
    root, stdlib, venv = tmp_path / "box", tmp_path / "stdlib", tmp_path / "venv"
    for name in bytecode.PACKAGES:
        (root / name).mkdir(parents=True)
        (root / name / "mod.py").write_text("X = 1\n")
    for tree in (stdlib, venv):
        (tree / "pkg").mkdir(parents=True)
        (tree / "pkg" / "lazy.py").write_text("Y = 2\n")
        (tree / "pkg" / "tests").mkdir()
        (tree / "pkg" / "tests" / "bad.py").write_text("print 'not Python 3'\n")   # skipped
    (venv / "pkg" / "template.py").write_text("{{ not Python }}\n")   # reported, not the install's failure
    monkeypatch.setattr(bytecode.sysconfig, "get_path", {"stdlib": str(stdlib), "purelib": str(venv)}.__getitem__)
    assert bytecode.compile_all(root)
    tag = sys.implementation.cache_tag
    for name in bytecode.PACKAGES:
        cache = root / name / "__pycache__"
        assert {p.name for p in cache.iterdir()} == {f"mod.{tag}.pyc", f"mod.{tag}.opt-2.pyc"}
    for tree in (stdlib, venv):
        assert f"lazy.{tag}.opt-2.pyc" in {p.name for p in (tree / "pkg" / "__pycache__").iterdir()}
        assert not (tree / "pkg" / "tests" / "__pycache__").exists()
    # One of our modules that does not compile fails the install.
    (root / "webui" / "broken.py").write_text("def f(:\n")
    assert not bytecode.compile_all(root)
