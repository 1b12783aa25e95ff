"""Test harness for HQ sync: a loopback TCP proxy that cuts connections, and boxes run as real processes."""
from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "tests" / "scenarios" / "day_flow.toml"


class CuttingProxy:
    """Forwards loopback connections to a box's web port; while `cutting`, drops some replies part way.

    Each connection carries one request (the collector opens one per request), so the proxy knows
    whether a cut fell inside a page of changes or inside a file, and sees every Range request.
    `plan` scripts cuts instead: {"page": [bytes, ...], "file": [...]}, one per request of that kind
    in turn (None lets one through), then no more cuts."""

    def __init__(self, rng: random.Random, cut_probability: float = 0.3, page_budget: int = 8000,
                 file_budget: int = 600_000, plan: dict[str, list[int | None]] | None = None):
        self.rng, self.p = rng, cut_probability
        self.page_budget, self.file_budget = page_budget, file_budget
        self.plan = plan
        self.target: tuple[str, int] | None = None
        self.cutting = True
        self.stats = {"connections": 0, "refused": 0, "cut_early": 0, "cut_page": 0, "cut_file": 0,
                      "range_requests": 0}
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._count("connections")
        upstream = None
        try:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            target = self.target
            if target is None:
                self._count("refused")
                return
            if b"\r\nrange:" in head.lower():
                self._count("range_requests")
            is_page = b"/api/v1/sync/changes" in head.split(b"\r\n", 1)[0]
            budget = None
            with self._lock:
                if self.plan is not None:
                    steps = self.plan["page" if is_page else "file"]
                    budget = steps.pop(0) if steps else None
                elif self.cutting and self.rng.random() < self.p:
                    budget = self.rng.randint(0, self.page_budget if is_page else self.file_budget)
            upstream = socket.create_connection(target, timeout=10)
            upstream.sendall(head)
            threading.Thread(target=self._pump_up, args=(client, upstream), daemon=True).start()
            sent, start = 0, b""
            while True:
                data = upstream.recv(65536)
                if not data:
                    return
                if budget is not None and sent + len(data) > budget:
                    client.sendall(data[: budget - sent])
                    # A cut inside the body, after the reply's head went through, or before it.
                    in_body = b"\r\n\r\n" in start + data[: budget - sent]
                    self._count(("cut_page" if is_page else "cut_file") if in_body else "cut_early")
                    return
                client.sendall(data)
                if len(start) < 4096:
                    start += data[:4096]
                sent += len(data)
        except OSError:
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    # shutdown, not just close: the pump thread blocked in recv() holds the socket
                    # open, and the collector must see the link drop now, not at its timeout.
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()

    @staticmethod
    def _pump_up(client: socket.socket, upstream: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                upstream.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self._stop = True
        self._listener.close()


def scenario_text(seed: int, seconds: float = 240.0) -> str:
    """A few simulated minutes on six lines: recorded calls and callers leaving voicemails."""
    return f"""
[run]
seconds = {seconds}
seed = {seed}
trunks = 6
flow = "{FLOW}"

[[agents]]
id = "101"
skills = {{ sales = 5, service = 5 }}
talk = 20.0
answer_after = 2.0

[[agents]]
id = "102"
skills = {{ sales = 5, service = 5 }}
talk = 15.0
answer_after = 3.0

[[traffic]]
per_hour = 360
keys = ["1", "2"]
key_delay = 5.0
patience = [60.0, 200.0]
talk = [10.0, 25.0]
later_keys = [[12.0, "8", 0.3]]
speak = [[16.0, 5.0]]
"""


def _python(*args: str, log: Path) -> subprocess.Popen:
    out = open(log, "ab")
    try:
        return subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    finally:
        out.close()


class BoxProcesses:
    """One box as the board runs it: the engine (a fast scenario) and the web process, each killable."""

    LISTENING = re.compile(rb"web UI listening on http://127\.0\.0\.1:(\d+)/")

    def __init__(self, name: str, root: Path, first_seed: int):
        self.name, self.root = name, root
        self.state = root / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.seed = first_seed
        self.engine: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.engine_runs = self.engine_kills = self.web_kills = 0

    def start_web(self, timeout: float = 30.0) -> int:
        log = self.root / f"web-{self.web_kills}.log"
        self.web = _python("-m", "webui.server", "--state", str(self.state), "--port", "0", log=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if m := self.LISTENING.search(log.read_bytes()):
                return int(m[1])
            if self.web.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"box {self.name}: web process did not start: {log.read_text()[-2000:]}")

    def kill_web(self) -> None:
        if self.web is not None:
            self.web.send_signal(signal.SIGKILL)
            self.web.wait(10)
            self.web = None
            self.web_kills += 1

    def start_engine(self) -> None:
        self.seed += 1
        path = self.root / f"scenario-{self.seed}.toml"
        path.write_text(scenario_text(self.seed))
        self.engine = _python("-m", "firmware.cli", "scenario", str(path), "--fast", "--state", str(self.state),
                              log=self.root / f"engine-{self.seed}.log")
        self.engine_runs += 1

    def engine_running(self) -> bool:
        return self.engine is not None and self.engine.poll() is None

    def kill_engine(self) -> None:
        if self.engine_running():
            self.engine.send_signal(signal.SIGKILL)
            self.engine.wait(10)
            self.engine_kills += 1

    def wait_engine(self, timeout: float = 120.0) -> None:
        if self.engine is not None:
            self.engine.wait(timeout)

    def stop(self) -> None:
        self.kill_engine()
        self.kill_web()


class CollectorProcess:
    """`branchline hq pull --config ...` in continuous mode, killable at any instant."""

    def __init__(self, config: Path, root: Path):
        self.config, self.root = config, root
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        self.proc = _python("-m", "firmware.cli", "hq", "pull", "--config", str(self.config),
                            log=self.root / f"collector-{self.kills}.log")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.kills += 1
        self.proc = None
