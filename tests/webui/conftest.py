"""Web UI fixtures: a stand-in engine on a control socket, a WSGI test client, sample call records."""
from __future__ import annotations

import datetime as dt
import io
import json
import queue
import re
import secrets
import threading
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import unquote, urlencode, urlsplit

import pytest

from firmware.config.site import BOARD_DIR
from firmware.core.commands import COMMANDS
from firmware.core.control import ControlError, ControlServer
from firmware.core.events import EventBus
from firmware.store import open_db
from webui.accounts import ROLES, AccountStore
from webui.app import create_app
from webui.auth import hash_password
from webui.server import make_server

STOCK_PROMPTS = BOARD_DIR / "prompts" / "en"
WAITING_NUMBER = "0215550123"
WAITING_WAIT_S = 42.0
# The one who signs in as nobody in the role matrices.
ANONYMOUS = "anonymous"


def canned_status(now: float, t0: float | None = None) -> dict:
    """The engine's `status` for a small branch with one caller waiting in the sales queue.

    Times are fixed relative to `t0` (the engine's start) and `now` moves on, so waits grow the way
    a real engine reports them."""
    t0 = now if t0 is None else t0
    wait = WAITING_WAIT_S + (now - t0)
    return {
        "box": {"id": "BR-0412", "board": "sim", "mode": "paced", "started_at": t0 - 3 * 3600 - 754,
                "now": now},
        "ticks": {"count": 545_000, "mean_ms": 1.8, "p99_ms": 4.6, "max_ms": 11.2, "overruns": 0},
        "lines": [
            {"channel": 1, "name": "trunk-1", "kind": "trunk", "state": "queued", "call_id": "c-wait",
             "number": WAITING_NUMBER, "since": t0 - 55.0, "trunk_group": "sales"},
            {"channel": 2, "name": "trunk-2", "kind": "trunk", "state": "connected", "call_id": "c-talk",
             "number": "0215559876", "since": t0 - 185.0, "trunk_group": ""},
            {"channel": 3, "name": "trunk-3", "kind": "trunk", "state": "ivr", "call_id": "c-ivr",
             "number": "13800138000", "since": t0 - 9.0, "trunk_group": ""},
            {"channel": 4, "name": "trunk-4", "kind": "trunk", "state": "idle", "call_id": None,
             "number": None, "since": t0 - 1200.0},
            {"channel": 5, "name": "station-1", "kind": "station", "state": "connected", "call_id": "c-talk",
             "number": None, "since": t0 - 170.0},
            {"channel": 6, "name": "station-2", "kind": "station", "state": "alarm", "call_id": None,
             "number": None, "since": t0 - 3600.0},
        ],
        "calls": [
            {"id": "c-wait", "number": WAITING_NUMBER, "name": "Lin Wei", "channel": "trunk-1",
             "state": "queued", "node": "queue_sales", "queue": "sales", "arrived_at": t0 - 55.0,
             "queued_at": now - wait, "wait_s": wait, "agent": None, "digits": "1"},
            {"id": "c-talk", "number": "0215559876", "name": None, "channel": "trunk-2",
             "state": "connected", "node": None, "queue": "service", "arrived_at": t0 - 200.0,
             "queued_at": t0 - 190.0, "wait_s": None, "agent": "1002", "digits": "2"},
            {"id": "c-ivr", "number": "13800138000", "name": None, "channel": "trunk-3", "state": "ivr",
             "node": "main_menu", "queue": None, "arrived_at": t0 - 9.0, "queued_at": None,
             "wait_s": None, "agent": None, "digits": ""},
        ],
        "queues": [
            {"name": "sales", "strategy": "longest_idle", "waiting": 1, "longest_wait_s": wait,
             "agents_logged_in": 2, "agents_ready": 0, "agents_busy": 1, "offered": 38, "answered": 33,
             "abandoned": 4},
            {"name": "service", "strategy": "round_robin", "waiting": 0, "longest_wait_s": 0.0,
             "agents_logged_in": 2, "agents_ready": 1, "agents_busy": 1, "offered": 21, "answered": 20,
             "abandoned": 1},
        ],
        "agents": [
            {"id": "1001", "name": "Ana Costa", "state": "ready", "reason": None, "since": t0 - 95.0,
             "station": "station-3", "queues": ["service"], "call_id": None, "number": None, "calls": 14,
             "talk_s": 2710.0},
            {"id": "1002", "name": "Ben Okafor", "state": "talking", "reason": None, "since": t0 - 170.0,
             "station": "station-1", "queues": ["sales", "service"], "call_id": "c-talk",
             "number": "0215559876", "calls": 11, "talk_s": 3302.0},
            {"id": "1003", "name": "Chen Jing", "state": "not_ready", "reason": "Lunch", "since": t0 - 1260.0,
             "station": "station-2", "queues": ["sales"], "call_id": None, "number": None, "calls": 9,
             "talk_s": 1985.0},
            {"id": "1004", "name": "Dara Novak", "state": "logged_out", "reason": None, "since": t0 - 7200.0,
             "station": "station-4", "queues": ["sales", "service"], "call_id": None, "number": None,
             "calls": 0, "talk_s": 0.0},
        ],
        "supervisors": [
            {"id": "9001", "name": "Mei Lin", "state": "idle", "call_id": None, "mode": "monitor", "agent": None},
            {"id": "9002", "name": "Omar Haddad", "state": "idle", "call_id": None, "mode": "monitor", "agent": None},
        ],
        # Sales rents the first two trunks with one guaranteed; service's survey is csat.
        "trunk_groups": [
            {"name": "sales", "in_use": 1, "guaranteed": 1, "cap": 2, "borrowed": 0, "claim": False, "refused": 3},
            {"name": "", "in_use": 2, "guaranteed": 0, "cap": None, "borrowed": 2, "claim": False, "refused": 0},
        ],
        "surveys": [{"name": "csat", "queues": ["service"]}],
    }


