"""The engine's control socket: a Unix socket speaking JSON lines, and its client.

Request  {"id": 7, "cmd": "agent.ready", "args": {"agent": "1001"}}
Reply    {"id": 7, "ok": true, "result": {...}}  or  {"id": 7, "ok": false, "error": "unknown agent 9"}

`events.subscribe` answers {"ok": true, "result": {"run", "seq"}} and then the connection carries the
loop's live events, one JSON line each, until either side closes it (firmware/core/events.py).

The server's threads only parse, check and queue; every command runs on the engine's loop thread
(the loop takes a tick's share of the queue each tick), so no lock is ever taken around call state.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import socket
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import BinaryIO, Callable

from firmware.core.commands import CommandError, check
from firmware.core.events import KEEPALIVE_S, QUEUE_LIMIT, EventBus, Subscriber

log = logging.getLogger(__name__)

# A command is well under 1 kB; a line longer than this is not one. It is read no further (the
# reader never holds more than this), answered with an error, and its connection closed.
MAX_LINE = 64 * 1024
REPLY_TIMEOUT = 5.0
# Connections served at once: the web process keeps one and each `branchline ctl` one while it
# runs. Each is a thread of the engine's process sharing the interpreter with the loop, so a
# script that opens more is refused rather than given a thread.
MAX_CONNECTIONS = 16
SUBSCRIBE = "events.subscribe"


class ControlError(Exception):
    """A command failed, or the engine could not be reached."""


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _no_constant(name: str):
    # JSON has no NaN or Infinity; Python's parser takes them unless told otherwise.
    raise ValueError(f"{name} is not a JSON value")


class ControlServer:
    """Accepts connections on a Unix socket and hands each command to the loop thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.requests: queue.Queue[tuple[str, dict, Future]] = queue.Queue(maxsize=1000)
        # cmd -> work done here, on the connection's thread, before the command reaches the loop:
        # file reading and validation (a flow reload) never run on the loop thread.
        self.prepare: dict[str, Callable[[dict], dict]] = {}
        self._sock: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._closing = threading.Event()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._encoded: tuple[object, bytes] = (None, b"null")   # the last result sent, encoded
        self.events: EventBus | None = None     # the loop's live events, for `events.subscribe`

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.path.unlink()
        listener = self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o660)
        listener.listen(16)
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), name="control-accept", daemon=True)
        self._acceptor.start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                log.warning("control: refusing a connection, %d are open", MAX_CONNECTIONS)
                conn.settimeout(1.0)
                self._send(conn, {"id": None, "ok": False,
                                  "error": f"engine busy: {MAX_CONNECTIONS} control connections are open, "
                                           "the most it serves; close one and try again"})
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), name="control-conn",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn, conn.makefile("rb") as rfile:
                while True:
                    raw = rfile.readline(MAX_LINE + 1)
                    if not raw:
                        return
                    if len(raw) > MAX_LINE:
                        log.warning("control: a line longer than %d bytes; closing its connection", MAX_LINE)
                        self._send(conn, {"id": None, "ok": False,
                                          "error": f"line longer than {MAX_LINE} bytes: not a command"})
                        return
                    reply = self._handle_line(raw)
                    subscriber = reply.pop("subscriber", None)
                    if subscriber is not None:
                        self._stream(conn, reply, subscriber)
                        return
                    if not self._send(conn, reply):
                        return
        finally:
            self._slots.release()

    def _stream(self, conn: socket.socket, reply: dict, sub: Subscriber) -> None:
        """Answer `events.subscribe`, then send the loop's events on this connection until it fails or
        the subscriber is cut off."""
        bus = self.events
        if bus is None:
            self._send(conn, {"id": reply["id"], "ok": False, "error": "this engine publishes no live events"})
            return
        try:
            if not self._send(conn, reply):
                return
            while not self._closing.is_set():
                events = sub.take(KEEPALIVE_S)
                # Encoded here, off the loop: the loop only queued the dicts.
                lines = [_dumps(event) + b"\n" for event in events]
                if sub.closed and not events:
                    if sub.cut:
                        lines.append(_dumps({"type": "overflow", "run": bus.run, "seq": bus.seq}) + b"\n")
                        log.warning("control: an event subscriber fell %d events behind and was cut off",
                                    bus.limit)
                    conn.sendall(b"".join(lines))
                    return
                if not lines:
                    lines.append(_dumps({"type": "keepalive", "run": bus.run, "seq": bus.seq}) + b"\n")
                conn.sendall(b"".join(lines))
        except OSError:
            return
        except (TypeError, ValueError) as exc:   # an event that is not JSON is a bug: the stream ends
            log.error("control: a live event is not JSON: %s", exc)
        finally:
            bus.unsubscribe(sub)

    def _send(self, conn: socket.socket, reply: dict) -> bool:
        try:
            line = self._encode(reply)
        except (TypeError, ValueError) as exc:  # a result that is not JSON is a bug, answered as one
            log.error("control: the reply to %r is not JSON: %s", reply.get("id"), exc)
            line = _dumps({"id": reply.get("id"), "ok": False, "error": f"internal error: {exc}"}) + b"\n"
        try:
            conn.sendall(line)
        except OSError:
            return False
        return True

    def _encode(self, reply: dict) -> bytes:
        if "result" not in reply:
            return _dumps(reply) + b"\n"
        # One result answers many requests (a tick's status answers every status poll of that
        # tick): it is encoded once, not once per connection.
        result, body = self._encoded
        if result is not reply["result"]:
            result = reply["result"]
            body = _dumps(result)
            self._encoded = (result, body)
        return b'{"id":' + _dumps(reply["id"]) + b',"ok":true,"result":' + body + b"}\n"

    def _handle_line(self, raw: bytes) -> dict:
        try:
            msg = json.loads(raw, parse_constant=_no_constant)
            rid, cmd, args = msg.get("id"), msg["cmd"], msg.get("args")
            args = {} if args is None else args
            if not isinstance(cmd, str) or not isinstance(args, dict):
                raise TypeError("cmd must be a string and args an object")
            if not (rid is None or isinstance(rid, (str, int, float))):
                raise TypeError("id must be a number, a string or null")
        except RecursionError:
            return {"id": None, "ok": False, "error": "malformed request: nested too deeply"}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return {"id": None, "ok": False, "error": f"malformed request: {exc}"}
        try:
            check(cmd, args)
        except CommandError as exc:
            return {"id": rid, "ok": False, "error": str(exc)}
        subscriber = None
        if cmd == SUBSCRIBE:
            # The loop adds it to the bus (the command, below), so it answers the exact sequence
            # number the stream starts after; this connection's thread then sends the events.
            args = {"subscriber": (subscriber := Subscriber(QUEUE_LIMIT))}
        if cmd in self.prepare:
            try:
                args = self.prepare[cmd](args)
            except ControlError as exc:
                return {"id": rid, "ok": False, "error": str(exc)}
        fut: Future = Future()
        try:
            self.requests.put_nowait((cmd, args, fut))
        except queue.Full:
            return {"id": rid, "ok": False, "error": "engine busy"}
        try:
            try:
                result = fut.result(timeout=REPLY_TIMEOUT)
            except TimeoutError:
                # A command the loop has not started yet is withdrawn: run after its client gave up
                # (an agent made ready half a minute late), it would surprise everyone.
                if fut.cancel():
                    raise
                result = fut.result(timeout=REPLY_TIMEOUT)   # the loop took it just now
            if subscriber is not None:
                return {"id": rid, "ok": True, "result": result, "subscriber": subscriber}
            return {"id": rid, "ok": True, "result": result}
        except TimeoutError:
            return {"id": rid, "ok": False, "error": "engine did not answer in time"}
        except ControlError as exc:
            return {"id": rid, "ok": False, "error": str(exc)}

    def close(self) -> None:
        self._closing.set()
        if self._sock:
            # Closing alone leaves the accepting thread blocked in accept(), and each such thread
            # kept a descriptor number in use; shutting the socket down wakes it.
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._acceptor is not None and self._acceptor is not threading.current_thread():
            self._acceptor.join(1.0)
        if self.path.exists():
            self.path.unlink()


