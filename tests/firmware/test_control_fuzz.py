"""Fuzz of the control socket against a live engine carrying calls: whatever a careless script sends
(junk commands, lone surrogates, huge numbers, deep nesting, long lines, bytes that are not UTF-8),
every line gets a result or a clear error, the writer and journal threads live on, and every call
still gets its closed record."""
import json
import socket
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.core.commands import COMMANDS, Integer, Number, Text
from firmware.core.control import MAX_LINE, SUBSCRIBE
from firmware.tools.scenario import ScenarioRun, load_scenario
from firmware.store import open_readonly
from scenario_builder import agent, caller, run_section, scenario, supervisor, traffic

SCENARIO = scenario(
    run_section(3600, seed=7, trunks=4),
    agent("1001", name="Li Wei", queues=["sales"], login_at=0.5, answer_after=1.0, talk=4.0),
    agent("1002", name="Wang Fang", queues=["sales", "service"], login_at=0.5, answer_after=1.0, talk=4.0),
    supervisor("S"),
    caller(0.2, "13800138000", keys=[[2.0, "1"]], patience=60.0, talk=3.0),
    caller(0.4, "13912345678", keys=[[2.0, "2"]], patience=60.0, talk=30.0),
    traffic(per_hour=1800, keys=["1", "2"], key_delay=2.0, patience=[5.0, 20.0], talk=[2.0, 5.0]),
)

SURROGATES = ["\ud800", "\udfff", "a\udc80b", "\ud83d"]
texts = st.one_of(
    st.sampled_from(["1001", "1002", "S", "queue:sales", "agent:1002", "0215559876", "lunch", "monitor", "barge"]),
    st.sampled_from(SURROGATES),
    st.text(max_size=80),
    st.text(st.sampled_from(["\ud800", "a", "\n", "|", "\x00", "午", "#"]), max_size=100),
    st.integers(0, 200).map(lambda n: "x" * (n * 1000)),
)
numbers = st.one_of(
    st.integers(-5, 8),
    st.sampled_from([10 ** 23, -(2 ** 63), 2 ** 64, 10 ** 300]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                            max_size=3), max_leaves=8)
# events.subscribe answers, then turns its connection into the stream of live events, which answers no
# more lines by design (tests/firmware/test_live_events.py): every other command is fuzzed.
ANSWERING = sorted(c for c in COMMANDS if c != SUBSCRIBE)
names = st.one_of(st.sampled_from(ANSWERING), st.text(max_size=20), st.sampled_from(SURROGATES))


def plausible(spec):
    """Values an argument of this kind could well be sent: real ids and words, numbers at and
    around the limits."""
    if isinstance(spec, Text):
        return st.one_of(st.sampled_from(["1001", "1002", "S", "queue:sales", "queue:service", "agent:1002",
                                          "0215559876", "13800138000", "lunch", "monitor", "whisper", "barge"]),
                         st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")),
                                 min_size=spec.lo, max_size=spec.hi))
    if isinstance(spec, Integer):
        return st.integers(spec.lo - 1, 8) | st.just(spec.hi + 1)
    if isinstance(spec, Number):
        return st.floats(spec.lo - 0.5, spec.lo + 2.0) | st.sampled_from([spec.hi, spec.hi + 1])
    return st.booleans()