class FakeEngine:
    """The engine's side of the control socket: the real ControlServer, answered by a thread that
    plays the engine loop with a canned status and records every agent command. Flows are checked
    as the engine checks them (the call center's own checker, against the stock English prompts,
    the box's own in `<state>/prompts/en`, and the sales and service queues); the running flow is
    `<state>/config/flows/main.toml`."""

    AGENT_COMMANDS = tuple(name for name in COMMANDS if name.startswith("agent."))
    QUEUES = {"sales", "service"}
    FLOW = "main"

    def __init__(self, path: Path):
        self.path = path
        self.state = path.parent
        self.server = ControlServer(path)
        # The live events the engine's loop publishes; a test publishes them itself (one thread at a time).
        self.events = self.server.events = EventBus(time.time)
        self.statuses = 0   # status commands answered (a page following the events reads one snapshot)
        self.commands: list[tuple[str, dict]] = []
        self.refusals: dict[str, str] = {}   # command -> error message the engine answers with
        self.listening: dict[str, str] = {}  # supervisor -> the agent whose call they asked to join
        # The engine's site.toml: site.validate and site.reload check a file as the real engine's
        # reader does (firmware/config/site.py), site.reload reads it from here.
        self.site_path = path.parent / "config" / "site.toml"
        self.started = time.time()
        self.loadtest: dict = {"state": "idle", "run": None}
        self.sms_unknown: set[str] = set()    # ids of texts sms.resend may queue again
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fake-engine", daemon=True)

    def start(self) -> FakeEngine:
        self.server.start()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                cmd, args, future = self.server.requests.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                future.set_result(self._answer(cmd, args))
            except ControlError as exc:
                future.set_exception(exc)

    def _answer(self, cmd: str, args: dict) -> dict:
        if cmd in self.refusals:
            raise ControlError(self.refusals[cmd])
        if cmd == "events.subscribe":
            return self.events.subscribe(args["subscriber"])
        if cmd == "status":
            self.statuses += 1
            return {**canned_status(time.time(), self.started), **self.flow_status(),
                    "events": {"run": self.events.run, "seq": self.events.seq}}
        if cmd == "flow.validate":
            self.commands.append((cmd, args))
            return self.check(args["text"], args.get("name") or self.FLOW)
        if cmd == "flow.reload":
            text = (self.state / "config" / "flows" / f"{self.FLOW}.toml").read_text()
            report = self.check(text, self.FLOW)
            if not report["valid"]:
                raise ControlError("flow not reloaded, the running flow stays: "
                                   + "; ".join(p["message"] for p in report["problems"]))
            self.commands.append((cmd, {"text": text}))
            return {"flow": self.FLOW, "nodes": len(report["graph"]["nodes"])}
        if cmd == "flow.schema":
            from firmware.callcenter.flows import schema_json
            return schema_json()
        if cmd == "prompts.reload":
            self.commands.append((cmd, args))
            return {"prompts": len(self.prompt_names())}
        if cmd in ("site.validate", "site.reload"):
            return self._site(cmd, args)
        if cmd in self.AGENT_COMMANDS:
            agents = {a["id"]: a for a in canned_status(0)["agents"]}
            if args.get("agent") not in agents:
                raise ControlError(f"unknown agent {args.get('agent')}")
            self._on_call(cmd, args, agents[args["agent"]])
            self.commands.append((cmd, args))
            return {"agent": args["agent"]}
        if cmd.startswith("loadtest."):
            return self._loadtest(cmd, args)
        if cmd.startswith("supervisor."):
            return self._supervisor(cmd, args)
        if cmd.startswith("sms."):
            return self._sms(cmd, args)
        if cmd.startswith("campaign."):
            return self._campaign(cmd, args)
        raise ControlError(f"unknown command {cmd}")

    def _on_call(self, cmd: str, args: dict, agent: dict) -> None:
        """The engine's refusals of an action on a call (firmware/callcenter/center.py, transfers.py,
        supervisors.py): a call named that is not the agent's, or no call at all."""
        if "call" not in COMMANDS[cmd]:
            return
        current = agent["call_id"]
        if args.get("call") not in (None, current):
            raise ControlError(f"agent {agent['id']}: call {args['call']} is not the agent's call now "
                               f"({'on call ' + current if current else 'on no call'})")
        if current is None and cmd != "agent.wrapup":
            raise ControlError(f"agent {agent['id']} is not on a call")

    # The GSM modem as firmware/callcenter/sms.py reports it: registered, a text of each state counted.
    SMS_STATUS = {"port": "/dev/serial/by-id/usb-Quectel_EC25-if02-port0",
                  "modem": {"port": "/dev/serial/by-id/usb-Quectel_EC25-if02-port0", "connected": True, "sim": "ready",
                            "registration": "home", "signal_dbm": -73, "signal_ber": None, "operator": "CHINA MOBILE",
                            "model": "EC25", "error": "", "garbage_lines": 0, "can_send": True},
                  "outbox": {"queued": 0, "sending": 0, "sent": 1, "delivered": 3, "failed": 0, "unknown": 1}}

    def _sms(self, cmd: str, args: dict) -> dict:
        from firmware.store.phones import PhoneNumberError, normalize

        self.commands.append((cmd, args))
        if cmd == "sms.status":
            return dict(self.SMS_STATUS)
        if cmd == "sms.send":
            try:
                number = normalize(args["number"], "CN")
            except PhoneNumberError as exc:
                raise ControlError(str(exc)) from None
            return {"id": uuid.uuid4().hex, "number": number, "state": "queued", "parts": 1}
        if args["id"] not in self.sms_unknown:
            raise ControlError(f"text {args['id']}: no failed or unknown outgoing text with that id")
        self.sms_unknown.discard(args["id"])
        return {"id": args["id"], "state": "queued"}

    # The dialer's moves of a campaign's state (firmware/callcenter/dialer.py, the outbound contract): the
    # definition read from the records, a campaign that cannot run refused with its reason, the state
    # written back and a live `campaign` event published.
    CAMPAIGN_MOVES = {"campaign.start": (("draft", "paused"), "running"), "campaign.pause": (("running",), "paused"),
                      "campaign.stop": (("running", "paused"), "stopped")}

    def _campaign(self, cmd: str, args: dict) -> dict:
        import sqlite3

        self.commands.append((cmd, args))
        conn = sqlite3.connect(self.state / "branchline.db")
        try:
            if cmd == "campaign.status":
                ids = [args["id"]] if args.get("id") else [r[0] for r in conn.execute("SELECT id FROM campaigns")]
                return {"campaigns": [self._campaign_status(conn, i) for i in ids]}
            row = conn.execute("SELECT state, mode, queue, prompt FROM campaigns WHERE id = ?", [args["id"]]).fetchone()
            if row is None:
                raise ControlError(f"unknown campaign {args['id']}")
            state, mode, queue, prompt = row
            sources, target = self.CAMPAIGN_MOVES[cmd]
            if state not in sources:
                raise ControlError(f"campaign {args['id']} is {state}: it cannot be moved to {target}")
            if cmd == "campaign.start" and queue and queue not in self.QUEUES:
                raise ControlError(f"campaign {args['id']}: unknown queue {queue}")
            if cmd == "campaign.start" and mode == "message" and prompt not in self.prompt_names():
                raise ControlError(f"campaign {args['id']}: no prompt {prompt} for its message")
            with conn:
                conn.execute("UPDATE campaigns SET state = ? WHERE id = ?", [target, args["id"]])
            status = self._campaign_status(conn, args["id"])
            self.events.publish("campaign", {"campaign": args["id"], "state": target, "lines": 0,
                                             "counts": {"states": status["counts"], "outcomes": status["outcomes"]}})
            return status
        finally:
            conn.close()

    @staticmethod
    def _campaign_status(conn, campaign_id: str) -> dict:
        state = conn.execute("SELECT state FROM campaigns WHERE id = ?", [campaign_id]).fetchone()
        if state is None:
            raise ControlError(f"unknown campaign {campaign_id}")
        states = dict(conn.execute("SELECT state, COUNT(*) FROM campaign_contacts WHERE campaign_id = ? GROUP BY state",
                                   [campaign_id]).fetchall())
        outcomes = dict(conn.execute("SELECT outcome, COUNT(*) FROM campaign_contacts WHERE campaign_id = ? AND"
                                     " outcome IS NOT NULL GROUP BY outcome", [campaign_id]).fetchall())
        due = conn.execute("SELECT MIN(next_at) FROM campaign_contacts WHERE campaign_id = ? AND state = 'pending'",
                           [campaign_id]).fetchone()[0]
        return {"id": campaign_id, "state": state[0], "lines": 0, "due": 0, "previews": 0, "counts": states,
                "outcomes": outcomes, "next_due": due}

    def flow_status(self) -> dict:
        return {"flow": {"name": self.FLOW, "start": "welcome", "nodes": 5}, "language": "en",
                "prompt_dirs": {"stock": str(STOCK_PROMPTS), "own": str(self.state / "prompts" / "en")}}

    def prompt_names(self) -> set[str]:
        own = self.state / "prompts" / "en"
        return {p.stem for p in STOCK_PROMPTS.glob("*.wav")} | {p.stem for p in own.glob("*.wav")}

    def check(self, text: str, name: str) -> dict:
        from firmware.callcenter.flow_graph import flow_report
        return flow_report(text, Path(f"{name}.toml"), self.prompt_names(), self.QUEUES, self.FLOW)

    # The load test as firmware/config/loadtest.py answers it, with this box's two real calls busy.
    LOADTEST_LIMITS = {"callers": 28, "agents": 30, "virtual_trunks": 30, "virtual_stations": 30, "carry_lines": 30,
                       "live_calls": 2, "start_p99_ms": 10.0, "stop_p99_ms": 15.0, "duration_s": [10.0, 3600.0],
                       "talk_s": [1.0, 600.0]}

    def _loadtest(self, cmd: str, args: dict) -> dict:
        self.commands.append((cmd, args))
        lt = self.loadtest
        if cmd == "loadtest.start":
            if lt["state"] != "idle":
                raise ControlError(f"a load test is {lt['state']} already: stop it first")
            if args["callers"] > self.LOADTEST_LIMITS["callers"]:
                raise ControlError(f"{args['callers']} virtual callers is more than the box can carry now: it carries "
                                   "30 calls at once and 2 real lines are busy, so at most 28")
            now = time.time()
            lt.update(state="running", run={
                "id": "20250310-090000-a1b2c3", "callers": args["callers"], "agents": args.get("agents", 10),
                "duration_s": args["duration"], "talk_s": args.get("talk", 30.0), "keys": args.get("keys", "1").split(),
                "started_at": now, "ends_at": now + args["duration"], "ended_at": None, "stop_reason": None,
                "records": "/var/lib/branchline/loadtest/20250310-090000-a1b2c3",
                "calls": {"offered": 12, "blocked": 0, "answered": 12, "connected": 7, "completed": 2, "abandoned": 0,
                          "in_progress": 10, "waiting": 3},
                "ticks": {"count": 1500, "p99_ms": 2.4, "mean_ms": 0.9, "p99_max_ms": 3.1, "overruns": 0}})
        elif cmd == "loadtest.stop":
            if lt["state"] != "running":
                raise ControlError("no load test is running")
            lt["state"] = "idle"
            lt["run"].update(ended_at=time.time(), stop_reason="stopped by the operator")
        return {"state": lt["state"], "limits": dict(self.LOADTEST_LIMITS), "run": dict(lt["run"]) if lt["run"] else None}

    def _site(self, cmd: str, args: dict) -> dict:
        from firmware.config.site import check_site
        from typed_toml import ConfigError, read_file, read_text

        self.commands.append((cmd, args))
        try:
            top = read_text(args["text"], "site.toml") if "text" in args else read_file(self.site_path)
            _, errors = check_site(top, {f"station{n}" for n in range(1, 5)})
        except ConfigError as exc:
            errors = [exc]
        # As the engine answers (firmware/config/site_reload.py): the English reason, its template and params.
        fields = [{"field": e.key, "error": e.reason, "template": e.template, "params": e.params} for e in errors]
        if cmd == "site.validate":
            return {"valid": not fields, "errors": fields, "restart": []}
        if fields:
            raise ControlError("site not reloaded, the running settings stay: " + fields[0]["error"])
        return {"queues": [], "agents": [], "supervisors": [], "flow": "main", "draining": [], "leaving": [],
                "restart": []}

    # The supervisors' commands answer as firmware/callcenter/supervisors.py does for the canned status:
    # only agent 1002 is talking, so only they may be listened to, taken over or hung up on.
    SUPERVISOR_ON_CALL = ("supervisor.monitor", "supervisor.intercept", "supervisor.hangup")

    def _supervisor(self, cmd: str, args: dict) -> dict:
        status = canned_status(0)
        if args["supervisor"] not in {s["id"] for s in status["supervisors"]}:
            raise ControlError(f"unknown supervisor {args['supervisor']!r}")
        if cmd != "supervisor.stop":
            agent = next((a for a in status["agents"] if a["id"] == args.get("agent")), None)
            if agent is None:
                raise ControlError(f"unknown agent {args.get('agent')!r}")
            if cmd in self.SUPERVISOR_ON_CALL:
                self._on_call(cmd, args, agent)
            if cmd == "supervisor.intercept" and self.listening.get(args["supervisor"]) != agent["id"]:
                raise ControlError(f"supervisor {args['supervisor']} must be listening to agent {agent['id']}'s call first")
        elif args["supervisor"] not in self.listening:
            raise ControlError(f"supervisor {args['supervisor']} is not listening to any call")
        self.commands.append((cmd, args))
        if cmd == "supervisor.monitor":
            self.listening[args["supervisor"]] = args["agent"]
        elif cmd in ("supervisor.stop", "supervisor.hangup"):
            self.listening.pop(args["supervisor"], None)
        return {"id": args["supervisor"], "state": "ringing" if cmd == "supervisor.monitor" else "idle"}

    def stop(self) -> None:
        self._stop.set()
        self.server.close()
        self._thread.join(2)