class ControlClient:
    """Blocking client for the web process and `branchline ctl`; reconnects on each failure."""

    def __init__(self, path: str | Path, timeout: float = REPLY_TIMEOUT + 1):
        self.path = Path(path)
        self.timeout = timeout
        self._conn: tuple[socket.socket, BinaryIO] | None = None   # the socket and its reading side
        self._next_id = 0
        self._lock = threading.Lock()

    def _connect(self) -> tuple[socket.socket, BinaryIO]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise ControlError(f"engine not reachable at {self.path}: {exc.strerror or exc}") from exc
        self._conn = (sock, sock.makefile("rb"))
        return self._conn

    def call(self, cmd: str, **args) -> dict:
        """Run one command on the engine and return its result; raise ControlError on failure."""
        with self._lock:
            self._next_id += 1
            # UTF-8, not \u escapes: a site file sent to be checked (site.validate) holds names in
            # Chinese, which escaped take twice the bytes of a MAX_LINE line.
            line = json.dumps({"id": self._next_id, "cmd": cmd, "args": args}, ensure_ascii=False).encode() + b"\n"
            for attempt in (1, 2):
                sock, rfile = self._conn or self._connect()
                try:
                    sock.sendall(line)
                    raw = rfile.readline()
                    if not raw:
                        raise OSError("connection closed")
                    break
                except OSError as exc:
                    self.close()
                    if attempt == 2:
                        raise ControlError(f"engine at {self.path}: {exc}") from exc
        reply = json.loads(raw)
        if not reply.get("ok"):
            raise ControlError(reply.get("error", "unknown error"))
        return reply["result"]

    def close(self) -> None:
        if self._conn is not None:
            sock, rfile = self._conn
            rfile.close()
            sock.close()
        self._conn = None
