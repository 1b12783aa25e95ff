"""The web process's live events (docs/architecture.md §15): one subscription to the engine, a ring of
recent events, and the Server-Sent Events streams of the pages, each filtered for its user.

One thread (`events-hub`) holds the process's only `events.subscribe` connection and reconnects
with backoff; every event is numbered with a web id, enriched once (an offer gets the caller's
card, last calls and open tickets from the database), encoded once as an SSE message, kept in the
ring and handed to each open stream whose user may see it. A stream is written by the HTTP front's
own loop (webui/front.py), never by a thread of its own: fifty consoles cost fifty buffers, not
fifty threads. A page that reconnects names the last id it had (`Last-Event-ID`) and is sent what it
missed from the ring, or `reset` when the ring no longer reaches back that far (or the id is from
before a restart), and then re-reads its snapshot.
"""
from __future__ import annotations

import collections
import json
import logging
import secrets
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from bottle import Bottle, request, response

from firmware.store import StoreError, connect_readonly

from .front import STREAM_KEY, STREAMING_KEY
from .auth import SESSION_COOKIE, SESSION_MAX_AGE, requires
from .cookies import read_cookie
from .i18n import gettext as _
from .replies import json_error
from .accounts import ROLES
from .customer_cards import site_region
from .pop import screen_pop

log = logging.getLogger(__name__)

# Events kept for pages that reconnect: a busy minute of a 30-line box is about 1,500 events (`make
# bench`, firmware/tools/bench_events.py), so a page that lost its connection for a minute (a Wi-Fi
# roam, a laptop lid) resumes without a reset; the ring holds the encoded messages, about 1 MB.
RING_EVENTS = 2000
# The engine sends a keepalive every 5 s (firmware/core/events.py KEEPALIVE_S); three missed mean it
# is gone or its loop is stuck: the hub reconnects and the pages show their figures are not live.
ENGINE_SILENCE_S = 15.0
# Reconnecting to the engine: after half a second, then doubling up to 5 s (a restart takes a few).
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 5.0
# The WHATWG SSE standard: a comment line keeps the connection open through proxies and idle timers;
# the browser ignores it. Also how a page's stream finds a client that went away.
KEEPALIVE_S = 15.0
# A signed-out or revoked session (password changed, account disabled) ends its open streams within this.
RECHECK_S = 5.0
# How long the browser waits before reconnecting a dropped stream (the SSE `retry` field, ms).
RETRY_MS = 2000
# The screen pop's connection: a small page cache (Hub._connect).
POP_CACHE_KB = 256
# An id a page sends back (Last-Event-ID) is ours only if it is this short.
MAX_ID = 64

# Who sees what (docs/architecture.md §15): admins and supervisors everything; an agent their own
# agent, offer and call events and the queues; a technician the queues, calls, lines and the box's
# own figures (tick timing, worker threads).
AGENT_OWN = ("agent", "offer", "call", "preview")
TECHNICIAN_TYPES = ("queue", "call", "line", "box")
# Sent to every page whatever its roles: the stream's own state.
STREAM_TYPES = ("reset", "engine")


class EventsError(Exception):
    """The engine's event stream failed (refused, closed, or not JSON)."""


def audience(data: dict) -> tuple:
    """The agents an event is about (its agent, and those rung for a call): what `visible` reads of it."""
    return (data.get("agent"), *(data.get("ringing") or ()))


def visible(user: dict, kind: str, about: tuple) -> bool:
    """May `user` see an event of `kind` about the agents `about` (`audience`)?"""
    roles = user["roles"]
    if kind in STREAM_TYPES or "admin" in roles or "supervisor" in roles:
        return True
    if "technician" in roles and kind in TECHNICIAN_TYPES:
        return True
    if "agent" in roles and user.get("agent_id"):
        return kind == "queue" or (kind in AGENT_OWN and user["agent_id"] in about)
    return False


