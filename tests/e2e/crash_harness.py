"""The real box under load on 120 busy lines, cut down at random points and started again on its state.

Three kinds of cut (`rounds()`):
- "engine": SIGKILL to the engine (its web process follows it by the parent-death signal);
- "web": SIGKILL to the web process while it writes; the engine starts it again (firmware/tools/web_child.py);
- "power": both processes and the page cache at once: tests/e2e/powercut.c logs every write not yet
  made durable, the whole process group is killed at a chosen write (or a chosen time), and
  tests/e2e/powercut.py rolls the state directory back to what a card holds after a power loss.

After each restart, what the box acknowledged is there (`Round.check`): every call that ended more than
1 s before the cut (seen ending on the engine's live events) is in the store, closed, with its events;
every recording and voicemail is a WAV whose row (duration, size, SHA-256) matches the file, and every
row's file is there; no call is left open and no agent logged in from before the restart; no callback
is left `dialing` and no campaign contact `dialing` or `preview` (a restart settles or requeues them);
every web write answered 2xx (tickets, notes, customer cards, do-not-call numbers, users and their
audit entries) is there whole; and the change feed HQ pulls (firmware/store/sync.py) has no gap: every
row HQ pulled before the cut is still there at the same or a later sequence, and every row at or below
HQ's cursor is the version HQ holds. The box answers its control socket again within ANSWER_S of CPU.
"""
from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import wave
from dataclasses import dataclass, field
from pathlib import Path

import powercut
from firmware.callcenter.queue_log import parse_line
from firmware.core.control import ControlClient, ControlError
from firmware.store import connect_readonly
from firmware.store.migrations import SYNCED_TABLES
from firmware.store.sync import read_changes
from firmware.tools.web_child import RESTART_S
from scenario_builder import agent, flow, run_section, scenario, traffic

REPO = Path(__file__).resolve().parents[2]
# The requirement (docs/requirements.md D1): the box answers again within 2 s of CPU after a restart.
ANSWER_S = 2.0
# How long the harness waits for a start that has plainly failed.
START_TIMEOUT_S = 60.0
# A call that ended this long before the cut was acknowledged: the store commits at least every
# 0.25 s with synchronous=FULL (docs/architecture.md §6).
ACKNOWLEDGED_S = 1.0
# The web process is started again RESTART_S after it dies (as its systemd unit's RestartSec=2s), then
# imports and binds: it must serve again within this of the kill (the wait plus its CPU to serving).
WEB_BACK_S = 5.0
COMPLETIONS = {"COMPLETEAGENT", "COMPLETECALLER", "ABANDON"}
LINES = 120
AGENTS = 60
# Busy lines in real time: callers arrive at about 28 a second until the 120 lines are full, so every
# cut finds calls in the IVR, waiting, ringing an agent, talking (recorded) and leaving a message.
CALLS_PER_HOUR = 100_000

FLOW = flow(
    "menu",
    menu={"type": "menu", "prompts": ["main-menu"], "choices": {"1": "sales", "2": "service", "3": "message"},
          "on_fail": "bye"},
    sales={"type": "queue", "queue": "sales"},
    service={"type": "queue", "queue": "service"},
    message={"type": "voicemail", "box": "general", "silence": 1.0, "beep": False},
    bye={"type": "hangup", "prompts": ["goodbye"]},
)


def scenario_text(lines: int, agents: int, seed: int) -> str:
    # Each start replays from 0 s; DTMF caller ID comes before the first ring: the box answers on it.
    return scenario(
        run_section(600, seed=seed, trunks=lines, flow="flow.toml", callerid="dtmf"),
        [agent(str(2000 + i), queues=["sales", "service"] if i % 2 else ["service"], answer_after=0.5 + (i % 5) / 10,
               talk=3.0) for i in range(agents)],
        traffic(per_hour=CALLS_PER_HOUR * lines // LINES, keys=["1", "2", "3"], key_delay=0.5, patience=[3.0, 30.0],
                talk=[1.0, 8.0], speak=[[1.0, 3.0]]),
        # Callers who hang up in the greeting: calls that end within the first seconds of every start,
        # so each cut has calls it must not lose.
        traffic(per_hour=CALLS_PER_HOUR // 5 * lines // LINES, keys=["1"], key_delay=3.0, patience=[0.5, 1.5],
                talk=[1.0, 2.0]),
    )


