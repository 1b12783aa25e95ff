"""The HTTP front of the web process: whole requests read on one loop thread, then handed to the app's threads.

A thread-per-connection server (cheroot) gives each connection a worker thread from the moment it is
accepted and reads the request in that thread: a client that connects and sends nothing, or sends
its request slowly, holds the thread until a read times out (10 s per read; a client trickling a
byte at a time never times out). Eight such clients held every thread of the box. Waitress reads
every connection on one asyncore loop and gives a worker a request only once its head and body have
all arrived, so a slow client costs a buffer, never a thread. This module adds what waitress lacks:
a request line limit of its own (414), deadlines for the head and the body (408), refusals
answered in JSON under /api/ as the app answers its own errors, and long-lived event streams
(Server-Sent Events, webui/events.py) written by this loop rather than each holding a thread.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import logging
import socket
import threading
import time
from typing import Callable

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import WSGITask
from waitress.utilities import Error

log = logging.getLogger(__name__)

API_PREFIX = b"/api/"
# The box's own addresses: a client there crosses no network (webui/tls_front.py serves it plain HTTP).
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
# What the head of a refused request is parsed as, so that the error reply has a version to speak
# (waitress does the same for its own 431).
REFUSED_HEAD = b"GET / HTTP/1.0\r\n"
# RFC 9112 §9.6: a server that closes while the client is still sending may have its reply destroyed
# by a TCP reset; it should half-close and read what is still coming for a while (Apache's lingering
# close allows 2 s), so that a client refused mid-request reads the 413, 414 or 431.
LINGER = 2.0
# A reply waiting for a slow reader (a recording HQ downloads over a WAN) is held up to 1 MiB per
# connection, then the app's thread waits for the client. Waitress lets 16 MiB wait by default and
# spools what passes 1 MiB to a temporary file, which on a Debian box may be RAM (tmpfs /tmp).
SEND_BUFFER = 1024 * 1024
# The WSGI environ key saying this server keeps event streams open (webui/events.py), and the key
# under which the app leaves the stream to keep writing once its answer has begun.
STREAMING_KEY = "branchline.streaming"
STREAM_KEY = "branchline.event_stream"
# An event stream whose reader has this much unsent is too slow to follow (a page in a stopped
# laptop's browser): it is closed, and the page resumes from its last event id when it comes back.
STREAM_BACKLOG = 256 * 1024
# The headers of a reply the front writes itself (a refusal; the redirect to HTTPS, webui/tls_front.py):
# text or JSON that nothing may frame, sniff as HTML or load anything for (webui/app.py has the pages').
OWN_REPLY_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"),
                     ("X-Frame-Options", "DENY"),
                     ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")]
# RFC 9112 §7.1: the last chunk, which ends a chunked response.
LAST_CHUNK = b"0\r\n\r\n"


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much a request may send and how long it may take; the defaults are the box's."""

    # RFC 9112 §3: servers should take request lines of at least 8000 octets; 8 KiB is also nginx's
    # large_client_header_buffers and Apache's LimitRequestLine. Longer: 414 (RFC 9110 §15.5.15).
    request_line: int = 8 * 1024
    # The whole head (request line and header fields): Node.js's default maxHeaderSize, 16 KiB.
    # A browser's head here is under 2 KiB (one session cookie). Longer: 431 (RFC 6585 §5).
    head: int = 16 * 1024
    # The largest body a route takes. Bodies above 512 KiB are spooled to a temporary file, which on a
    # Debian box may be RAM (tmpfs /tmp on trixie): 64 MiB holds a prompt recording of several minutes
    # at 48 kHz stereo and stays small beside a 1 GB board's memory. Larger: 413 (RFC 9110 §15.5.14).
    body: int = 64 * 1024 * 1024
    # Apache mod_reqtimeout's defaults (header=20, body=20,MinRate=500): the head must arrive within
    # 20 s of its first byte; the body within 20 s of the head plus 1 s per 500 bytes it carries.
    # A LAN client sends both in milliseconds. Later: 408 (RFC 9110 §15.5.9).
    header_timeout: float = 20.0
    body_timeout: float = 20.0
    body_min_rate: float = 500.0
    # A connection with no request under way is closed after this (waitress's channel_timeout);
    # browsers poll every second over keep-alive, so only abandoned connections reach it.
    idle_timeout: int = 60
    # Open connections at once: a branch's few dozen consoles and wallboards, each holding up to 6
    # (Chromium's per-host limit), stay below it; then accepting pauses until some close.
    connections: int = 256