class Clock:
    """A wall clock the tests move by hand (sessions and the login throttle read it)."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Response:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status = int(status.split()[0])
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all_headers(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def location(self) -> str | None:
        """The redirect target as a path (bottle makes it absolute)."""
        loc = self.header("Location")
        if loc is None:
            return None
        parts = urlsplit(loc)
        return parts.path + ("?" + parts.query if parts.query else "")

    def json(self):
        assert (self.header("Content-Type") or "").startswith("application/json"), self.header("Content-Type")
        return json.loads(self.body)


def multipart(fields: dict, files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) of `fields` and `files` ({name: (filename, content)})."""
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
              f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
              for k, (name, data) in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Client:
    """Calls the WSGI app directly, keeping cookies like a browser (no server, no sockets)."""

    CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')

    def __init__(self, app, remote_addr: str = "192.0.2.10"):
        self.app = app
        self.remote_addr = remote_addr
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, form: dict | None = None, json_body=None,
                headers: dict | None = None, files: dict[str, tuple[str, bytes]] | None = None,
                raw: tuple[bytes, str] | None = None) -> Response:
        url = urlsplit(path)
        body, content_type = b"", None
        if raw is not None:
            body, content_type = raw
        elif files is not None:
            body, content_type = multipart(form or {}, files)
        elif form is not None:
            body, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        environ = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "",
            "PATH_INFO": unquote(url.path, encoding="latin-1"), "QUERY_STRING": url.query,
            "SERVER_NAME": "box.test", "SERVER_PORT": "80", "HTTP_HOST": "box.test",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": self.remote_addr,
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)),
        }
        if content_type:
            environ["CONTENT_TYPE"] = content_type
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured = {}

        def start_response(status, response_headers, exc_info=None):
            captured["status"], captured["headers"] = status, response_headers

        chunks = self.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        reply = Response(captured["status"], captured["headers"], data)
        for raw in reply.all_headers("Set-Cookie"):
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if not morsel.value or morsel["max-age"] in ("0", "-1"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        return self.request("POST", path, **kwargs)

    def csrf(self, page: str = "/login") -> str:
        """The CSRF token a form on `page` carries (every page has it in a meta tag)."""
        reply = self.get(page)
        assert reply.status == 200, (page, reply.status, reply.location)
        return self.CSRF_RE.search(reply.text).group(1)

    def setup(self, username: str, password: str, confirm: str | None = None) -> Response:
        token = self.csrf("/setup")
        return self.post("/setup", form={"csrf_token": token, "username": username, "password": password,
                                         "confirm": password if confirm is None else confirm})

    def login(self, username: str, password: str, next_path: str = "/") -> Response:
        token = self.csrf("/login")
        return self.post("/login", form={"csrf_token": token, "username": username, "password": password,
                                         "next": next_path})

    def api_post(self, path: str, json_body=None, token: str | None = None) -> Response:
        token = self.csrf("/") if token is None else token
        return self.post(path, json_body=json_body if json_body is not None else {},
                         headers={"X-CSRF-Token": token})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path):
    fake = FakeEngine(tmp_path / "control.sock").start()
    yield fake
    fake.stop()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "branchline.db"


