"""`make bench`'s live events (docs/architecture.md §15): the engine in real time with 30 lines kept busy
by a steady stream of callers and 50 agents answering them, the web process, and 50 agents' consoles
and 5 supervisors' wallboards on GET /api/v1/events. Reports how long after the ring the offered
agent's console has the offer (p50, p95), the engine's tick p99 before and while the pages follow,
and the web process's memory; each process on its own, as on the box.
"""
from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import selectors
import signal
import socket
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from firmware.core.control import ControlClient
from firmware.tools.bench_box import rss_mb, start_process, start_web, web_port
from firmware.tools.bench_memory import WEB_BUDGET_MB

LINES = 30
AGENTS = 50
WALLBOARDS = 5
# Issue 14: the pop is on the agent's screen within 500 ms of the ring at the 95th percentile, and the
# pages following cost the engine's tick p99 less than 0.5 ms.
POP_P95_MS = 500.0
TICK_RISE_MS = 0.5
# The tick statistics cover the last 3000 ticks (firmware/core/engine.py STATS_TICKS): a minute.
PHASE_S = 60.0
WARMUP_S = 25.0
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def scenario(lines: int, agents: int) -> str:
    """Callers arriving all the time (a quarter of them known customers), keying sales or service,
    talking 15-45 s: about `lines` calls at once with the agents' wrap-ups, an offer a second or so."""
    people = "".join(f'[[agents]]\nid = "{9000 + i}"\nqueues = ["sales", "service"]\nanswer_after = 1.0\n'
                     f"talk = 100000.0\n" for i in range(agents))
    customers = "".join(f'[[customers]]\nnumber = "1390000{i:04d}"\nname = "Customer {i}"\nvip = {i % 3}\n'
                        for i in range(50))
    traffic = (f'[[traffic]]\nper_hour = {lines * 120}\nkeys = ["1", "2"]\npatience = [600.0, 600.0]\n'
               "talk = [15.0, 45.0]\nkey_delay = 1.0\ncustomers = 0.25\n")
    return f"[run]\nseconds = 100000\ntrunks = {lines}\ndrain = 0\n{people}{customers}{traffic}"


def engine_main(state: Path) -> None:
    """The box in real time (paced clock) with its control socket, until SIGTERM."""
    from firmware.tools.scenario import ScenarioRun, load_scenario

    path = state.parent / "events.toml"
    path.write_text(scenario(LINES, AGENTS))
    run = ScenarioRun(load_scenario(path), state, clock="paced", control=True)
    signal.signal(signal.SIGTERM, lambda *_: run.engine.stop())
    run.engine.run()
    run.engine.close()