def cpu_seconds(pid: int) -> float:
    # proc(5): utime and stime, fields 14 and 15, in clock ticks.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class CallWatcher:
    """The engine's live events (`events.subscribe`): when each call was seen ending, by this clock."""

    def __init__(self, sock: Path):
        self.ended: dict[str, float] = {}
        self._sock = socket.socket(socket.AF_UNIX)
        self._sock.connect(str(sock))
        self._sock.sendall(b'{"id":1,"cmd":"events.subscribe"}\n')
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._sock.makefile("rb"):
                event = json.loads(line)
                if event.get("type") == "call" and event.get("state") == "ended":
                    self.ended.setdefault(event["call"], time.monotonic())
        except (OSError, ValueError):
            return

    def acknowledged(self, cut: float) -> set[str]:
        return {cid for cid, at in list(self.ended.items()) if at < cut - ACKNOWLEDGED_S}

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


class Web:
    """A signed-in admin's JSON client of the box's web process; each 2xx write is remembered with
    how to find it whole in the store."""

    # Made at each run: the repository holds no password (tests/test_no_secrets.py).
    PASSWORD = secrets.token_urlsafe(12)

    def __init__(self, url: str):
        self.url = url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.csrf = ""
        self.acked: list[tuple[str, tuple]] = []
        self.refused: list[str] = []
        self.tickets: list[str] = []
        self.n = 0

    def _send(self, method: str, path: str, body=None, form: dict | None = None, timeout: float = 10.0):
        headers = {"X-CSRF-Token": self.csrf}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif form is not None:
            data = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in form.items()).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with self.opener.open(req, timeout=timeout) as reply:
            return reply.status, reply.read()

    def serves(self) -> bool:
        try:
            return self._send("GET", "/login", timeout=2.0)[0] == 200
        except (OSError, urllib.error.URLError):
            return False

    def sign_in(self) -> None:
        _, page = self._send("GET", "/setup")
        token = re.search(rb'name="csrf-token" content="([^"]+)"', page)
        if token:
            self._send("POST", "/setup", form={"csrf_token": token.group(1).decode(), "username": "admin",
                                              "password": self.PASSWORD, "confirm": self.PASSWORD})
        _, reply = self._send("POST", "/api/v1/session", {"user": "admin", "password": self.PASSWORD})
        self.csrf = json.loads(reply)["csrf_token"]

    def write_one(self, rng: random.Random) -> None:
        """One write the web process makes; remembered only once answered 2xx."""
        self.n += 1
        tag = f"{os.getpid()}-{self.n}-{rng.randrange(10**9)}"
        kind = rng.choice(["ticket", "ticket", "note", "customer", "dnc", "user", "campaign"] if self.tickets
                          else ["ticket"])
        if kind == "ticket":
            _, reply = self._send("POST", "/api/v1/tickets", {"title": f"cut {tag}", "category": "complaint",
                                                              "priority": "normal", "description": tag})
            ticket = json.loads(reply)["ticket"]["id"]
            self.tickets.append(ticket)
            self.acked.append(("ticket", (ticket, f"cut {tag}")))
        elif kind == "note":
            ticket = rng.choice(self.tickets)
            self._send("POST", f"/api/v1/tickets/{ticket}/notes", {"note": f"note {tag}"})
            self.acked.append(("note", (ticket, f"note {tag}")))
        elif kind == "customer":
            number = f"+8613{rng.randrange(10**9):09d}"
            _, reply = self._send("POST", "/api/v1/customers", {"name": f"cut {tag}", "numbers": [number]})
            self.acked.append(("customer", (json.loads(reply)["customer"]["id"], f"cut {tag}")))
        elif kind == "dnc":
            number = f"+8615{rng.randrange(10**9):09d}"
            self._send("POST", "/api/v1/dnc", {"numbers": [number], "reason": tag})
            self.acked.append(("dnc", (number,)))
        elif kind == "campaign":
            _, reply = self._send("POST", "/api/v1/campaigns", {"name": f"cut {tag}", "queue": "sales", "mode": "preview",
                                                                "purpose": "sales", "hours": {
                                                                    "days": [1, 2, 3, 4, 5], "start": "09:00",
                                                                    "end": "18:00"}})
            self.acked.append(("campaign", (json.loads(reply)["campaign"]["id"], f"cut {tag}")))
        else:
            name = f"u{self.n}x{rng.randrange(10**6)}"
            self._send("POST", "/api/v1/users", {"username": name, "roles": ["technician"],
                                                 "password": secrets.token_urlsafe(12)})
            self.acked.append(("user", (name,)))