@pytest.fixture
def app(db_path, engine, clock):
    application = create_app(db_path, engine.path, clock=clock)
    yield application
    application.close()


@pytest.fixture
def client(app) -> Client:
    return Client(app)


@pytest.fixture
def make_client(app):
    """Another browser on the same box: Client(app) from a given address, with its own cookies."""
    return lambda remote_addr="192.0.2.30": Client(app, remote_addr)


@pytest.fixture
def password() -> str:
    # Made fresh for each test: the repository holds no password, not even a test one.
    return secrets.token_urlsafe(12)


@pytest.fixture
def admin(client, password) -> Client:
    """A client signed in as the administrator created through the setup page."""
    assert client.setup("admin", password).status == 303
    assert client.login("admin", password).status == 303
    return client


@pytest.fixture
def sign_in_admin(password):
    """Runs setup and signs the administrator in on any app built by the test; returns the client."""
    def sign_in(application) -> Client:
        c = Client(application)
        assert c.setup("admin", password).status == 303
        assert c.login("admin", password).status == 303
        return c
    return sign_in


@pytest.fixture
def add_user(db_path, app, password):
    """Creates a user with the test password directly in the users table; returns a signed-in client."""
    def add(username: str, role: str, remote_addr: str = "192.0.2.20") -> Client:
        store = AccountStore(db_path)
        try:
            store.create(username, (role,), hash_password(password))
        finally:
            store.close()
        user_client = Client(app, remote_addr)
        assert user_client.login(username, password).status == 303
        return user_client
    return add


