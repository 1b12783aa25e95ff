"""`branchline run` as processes: its web process ends with the engine, even when the engine is killed
with SIGKILL, so the next start can serve on the same port; a web process that dies is started again,
as its systemd unit restarts it; `branchline web` on its own (the systemd unit) outlives whatever
started it."""
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from firmware.tools.web_child import WEB_MALLOC_TUNABLES, web_environment

ROOT = Path(__file__).resolve().parents[2]
# A Python start, the engine's boot on the simulated board and the web's first bind: generous for a
# shared 2-core machine; every wait below ends as soon as its condition holds.
START_S = 60.0
# The web process stops within its shutdown timeout (webui/server.py SHUTDOWN_TIMEOUT, 5 s) once told.
STOP_S = 15.0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the parent-death signal is Linux's (prctl PR_SET_PDEATHSIG)")


class Proc:
    """A started process whose stderr lines are read on a thread, so a wait for one never blocks."""

    def __init__(self, args, cwd=ROOT, env=None):
        self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True)
        self.lines: queue.SimpleQueue = queue.SimpleQueue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.popen.stderr:
            self.lines.put(line)

    def log(self):
        """Everything it (and its children) wrote to stderr so far."""
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)

    def wait_for(self, pattern, seconds=START_S):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r} in {seconds} s; stderr so far:\n{self.log()}")


def children(pid):
    """The pids of `pid`'s children (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def running(pid):
    """`pid` exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_gone(pid, seconds=STOP_S):
    deadline = time.monotonic() + seconds
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(pid)


def free_port():
    """A port nobody listens on now. The box's web runs on a fixed port (8080): waitress binds it with
    SO_REUSEADDR then, so the TIME_WAIT connections a stopped server leaves do not block the next
    start, which they would for a port-0 listener."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    # Bound as waitress binds a fixed port (SO_REUSEADDR), so TIME_WAIT connections do not count.
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def serves(url):
    """The web UI answers: on a new box every page sends the visitor to the first-run setup."""
    try:
        with urllib.request.urlopen(url + "login", timeout=10) as reply:
            return reply.status == 200 and reply.url.endswith("/setup")
    except urllib.error.URLError:
        return False


def tunables(pid: int) -> list[str]:
    """The glibc tunables process `pid` was started with (its GLIBC_TUNABLES, read by the loader)."""
    with open(f"/proc/{pid}/environ", "rb") as environ:
        env = dict(item.split(b"=", 1) for item in environ.read().split(b"\0") if b"=" in item)
    return env.get(b"GLIBC_TUNABLES", b"").decode().split(":")


def run_box(state, port):
    """`branchline run` on the simulated board; (its process, the web process's pid, the web's URL)."""
    box = Proc([sys.executable, "-m", "firmware.cli", "run", "--state", str(state), "--port", str(port)])
    url = box.wait_for(r"web UI listening on (http://127\.0\.0\.1:\d+/)").group(1)
    [web] = children(box.popen.pid)
    return box, web, url


def stop(*pids):
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def test_the_web_process_dies_with_a_killed_engine_and_the_next_start_serves_on_its_port(tmp_path):
    port = free_port()
    box, web, url = run_box(tmp_path / "state", port)
    try:
        assert serves(url)
        box.popen.kill()                     # SIGKILL: the engine can pass nothing on
        box.popen.wait(STOP_S)
        assert wait_gone(web), f"the web process outlived the engine killed with SIGKILL:\n{box.log()}"
        assert port_free(port)
    finally:
        stop(box.popen.pid, web)
    again, web2, url2 = run_box(tmp_path / "state", port)
    try:
        assert url2 == url == f"http://127.0.0.1:{port}/" and serves(url2)
        again.popen.terminate()             # an orderly stop takes its web process with it too
        assert again.popen.wait(STOP_S) == 0
        assert wait_gone(web2)
    finally:
        stop(again.popen.pid, web2)


def nice(pid: int) -> int:
    """A process's nice value (proc(5): /proc/<pid>/stat field 19)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[16])


