"""The HTTPS listener of the web process: it ends TLS and relays plain HTTP to the box's own server on
loopback; the WSGI entry (`Entry`) then learns each relayed connection's real client from it, in memory.

Why not a header such as X-Forwarded-For: anything in the request can be written by the client, and the
server would have to tell the relay's headers from forged ones. Here no header is trusted: the relay's
connection to the server has a loopback source port that only it holds while the connection lasts, and
the entry looks that port up in the relay's table. A request that did not come through the relay cannot
be in the table, so nothing a client sends makes it pass for HTTPS or for another address.

One thread runs every connection with non-blocking sockets (selectors), as the server's own loop does
(webui/front.py): a branch's consoles hold a few hundred connections, which threads per connection would
pay for in stacks."""
from __future__ import annotations

import errno
import logging
import selectors
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from .front import LOOPBACK, OWN_REPLY_HEADERS
from .tls import TlsError, context_for

log = logging.getLogger(__name__)

# What waits to be written to either side before the other side is read no more (backpressure). TLS
# records hold at most 16 KiB of data (RFC 8446 §5.1).
BUFFER = 64 * 1024
CHUNK = 16 * 1024
# A client must finish its handshake as soon as it must send its request's head (webui/front.py Limits,
# after Apache mod_reqtimeout's header=20).
HANDSHAKE_TIMEOUT = 20.0
# Headers a client could send to claim a scheme or address (RFC 7239; the X-Forwarded-* custom): bottle
# reads X-Forwarded-Proto and -Host, so they are removed before it sees the request.
FORGEABLE = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
             "HTTP_X_FORWARDED_PORT", "HTTP_X_REAL_IP")
_RETRY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EINTR)


class TlsFrontError(Exception):
    """The HTTPS listener cannot run as asked; the message says which address or file and why."""


class Certificates:
    """The server context of the certificate file, loaded again when the file is replaced (an upload)."""

    def __init__(self, path: Path):
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._context: ssl.SSLContext | None = None

    def context(self) -> ssl.SSLContext:
        status = self.path.stat()
        stamp = (status.st_ino, status.st_mtime_ns)
        if stamp != self._stamp or self._context is None:
            self._context, self._stamp = context_for(self.path), stamp
        return self._context


class Pipe:
    """One client's TLS connection and its relayed connection to the server, with what waits for each."""

    def __init__(self, tls: ssl.SSLSocket, plain: socket.socket, client: tuple[str, int], deadline: float):
        self.tls, self.plain, self.client, self.deadline = tls, plain, client, deadline
        self.shaken = False
        self.to_plain = bytearray()
        self.to_tls = bytearray()
        self.tls_wants_write = False
        self.tls_eof = self.plain_eof = self.plain_shut = False
        self.closed = False