@pytest.fixture
def box(app, db_path, password, cheap_hashes):
    """The box with its admin set up and one user per role; sign_in(role) -> a fresh client."""
    Client(app).setup("root-admin", password)
    store = AccountStore(db_path)
    try:
        for role in ROLES:
            store.create(f"only-{role}", (role,), hash_password(password))
    finally:
        store.close()

    def sign_in(role: str) -> Client:
        client = Client(app, remote_addr=f"192.0.2.{40 + len(role)}")
        if role != ANONYMOUS:
            assert client.login(f"only-{role}", password).status == 303
        return client
    return sign_in


@pytest.fixture
def live_server(app):
    """The app on the box's web server (webui/server.py) on a free loopback port, in a thread; yields its base URL."""
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    thread = threading.Thread(target=server.serve, name="test-web", daemon=True)
    thread.start()
    host, port = server.bind_addr[:2]
    yield f"http://{host}:{port}"
    server.stop()
    thread.join(5)


# --- sample call records ---------------------------------------------------------------------------
SAMPLE_DAY = dt.date(2025, 3, 10)
SAMPLE_CALLS = 120
SAMPLE_SPACING_S = 1800.0   # one call each half hour: 120 calls span 10, 11 and 12 March
SAMPLE_DISPOSITIONS = ("answered", "answered", "abandoned", "ivr_hangup", "answered", "timeout")
SAMPLE_AGENTS = {"1001": "Ana Costa", "1002": "Ben Okafor", "1003": "Chen Jing"}


