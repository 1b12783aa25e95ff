"""The engine's control socket: a Unix socket speaking JSON lines, and its client.

Request  {"id": 7, "cmd": "agent.ready", "args": {"agent": "1001"}}
Reply    {"id": 7, "ok": true, "result": {...}}  or  {"id": 7, "ok": false, "error": "unknown agent 9"}

The server's threads only parse and queue; every command runs on the engine's loop thread (the
loop drains the queue once a tick), so no lock is ever taken around call state.
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
from typing import Callable

log = logging.getLogger(__name__)

# A line longer than this is not a command; it is dropped with the connection.
MAX_LINE = 64 * 1024
REPLY_TIMEOUT = 5.0


class ControlError(Exception):
    """A command failed, or the engine could not be reached."""


class ControlServer:
    """Accepts connections on a Unix socket and hands each command to the loop thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.requests: queue.Queue[tuple[str, dict, Future]] = queue.Queue(maxsize=1000)
        # cmd -> work done here, on the connection's thread, before the command reaches the loop:
        # file reading and validation (a flow reload) never run on the loop thread.
        self.prepare: dict[str, Callable[[dict], dict]] = {}
        self._sock: socket.socket | None = None
        self._closing = threading.Event()

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(self.path))
        os.chmod(self.path, 0o660)
        self._sock.listen(16)
        threading.Thread(target=self._accept, name="control-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="control-conn",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as rfile:
            for raw in rfile:
                if len(raw) > MAX_LINE:
                    log.warning("control: dropping a %d-byte line", len(raw))
                    return
                reply = self._handle_line(raw)
                try:
                    conn.sendall(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
                except OSError:
                    return

    def _handle_line(self, raw: bytes) -> dict:
        try:
            msg = json.loads(raw)
            rid, cmd, args = msg.get("id"), msg["cmd"], msg.get("args") or {}
            if not isinstance(cmd, str) or not isinstance(args, dict):
                raise TypeError("cmd must be a string and args an object")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return {"id": None, "ok": False, "error": f"malformed request: {exc}"}
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
            return {"id": rid, "ok": True, "result": fut.result(timeout=REPLY_TIMEOUT)}
        except TimeoutError:
            return {"id": rid, "ok": False, "error": "engine did not answer in time"}
        except ControlError as exc:
            return {"id": rid, "ok": False, "error": str(exc)}

    def close(self) -> None:
        self._closing.set()
        if self._sock:
            self._sock.close()
        if self.path.exists():
            self.path.unlink()


class ControlClient:
    """Blocking client for the web process and `branchline ctl`; reconnects on each failure."""

    def __init__(self, path: str | Path, timeout: float = REPLY_TIMEOUT + 1):
        self.path = Path(path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._rfile = None
        self._next_id = 0
        self._lock = threading.Lock()

    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise ControlError(f"engine not reachable at {self.path}: {exc.strerror or exc}") from exc
        self._sock, self._rfile = sock, sock.makefile("rb")

    def call(self, cmd: str, **args) -> dict:
        """Run one command on the engine and return its result; raise ControlError on failure."""
        with self._lock:
            self._next_id += 1
            line = json.dumps({"id": self._next_id, "cmd": cmd, "args": args}).encode() + b"\n"
            for attempt in (1, 2):
                if self._sock is None:
                    self._connect()
                try:
                    self._sock.sendall(line)
                    raw = self._rfile.readline()
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
        if self._sock is not None:
            self._rfile.close()
            self._sock.close()
        self._sock = self._rfile = None