class TlsFront:
    """Accepts TLS on `host`:`port`, relays to `upstream`; `client_of(port)` names a relayed connection's client."""

    def __init__(self, host: str, port: int, upstream: tuple[str, int], certificates: Certificates,
                 connections: int, clock: Callable[[], float] = time.monotonic):
        self.upstream, self.certificates, self.connections, self.clock = upstream, certificates, connections, clock
        try:
            self.listener = socket.create_server((host, port), family=_family(host), backlog=128)
        except OSError as exc:
            raise TlsFrontError(f"cannot listen for HTTPS on {host}:{port}: {exc.strerror or exc}") from None
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.accepting = True
        self.pipes: set[Pipe] = set()
        # The relay's own end of each connection to the server (address, port) -> the client's.
        self._clients: dict[tuple[str, int], tuple[str, int]] = {}
        self._lock = threading.Lock()
        self._waker_r, self._waker_w = socket.socketpair()
        self._waker_r.setblocking(False)
        self.selector.register(self._waker_r, selectors.EVENT_READ, "wake")
        self._stopping = threading.Event()

    @property
    def bind_addr(self) -> tuple[str, int]:
        host, port = self.listener.getsockname()[:2]
        return host, port

    def client_of(self, peer: tuple[str, int]) -> tuple[str, int] | None:
        """The client whose requests the server receives from `peer` (address, port), if the relay is that peer."""
        with self._lock:
            return self._clients.get(peer)

    # --- the loop ---------------------------------------------------------------------------------
    def serve(self) -> None:
        """Relay until stop(); then close every connection."""
        try:
            while not self._stopping.is_set():
                for key, _events in self.selector.select(timeout=1.0):
                    if key.data is None:
                        self._accept()
                    elif key.data == "wake":
                        self._waker_r.recv(64)
                    else:
                        self._pump(key.data)
                self._expire()
        finally:
            for pipe in list(self.pipes):
                self._close(pipe)
            self.selector.close()
            self.listener.close()
            self._waker_r.close()

    def stop(self) -> None:
        """Have serve() end (thread-safe)."""
        self._stopping.set()
        try:
            self._waker_w.send(b"x")
        except OSError:
            pass   # serve() has ended already

    def close(self) -> None:
        self._waker_w.close()

    def _accept(self) -> None:
        while len(self.pipes) < self.connections:
            try:
                raw, client = self.listener.accept()
            except OSError as exc:
                if exc.errno not in _RETRY:
                    log.warning("HTTPS accept failed: %s", exc)
                return
            try:
                context = self.certificates.context()
            except (OSError, TlsError) as exc:
                log.error("HTTPS connection from %s refused: no usable certificate: %s", client[0], exc)
                raw.close()
                continue
            raw.setblocking(False)
            plain = socket.socket(_family(self.upstream[0]), socket.SOCK_STREAM)
            plain.setblocking(False)
            if plain.connect_ex(self.upstream) not in (0, *_RETRY):
                log.error("HTTPS connection from %s dropped: the web server at %s:%d is not answering",
                          client[0], *self.upstream)
                raw.close()
                plain.close()
                continue
            tls = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            pipe = Pipe(tls, plain, (client[0], client[1]), self.clock() + HANDSHAKE_TIMEOUT)
            with self._lock:
                self._clients[plain.getsockname()[:2]] = pipe.client
            self.pipes.add(pipe)
            self._pump(pipe)
        # Full: stop accepting until a connection closes (as webui/front.py's connection limit does).
        if self.accepting:
            self.selector.unregister(self.listener)
            self.accepting = False

    def _expire(self) -> None:
        now = self.clock()
        for pipe in [p for p in self.pipes if not p.shaken and now > p.deadline]:
            self._close(pipe)

    def _pump(self, pipe: Pipe) -> None:
        """Move what can move in both directions without blocking, then say what each socket waits for."""
        try:
            if not pipe.shaken:
                try:
                    pipe.tls.do_handshake()
                    pipe.shaken = True
                except ssl.SSLWantReadError:
                    pipe.tls_wants_write = False
                except ssl.SSLWantWriteError:
                    pipe.tls_wants_write = True
            if pipe.shaken:
                # Either direction may find TLS waiting to write (a record half sent, a key update).
                pipe.tls_wants_write = False
                self._tls_to_plain(pipe)
                self._plain_to_tls(pipe)
        except (OSError, ValueError) as exc:
            # ssl.SSLError is an OSError: a failed handshake (a plain-HTTP client, an unknown CA) ends here.
            log.debug("HTTPS connection from %s ended: %s", pipe.client[0], exc)
            self._close(pipe)
            return
        if pipe.plain_eof and not pipe.to_tls:
            # The server has said all it will (it closes after an answer it cannot keep open).
            self._close(pipe)
            return
        if pipe.tls_eof and not pipe.to_plain and not pipe.plain_shut:
            # The client is done sending; the server may still answer (RFC 9112 §9.6 half-close).
            pipe.plain.shutdown(socket.SHUT_WR)
            pipe.plain_shut = True
        self._watch(pipe)

    def _tls_to_plain(self, pipe: Pipe) -> None:
        while not pipe.tls_eof and len(pipe.to_plain) < BUFFER:
            try:
                data = pipe.tls.recv(CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLWantWriteError:
                pipe.tls_wants_write = True
                break
            except (ssl.SSLEOFError, ConnectionResetError):
                data = b""
            if not data:
                pipe.tls_eof = True
                break
            pipe.to_plain += data
        if pipe.to_plain:
            try:
                sent = pipe.plain.send(pipe.to_plain)
            except BlockingIOError:
                sent = 0
            del pipe.to_plain[:sent]

    def _plain_to_tls(self, pipe: Pipe) -> None:
        while not pipe.plain_eof and len(pipe.to_tls) < BUFFER:
            try:
                data = pipe.plain.recv(CHUNK)
            except BlockingIOError:
                break
            if not data:
                pipe.plain_eof = True
                break
            pipe.to_tls += data
        while pipe.to_tls:
            try:
                sent = pipe.tls.send(pipe.to_tls[:CHUNK])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pipe.tls_wants_write = True
                break
            del pipe.to_tls[:sent]

    def _watch(self, pipe: Pipe) -> None:
        tls_events = 0
        if not pipe.shaken or (not pipe.tls_eof and len(pipe.to_plain) < BUFFER):
            tls_events |= selectors.EVENT_READ
        if pipe.tls_wants_write or pipe.to_tls:
            tls_events |= selectors.EVENT_WRITE
        plain_events = selectors.EVENT_WRITE if pipe.to_plain else 0
        if pipe.shaken and not pipe.plain_eof and len(pipe.to_tls) < BUFFER:
            plain_events |= selectors.EVENT_READ
        for sock, events in ((pipe.tls, tls_events), (pipe.plain, plain_events)):
            # Only what the pipe can act on: a socket watched for input it will not read would wake the
            # loop again and again.
            try:
                registered = self.selector.get_key(sock).events
            except KeyError:
                registered = 0
            if events == registered:
                continue
            if not events:
                self.selector.unregister(sock)
            elif not registered:
                self.selector.register(sock, events, pipe)
            else:
                self.selector.modify(sock, events, pipe)

    def _close(self, pipe: Pipe) -> None:
        if pipe.closed:
            return
        pipe.closed = True
        self.pipes.discard(pipe)
        with self._lock:
            self._clients = {relay: c for relay, c in self._clients.items() if c != pipe.client}
        for sock in (pipe.tls, pipe.plain):
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
        if not self.accepting and not self._stopping.is_set():
            self.selector.register(self.listener, selectors.EVENT_READ, None)
            self.accepting = True


def _host_name(host: str) -> str:
    """The host a client named in its Host header, without the port (RFC 3986 §3.2.2: an IPv6 literal
    keeps its brackets); "localhost" if it holds anything a host name cannot, so that the redirect's
    Location never says more than a host."""
    name = host[:host.find("]") + 1] if host.startswith("[") else host.split(":", 1)[0]
    if not name or any(not (c.isalnum() or c in "-._[]:") for c in name):
        return "localhost"
    return name


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Entry:
    """The WSGI entry of the web process: requests relayed by `front` are marked HTTPS with their real
    client; other clients off the box are sent to HTTPS (308, RFC 9110 §15.4.9: the method and body are
    kept); clients on the box itself (the engine, `make run`'s browser) keep plain HTTP."""

    def __init__(self, app, front: TlsFront, https_port: int):
        self.app, self.front, self.https_port = app, front, https_port

    def __call__(self, environ, start_response):
        for name in FORGEABLE:
            environ.pop(name, None)
        peer = environ.get("REMOTE_ADDR", "")
        try:
            client = self.front.client_of((peer, int(environ.get("REMOTE_PORT") or 0)))
        except ValueError:
            client = None
        if client is not None:
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
            environ["wsgi.url_scheme"], environ["HTTPS"] = "https", "on"
            return self.app(environ, start_response)
        if peer in LOOPBACK:
            return self.app(environ, start_response)
        return self._to_https(environ, start_response)

    def _to_https(self, environ, start_response):
        name = _host_name(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
        port = "" if self.https_port == 443 else f":{self.https_port}"
        target = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~%")
        query = environ.get("QUERY_STRING", "")
        location = f"https://{name}{port}{target}" + (f"?{query}" if query else "")
        body = b"This box is reached over HTTPS: " + location.encode("latin-1", "replace") + b"\r\n"
        start_response("308 Permanent Redirect", [
            ("Location", location), ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))), *OWN_REPLY_HEADERS])
        return [body]