def sample_call(i: int) -> dict:
    start = time.mktime(SAMPLE_DAY.timetuple()) + i * SAMPLE_SPACING_S
    disposition = SAMPLE_DISPOSITIONS[i % len(SAMPLE_DISPOSITIONS)]
    answered = disposition == "answered"
    queue_name = None if disposition == "ivr_hangup" else ("sales" if i % 2 else "service")
    return {
        "id": f"call-{i:04d}", "direction": "inbound", "channel": f"trunk-{i % 4 + 1}",
        "number": f"021555{i:04d}", "name": "Lin Wei" if i == 7 else None,
        "arrived_at": start, "answered_at": start + 1.0,
        "queue": queue_name, "queued_at": start + 14.0 if queue_name else None,
        "agent_id": list(SAMPLE_AGENTS)[i % 3] if answered else None,
        "connected_at": start + 14.0 + (i % 30) if answered else None,
        "ended_at": start + 200.0, "digits": "1" if i % 2 else "2",
        "path": json.dumps(["welcome", "main_menu", "queue_sales" if i % 2 else "queue_service"]
                           if queue_name else ["welcome", "main_menu"]),
        "disposition": disposition, "hangup_by": "agent" if answered else "caller",
        "wait": float(i % 30) if queue_name else None, "talk": 150.0 + i if answered else None,
    }