def test_a_killed_web_process_is_started_again_on_its_port_and_the_engine_keeps_running(tmp_path):
    port = free_port()
    box, web, url = run_box(tmp_path / "state", port)
    web2 = web
    try:
        assert serves(url)
        # The web process gives way to the engine's tick (webui/server.py NICE), and runs with its malloc
        # settings (firmware/tools/web_child.py WEB_MALLOC_TUNABLES), which the engine itself does not.
        assert nice(web) == min(19, nice(box.popen.pid) + 10)
        assert WEB_MALLOC_TUNABLES in tunables(web) and WEB_MALLOC_TUNABLES not in tunables(box.popen.pid)
        os.kill(web, signal.SIGKILL)
        # firmware/tools/web_child.py: started again after 2 s, as the unit's RestartSec=2s.
        again = box.wait_for(r"web UI listening on (http://127\.0\.0\.1:\d+/)").group(1)
        assert again == url and serves(url)
        assert box.popen.poll() is None
        [web2] = children(box.popen.pid)
        assert web2 != web and WEB_MALLOC_TUNABLES in tunables(web2)
        box.popen.terminate()
        assert box.popen.wait(STOP_S) == 0
        assert wait_gone(web2)
    finally:
        stop(box.popen.pid, web, web2)


def test_the_web_process_on_its_own_outlives_what_started_it(tmp_path):
    (tmp_path / "state").mkdir()
    log = tmp_path / "web.log"
    # A launcher that starts `branchline web` as the systemd unit does (no engine to follow) and exits.
    launcher = subprocess.run(
        [sys.executable, "-c", ("import subprocess, sys; p = subprocess.Popen(sys.argv[2:], "
                                "stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], 'w')); print(p.pid)"), str(log),
         sys.executable, "-m", "firmware.cli", "web", "--state", str(tmp_path / "state"), "--port", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=START_S, check=True)
    web = int(launcher.stdout)
    try:
        deadline = time.monotonic() + START_S
        while not (found := re.search(r"listening on (http://\S+)", log.read_text())):
            assert running(web) and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        url = found.group(1)
        assert serves(url) and WEB_MALLOC_TUNABLES in tunables(web)
        # Its starter is long gone: a parent-death signal would have been sent as it exited, and the
        # server stops within a second of a signal.
        time.sleep(1.0)
        assert running(web) and serves(url)
    finally:
        stop(web)


def test_a_web_process_whose_engine_died_before_it_could_follow_it_stops(tmp_path):
    # The engine may die between starting its web process and that process arming the parent-death
    # signal: the web process then finds another parent (here: it names pid 1, never its own parent)
    # and stops before it binds the port.
    (tmp_path / "state").mkdir()
    web = subprocess.run([sys.executable, "-m", "webui.server", "--state", str(tmp_path / "state"), "--port", "0",
                          "--parent", "1"], cwd=ROOT, capture_output=True, text=True, timeout=START_S)
    assert web.returncode == 1
    assert "the engine (pid 1) that started the web UI is gone" in web.stderr
    assert "listening" not in web.stderr


# A stop signal handled while the main thread holds the lock of what it waits on, as it does for an
# instant at each of its wake-ups: the main thread of this web process sends itself SIGTERM inside the
# lock of every threading.Event it waits on once it handles SIGTERM, so the handler runs right there.
RACE = textwrap.dedent("""
    import os, signal, sys, threading
    class RacingEvent(threading.Event):
        def wait(self, timeout=None):
            if threading.current_thread() is threading.main_thread() and callable(signal.getsignal(signal.SIGTERM)):
                with self._cond:
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(1000):
                        pass
            return super().wait(timeout)
    threading.Event = RacingEvent
    from webui.server import main
    sys.exit(main(sys.argv[1:]))
""")


def test_a_stop_signal_that_lands_while_the_web_process_waits_stops_it(tmp_path):
    (tmp_path / "state").mkdir()
    web = subprocess.Popen([sys.executable, "-c", RACE, "--state", str(tmp_path / "state"), "--port", "0"],
                           cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        _, err = web.communicate(timeout=START_S)
    except subprocess.TimeoutExpired:
        web.kill()
        raise AssertionError("the web process did not stop on SIGTERM: its handler waits on a lock its own "
                             "thread holds") from None
    assert web.returncode == 0 and "web UI stopped" in err, err


def test_the_web_process_s_tunables_join_those_already_set():
    assert web_environment({"PATH": "/bin"}) == {"PATH": "/bin", "GLIBC_TUNABLES": WEB_MALLOC_TUNABLES}
    assert web_environment({"GLIBC_TUNABLES": "glibc.malloc.check=3"})["GLIBC_TUNABLES"] == \
        f"glibc.malloc.check=3:{WEB_MALLOC_TUNABLES}"
