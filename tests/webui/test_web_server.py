"""`branchline web` as a process: serves the web UI and exits cleanly on SIGTERM and SIGINT."""
import http.client
import http.cookiejar
import re
import secrets
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from firmware.store import open_db
from firmware.cli import _web_command
from webui.server import Options, main, parse_options

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_then_stops_cleanly_on_a_signal(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-m", "webui.server", "--state", str(tmp_path), "--port", "0"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stderr:
            if found := re.search(r"listening on (http://\S+)", line):
                url = found.group(1)
                break
        assert url, "the server never said where it listens"

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args):
                return None
        with pytest.raises(urllib.error.HTTPError) as first_run:
            urllib.request.build_opener(NoRedirect).open(url + "login", timeout=5)
        assert first_run.value.code == 303 and first_run.value.headers["Location"].endswith("/setup")
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert "web UI stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "branchline.db").exists()


def test_serves_https_with_the_certificate_it_made_then_stops_cleanly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "webui.server", "--state", str(tmp_path), "--port", "0",
                             "--https-port", "0"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        port = fingerprint = None
        for line in proc.stderr:
            if found := re.search(r"HTTPS on \S+:(\d+), certificate SHA-256 fingerprint (\S+)", line):
                port, fingerprint = int(found[1]), found[2]
            if "listening on http" in line:
                break
        assert port and fingerprint, "the server never said where it serves HTTPS"
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "server.pem"))
        context.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
        conn.request("GET", "/login")
        reply = conn.getresponse()
        assert reply.status == 303 and reply.getheader("Location") == f"https://127.0.0.1:{port}/setup"
        assert reply.getheader("Strict-Transport-Security")
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "web UI stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_exits_when_a_restore_replaces_the_database_so_its_unit_starts_it_on_the_new_one(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "webui.server", "--state", str(tmp_path), "--port", "0"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "listening on" in line:
                break
        fresh = tmp_path / "restored.db"
        open_db(fresh).conn.close()
        fresh.replace(tmp_path / "branchline.db")
        assert proc.wait(timeout=15) == 1
        assert "the database file was replaced" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_refuses_a_missing_state_directory(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--state", str(tmp_path / "nope")])
    assert exit_info.value.code == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [
    ([], "the following arguments are required: --state"),
    (["--state", ".", "--port", "x"], "argument --port: invalid int value: 'x'"),
    (["--state", ".", "--port", "65536"], "port 65536 is not between 0 and 65535"),
    (["--state", ".", "--colour", "red"], "option --colour not recognized"),
    (["--state", ".", "spare"], "unrecognized arguments: spare"),
    (["--state"], "option --state requires argument"),
])
def test_a_bad_command_line_is_refused_with_the_usage(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_options(argv)
    assert exit_info.value.code == 2
    usage, error = capsys.readouterr().err.splitlines()
    assert usage.startswith("usage: branchline web --state DIR") and error == f"branchline web: error: {says}"


def test_the_command_lines_the_box_builds_read_back_as_built(tmp_path):
    for parent, https in ((None, None), (4321, 8443)):
        cmd = _web_command(tmp_path, "0.0.0.0", 8080, parent=parent, https_port=https)
        assert parse_options(cmd[cmd.index("webui.server") + 1:]) == Options(tmp_path, "0.0.0.0", 8080, https, parent)
    assert parse_options(["--state", str(tmp_path)]) == Options(tmp_path, "127.0.0.1", 8080, None, None)


def _mapped_libraries(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as maps:
        return {line.split()[-1] for line in maps if "/" in line}


def test_the_web_process_never_loads_numpy_or_scipy(tmp_path):
    # The engine creates and migrates the database before the web process starts (as on the box);
    # then an administrator signs in and opens every page and the live API they poll.
    open_db(tmp_path / "branchline.db").conn.close()
    proc = subprocess.Popen([sys.executable, "-m", "webui.server", "--state", str(tmp_path), "--port", "0"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        url = next(found.group(1) for line in proc.stderr
                   if (found := re.search(r"listening on (http://\S+)", line)))
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

        def get(path: str) -> str:
            try:
                return browser.open(url + path, timeout=10).read().decode()
            except urllib.error.HTTPError as exc:   # the live API answers 503: no engine runs here
                return exc.read().decode()

        def form(path: str, fields: dict) -> None:
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', get(path)).group(1)
            browser.open(url + path, urllib.parse.urlencode({"csrf_token": csrf, **fields}).encode(), timeout=10)

        password = secrets.token_urlsafe(12)
        form("setup", {"username": "admin", "password": password, "confirm": password})
        form("login", {"username": "admin", "password": password, "next": "/"})
        for path in ("", "calls", "calls?disposition=answered", "lines", "api/v1/status", "api/v1/calls",
                     "api/v1/lines", "api/v1/hq/status", "static/live.js"):
            get(path)
        assert "Sign out" in get(""), "the administrator is not signed in"
        loaded = {lib for lib in _mapped_libraries(proc.pid) if "/numpy" in lib or "/scipy" in lib}
        assert loaded == set()
    finally:
        proc.kill()
        proc.wait()


SIGN_INS = """
import threading
from webui.auth import hash_password
from webui.server import keep_heap_small

def rss_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) // 1024

print(keep_heap_small())
hash_password("the administrator's password")
before = rss_mib()
for _ in range(4):   # sign-ins served by four server threads in turn
    thread = threading.Thread(target=hash_password, args=("a colleague's password",))
    thread.start()
    thread.join()
print(rss_mib() - before)
"""


def test_a_sign_in_gives_its_password_check_memory_back():
    # Each check costs scrypt 16 MiB (webui/auth.py); the web process must not keep it afterwards.
    done = subprocess.run([sys.executable, "-c", SIGN_INS], cwd=ROOT, capture_output=True, text=True, check=True)
    applied, grown_mib = done.stdout.split()
    if applied != "True":
        pytest.skip("no mallopt(3) in this C library")
    assert int(grown_mib) < 16
