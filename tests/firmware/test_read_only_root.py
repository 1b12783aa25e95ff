"""The box runs with `/` read-only and only its state directory writable (docs/architecture.md §30):
`branchline run --demo`, engine and web, with calls and recordings, a ticket, a report's workbook and a
backup, writes nothing anywhere else. Shown twice: in a mount namespace whose root is remounted
read-only (where the machine lets a test make one), and everywhere with an audit hook that records
every file the processes open for writing."""
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from test_cli_run import START_S, STOP_S, Proc, children, running, stop

ROOT = Path(__file__).resolve().parents[2]
# Made at each run: the repository holds no password (tests/test_no_secrets.py).
PASSWORD = secrets.token_urlsafe(12)
# The hook is the first thing each Python process of the box runs (sitecustomize), so it sees every
# open, rename, mkdir and Unix socket bind of the engine, its web process and their children.
HOOK = textwrap.dedent("""
    import os, sys
    _out = open(os.environ["BRANCHLINE_WRITE_AUDIT"], "a", buffering=1)
    _WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    # event: (the argument naming the path, the argument naming the directory it is relative to)
    _PATHS = {"os.mkdir": (0, 2), "os.remove": (0, 1), "os.rename": (1, 3), "os.rmdir": (0, 1),
              "os.symlink": (1, 2), "os.link": (1, 3), "os.truncate": (0, None), "os.chmod": (0, 2),
              "os.chown": (0, 3), "os.utime": (0, 3), "shutil.copyfile": (1, None), "shutil.move": (1, None)}

    def _hook(event, args):
        at = None
        if event == "open":
            path, mode, flags = args
            if not (any(c in mode for c in "wax+") if isinstance(mode, str) else (flags or 0) & _WRITE):
                return
        elif event in _PATHS:
            where, relative_to = _PATHS[event]
            path = args[where]
            if relative_to is not None and isinstance(args[relative_to], int) and args[relative_to] >= 0:
                at = os.readlink(f"/proc/self/fd/{args[relative_to]}")   # shutil.rmtree's fd-relative calls
        elif event == "socket.bind" and isinstance(args[1], (str, bytes)):
            path = args[1]
        else:
            return
        if not isinstance(path, int):
            path = os.fsdecode(path)
            _out.write(f"{event} {os.path.abspath(os.path.join(at, path) if at else path)}\\n")

    sys.addaudithook(_hook)
""")


def unit_environment(unit: str) -> dict[str, str]:
    """The Environment= of a systemd unit under board/systemd/: the box runs as the unit starts it."""
    found = {}
    for line in (ROOT / "board/systemd" / unit).read_text().splitlines():
        if line.startswith("Environment="):
            for item in line.split("=", 1)[1].split():
                key, _, value = item.partition("=")
                found[key] = value
    return found


def box_environment(**extra: str) -> dict[str, str]:
    """Nothing of the test's own environment: no TMPDIR, a HOME nobody may write, the unit's settings."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)}
    env.update(unit_environment("branchline-engine.service"))
    env.update(extra)
    return env


class Browser:
    """A signed-in admin over HTTP, as the pages' scripts are (the session cookie, the CSRF header)."""

    def __init__(self, url: str):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""

    def call(self, method: str, path: str, body: dict | None = None, form: dict | None = None) -> bytes:
        data, headers = None, {"X-CSRF-Token": self.csrf}
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.url + path.lstrip("/"), data=data, headers=headers, method=method)
        with self.opener.open(request, timeout=60) as reply:
            return reply.read()

    def first_admin(self) -> None:
        page = self.call("GET", "setup").decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.call("POST", "setup", form={"username": "admin", "password": PASSWORD, "confirm": PASSWORD,
                                         "csrf_token": token})
        self.csrf = json.loads(self.call("POST", "api/v1/session", {"user": "admin", "password": PASSWORD}))[
            "csrf_token"]


def recordings(state: Path) -> list[Path]:
    return list((state / "recordings").rglob("*.wav"))


def exercise(box: Proc, state: Path) -> None:
    """Sign in, wait for a recorded call, write a ticket, export a report, take a backup; stop the box."""
    url = box.wait_for(r"web UI listening on (http://127\.0\.0\.1:\d+/)").group(1)
    [web] = children(box.popen.pid)
    try:
        browser = Browser(url)
        browser.first_admin()
        ticket = json.loads(browser.call("POST", "api/v1/tickets", {"title": "Router keeps dropping",
                                                                     "category": "repair", "priority": "normal"}))
        assert ticket["ticket"]["id"]
        workbook = browser.call("GET", "api/v1/reports/agents?format=xlsx")
        assert workbook[:2] == b"PK"
        archive = browser.call("GET", "api/v1/backup")
        assert archive[:2] == b"PK"
        # The demo's first callers reach an agent within seconds and are recorded from then on.
        deadline = time.monotonic() + START_S
        while not recordings(state) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert recordings(state), box.log()
        box.popen.send_signal(signal.SIGTERM)
        assert box.popen.wait(STOP_S) == 0, box.log()
    finally:
        stop(box.popen.pid, web)
    assert (state / "tmp").is_dir()
    assert "Traceback" not in box.log() and " ERROR " not in box.log(), box.log()


def test_nothing_outside_the_state_directory_is_opened_for_writing(tmp_path):
    state, hooks, audit = tmp_path / "state", tmp_path / "hooks", tmp_path / "writes.log"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(HOOK)
    env = box_environment(PYTHONPATH=f"{hooks}:{ROOT}", BRANCHLINE_WRITE_AUDIT=str(audit))
    box = Proc([sys.executable, "-m", "firmware.cli", "run", "--demo", "--state", str(state), "--port", "0"],
               env=env)
    exercise(box, state)
    writes = audit.read_text().splitlines()
    assert any(line.endswith(".wav") for line in writes)        # the hook saw the recorder's files
    outside = [line for line in writes if not line.split(" ", 1)[1].startswith(f"{state}/")
               and line.split(" ", 1)[1] not in (str(state), "/dev/null")]
    assert outside == []


def _can_remount_read_only(tmp_path: Path) -> str | None:
    """Why this machine cannot give a process a read-only root, or None."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return "needs root and unshare(1) to make a mount namespace"
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", READ_ONLY_ROOT + " touch /.branchline-ro-probe",
                            "sh", str(tmp_path)], capture_output=True, text=True, timeout=30)
    if "Read-only file system" not in probe.stderr:
        return f"this container does not let a mount namespace remount / read-only: {probe.stderr.strip()}"
    return None


# The state directory bound onto itself stays writable when `/` (and with it every other path under the
# same mount: /tmp, /var/tmp, the code, the venv) is remounted read-only; $1 is the state directory.
READ_ONLY_ROOT = 'mount --make-rprivate / && mount --bind "$1" "$1" && mount -o remount,bind,ro / &&'


def test_the_box_runs_with_a_read_only_root(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    if why := _can_remount_read_only(tmp_path):
        pytest.skip(why)
    box = Proc(["unshare", "--mount", "sh", "-c", READ_ONLY_ROOT + ' shift; exec "$@"', "sh", str(state),
                sys.executable, "-m", "firmware.cli", "run", "--demo", "--state", str(state), "--port", "0"],
               env=box_environment())
    exercise(box, state)
    assert not running(box.popen.pid)
