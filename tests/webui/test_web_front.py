"""The web server against what a client can send over a socket: slow or stalled requests, over-long
addresses and headers, bodies too large. Each test asserts what the client observes; the refusals
that must come "at once" are asked for on connections that never finish their request, so only a
server that answers before the request ends can pass."""
import dataclasses
import http.client
import json
import socket
import threading

import pytest

from webui.front import Limits
from webui.server import BOX_LIMITS, THREADS, make_server

# Longer than any test waits: a test that needs an answer before a deadline cannot get it from one.
PATIENT = dataclasses.replace(BOX_LIMITS, header_timeout=600.0, body_timeout=600.0)
# A client's wait for an answer; far above what a server that answers at once needs.
CLIENT_WAIT = 5.0


def serve(app, limits: Limits):
    server = make_server(app, "127.0.0.1", 0, limits=limits)
    server.prepare()
    thread = threading.Thread(target=server.serve, name="test-front", daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def front(app):
    """serve(limits) -> (host, port) of the app on a server with those limits; stopped afterwards."""
    running = []

    def start(limits: Limits = PATIENT) -> tuple[str, int]:
        server, thread = serve(app, limits)
        running.append((server, thread))
        return server.bind_addr
    yield start
    for server, thread in running:
        server.stop()
        thread.join(10)


def begin(address, data: bytes) -> socket.socket:
    """A connection that has sent `data` and goes quiet."""
    sock = socket.create_connection(address, timeout=CLIENT_WAIT)
    sock.sendall(data)
    return sock


def answer(sock: socket.socket) -> tuple[int, dict, bytes]:
    """The status, headers and body of the reply on `sock` (read until the server closes it)."""
    data = b""
    with sock:
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def get(address, path: str) -> int:
    conn = http.client.HTTPConnection(*address, timeout=CLIENT_WAIT)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_slow_clients_cannot_keep_others_waiting(front):
    address = front()
    # Twice as many clients as the server has threads, each mid-way through its request head.
    slow = [begin(address, b"GET /login HTTP/1.1\r\nHost: box\r\nUser-Agent: slow") for _ in range(2 * THREADS)]
    try:
        assert get(address, "/login") == 303   # to /setup: this box has no admin yet
    finally:
        for sock in slow:
            sock.close()


def test_a_client_that_connects_and_sends_nothing_holds_no_thread(front):
    address = front()
    idle = [socket.create_connection(address, timeout=CLIENT_WAIT) for _ in range(2 * THREADS)]
    try:
        assert get(address, "/login") == 303
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("target, api", [("/calls?number=", False), ("/api/v1/calls?number=", True)])
def test_an_address_over_8_kib_is_414_before_the_request_ends(front, target, api):
    address = front()
    status, headers, body = answer(begin(address, b"GET " + target.encode() + b"1" * 8192))
    assert status == 414
    if api:
        assert headers["content-type"] == "application/json" and "8192 bytes" in json.loads(body)["error"]


def test_an_address_just_under_the_limit_reaches_the_app(front):
    address = front()
    path = "/login?next=/" + "a" * (BOX_LIMITS.request_line - 100)
    assert get(address, path) == 303


def test_header_fields_over_16_kib_are_431_before_the_request_ends(front):
    address = front()
    status, _, _ = answer(begin(address, b"GET /login HTTP/1.1\r\nHost: box\r\nCookie: " + b"a" * 16384))
    assert status == 431


def test_a_body_over_the_limit_is_413_in_json_before_it_is_sent(front):
    address = front(dataclasses.replace(PATIENT, body=1024))
    sock = begin(address, b"POST /api/v1/hq/tokens HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 4096\r\n\r\n{")
    status, headers, body = answer(sock)
    assert status == 413 and headers["content-type"] == "application/json" and json.loads(body)["error"]
    # What the front answers itself carries the headers the app's replies do.
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize("stalled", [b"GET /api/v1/status HTTP/1.1\r\nHost: box\r\n",
                                     b"POST /api/v1/hq/tokens HTTP/1.1\r\nHost: box\r\nContent-Length: 100\r\n\r\n{"])
def test_a_request_that_stops_arriving_is_408_after_its_deadline(front, stalled):
    address = front(dataclasses.replace(BOX_LIMITS, header_timeout=0.2, body_timeout=0.2, body_min_rate=1e9))
    status, headers, body = answer(begin(address, stalled))
    assert status == 408 and headers["content-type"] == "application/json"
    assert "did not arrive in time" in json.loads(body)["error"]