class Refusal(Error):
    """A request refused by the front before the app sees it; JSON for /api/ targets, text otherwise."""

    def __init__(self, code: int, reason: str, body: str, api: bool):
        super().__init__(body)
        self.code, self.reason, self.api = code, reason, api

    def to_response(self, ident=None):
        headers = list(OWN_REPLY_HEADERS)
        if self.api:
            payload = json.dumps({"error": self.body}).encode()
            headers.append(("Content-Type", "application/json"))
        else:
            payload = f"{self.reason}: {self.body}\r\n".encode()
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
        return f"{self.code} {self.reason}", headers, payload


def _is_api(head: bytes) -> bool:
    """True if the request line begun in `head` targets the JSON API."""
    parts = head.lstrip().split(b" ", 2)
    return len(parts) > 1 and parts[1].startswith(API_PREFIX)


class RequestParser(HTTPRequestParser):
    """Waitress's parser with the request line limit, the time of each stage, and refusals as Refusal."""

    limits = Limits()
    clock: Callable[[], float] = staticmethod(time.monotonic)
    # Waitress's own attributes, typed for mypy (waitress ships no annotations).
    completed: bool
    error: Error | None

    def __init__(self, adj):
        super().__init__(adj)
        self.started = self.clock()
        self.head_done: float | None = None
        self.api = False

    def received(self, data: bytes) -> int:
        if self.body_rcv is None and not self.completed:
            head = self.header_plus + data
            self.api = _is_api(head[:64])
            # Checked before waitress counts the head, so a long line is a 414 and not a 431, and is
            # refused as soon as the limit is passed, without waiting for the rest of the request.
            end = head.find(b"\n", 0, self.limits.request_line + 2)
            if (end < 0 and len(head.lstrip()) > self.limits.request_line) or end > self.limits.request_line:
                self.refuse(414, "URI Too Long",
                            f"the address is longer than {self.limits.request_line} bytes")
                return len(data)
        consumed = super().received(data)
        if self.headers_finished and self.head_done is None:
            self.head_done = self.clock()
        if self.error is not None and not isinstance(self.error, Refusal):
            self.error = Refusal(self.error.code, self.error.reason, self.error.body, self.api)
        return consumed

    def refuse(self, code: int, reason: str, body: str) -> None:
        if not self.headers_finished:
            self.parse_header(REFUSED_HEAD)
        self.error = Refusal(code, reason, body, self.api)
        self.completed = True

    def deadline(self) -> float:
        """When this request must have arrived whole."""
        if self.head_done is None:
            return self.started + self.limits.header_timeout
        return self.head_done + self.limits.body_timeout + self.content_length / self.limits.body_min_rate


class Channel(HTTPChannel):
    """Waitress's channel, closing with a lingering close: half-close, discard input, then close."""

    clock: Callable[[], float] = staticmethod(time.monotonic)
    linger_until: float | None = None

    def handle_close(self) -> None:
        if self.linger_until is None and self.connected:
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                super().handle_close()
                return
            self.linger_until = self.clock() + LINGER
            self.will_close = self.close_when_flushed = False
            return
        super().handle_close()

    def readable(self) -> bool:
        return self.linger_until is not None or super().readable()

    def writable(self) -> bool:
        return self.linger_until is None and super().writable()

    def handle_read(self) -> None:
        if self.linger_until is None:
            super().handle_read()
            return
        try:
            data = self.recv(self.adj.recv_bytes)   # b"" at the client's end (recv() then closes)
        except OSError:
            data = b""
        if not data or self.clock() > self.linger_until:
            self.handle_close()

    def lingered(self, now: float) -> bool:
        """True if the lingering close has lasted long enough; then the channel is closed."""
        if self.linger_until is None or now <= self.linger_until:
            return False
        self.handle_close()
        return True


class StreamTask(WSGITask):
    """Waitress's task, which lets an app's answer go on as an event stream: the task ends, and its
    thread is free, with the response still open; the server's loop writes what the stream gets."""

    environ: dict

    def get_environment(self):
        environ = super().get_environment()
        environ[STREAMING_KEY] = True
        return environ

    def finish(self) -> None:
        stream = getattr(self, "environ", {}).get(STREAM_KEY)
        if stream is None:
            super().finish()
            return
        # Only a chunked HTTP/1.1 answer can go on after the app returns: an HTTP/1.0 client is given
        # what the app wrote and the connection closes (it reconnects, as after a drop).
        if not self.chunked_response or not self.status.startswith("200") or not self.channel.connected:
            super().finish()
            stream.end()
            return
        # Waitress closes a connection after a chunked answer; this one stays open, and the server
        # closes it when the stream ends (pump_streams).
        self.close_on_finish = False
        self.channel.server.adopt(self.channel, stream)