class _Session:
    """A signed-in browser: its cookies, for the API and for the event stream."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        try:
            return self.opener.open(self.base + path, timeout=60).read().decode()
        except urllib.error.HTTPError as exc:
            return exc.read().decode()

    def form(self, path: str, fields: dict) -> None:
        csrf = _CSRF.search(self.get(path if path != "/account/password" else "/account"))
        if csrf is None:
            raise RuntimeError(f"events benchmark: {path} carries no CSRF token")
        body = urllib.parse.urlencode({"csrf_token": csrf[1], **fields}).encode()
        self.opener.open(self.base + path, body, timeout=60)

    def post_json(self, path: str, body: dict) -> dict:
        csrf = _CSRF.search(self.get("/account"))
        if csrf is None:
            raise RuntimeError("events benchmark: no CSRF token on /account")
        request = urllib.request.Request(self.base + path, json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "X-CSRF-Token": csrf[1]})
        return json.loads(self.opener.open(request, timeout=60).read())

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def _staff(base: str, agents: int = AGENTS,
           wallboards: int = WALLBOARDS) -> tuple[_Session, list[tuple[_Session, str | None]]]:
    """The admin, then 50 agents (each linked to their agent id, 9000 on) and 5 supervisors, each signed in."""
    admin, password = _Session(base), secrets.token_urlsafe(12)
    admin.form("/setup", {"username": "admin", "password": password, "confirm": password})
    admin.form("/login", {"username": "admin", "password": password, "next": "/"})
    people: list[tuple[_Session, str | None]] = []
    for n in range(agents + wallboards):
        agent = str(9000 + n) if n < agents else None
        name = f"agent{n}" if agent else f"supervisor{n - agents}"
        temporary = secrets.token_urlsafe(12)
        admin.post_json("/api/v1/users", {"username": name, "roles": ["agent"] if agent else ["supervisor"],
                                          "agent_id": agent, "password": temporary})
        user = _Session(base)
        user.form("/login", {"username": name, "password": temporary, "next": "/"})
        user.form("/account/password", {"current": temporary, "password": password, "confirm": password})
        people.append((user, agent))
    return admin, people


class _Stream:
    """One page's GET /api/v1/events, read as it comes: chunked (RFC 9112 §7.1) SSE messages."""

    def __init__(self, port: int, cookie: str, agent: str | None):
        self.agent = agent
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: box\r\nAccept: text/event-stream\r\n"
                          f"Cookie: {cookie}\r\n\r\n".encode())
        self.sock.setblocking(False)
        self.raw = b""
        self.head_done = False
        self.text = ""
        self.messages = 0

    def read(self, now: float, offers: list[tuple[float, dict]]) -> None:
        """Take what arrived; each offer message, with when it arrived, goes to `offers`."""
        data = self.sock.recv(1 << 16)
        if not data:
            raise RuntimeError("events benchmark: the server closed a stream")
        self.raw += data
        if not self.head_done:
            if b"\r\n\r\n" not in self.raw:
                return
            head, _, self.raw = self.raw.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"events benchmark: the stream was refused: {head[:80]!r}")
            self.head_done = True
        while b"\r\n" in self.raw:
            size_line, _, rest = self.raw.partition(b"\r\n")
            size = int(size_line, 16)
            if len(rest) < size + 2:
                return
            self.text += rest[:size].decode()
            self.raw = rest[size + 2:]
        *messages, self.text = self.text.split("\n\n")
        self.messages += len(messages)
        for block in messages:
            if "event: offer" in block:
                data_line = next(line for line in block.split("\n") if line.startswith("data: "))
                offers.append((now, json.loads(data_line[6:])))


def _follow(streams: list[_Stream], seconds: float, control: ControlClient) -> tuple[list, list]:
    """Read every stream for `seconds`: (stream, time it had the offer, the offer) for each offer, and
    once a second how far the engine's clock is behind the wall clock (wall time of the answer minus
    the status's `now`)."""
    selector = selectors.DefaultSelector()
    for s in streams:
        selector.register(s.sock, selectors.EVENT_READ, s)
    got: list[tuple[_Stream, float, dict]] = []
    lag: list[tuple[float, float]] = []
    end = time.time() + seconds
    next_lag = 0.0
    while (now := time.time()) < end:
        if now >= next_lag:
            next_lag = now + 1.0
            engine_now = control.call("status")["box"]["now"]
            answered = time.time()
            lag.append((answered, answered - engine_now))
        for key, _ in selector.select(timeout=0.2):
            offers: list[tuple[float, dict]] = []
            key.data.read(time.time(), offers)
            got += [(key.data, at, offer) for at, offer in offers]
    selector.close()
    return got, lag


def _pop_ms(at: float, offer: dict, lag: list[tuple[float, float]]) -> float:
    """How long after the ring the console had the offer. The offer's `at` is the engine's tick time,
    which falls behind the wall clock whenever the paced loop was held up more than a second
    (firmware/core/clock.py MAX_BEHIND); the smallest lag measured within 5 s is taken, which can only
    make the figure larger (the status answer itself takes part of a tick)."""
    near = [behind for when, behind in lag if abs(when - at) <= 5.0] or [behind for _, behind in lag]
    return 1000.0 * (at - (offer["at"] + min(near)))


