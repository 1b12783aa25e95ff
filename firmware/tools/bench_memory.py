"""Memory benchmark: the resident size (RSS) of the web process over an hour of demo traffic and many page
views, and of the engine with 30 lines busy; each measured in its own process, as on the box."""
from __future__ import annotations

import dataclasses
import http.cookiejar
import json
import re
import secrets
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from firmware.tools.bench_box import WARMUP_S, busy_box, rss_mb, start_process, start_web, web_port

ROOT = Path(__file__).resolve().parents[2]
# The budgets for a 1 GB board: the web process after an hour of demo traffic and 1,000 page
# views, the engine at 30 busy lines.
WEB_BUDGET_MB = 40.0
ENGINE_BUDGET_MB = 90.0
ENGINE_LINES = 30
# A page view: the page and its style sheet and script; a live page (webui/static/live.js `follower`)
# then reads its snapshot once and follows the live events (GET /api/v1/events) while it is looked at,
# polling nothing. Each browser keeps its page's event stream open until it opens the next page.
# The customer search by number reads the number as the pop does (phonenumbers and its metadata).
PAGES = ("/", "/calls", "/lines", "/calls?page=2", "/calls/{call}", "/calls?disposition=answered", "/wallboard",
         "/api/v1/wallboard", "/customers?q=13800138000")
ASSETS = ("/static/branchline.css", "/static/live.js")
# The snapshot each live page reads (dashboard.js, lines.js, wallboard.js); the others are not live.
SNAPSHOTS = {"/": "/api/v1/status", "/lines": "/api/v1/lines", "/wallboard": "/api/v1/wallboard"}
EVENTS = "/api/v1/events"
# A wallboard, supervisors and a technician with the web UI open at once, each signed in.
BROWSERS = 4
_HTTPS_ON = re.compile(rb"HTTPS on [^ ]+:(\d+),")
_CALL_LINK = re.compile(r'href="/calls/([^"?]+)"')
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _engine_in_this_process(lines: int, seconds: float) -> dict:
    with busy_box(lines) as (run, busy):
        engine = run.engine
        engine.run(until=lambda: engine.clock.seconds >= WARMUP_S + seconds)
        result = {"lines": lines, "busy": busy, "sim_s": engine.clock.seconds, "rss_mb": rss_mb()}
    return result


def engine_rss(lines: int = ENGINE_LINES, seconds: float = 60.0) -> dict:
    """The engine's RSS with every one of `lines` trunks in a call, on the simulated board in fast mode."""
    done = subprocess.run([sys.executable, "-m", "firmware.tools.bench_memory", "engine", str(lines), str(seconds)],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _demo_hour(state: Path, seconds: float) -> int:
    """`seconds` of the demo's traffic (board/scenarios/demo.toml) in the records, run in fast time."""
    from firmware.tools.scenario import DEMO_SCENARIO, ScenarioRun, load_scenario

    scn = dataclasses.replace(load_scenario(DEMO_SCENARIO), seconds=seconds, drain=60.0)
    report = ScenarioRun(scn, state, clock="fast", epoch=time.time() - seconds - scn.drain).run()
    return report["totals"]["calls"]


class _Browser:
    """A browser with its own session cookie; an error page counts as a page view too."""

    def __init__(self, base: str):
        self.base = base
        # Over HTTPS, the box's own self-signed certificate: what is measured is the web process, not trust.
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  urllib.request.HTTPSHandler(context=unverified))
        self.stream = None      # the open event stream of the page looked at now

    def get(self, path: str) -> str:
        try:
            return self.opener.open(self.base + path, timeout=30).read().decode()
        except urllib.error.HTTPError as exc:
            return exc.read().decode()

    def form(self, path: str, fields: dict) -> None:
        page = self.get(path)
        csrf = _CSRF.search(page)
        if csrf is None:
            raise RuntimeError(f"memory benchmark: {path} carries no CSRF token: {page[:200]!r}")
        self.opener.open(self.base + path, urllib.parse.urlencode({"csrf_token": csrf[1], **fields}).encode(),
                         timeout=60)

    def view(self, page: str) -> None:
        self.close()          # leaving the page ends its stream, as a browser does
        self.get(page)
        for asset in ASSETS:
            self.get(asset)
        snapshot = SNAPSHOTS.get(page)
        if snapshot is not None:
            self.get(snapshot)
            stream = self.opener.open(self.base + EVENTS, timeout=30)
            stream.readline()        # the stream's first line: the web process has subscribed it
            self.stream = stream

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def _views(browsers: list[_Browser], first: int, last: int, call_ids: list[str]) -> None:
    """Page views first..last-1, shared out among the browsers, which browse at the same time."""
    def browse(k: int) -> None:
        for n in range(first + k, last, len(browsers)):
            browsers[k].view(PAGES[n % len(PAGES)].replace("{call}", call_ids[n % len(call_ids)]))
    with ThreadPoolExecutor(len(browsers)) as pool:
        list(pool.map(browse, range(len(browsers))))