class WebLoad:
    """Writes through the web process on a thread until stopped; a write cut off is simply not acknowledged."""

    def __init__(self, web: Web, seed: int):
        self.web, self.rng = web, random.Random(seed)
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.web.write_one(self.rng)
            except urllib.error.HTTPError as exc:
                # A refusal of a well-formed write is the harness's mistake or the web's, never the cut's.
                if exc.code < 500:
                    self.web.refused.append(f"{exc.code} {exc.url}: {exc.read()[:300]!r}")
                self.failures += 1
            except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError, KeyError):
                # Cut off, the reply's body included (IncompleteRead): not acknowledged.
                self.failures += 1
                self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def check_web_writes(db, acked: list[tuple[str, tuple]]) -> None:
    for kind, what in acked:
        if kind == "ticket":
            row = db.execute("SELECT title FROM tickets WHERE id = ?", [what[0]]).fetchone()
            assert row is not None and row[0] == what[1], f"acknowledged ticket {what} lost"
            assert db.execute("SELECT count(*) FROM ticket_events WHERE ticket_id = ?", [what[0]]).fetchone()[0], \
                f"ticket {what} has no history"
        elif kind == "note":
            found = db.execute("SELECT count(*) FROM ticket_events WHERE ticket_id = ? AND note = ?",
                               [what[0], what[1]]).fetchone()[0]
            assert found == 1, f"acknowledged note {what} lost"
        elif kind == "customer":
            row = db.execute("SELECT name FROM customers WHERE id = ?", [what[0]]).fetchone()
            assert row is not None and row[0] == what[1], f"acknowledged card {what} lost"
            assert db.execute("SELECT count(*) FROM customer_numbers WHERE customer_id = ?", [what[0]]).fetchone()[0]
        elif kind == "dnc":
            assert db.execute("SELECT count(*) FROM dnc_numbers WHERE id = ?", what).fetchone()[0], \
                f"acknowledged do-not-call number {what} lost"
        elif kind == "campaign":
            row = db.execute("SELECT name FROM campaigns WHERE id = ?", [what[0]]).fetchone()
            assert row is not None and row[0] == what[1], f"acknowledged campaign {what} lost"
            assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'campaign.create' AND target = ?",
                              [what[0]]).fetchone()[0], f"campaign {what} created without its audit entry"
        elif kind == "user":
            assert db.execute("SELECT count(*) FROM users WHERE username = ?", what).fetchone()[0], \
                f"acknowledged user {what} lost"
            assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'user.create' AND target = ?",
                              what).fetchone()[0], f"user {what} created without its audit entry"


class Hq:
    """Head office's copy of the change feed: every (table, id) at the sequence it was pulled at."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.cursor = 0
        self.rows: dict[tuple[str, str], int] = {}
        self.deleted: set[tuple[str, str]] = set()

    def pull(self) -> None:
        conn = connect_readonly(self.db_path)
        try:
            while True:
                page = read_changes(conn, self.cursor, 5000)
                for change in page.changes:
                    key = (change["table"], change["id"])
                    if change.get("deleted"):
                        self.rows.pop(key, None)
                        self.deleted.add(key)
                    else:
                        self.rows[key] = change["seq"]
                self.cursor = page.next
                if not page.more:
                    return
        finally:
            conn.close()

    def check(self, db) -> None:
        """No gap: what HQ holds is still on the box, at or above HQ's cursor if it changed."""
        latest = db.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0]
        assert latest >= self.cursor, f"the change counter went back from {self.cursor} to {latest}"
        box: dict[tuple[str, str], int] = {}
        for table in SYNCED_TABLES:
            box.update(((table, rid), seq) for rid, seq in db.execute(f"SELECT id, seq FROM {table}"))
        gone = {(t, r) for t, r in db.execute("SELECT table_name, row_id FROM tombstones")}
        for key, seq in self.rows.items():
            assert key in box or key in gone, f"{key} pulled by HQ at {seq} is gone from the box without a tombstone"
            if key in box:
                assert box[key] >= seq, f"{key} went back from {seq} to {box[key]}"
        for key, seq in box.items():
            if seq <= self.cursor:
                assert self.rows.get(key) == seq, f"{key} at {seq} <= HQ's cursor {self.cursor} was never pulled"