def _ticks(control: ControlClient) -> dict:
    status = control.call("status")
    busy = sum(1 for line in status["lines"] if line["kind"] == "trunk" and line["state"] != "idle")
    return {**status["ticks"], "busy": busy}


def measure(phase_s: float = PHASE_S) -> dict:
    with tempfile.TemporaryDirectory(prefix="branchline-bench-events-") as tmp:
        root = Path(tmp)
        state = root / "state"
        state.mkdir()
        engine = start_process(["-m", "firmware.tools.bench_events", "engine", str(state)], root / "engine.log")
        web = None
        streams: list[_Stream] = []
        started = time.monotonic()
        try:
            while not (state / "control.sock").exists() and time.monotonic() < started + 60:
                time.sleep(0.1)
            web = start_web(state, root / "web.log")
            port = web_port(root / "web.log", web)
            _, people = _staff(f"http://127.0.0.1:{port}")
            control = ControlClient(state / "control.sock")
            # The lines fill up, and the sign-ins' password hashing is over: then a whole window of
            # tick statistics with nobody following.
            time.sleep(max(0.0, started + WARMUP_S - time.monotonic()) + phase_s)
            before = _ticks(control)
            web_before = rss_mb(web.pid)
            streams = [_Stream(port, session.cookie, agent) for session, agent in people]
            got, lag = _follow(streams, phase_s, control)
            during = _ticks(control)
            web_after = rss_mb(web.pid)
            control.close()
        finally:
            for s in streams:
                s.sock.close()
            for proc in (web, engine):
                if proc is not None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    own = [_pop_ms(at, offer, lag) for stream, at, offer in got if stream.agent == offer["agent"]]
    wrong = sum(1 for stream, _, offer in got if stream.agent is not None and stream.agent != offer["agent"])
    boards = sum(1 for stream, _, _ in got if stream.agent is None)
    cuts = statistics.quantiles(own, n=20) if len(own) >= 2 else [float("nan")] * 19
    return {"offers": len(own), "wallboard_offers": boards, "wrong_agent": wrong,
            "pop_p50_ms": statistics.median(own) if own else float("nan"), "pop_p95_ms": cuts[18],
            "pop_max_ms": max(own, default=float("nan")), "before": before, "during": during,
            "events_per_min": max(s.messages for s in streams) * 60.0 / phase_s,
            "web_before_mb": web_before, "web_after_mb": web_after}


def run(out=print, quick: bool = False) -> dict:
    r = measure()
    out(f"Live events: the engine in real time with {r['during']['busy']} of {LINES} lines busy, {AGENTS} agents' "
        f"consoles and {WALLBOARDS} wallboards on GET /api/v1/events for {PHASE_S:.0f} s:")
    out(f"  offer -> the offered agent's console: {r['offers']} offers, p50 {r['pop_p50_ms']:.0f} ms, "
        f"p95 {r['pop_p95_ms']:.0f} ms, max {r['pop_max_ms']:.0f} ms (target p95 < {POP_P95_MS:.0f} ms); "
        f"the wallboards had {r['wallboard_offers']}, other agents {r['wrong_agent']}; "
        f"{r['events_per_min']:.0f} events a minute")
    rise = r["during"]["p99_ms"] - r["before"]["p99_ms"]
    out(f"  engine tick p99 {r['before']['p99_ms']:.3f} ms before the pages, {r['during']['p99_ms']:.3f} ms while "
        f"they follow: {rise:+.3f} ms (target < +{TICK_RISE_MS} ms; mean {r['before']['mean_ms']:.3f} -> "
        f"{r['during']['mean_ms']:.3f} ms)")
    out(f"  web process RSS {r['web_before_mb']:.1f} MB before the streams, {r['web_after_mb']:.1f} MB with them "
        f"(budget {WEB_BUDGET_MB:.0f} MB)")
    return r


if __name__ == "__main__":
    if sys.argv[1:2] == ["engine"]:
        engine_main(Path(sys.argv[2]))
    else:
        run(quick="--quick" in sys.argv)