def sample_events(call: dict) -> list[dict]:
    t = call["arrived_at"]
    steps = [(1.0, "call:answered", {}), (1.2, "ivr:node", {"node": "welcome"}),
             (6.5, "ivr:node", {"node": "main_menu"}), (9.8, "ivr:digit", {"digit": call["digits"]}),
             (10.0, "ivr:node", {"node": "queue_sales"}), (14.0, "queue:enter", {"queue": call["queue"]}),
             (14.5, "agent:ring", {"agent": call["agent_id"]}),
             (call["connected_at"] - t, "queue:connect", {"agent": call["agent_id"], "wait": call["wait"]}),
             (200.0, "call:hangup", {"by": call["hangup_by"]})]
    return [{"id": f"{call['id']}-e{n}", "call_id": call["id"], "at": t + offset, "kind": kind,
             "data": json.dumps(data)} for n, (offset, kind, data) in enumerate(steps)]


@pytest.fixture
def records(db_path):
    """Fills the database with SAMPLE_CALLS calls (and call-0001's events); returns the call rows."""
    db = open_db(db_path)
    db["queues"].insert_all([{"id": "sales", "strategy": "longest_idle", "updated_at": 0.0},
                             {"id": "service", "strategy": "round_robin", "updated_at": 0.0}])
    db["agents"].insert_all([{"id": k, "name": v, "station": f"station-{k[-1]}", "queues": "[]",
                              "updated_at": 0.0} for k, v in SAMPLE_AGENTS.items()])
    calls = [sample_call(i) for i in range(SAMPLE_CALLS)]
    db["calls"].insert_all(calls)
    db["call_events"].insert_all(sample_events(calls[1]))
    db.conn.close()
    return calls