@st.composite
def requests(draw):
    """One line as a script would send it: a JSON request, or raw bytes."""
    kind = draw(st.sampled_from(["command"] * 6 + ["request"] * 3 + ["deep", "junk", "long"]))
    if kind == "deep":
        depth = draw(st.integers(100, 40_000))
        return b'{"id": 1, "cmd": "status", "args": {"a": ' + b"[" * depth + b"]" * depth + b"}}", 1
    if kind == "junk":
        return draw(st.binary(max_size=200)).replace(b"\n", b" "), None
    if kind == "long":
        return b'{"id": 1, "cmd": "status", "args": {"a": "' + b"x" * draw(st.integers(MAX_LINE, 2 * MAX_LINE)) + b'"}}', 1
    if kind == "command":
        # A real command with its own arguments, mostly plausible values: these reach the loop.
        cmd = draw(st.sampled_from(ANSWERING))
        args = {name: draw(st.one_of(*[plausible(spec)] * 4, values))
                for name, spec in COMMANDS[cmd].items() if spec.required or draw(st.booleans())}
    else:
        cmd = draw(names)
        arg_names = st.sampled_from(list(COMMANDS[cmd]) + ["junk"]) if COMMANDS.get(cmd) else st.text(max_size=8)
        args = draw(st.one_of(st.dictionaries(arg_names, values, max_size=4), values))
    rid = draw(st.one_of(st.integers(0, 10 ** 6), values))
    msg = {"id": rid, "cmd": cmd, "args": args}
    # As most clients send it (ASCII escapes), or raw, with surrogates passed through as bytes.
    if draw(st.booleans()):
        return json.dumps(msg).encode(), rid
    return json.dumps(msg, ensure_ascii=False).encode("utf-8", "surrogatepass"), rid


@pytest.fixture
def box(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    run = ScenarioRun(load_scenario(path), tmp_path / "state", clock="paced", control=True)
    calls = set()
    run.engine.observers.append(lambda name, data: "call" in data and calls.add(data["call"].id))
    thread = threading.Thread(target=run.engine.run, name="engine", daemon=True)
    thread.start()
    run.calls_seen = calls
    closed = []

    def close():
        if not closed:
            closed.append(True)
            run.engine.stop()
            thread.join(10)
            run.engine.close()
    run.close = close
    yield run
    close()


class Connection:
    def __init__(self, path):
        self.path = path
        self.sock = None

    def ask(self, line: bytes) -> bytes:
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(10)
            self.sock.connect(str(self.path))
            self.rfile = self.sock.makefile("rb")
        try:
            self.sock.sendall(line + b"\n")
        except OSError:   # a long line: the engine answered and closed before taking all of it
            pass
        reply = self.rfile.readline()
        if len(line) >= MAX_LINE:
            self.close()
        return reply

    def status(self) -> dict:
        return json.loads(self.ask(b'{"id": 0, "cmd": "status"}'))["result"]

    def close(self):
        if self.sock is not None:
            self.rfile.close()
            self.sock.close()
        self.sock = None


def test_every_line_gets_an_answer_and_the_box_keeps_its_records(box):
    engine = box.engine
    conn = Connection(box.paths.control)
    deadline = time.monotonic() + 30
    while not any(c["state"] == "connected" for c in conn.status()["calls"]):   # calls in progress first
        assert time.monotonic() < deadline, "no caller reached an agent"
        time.sleep(0.05)
    ticks_before = engine.stats.count

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.lists(requests(), min_size=1, max_size=4))
    def lines_get_answers(lines):
        for line, rid in lines:
            raw = conn.ask(line)
            assert raw.endswith(b"\n"), f"no answer to {line[:80]!r}"
            reply = json.loads(raw)
            assert set(reply) in ({"id", "ok", "result"}, {"id", "ok", "error"})
            if not reply["ok"]:
                assert isinstance(reply["error"], str) and reply["error"]
                assert len(reply["error"]) < 2000
                # A refusal is the command's own: a fault inside the engine is a bug, whatever was sent.
                assert "internal error" not in reply["error"], f"{line[:80]!r}: {reply['error']}"
            if reply["id"] is not None:
                assert reply["id"] == rid

    try:
        lines_get_answers()
    finally:
        conn.close()
    workers = conn.status()
    assert workers["store"]["alive"] and workers["journal"]["alive"], (workers["store"], workers["journal"])
    assert workers["store"]["fault"] is None and workers["journal"]["fault"] is None
    assert engine.stats.count > ticks_before   # the loop kept ticking
    last = Connection(box.paths.control)
    assert last.status()["store"]["rejected"] == 0
    last.close()
    box.close()
    assert engine.store.status()["rejected"] == 0
    rows = {r["id"]: r for r in open_readonly(box.paths.db)["calls"].rows}
    assert box.calls_seen <= set(rows)
    assert all(rows[c]["disposition"] and rows[c]["ended_at"] for c in box.calls_seen)