class CutAtStart(Exception):
    """The power cut fell while the box was starting (a chosen write of its start-up)."""


class Box:
    """`branchline run --demo` on one state directory, started and cut as a technician or the mains would."""

    LISTENING = re.compile(r"web UI listening on (http://127\.0\.0\.1:\d+)/")

    def __init__(self, root: Path, lines: int = LINES, agents: int = AGENTS, web: bool = True, seed: int = 11):
        self.root = root
        self.state = root / "state"
        # Made before the box starts, as systemd's StateDirectory= makes it on a Pi.
        self.state.mkdir(parents=True, exist_ok=True)
        (root / "flow.toml").write_text(FLOW)
        self.scenario = root / "scenario.toml"
        self.scenario.write_text(scenario_text(lines, agents, seed))
        self.web = web
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.undo_log = root / "undo.log"

    def start(self, env: dict[str, str] | None = None) -> tuple[float, float]:
        """Start the box; (wall s, CPU s) from process start to the first answered `status`."""
        self.starts += 1
        self.cutting = "PCUT_CUT_AT" in (env or {})
        log = open(self.root / f"engine-{self.starts}.log", "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "firmware.cli", "run", "--state", str(self.state), "--demo", "--port", "0",
             "--scenario", str(self.scenario), *([] if self.web else ["--no-web"])],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        log.close()
        client = ControlClient(self.state / "control.sock", timeout=5.0)
        while True:
            try:
                client.call("status")
                wall, cpu = time.monotonic() - t0, cpu_seconds(self.proc.pid)
                client.close()
                return wall, cpu
            except ControlError:
                client.close()
            self._check_running()
            assert time.monotonic() - t0 < START_TIMEOUT_S, f"no answer in {START_TIMEOUT_S} s: {self.log()[-3000:]}"
            time.sleep(0.01)

    def web_url(self, after: int = 0, timeout: float = START_TIMEOUT_S) -> tuple[str, int]:
        """The web process's address once it listens, from its `after`th announcement on; (url, count)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.LISTENING.findall(self.log())
            if len(found) > after:
                return found[-1], len(found)
            self._check_running()
            assert time.monotonic() < deadline, f"no web process: {self.log()[-3000:]}"
            time.sleep(0.02)

    def _check_running(self) -> None:
        if self.proc.poll() is None:
            return
        if self.cutting and self.proc.returncode == -signal.SIGKILL:
            raise CutAtStart(self.starts)
        raise AssertionError(f"the box exited at start: {self.log()[-3000:]}")

    def web_pid(self) -> int:
        kids = [int(c) for task in Path(f"/proc/{self.proc.pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
        assert len(kids) == 1, kids
        return kids[0]

    def kill(self) -> None:
        """SIGKILL to the engine alone; its web process ends by the parent-death signal."""
        web = self.web_pid() if self.web else None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        deadline = time.monotonic() + 15
        while web is not None and _alive(web):
            assert time.monotonic() < deadline, "the web process outlived its engine"
            time.sleep(0.02)

    def kill_all(self) -> None:
        """SIGKILL to every process of the box at once (a power cut, with the page cache rolled back after)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        deadline = time.monotonic() + 15
        while subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "a process of the box outlived the cut"
            time.sleep(0.02)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0, self.log()[-3000:]

    def log(self) -> str:
        return (self.root / f"engine-{self.starts}.log").read_text(errors="replace")

    def wavs(self) -> dict[str, Path]:
        rec = self.state / "recordings"
        return {str(p.relative_to(rec)): p for p in rec.rglob("*.wav")}


def _filed(db, name: str) -> dict | None:
    for table in ("recordings", "voicemails"):
        cur = db.execute(f"SELECT * FROM {table} WHERE path = ?", [name])
        row = cur.fetchone()
        if row is not None:
            return dict(zip([d[0] for d in cur.description], row))
    return None