def message(event_id: str, kind: str, data: dict) -> bytes:
    """One SSE message (WHATWG HTML §9.2): JSON has no raw newline, so `data` is one line."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {kind}\ndata: {body}\n\n".encode()


class Stream:
    """One page's open stream: what is waiting to be written, drained by the HTTP front's loop."""

    def __init__(self, user: dict, still_valid: Callable[[], bool], session: str, now: float):
        self.user, self.still_valid, self.session = user, still_valid, session
        self.checked_at = self.sent_at = now
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self.closed = False
        self.wake: Callable[[], None] = lambda: None   # the front's: drain me soon
        self.release: Callable[[], None] = lambda: None   # the hub's: this stream is gone

    def push(self, data: bytes) -> None:
        with self._lock:
            if self.closed:
                return
            first = not self._pending
            self._pending.append(data)
        if first:
            self.wake()

    def drain(self) -> bytes:
        with self._lock:
            data, self._pending = b"".join(self._pending), []
        return data

    def close(self) -> None:
        """No more events: the front ends the response (a session signed out, the hub stopping)."""
        with self._lock:
            self.closed = True
        self.wake()

    def end(self) -> None:
        """The response is over (the front's call): the hub sends it nothing more."""
        with self._lock:
            self.closed = True
        self.release()


class Hub:
    """The process's one subscription to the engine, the ring of recent events, and the open streams."""

    def __init__(self, control_path: str | Path, db_path: str | Path, clock: Callable[[], float] = time.time,
                 ring: int = RING_EVENTS):
        self.control_path, self.db_path, self.clock = Path(control_path), Path(db_path), clock
        # Web ids are "<this process's token>-<n>": an id from another process (before a restart of
        # the web) is never mistaken for one of ours.
        self.token = secrets.token_hex(4)
        self._n = 0
        # (number, type, audience, the encoded message): what a replay sends and to whom, not the event.
        self._ring: collections.deque[tuple[int, str, tuple, bytes]] = collections.deque(maxlen=ring)
        self._streams: set[Stream] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sock: socket.socket | None = None
        self._db: sqlite3.Connection | None = None
        self.engine_up = False
        self.run: str | None = None
        self.seq = 0                 # the engine's last event seen
        self._signed_out: dict[str, float] = {}    # session id -> when it signed out (its cookie may live on)

    # --- the process's side: start, stop, events in ----------------------------------------------
    def start(self) -> "Hub":
        """Subscribe to the engine (once; later calls do nothing)."""
        with self._lock:
            if self._threads or self._stop.is_set():
                return self
            self._threads = [threading.Thread(target=self._follow, name="events-hub", daemon=True),
                             threading.Thread(target=self._keepalive, name="events-keepalive", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(5.0)
        with self._lock:
            streams, self._streams = list(self._streams), set()
        for stream in streams:
            stream.close()

    def _follow(self) -> None:
        """Subscribe to the engine and take its events in, reconnecting with backoff while it is away."""
        backoff = BACKOFF_MIN_S
        while not self._stop.is_set():
            try:
                self._subscribe_and_read()
            except (OSError, EventsError, ValueError, KeyError, TypeError) as exc:
                if self.engine_up:
                    log.warning("live events: the engine's stream ended: %s", exc)
            except Exception:  # a bug here must not end the pages' live events for good
                log.exception("live events: the subscription failed")
            finally:
                # Doubling from the first try after a subscription that worked.
                backoff = BACKOFF_MIN_S if self.engine_up else min(BACKOFF_MAX_S, backoff * 2)
                self._engine_state(False)
            self._stop.wait(backoff)
        if self._db is not None:
            self._db.close()

    def _subscribe_and_read(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(ENGINE_SILENCE_S)
        self._sock = sock
        try:
            sock.connect(str(self.control_path))
            sock.sendall(b'{"id":1,"cmd":"events.subscribe"}\n')
            with sock.makefile("rb") as lines:
                raw = lines.readline()
                if not raw:
                    raise EventsError("the engine closed the connection")
                first = json.loads(raw)
                if not isinstance(first, dict) or not first.get("ok"):
                    raise EventsError(f"events.subscribe refused: "
                                      f"{first.get('error') if isinstance(first, dict) else first!r}")
                started = first["result"]
                if started["run"] != self.run or started["seq"] != self.seq:
                    # Events were missed (or the engine started again): pages re-read their snapshot.
                    self.publish("reset", {"run": started["run"], "seq": started["seq"]})
                self.run, self.seq = started["run"], started["seq"]
                self._engine_state(True)
                for raw in lines:
                    self.take(json.loads(raw))
                    if self._stop.is_set():
                        return
        finally:
            self._sock = None
            sock.close()

    def take(self, event: dict) -> None:
        """One event from the engine: kept and sent on, or the stream's own state (keepalive, overflow)."""
        if not isinstance(event, dict):
            raise EventsError(f"an event that is not an object: {str(event)[:80]}")
        kind = event.get("type")
        if kind == "keepalive":
            return
        if kind == "overflow":
            raise EventsError("the engine cut this subscriber off for falling behind")
        if not isinstance(kind, str):
            raise EventsError(f"an event without a type: {str(event)[:80]}")
        self.seq = event.get("seq", self.seq)
        if kind == "site":
            # Queues, agents or supervisors came or went: the pages read their snapshot again.
            self.publish("reset", {"run": event.get("run"), "seq": self.seq, "why": "site"})
            return
        if kind == "offer":
            event.update(self.pop(event))
        self.publish(kind, event)

    def _engine_state(self, up: bool) -> None:
        if up != self.engine_up:
            self.engine_up = up
            self.publish("engine", {"up": up, "run": self.run, "at": self.clock()})

    def publish(self, kind: str, data: dict) -> None:
        """Number, encode, keep and send one event to each stream whose user may see it."""
        with self._lock:
            self._n += 1
            event_id = f"{self.token}-{self._n}"
            encoded = message(event_id, kind, {**data, "type": kind})
            about = audience(data)
            self._ring.append((self._n, kind, about, encoded))
            streams = [s for s in self._streams if visible(s.user, kind, about)]
        for stream in streams:
            stream.push(encoded)

    # --- the screen pop ---------------------------------------------------------------------------
    def pop(self, offer: dict) -> dict:
        """The caller's card, last calls and open tickets, read once for every page that sees the offer."""
        try:
            db = self._db = self._db or self._connect()
            return screen_pop(db, offer, site_region(self.db_path.parent))
        except (StoreError, sqlite3.Error, ValueError) as exc:
            log.warning("live events: no screen pop for call %s: %s", offer.get("call"), exc)
            return {"card": None, "history": [], "tickets": []}

    def _connect(self) -> sqlite3.Connection:
        db = connect_readonly(self.db_path)
        # A pop reads a few rows by index; SQLite's default page cache (2 MB a connection) would stay
        # held for the life of the process, beside the 40 MB the web process has (bench_memory).
        db.execute(f"PRAGMA cache_size = -{POP_CACHE_KB}")
        return db

    # --- the pages' side --------------------------------------------------------------------------
    def open(self, user: dict, still_valid: Callable[[], bool], session: str, last_id: str | None,
             attach: bool) -> tuple[Stream | None, bytes]:
        """A page's stream from `last_id` on: (the stream, if `attach`, else None; what to send first).

        The first bytes are the SSE retry time and either what the page missed since `last_id` or,
        when the ring no longer holds it, a `reset`; with no `last_id` the stream starts from now,
        and the page reads its snapshot."""
        head = f"retry: {RETRY_MS}\n\n".encode()
        with self._lock:
            missed = self._since(last_id, user)
            stream = None
            if attach:
                stream = Stream(user, still_valid, session, self.clock())
                stream.release = lambda: self.close(stream)
                self._streams.add(stream)
        # The engine's side as it is now, with no id (an SSE message without one leaves the page's
        # last id as it was): a page opened while the engine is away shows at once it is not live.
        engine = b"event: engine\ndata: " + json.dumps({"type": "engine", "up": self.engine_up, "run": self.run,
                                                        "at": self.clock()}).encode() + b"\n\n"
        if missed is None:
            missed = [message(f"{self.token}-{self._n}", "reset", {"type": "reset", "run": self.run, "seq": self.seq})]
        return stream, head + b"".join(missed) + engine

    def _since(self, last_id: str | None, user: dict) -> list[bytes] | None:
        """The encoded events after `last_id` this user may see; None if the ring does not reach it."""
        if not last_id:
            return []
        token, _, n = last_id.partition("-")
        if token != self.token or not n.isdigit() or len(last_id) > MAX_ID:
            return None
        after = int(n)
        if after > self._n:
            return None
        oldest = self._ring[0][0] if self._ring else self._n + 1
        if after < oldest - 1:
            return None
        return [encoded for number, kind, about, encoded in self._ring if number > after and visible(user, kind, about)]

    def close(self, stream: Stream) -> None:
        """Send `stream` nothing more; the front ends its response."""
        with self._lock:
            self._streams.discard(stream)
        if not stream.closed:
            stream.close()

    def end_session(self, session: str) -> None:
        """The session signed out: its streams end (other tabs of it included) and it opens no more.
        The cookie itself stays valid until it expires (sessions are signed, not stored), so the hub
        remembers the id that long."""
        now = self.clock()
        with self._lock:
            self._signed_out = {sid: at for sid, at in self._signed_out.items() if now - at < SESSION_MAX_AGE}
            self._signed_out[session] = now
            ended = [s for s in self._streams if s.session == session]
        for stream in ended:
            self.close(stream)

    def signed_out(self, session: str) -> bool:
        with self._lock:
            return session in self._signed_out

    @property
    def last_id(self) -> str:
        """The id of the newest event kept (a page that has it has missed nothing)."""
        with self._lock:
            return f"{self.token}-{self._n}"

    @property
    def streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def _keepalive(self) -> None:
        """Every second: end the streams of sessions no longer valid; a comment to streams quiet for a while."""
        while not self._stop.wait(1.0):
            self.sweep()

    def sweep(self) -> None:
        now = self.clock()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            if now - stream.checked_at >= RECHECK_S:
                stream.checked_at = now
                if stream.session in self._signed_out or not stream.still_valid():
                    self.close(stream)
                    continue
            if now - stream.sent_at >= KEEPALIVE_S:
                stream.sent_at = now
                stream.push(b": keepalive\n\n")




def install(app: Bottle, hub: Hub, auth) -> None:
    """`GET /api/v1/events`: the signed-in user's live events as Server-Sent Events."""

    @app.get("/api/v1/events")
    @requires(*ROLES)
    def api_events(user):
        session = auth.session()
        if session is None or hub.signed_out(session["sid"]):
            raise json_error(401, _("sign in required"))
        last = request.headers.get("Last-Event-ID") or request.query.get("last_event_id") or None
        cookie = read_cookie(SESSION_COOKIE)
        hub.start()
        attach = bool(request.environ.get(STREAMING_KEY))
        stream, first = hub.open(user, lambda: auth.holds(cookie), session["sid"], last, attach)
        response.content_type = "text/event-stream; charset=utf-8"
        # nginx and the like would hold the stream back to fill a buffer.
        response.set_header("X-Accel-Buffering", "no")
        if stream is not None:
            request.environ[STREAM_KEY] = stream
        # A generator, not a list: a one-item list would be given a Content-Length and end there.
        # Under a server that cannot hold streams open the page gets what it missed, then reconnects.
        return (chunk for chunk in (first,))
