"""A voice modem's command scripts and input framing alone, on a fake clock: no port, no thread."""
import pytest

from drivers import v253
from drivers.modem_chat import (
    COMMAND_DELAY_S,
    COMMAND_TIMEOUT_S,
    Chat,
    Cmd,
    Wait,
    require,
)
from drivers.modem_reader import MAX_LINE, ModemReader, Stream
from drivers.v253 import LineKind


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Rig:
    """A Chat whose commands, started streams and failures are recorded."""

    def __init__(self):
        self.clock = Clock()
        self.sent, self.streams, self.failures = [], [], []
        self.runner = Chat(self.clock, lambda cmd: self.sent.append((self.clock.now, cmd.label)),
                           self.streams.append, self.failures.append)


@pytest.fixture
def rig():
    return Rig()


def init_like():
    cmd = Cmd("ATZ")
    require((yield cmd), cmd)
    _, info = yield Cmd("ATI3")
    yield Wait(1.0)
    cmd = Cmd("AT+VRX", stream=Stream.RX)
    require((yield cmd), cmd, LineKind.CONNECT)
    return info


def test_commands_go_out_one_command_delay_after_the_last_result(rig):
    rig.runner.run(init_like, "init")
    rig.runner.send_due()
    assert rig.sent == [(100.0, "ATZ")]            # the first at once
    rig.clock.now += 0.05
    rig.runner.answer(LineKind.OK)
    rig.runner.send_due()
    assert len(rig.sent) == 1                      # mgetty command_delay: not yet
    rig.clock.now += COMMAND_DELAY_S
    rig.runner.send_due()
    assert rig.sent[-1] == (rig.clock.now, "ATI3")
    rig.runner.text("U.S. Robotics 56K Voice")
    rig.runner.answer(LineKind.OK)
    rig.runner.send_due()
    assert len(rig.sent) == 2 and rig.runner.running   # waiting 1 s: nothing goes out
    rig.clock.now += 1.0
    rig.runner.wake()
    rig.clock.now += COMMAND_DELAY_S
    rig.runner.send_due()
    assert rig.sent[-1][1] == "AT+VRX"
    rig.runner.answer(LineKind.CONNECT)
    assert rig.streams == [Stream.RX] and not rig.runner.running and rig.failures == []


def test_a_command_unanswered_in_time_fails_the_script(rig):
    rig.runner.run(init_like, "init")
    rig.runner.send_due()
    rig.clock.now += COMMAND_TIMEOUT_S - 0.01
    assert rig.runner.overdue() is None
    rig.clock.now += 0.01
    overdue = rig.runner.overdue()
    assert overdue is not None and overdue.label == "ATZ"
    rig.runner.answer(None)
    assert rig.failures == [f"no OK after ATZ in {COMMAND_TIMEOUT_S:.1f} s"] and not rig.runner.running


def test_a_refusal_names_the_command_and_the_answer(rig):
    rig.runner.run(init_like, "init")
    rig.runner.send_due()
    rig.runner.answer(LineKind.ERROR)
    assert rig.failures == ["ATZ answered ERROR"]


def test_a_requested_script_waits_for_the_answer_to_the_command_sent(rig):

    def hangup():
        cmd = Cmd("ATH0")
        require((yield cmd), cmd)

    rig.runner.run(init_like, "init")
    rig.runner.send_due()
    rig.runner.request(hangup, "hangup")
    assert rig.runner.name == "init" and rig.runner.waiting      # ATZ is out: its answer comes first
    rig.runner.answer(LineKind.OK)
    assert rig.runner.name == "hangup"
    rig.clock.now += COMMAND_DELAY_S
    rig.runner.send_due()
    assert [label for _, label in rig.sent] == ["ATZ", "ATH0"]


def test_a_requested_script_takes_over_between_commands(rig):
    def keepalive():
        yield Cmd("AT")

    rig.runner.run(init_like, "init")
    rig.runner.request(keepalive, "keepalive")   # ATZ not sent yet
    rig.runner.send_due()
    assert rig.runner.name == "keepalive" and [label for _, label in rig.sent] == ["AT"]


def reader():
    got = {"lines": [], "dle": [], "audio": b"", "long": 0}
    r = ModemReader(got["lines"].append, got["dle"].append,
                    lambda data: got.__setitem__("audio", got["audio"] + data),
                    lambda: got.__setitem__("long", got["long"] + 1))
    return r, got


def test_result_lines_split_across_reads_and_events_between_them():
    r, got = reader()
    assert r.feed(b"\r\nO") == b""
    assert r.feed(b"K\r\n" + bytes([v253.DLE]) + b"R\r\nRING\r\n") == b""
    assert got["lines"] == ["OK", "RING"]
    assert [(e.code, e.name) for e in got["dle"]] == [("R", v253.DCE_EVENTS["R"])]


def test_voice_data_state_passes_audio_until_the_stream_ends():
    r, got = reader()
    r.start_stream(Stream.RX)
    dle = bytes([v253.DLE])
    rest = r.feed(b"\x01\x02" + dle + dle + b"\x03" + dle + b"5" + dle + bytes([v253.ETX]) + b"\r\nOK\r\n")
    assert got["audio"] == b"\x01\x02" + dle + b"\x03"     # a shielded <DLE> is one data byte
    assert [e.code for e in got["dle"]] == ["5"]
    assert r.stream == Stream.NONE and rest == b"\r\nOK\r\n"


def test_audio_after_the_stop_command_is_dropped_and_a_bare_ok_ends_the_stream():
    # Some modems end a stream with OK and no <DLE><ETX> (Conexant <DLE>^).
    r, got = reader()
    r.start_stream(Stream.DUPLEX)
    r.stop_sent()
    rest = r.feed(b"\x7f\x7f\r\nOK\r\n")
    assert got["audio"] == b"" and r.stream == Stream.NONE and rest.startswith(b"\r\nOK")


def test_a_line_longer_than_any_answer_is_dropped():
    r, got = reader()
    r.feed(b"x" * (MAX_LINE + 10) + b"\r\nOK\r\n")
    assert got["long"] == 1 and got["lines"][-1] == "OK"
