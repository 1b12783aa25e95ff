"""`make install BOARD=... DESTDIR=...` stages the box for a Pi: code, systemd units, udev rules, ALSA names."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_install_into_a_temporary_root(tmp_path):
    dest = tmp_path / "root"
    proc = subprocess.run(["make", "-s", "install", "BOARD=usb-modems", f"DESTDIR={dest}", "PREFIX=/opt/bl"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    engine = (dest / "etc/systemd/system/branchline-engine.service").read_text()
    web = (dest / "etc/systemd/system/branchline-web.service").read_text()
    # docs/standards.md §16: Type=notify with a watchdog; the board and prefix filled in.
    assert "Type=notify" in engine and "WatchdogSec=30s" in engine and "@" not in engine.split("[Unit]")[1]
    assert "ExecStart=/opt/bl/venv/bin/branchline run --no-web --state /var/lib/branchline --board usb-modems" in engine
    assert "SupplementaryGroups=dialout audio" in engine
    assert "ExecStart=/opt/bl/venv/bin/branchline web" in web and "After=branchline-engine.service" in web
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
    # DESTDIR stages files only: no venv is built, nothing outside the root is touched.
    assert not (app / "venv").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_install_refuses_an_unknown_board(tmp_path):
    proc = subprocess.run(["make", "-s", "install", "BOARD=nope", f"DESTDIR={tmp_path}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "no board profile board/profiles/nope.toml" in proc.stderr
    assert not any(tmp_path.iterdir())