def web_rss(views: int = 1000, demo_s: float = 3600.0, https: bool = False) -> dict:
    """The web process's RSS at start, after sign-in and after `views` page views from BROWSERS browsers
    at once, with the demo running on the engine (paced) over a database holding `demo_s` of its traffic;
    `https`: the browsers come over the web process's HTTPS listener (webui/tls_front.py)."""
    with tempfile.TemporaryDirectory(prefix="branchline-bench-memory-") as tmp:
        root = Path(tmp)
        state = root / "state"
        calls = _demo_hour(state, demo_s)
        engine = start_process(["-m", "firmware.cli", "run", "--state", str(state), "--demo", "--no-web"],
                               root / "engine.log")
        web = None
        try:
            deadline = time.monotonic() + 60
            while not (state / "control.sock").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            web = start_web(state, root / "web.log", *(["--https-port", "0"] if https else []))
            base = f"http://127.0.0.1:{web_port(root / 'web.log', web)}"
            if https:
                base = f"https://127.0.0.1:{_https_port(root / 'web.log')}"
            browsers = [_Browser(base) for _ in range(BROWSERS)]
            figures = {"calls": calls, "browsers": BROWSERS, "start_mb": rss_mb(web.pid)}
            password = secrets.token_urlsafe(12)
            browsers[0].form("/setup", {"username": "admin", "password": password, "confirm": password})
            for browser in browsers:
                browser.form("/login", {"username": "admin", "password": password, "next": "/"})
                if "Sign out" not in browser.get("/"):
                    raise RuntimeError("memory benchmark: the administrator could not sign in")
            figures["signed_in_mb"] = rss_mb(web.pid)
            call_ids = _CALL_LINK.findall(browsers[0].get("/calls")) or ["none"]
            _views(browsers, 0, views // 10, call_ids)
            figures["tenth_mb"] = rss_mb(web.pid)
            _views(browsers, views // 10, views, call_ids)
            figures.update(views=views, end_mb=rss_mb(web.pid))
            for browser in browsers:
                browser.close()
        finally:
            for proc in (web, engine):
                if proc is not None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    return figures


def _https_port(log: Path) -> int:
    found = _HTTPS_ON.search(log.read_bytes())      # logged before the plain listener's line web_port waited for
    if found is None:
        raise RuntimeError(f"the web process has no HTTPS listener: {log.read_text()[-2000:]}")
    return int(found[1])


def run(out=print, quick: bool = False) -> dict:
    """The web process over plain HTTP and over HTTPS (webui/tls_front.py, as the box serves its LAN), then
    the engine."""
    figures: dict[str, dict] = {}
    for https in (False, True):
        web = web_rss(views=200 if quick else 1000, demo_s=600.0 if quick else 3600.0, https=https)
        figures["https" if https else "web"] = web
        out(f"Web process RSS (`python -m webui.server`, 8 threads) over {web['calls']} calls of demo traffic in "
            f"the records, the demo running on the engine (paced), {web['browsers']} browsers at once"
            f"{' over HTTPS' if https else ''}:")
        out(f"  at start {web['start_mb']:.1f} MB, after their sign-ins {web['signed_in_mb']:.1f} MB, "
            f"after {web['views'] // 10} page views {web['tenth_mb']:.1f} MB, after {web['views']} "
            f"{web['end_mb']:.1f} MB (budget {WEB_BUDGET_MB:.0f} MB; a view is a page and 2 assets, and for a "
            f"live page its snapshot and an event stream kept open until the next view)")
    engine = engine_rss(seconds=20.0 if quick else 60.0)
    out(f"Engine RSS with {engine['busy']} of {engine['lines']} lines in a call (simulated board, fast mode, "
        f"{engine['sim_s']:.0f} simulated s): {engine['rss_mb']:.1f} MB (budget {ENGINE_BUDGET_MB:.0f} MB)")
    return {**figures, "engine": engine}


if __name__ == "__main__":
    if sys.argv[1:2] == ["engine"]:
        print(json.dumps(_engine_in_this_process(int(sys.argv[2]), float(sys.argv[3]))))
    else:
        run(quick="--quick" in sys.argv)