def check_filed(db, name: str, path: Path) -> None:
    row = _filed(db, name)
    assert row is not None, f"recording {name} has no row"
    data = path.read_bytes()
    with wave.open(str(path)) as w:
        assert row["duration"] == round(w.getnframes() / w.getframerate(), 3), name
    assert row["size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest(), name


def journal(state: Path) -> list[tuple]:
    """The queue journal's whole lines (a power cut may leave a line cut short: parse_line drops it)."""
    lines = (parse_line(line) for f in sorted((state / "queue_log").glob("queue_log-*.log"))
             for line in f.read_text(errors="replace").splitlines())
    return [line for line in lines if line is not None]


@dataclass
class Figures:
    kinds: dict[str, int] = field(default_factory=dict)
    acknowledged_calls: int = 0
    web_writes: int = 0
    losses: int = 0
    answer_wall: list[float] = field(default_factory=list)
    answer_cpu: list[float] = field(default_factory=list)
    web_back: list[float] = field(default_factory=list)
    web_cpu: list[float] = field(default_factory=list)
    lost_changes: int = 0
    cut_writes: int = 0
    cut_at_start: int = 0

    def report(self) -> str:
        def spread(xs: list[float]) -> str:
            if not xs:
                return "-"
            xs = sorted(xs)
            return (f"min {xs[0]:.2f} median {statistics.median(xs):.2f} p95 {xs[int(0.95 * (len(xs) - 1))]:.2f} "
                    f"max {xs[-1]:.2f} s")
        return (f"rounds {sum(self.kinds.values())} {self.kinds}; losses {self.losses}; "
                f"acknowledged calls checked {self.acknowledged_calls}, acknowledged web writes checked {self.web_writes} times; "
                f"power cuts lost {self.lost_changes} unsynced changes ({self.cut_writes} cut at a chosen write, "
                f"{self.cut_at_start} of them while the box started)\n"
                f"  restart to answering, wall: {spread(self.answer_wall)}\n"
                f"  restart to answering, CPU:  {spread(self.answer_cpu)}\n"
                f"  web process killed to serving again, wall: {spread(self.web_back)}\n"
                f"  web process started again to serving, CPU: {spread(self.web_cpu)}")


def check_restart(box: Box, spawned: float, acked: set[str], before: dict[str, Path], hq: Hq,
                  web_acked: list[tuple[str, tuple]]) -> None:
    """What must hold once the box answers again after a cut."""
    conn = connect_readonly(box.state / "branchline.db")
    try:
        conn.execute("BEGIN")
        for cid in acked:
            row = conn.execute("SELECT disposition, ended_at FROM calls WHERE id = ?", [cid]).fetchone()
            assert row is not None, f"call {cid}, ended before the cut, is not in the store"
            assert row[0] and row[1], f"call {cid}, ended before the cut, is stored open: {row}"
            assert conn.execute("SELECT count(*) FROM call_events WHERE call_id = ? AND kind = 'call:hangup'",
                                [cid]).fetchone()[0] == 1, f"call {cid} lost its events"
        left = conn.execute("SELECT count(*) FROM calls WHERE arrived_at < ? AND disposition IS NULL",
                            [spawned]).fetchone()[0]
        assert left == 0, f"{left} calls of an earlier run are still open after restart {box.starts}"
        # An agent's last state from before the restart is logged_out (firmware/callcenter/recovery.py).
        stuck = conn.execute("""
            SELECT s.agent_id, s.state FROM agent_states s
            JOIN (SELECT agent_id, max(seq) AS seq FROM agent_states WHERE at < ? GROUP BY agent_id) last
              ON last.agent_id = s.agent_id AND last.seq = s.seq WHERE s.state != 'logged_out'""",
                             [spawned]).fetchall()
        assert not stuck, f"agents left logged in across the restart: {stuck[:5]}"
        for name, path in before.items():
            if path.exists():      # a message shorter than a second is not kept (firmware/callcenter/voicemail.py)
                check_filed(conn, name, path)
        for table in ("recordings", "voicemails"):
            for (name,) in conn.execute(f"SELECT path FROM {table}"):
                assert (box.state / "recordings" / name).exists(), f"{table} row {name} has no file"
        check_web_writes(conn, web_acked)
        hq.check(conn)
    finally:
        conn.close()


def rounds(root: Path, plan: list[str], seed: int, lines: int = LINES, agents: int = AGENTS,
           hold: tuple[float, float] = (3.0, 10.0)) -> Figures:
    """Run the box through the cuts of `plan` ("engine", "web", "power"), checking after each; then a
    clean stop and the checks of the whole run. `hold`: how long the box runs before each cut."""
    rng = random.Random(seed)
    box = Box(root, lines, agents, web=True, seed=seed)
    lib = powercut.library(root) if "power" in plan else None
    run = _Run(box, Hq(box.state / "branchline.db"), rng)
    writes_per_s = 50.0
    try:
        for i, kind in enumerate(plan):
            run.figures.kinds[kind] = run.figures.kinds.get(kind, 0) + 1
            hold_s = rng.uniform(*hold)
            if box.proc is None or box.proc.poll() is not None:
                # Every start under the power cut's log when the plan has power cuts; it cuts at a chosen
                # write only in a power round, drawn over about the round's writes (start-up included),
                # and not before the first start has made the admin account (the harness's own setup);
                # else at the round's end.
                # The library counts each process's own writes; the engine makes about half of them.
                cut_at = (rng.randint(1, max(2, int(writes_per_s / 2 * (hold_s + 2.0))))
                          if kind == "power" and box.starts else None)
                try:
                    run.start(powercut.environment(lib, box.state, box.undo_log, cut_at) if lib else {})
                except CutAtStart:
                    run.figures.cut_at_start += 1
                    run.figures.cut_writes += 1
                    run.power_cut(time.monotonic(), time.monotonic())
                    continue
            load = WebLoad(run.web, seed * 1000 + i)
            started = time.monotonic()
            while time.monotonic() - started < hold_s and box.proc.poll() is None:
                run.hq.pull()
                time.sleep(min(0.5, max(0.0, hold_s - (time.monotonic() - started))))
            if kind == "web":
                run.kill_web(load)
                print(f"round {i + 1}/{len(plan)} web: serving again {run.figures.web_back[-1]:.2f} s after the kill",
                      flush=True)
                continue
            print(f"round {i + 1}/{len(plan)} {kind}", flush=True)
            cut = time.monotonic()
            run.acked = run.watcher.acknowledged(cut)
            if kind == "power":
                load.stop()
                run.watcher.close()
                run.figures.cut_writes += time.monotonic() - started < hold_s - 0.05
                writes_per_s = run.power_cut(started, cut) or writes_per_s
            else:
                box.kill()
                load.stop()
                run.watcher.close()
                box.undo_log.unlink(missing_ok=True)    # a crash keeps the page cache: nothing to roll back
        if box.proc.poll() is None:
            box.stop()
        # A last run stopped cleanly: its calls end as the box closes them, through the normal path.
        run.start({})
        time.sleep(rng.uniform(*hold))
        run.watcher.close()
        box.stop()
    finally:
        if box.proc is not None and box.proc.poll() is None:
            box.kill_all()
    final_checks(box, run.hq, cut_calls=any(kind != "web" for kind in plan))
    assert run.web is not None and not run.web.refused, run.web.refused[:5]
    assert all(cpu < ANSWER_S for cpu in run.figures.answer_cpu), run.figures.answer_cpu
    return run.figures


class _Run:
    """One harness run's box, HQ copy, web client and what the last cut must not have lost."""

    def __init__(self, box: Box, hq: Hq, rng: random.Random):
        self.box, self.hq, self.rng = box, hq, rng
        self.figures = Figures()
        self.web: Web | None = None
        self.watcher: CallWatcher | None = None
        self.acked: set[str] = set()
        self.checked: set[str] = set()

    def start(self, env: dict[str, str]) -> None:
        box = self.box
        # A recording checked after an earlier restart is closed and filed: it never changes again.
        before = {name: path for name, path in box.wavs().items() if name not in self.checked} if box.starts else {}
        spawned = time.time()
        box.undo_log.unlink(missing_ok=True)
        wall, cpu = box.start(env)
        url, _ = box.web_url()
        if self.web is None:
            self.web = Web(url)
            self.web.sign_in()
        self.web.url = url
        try:
            self.watcher = CallWatcher(box.state / "control.sock")
        except OSError:
            time.sleep(0.5)
            box._check_running()     # the power cut fell here: CutAtStart
            raise
        if box.starts > 1:
            self.figures.answer_wall.append(wall)
            self.figures.answer_cpu.append(cpu)
            check_restart(box, spawned, self.acked, before, self.hq, self.web.acked)
            self.checked.update(before)
            print(f"restart {box.starts}: answering after {wall:.2f} s wall, {cpu:.2f} s CPU; "
                  f"{len(self.acked)} calls ended before the cut checked", flush=True)
            self.figures.acknowledged_calls += len(self.acked)
            self.figures.web_writes += len(self.web.acked)

    def power_cut(self, started: float, cut: float) -> float | None:
        """Every process of the box gone at once and the card as a power loss leaves it; the round's
        writes a second (None for a cut at start), to draw the next cut's write from."""
        box = self.box
        box.kill_all()
        changes = powercut.read_log(box.undo_log)
        lost = powercut.roll_back(box.state, box.undo_log, self.rng.choice(powercut.MODES), self.rng)
        self.figures.lost_changes += lost["lost"]
        if cut - started < 0.5:
            return None
        return max(1.0, sum(c.kind == powercut.DATA for c in changes) / (cut - started))

    def kill_web(self, load: WebLoad) -> None:
        """SIGKILL to the web process while it writes; the engine must start it again."""
        box = self.box
        _, seen = box.web_url()
        os.kill(box.web_pid(), signal.SIGKILL)
        killed = time.monotonic()
        load.stop()
        self.web.url, _ = box.web_url(after=seen)
        while not self.web.serves():
            assert time.monotonic() - killed < START_TIMEOUT_S, box.log()[-3000:]
            time.sleep(0.02)
        self.figures.web_back.append(time.monotonic() - killed)
        # Checked as the engine's start is: the wait before the new start, plus the new process's CPU.
        self.figures.web_cpu.append(cpu_seconds(box.web_pid()))
        conn = connect_readonly(box.state / "branchline.db")
        try:
            check_web_writes(conn, self.web.acked)
        finally:
            conn.close()
        self.figures.web_writes += len(self.web.acked)
        assert RESTART_S + self.figures.web_cpu[-1] < WEB_BACK_S, self.figures.web_cpu


def final_checks(box: Box, hq: Hq, cut_calls: bool) -> None:
    """The whole run, stopped: every call final, every WAV filed, journal and records agree, no id reused."""
    conn = connect_readonly(box.state / "branchline.db")
    try:
        cur = conn.execute("SELECT * FROM calls")
        names = [d[0] for d in cur.description]
        calls = {r[0]: dict(zip(names, r)) for r in cur}
        assert not (box.state / "branchline.rejected.jsonl").exists(), "rows were dead-lettered"
        assert calls and all(r["disposition"] and r["ended_at"] for r in calls.values())
        if cut_calls:
            assert any(r["disposition"] == "interrupted" for r in calls.values()), "the cuts should have cut calls"
        for cid, at_min, at_max in conn.execute("SELECT call_id, min(at), max(at) FROM call_events GROUP BY call_id"):
            assert calls[cid]["arrived_at"] <= at_min and at_max <= calls[cid]["ended_at"], cid
        hangups = conn.execute("SELECT call_id, count(*) FROM call_events WHERE kind = 'call:hangup' GROUP BY call_id")
        assert all(n == 1 for _, n in hangups)
        wavs = box.wavs()
        for name, path in wavs.items():
            check_filed(conn, name, path)
        filed = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("recordings", "voicemails"))
        assert filed == len(wavs)
        for f in journal(box.state):
            if f[4] in COMPLETIONS and f[1] in calls:
                row = calls[f[1]]
                assert row["disposition"] != "interrupted", (f, row)
                assert (row["connected_at"] is None) == (f[4] == "ABANDON"), (f, row)
        for state in ("dialing",):
            assert not conn.execute("SELECT count(*) FROM callbacks WHERE state = ?", [state]).fetchone()[0]
        assert not conn.execute("SELECT count(*) FROM campaign_contacts WHERE state IN ('dialing', 'preview')"
                                ).fetchone()[0]
        hq.pull()
        hq.check(conn)
    finally:
        conn.close()