# --- users made through the admin's API ---------------------------------------------------------------
def api_call(client: Client, method: str, path: str, json_body=None, token: str | None = None) -> Response:
    """A JSON API request with the client's CSRF token (taken from /account unless given)."""
    token = client.csrf("/account") if token is None else token
    return client.request(method, path, json_body=json_body, headers={"X-CSRF-Token": token})


@pytest.fixture
def cheap_hashes(monkeypatch):
    """scrypt at N=2^10 for the passwords set while the test runs: each hash names its own cost, so
    checking one is the same code, 16 times faster. The box's own cost is tested on the setup page
    (test_web_auth.py::test_setup_creates_the_admin_with_an_scrypt_hash_then_closes)."""
    monkeypatch.setattr("webui.auth.SCRYPT_N", 2 ** 10)


@pytest.fixture
def staff(cheap_hashes, app, admin, password):
    """Creates a user through the admin's API (a temporary password they must change), signs them in
    and has them choose their own (the test password); returns their client."""
    def make(username: str, roles: list[str], agent_id: str | None = None, locale: str | None = None,
             remote_addr: str = "192.0.2.40") -> Client:
        temporary = secrets.token_urlsafe(12)
        reply = api_call(admin, "POST", "/api/v1/users", {"username": username, "roles": roles, "agent_id": agent_id,
                                                          "locale": locale, "password": temporary})
        assert reply.status == 201, reply.text
        user = Client(app, remote_addr)
        assert user.login(username, temporary).status == 303
        changed = user.post("/account/password", form={"csrf_token": user.csrf("/account"), "current": temporary,
                                                       "password": password, "confirm": password})
        assert changed.status == 303, changed.text
        return user
    return make


@pytest.fixture
def app_without_engine(tmp_path, clock):
    """The web app of a box whose engine is not running (nothing listens on its control socket)."""
    application = create_app(tmp_path / "no-engine.db", tmp_path / "no-engine.sock", clock=clock)
    yield application
    application.close()
