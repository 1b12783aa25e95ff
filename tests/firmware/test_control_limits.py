"""The control socket's limits: arguments checked before they reach the loop, bounded lines and
nesting, a cap on connections; whatever a script sends, it gets an answer."""
import json
import socket
import threading
import time

import pytest

from firmware.core import control
from firmware.core.control import MAX_CONNECTIONS, MAX_LINE, ControlServer


@pytest.fixture
def server(tmp_path):
    """A control socket whose loop answers each command with its name; `server.ran` lists what ran."""
    srv = ControlServer(tmp_path / "control.sock")
    srv.ran = []
    srv.start()

    def loop():
        while (item := srv.requests.get()) is not None:
            cmd, args, fut = item
            srv.ran.append((cmd, args))
            fut.set_result({"ran": cmd})
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield srv
    srv.requests.put(None)
    thread.join(5)
    srv.close()


def connect(srv) -> socket.socket:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(srv.path))
    return s


def ask(s: socket.socket, line: bytes) -> dict:
    s.sendall(line + b"\n")
    reply = s.makefile("rb").readline()
    assert reply, "the engine closed the connection without an answer"
    return json.loads(reply)


def test_bad_arguments_are_refused_before_they_reach_the_loop(server):
    s = connect(server)
    # A lone surrogate as JSON sends it; the records cannot encode it.
    reply = ask(s, b'{"id": 7, "cmd": "agent.not_ready", "args": {"agent": "1001", "reason": "\\ud800"}}')
    assert reply == {"id": 7, "ok": False, "error": "agent.not_ready: reason must be a string of 1-64 "
                                                     "printable characters, got '\\ud800'"}
    reply = ask(s, b'{"id": 8, "cmd": "agent.not_ready", "args": {"agent": "1001", "reason": 100000000000000000000000}}')
    assert reply["ok"] is False and "reason must be a string" in reply["error"]
    reply = ask(s, b'{"id": 9, "cmd": "agent.not_ready", "args": {"agent": "1001", "reason": {"a": 1}}}')
    assert reply["ok"] is False and reply["error"].endswith("got an object")
    reply = ask(s, b'{"id": 10, "cmd": "line.test", "args": {"channel": 1, "seconds": NaN}}')
    assert reply["ok"] is False and reply["error"].startswith("malformed request: NaN is not a JSON value")
    assert server.ran == []
    assert ask(s, '{"id": 11, "cmd": "agent.not_ready", "args": {"agent": "1001", "reason": "午饭"}}'.encode())["ok"]
    assert server.ran == [("agent.not_ready", {"agent": "1001", "reason": "午饭"})]


def test_a_deeply_nested_line_gets_an_error_and_the_connection_goes_on(server):
    s = connect(server)
    depth = 30_000   # a 60 kB line, within the line limit
    line = b'{"id": 1, "cmd": "status", "args": {"x": ' + b"[" * depth + b"]" * depth + b"}}"
    assert len(line) < MAX_LINE
    assert ask(s, line) == {"id": None, "ok": False, "error": "malformed request: nested too deeply"}
    assert ask(s, b'{"id": 2, "cmd": "status"}') == {"id": 2, "ok": True, "result": {"ran": "status"}}


def test_a_line_without_end_is_read_no_further_than_the_limit(server):
    s = connect(server)
    sent = []

    def flood():
        chunk = b"x" * (1 << 20)
        try:
            for _ in range(64):
                s.sendall(chunk)
                sent.append(len(chunk))
        except OSError:
            pass
    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    # The answer comes while the line has not ended: the engine judged it by its first MAX_LINE bytes.
    reply = s.makefile("rb").readline()
    assert json.loads(reply) == {"id": None, "ok": False, "error": f"line longer than {MAX_LINE} bytes: not a command"}
    sender.join(10)
    assert not sender.is_alive()
    assert sum(sent) < 64 << 20   # the engine closed the connection instead of taking all 64 MB
    assert server.ran == []


def test_connections_beyond_the_cap_are_refused_clearly(server):
    served = [connect(server) for _ in range(MAX_CONNECTIONS)]
    for i, s in enumerate(served):
        assert ask(s, b'{"id": %d, "cmd": "status"}' % i)["ok"]
    extra = connect(server)
    rfile = extra.makefile("rb")
    refusal = json.loads(rfile.readline())
    assert refusal == {"id": None, "ok": False,
                       "error": f"engine busy: {MAX_CONNECTIONS} control connections are open, the most it "
                                "serves; close one and try again"}
    assert rfile.readline() == b""   # and closed
    served.pop().close()
    # The closed connection's thread frees its place as soon as it sees the end of the stream.
    deadline = time.monotonic() + 10
    while not (reply := _status_on_a_new_connection(server)).get("ok"):
        assert reply["error"].startswith("engine busy") and time.monotonic() < deadline
        time.sleep(0.05)
    for s in served:
        s.close()


def _status_on_a_new_connection(srv) -> dict:
    with connect(srv) as s:
        try:
            s.sendall(b'{"id": 1, "cmd": "status"}\n')
        except OSError:   # refused and closed before the request went out; the refusal is still there
            pass
        return json.loads(s.makefile("rb").readline())


def test_a_command_the_loop_never_took_is_withdrawn_when_its_client_is_told_so(tmp_path, monkeypatch):
    monkeypatch.setattr(control, "REPLY_TIMEOUT", 0.2)
    stalled = ControlServer(tmp_path / "control.sock")   # no loop takes its commands
    stalled.start()
    try:
        s = connect(stalled)
        assert ask(s, b'{"id": 1, "cmd": "agent.ready", "args": {"agent": "1001"}}') == {
            "id": 1, "ok": False, "error": "engine did not answer in time"}
        cmd, args, fut = stalled.requests.get_nowait()
        # When the loop comes back it skips the command instead of making the agent ready late.
        assert cmd == "agent.ready" and not fut.set_running_or_notify_cancel()
    finally:
        stalled.close()


def test_a_closed_server_leaves_no_thread_behind(tmp_path):
    """A server closed while its thread waits in accept() ends that thread: an engine started and stopped
    many times in one process (the tests) otherwise piles up blocked threads, and with them descriptor
    numbers, until a serial port's number passes the 1023 that select() takes."""
    def accepting() -> int:
        return sum(t.name == "control-accept" and t.is_alive() for t in threading.enumerate())
    before = accepting()
    for i in range(5):
        srv = ControlServer(tmp_path / f"control{i}.sock")
        srv.start()
        srv.close()
        assert not srv.path.exists()
    assert accepting() == before