class Server(TcpWSGIServer):
    """Waitress on one TCP address, with cheroot's interface: prepare(), serve(), stop(), bind_addr."""

    def __init__(self, app, host: str, port: int, threads: int, ident: str, limits: Limits,
                 clock: Callable[[], float], shutdown_timeout: float):
        adj = Adjustments(host=host, port=port, threads=threads, ident=ident,
                          max_request_header_size=limits.head, max_request_body_size=limits.body,
                          channel_timeout=limits.idle_timeout, connection_limit=limits.connections,
                          outbuf_high_watermark=SEND_BUFFER, outbuf_overflow=SEND_BUFFER)
        parser = type("BoxRequestParser", (RequestParser,), {"limits": limits, "clock": staticmethod(clock)})
        self.channel_class = type("BoxChannel", (Channel,), {"parser_class": parser, "clock": staticmethod(clock),
                                                             "task_class": StreamTask})
        self.limits, self.clock, self.shutdown_timeout = limits, clock, shutdown_timeout
        # The loop wakes at least this often to enforce the deadlines.
        self.tick = min(1.0, limits.header_timeout / 4, limits.body_timeout / 4)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        # Event streams: handed over by the tasks' threads, then kept and written by the loop alone.
        self._adopted: collections.deque = collections.deque()
        self.streams: dict = {}     # channel -> its stream
        super().__init__(app, adj=adj, _start=False)

    @property
    def bind_addr(self) -> tuple[str, int]:
        return self.effective_host, int(self.effective_port)

    def prepare(self) -> None:
        """Start listening (the socket is bound already: port 0 has its number)."""
        self.accept_connections()

    def serve(self) -> None:
        """Run the loop until stop(); then close every connection and end the worker threads."""
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=self.tick, map=self._map, use_poll=True, count=1)
                self.enforce_deadlines()
                self.pump_streams()
        finally:
            while self._adopted:
                self.streams.update([self._adopted.popleft()])
            for stream in self.streams.values():
                stream.end()
            for channel in list(self.active_channels.values()):
                channel.close()
            self.close()
            self.task_dispatcher.shutdown(timeout=self.shutdown_timeout)
            self._stopped.set()

    def stop(self) -> None:
        """Have serve() end (thread-safe) and wait for it, at most the shutdown timeout."""
        self._stopping.set()
        if not self._stopped.is_set():
            self.wake()
            self._stopped.wait(self.shutdown_timeout + self.tick)

    def wake(self) -> None:
        """Have the loop run now (thread-safe); nothing once the server has closed its trigger."""
        try:
            self.pull_trigger()
        except OSError:
            pass   # serve() has ended: nothing left to wake

    def adopt(self, channel, stream) -> None:
        """Keep writing `stream` on `channel` (a task's thread hands it over; thread-safe)."""
        stream.wake = self.wake
        self._adopted.append((channel, stream))
        self.wake()

    def pump_streams(self) -> None:
        """Write what each event stream has waiting, as chunks; end those closed on either side."""
        while self._adopted:
            channel, stream = self._adopted.popleft()
            self.streams[channel] = stream
        for channel, stream in list(self.streams.items()):
            if not channel.connected:
                del self.streams[channel]
                stream.end()
                continue
            data = stream.drain()
            if stream.closed:
                # Ended by the app (a session signed out): the last chunk, then the connection closes.
                del self.streams[channel]
                stream.end()
                channel.write_soon((b"%X\r\n%s\r\n" % (len(data), data) if data else b"") + LAST_CHUNK)
                channel.close_when_flushed = True
                continue
            if not data:
                continue
            if channel.total_outbufs_len + len(data) > STREAM_BACKLOG:
                log.info("event stream to %s closed: %d bytes unread", channel.addr, channel.total_outbufs_len)
                del self.streams[channel]
                stream.end()
                channel.will_close = True
                continue
            channel.write_soon(b"%X\r\n%s\r\n" % (len(data), data))

    def enforce_deadlines(self) -> None:
        """Answer 408 to each request still arriving after its deadline, and queue the reply."""
        now = self.clock()
        for channel in list(self.active_channels.values()):
            if channel.lingered(now):
                continue
            with channel.requests_lock:
                request = channel.request
                if request is None or request.completed or now <= request.deadline():
                    continue
                stage = "head" if request.head_done is None else "body"
                request.refuse(408, "Request Timeout", f"the request's {stage} did not arrive in time")
                channel.request = None
                channel.requests.append(request)
                if len(channel.requests) == 1:
                    self.add_task(channel)
