"""Remote agents: reached by dialling their own number on a free trunk, and then exactly like an agent
at a station. Every party speaks a steady tone, so who hears whom is measured (as in test_operations)."""
import json
import logging
import textwrap
import wave
from types import SimpleNamespace

import numpy as np
import pytest

from drivers.channel import Board, ChannelEvent, EventKind
from drivers.sim import LineState, SimDriver
from dsp import tonegen
from firmware.callcenter.acd import Acd, AcdError
from typed_toml import ConfigError
from firmware.tools.scenario import ScenarioRun, load_scenario
from firmware.config.site import read_site
from firmware.store import open_readonly
from scenario_builder import CALLBACK_FLOW

CALLER_HZ, REMOTE_HZ, STATION_HZ, SUP_HZ, EXPERT_HZ = 624, 930, 1271, 1876, 2509
NUMBER = "13800138000"
HEARD, SILENT = -35.0, -60.0   # a -20 dBm0 voice comes through near -20; leakage must stay far below

HEAD = """
[run]
seconds = {seconds}
trunks = {trunks}
drain = 60.0
[[queues]]
name = "sales"
ring_timeout = 15.0
wrapup = {wrapup}
[[queues]]
name = "service"
wrapup = 0.0
"""


def remote(agent_id="R", number=NUMBER, skills="sales = 5", login_at=0.0, answer_after=2.0, talk=1000.0,
           voice=True, clear="signal"):
    return f"""
[[agents]]
id = "{agent_id}"
phone = "{number}"
skills = {{ {skills} }}
login_at = {login_at}
answer_after = {answer_after}
talk = {talk}
clear = "{clear}"
""" + (f"voice_hz = {REMOTE_HZ}\n" if voice else "")


def station(agent_id="S", skills="sales = 5", login_at=0.0, talk=1000.0):
    return f"""
[[agents]]
id = "{agent_id}"
skills = {{ {skills} }}
login_at = {login_at}
answer_after = 1.0
talk = {talk}
voice_hz = {STATION_HZ}
"""


def caller(at=1.0, number="5550001", key="1", patience=1000.0, talk=1000.0):
    return f"""
[[callers]]
at = {at}
number = "{number}"
keys = [[1.0, "{key}"]]
patience = {patience}
talk = {talk}
voice_hz = {CALLER_HZ}
"""


def action(at, do, **args):
    value = lambda v: str(v).lower() if isinstance(v, bool) else f'"{v}"'   # noqa: E731
    return f"[[actions]]\nat = {at}\ndo = \"{do}\"\n" + "".join(f"{k} = {value(v)}\n" for k, v in args.items())


class Box:
    """A scenario wired for inspection: what each channel is sent every tick, and snapshots taken at
    set times while it runs."""

    def __init__(self, run: ScenarioRun):
        self.run, self.engine, self.sim = run, run.engine, run.sim
        self.names = [c.name for c in self.engine.board.channels]
        self.sent: list[tuple[float, np.ndarray]] = []
        self.seen: dict[float, dict] = {}
        self.finished = False
        record = self.engine.app.recordings.frames

        def spy(rx, tx):
            self.sent.append((self.engine.clock.seconds, tx.copy()))
            record(rx, tx)
        self.engine.app.recordings.frames = spy

    def snapshot(self, at: float) -> None:
        """engine.status() and the simulated trunks' state at `at` s."""
        def take():
            self.seen[at] = {"status": self.engine.status(),
                             "trunks": [(t.state, t.number) for t in self.sim.trunks],
                             "legs": dict(self.engine.app.legs.active)}
        self.engine.later(at, take)

    def agent(self, at: float, agent_id: str) -> dict:
        return next(a for a in self.seen[at]["status"]["agents"] if a["id"] == agent_id)

    def line(self, at: float, name: str) -> dict:
        return next(ln for ln in self.seen[at]["status"]["lines"] if ln["name"] == name)

    def finish(self) -> "Box":
        self.report = self.run.run()     # closes the engine
        self.finished = True
        self.db = open_readonly(self.run.paths.db)
        refused = [a for a in self.report["actions"] if "error" in a]
        assert not refused, refused
        return self

    def call(self, i: int = 0) -> dict:
        return self.report["calls"][i]

    def events(self, call_id: str) -> list[tuple[str, dict]]:
        return [(e["kind"], json.loads(e["data"]) if e["data"] else {})
                for e in self.db["call_events"].rows_where("call_id = ?", [call_id], order_by="id")]

    def states(self, agent_id: str) -> list[tuple[str, str | None]]:
        # The box logs everyone out when the run ends: not the call's doing.
        return [(r["state"], r["reason"]) for r in self.db["agent_states"].rows_where(
            "agent_id = ? AND reason IS NOT 'shutdown'", [agent_id], order_by="rowid")]

    def level(self, channel: str, hz: float, start: float, end: float) -> float:
        """The level (dBm0) of `hz` in what `channel` was sent from `start` to `end` s."""
        ch = self.names.index(channel)
        x = np.concatenate([f[ch] for t, f in self.sent if start <= t < end]).astype(float)
        spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size))) / (x.size / 4)
        freqs = np.fft.rfftfreq(x.size, 1 / 8000)
        band = spectrum[(freqs > hz - 8) & (freqs < hz + 8)].max()
        return 20 * np.log10(max(band, 1e-9) / 32767) + 3.14


@pytest.fixture
def box(tmp_path):
    """box(scenario_toml, flow=None) -> Box, in fast time with a fresh state directory; `.finish()` runs it."""
    made = []

    def make(scenario, flow=None):
        if flow is not None:
            (tmp_path / "flow.toml").write_text(textwrap.dedent(flow))
            scenario = scenario.replace("[run]\n", '[run]\nflow = "flow.toml"\n', 1)
        path = tmp_path / "scenario.toml"
        path.write_text(scenario)
        made.append(Box(ScenarioRun(load_scenario(path), tmp_path / "state")))
        return made[-1]
    yield make
    for b in made:
        if not b.finished:
            b.engine.close()


def journal(state) -> list[list[str]]:
    return [line.split("|") for f in sorted((state / "queue_log").glob("queue_log-*.log"))
            for line in f.read_text().splitlines()]


# --- a call reaches a remote agent --------------------------------------------------------------

def test_queue_call_reaches_the_remote_agent_on_a_free_trunk(box):
    b = box(HEAD.format(seconds=60, trunks=4, wrapup=2.0) + remote() + caller(talk=20.0))
    b.snapshot(15.0)
    b.snapshot(40.0)
    b.finish()
    call = b.call()
    # The agent was dialled at their own number on the first free trunk, and is shown so.
    assert b.seen[15.0]["trunks"][1] == (LineState.OUTBOUND, NUMBER)
    agent = b.agent(15.0, "R")
    assert (agent["station"], agent["trunk"], agent["state"]) == (f"tel:{NUMBER}", "trunk2", "talking")
    assert b.line(15.0, "trunk2")["state"] == "connected"
    assert b.line(15.0, "trunk2")["call_id"] == call["call_id"]
    # Caller and agent hear each other, and nobody hears an echo of themselves.
    assert b.level("trunk1", REMOTE_HZ, 8, 24) > HEARD
    assert b.level("trunk2", CALLER_HZ, 8, 24) > HEARD
    assert b.level("trunk1", CALLER_HZ, 8, 24) < SILENT
    # The record: answered by R, talked 20 s, recorded throughout.
    assert (call["disposition"], call["agent"], call["hangup_by"]) == ("answered", "R", "caller")
    assert abs(call["talk"] - 20.0) < 0.2 and abs(call["recording_s"] - call["talk"]) < 0.1
    with wave.open(str(b.run.paths.recordings / call["recording"])) as w:
        assert w.getnchannels() == 2 and abs(w.getnframes() / 8000 - call["talk"]) < 0.1
    lines = [f for f in journal(b.run.paths.root) if f[1] == call["call_id"]]
    assert [(f[3], f[4]) for f in lines] == [("NONE", "ENTERQUEUE"), ("R", "CONNECT"), ("R", "COMPLETECALLER")]
    # After the call the trunk is free again and the agent holds no line while idle.
    assert b.seen[40.0]["trunks"][1] == (LineState.IDLE, "") and not b.seen[40.0]["legs"]
    assert b.agent(40.0, "R")["trunk"] is None and b.agent(40.0, "R")["state"] == "ready"
    assert b.line(40.0, "trunk2")["state"] == "idle"


def test_glare_found_once_off_hook_moves_the_agents_dial_to_the_next_trunk(box, monkeypatch):
    # A voice modem learns of glare only once off hook (drivers/modem_line.py): it takes the dial, then
    # clears it with `glare`. Here the simulated trunk2 does the same the first time it dials R.
    real_dial, real_exchange = SimDriver.dial, SimDriver.exchange
    glare = []

    def dial(self, channel, number):
        real_dial(self, channel, number)
        if number == NUMBER and not glare:
            glare.append(channel)

    def exchange(self, tx, rx):
        events = real_exchange(self, tx, rx)
        if glare and glare[-1] is not None:
            channel = glare.pop()
            glare.append(None)
            self.hangup(channel)
            events.append(ChannelEvent(channel, EventKind.CLEAR,
                                       {"reason": "glare: an incoming call took the line", "glare": True}))
        return events
    monkeypatch.setattr(SimDriver, "dial", dial)
    monkeypatch.setattr(SimDriver, "exchange", exchange)
    b = box(HEAD.format(seconds=40, trunks=4, wrapup=2.0) + remote() + caller(talk=20.0))
    b.snapshot(15.0)
    b.finish()
    call = b.call()
    assert glare == [None]                       # trunk2 met glare once
    # R was dialled again at once on trunk3, is shown there, and took the caller there.
    assert b.seen[15.0]["trunks"][2] == (LineState.OUTBOUND, NUMBER)
    agent = b.agent(15.0, "R")
    assert (agent["trunk"], agent["state"]) == ("trunk3", "talking")
    assert b.line(15.0, "trunk3")["state"] == "connected" and b.line(15.0, "trunk2")["state"] == "idle"
    assert b.level("trunk1", REMOTE_HZ, 8, 24) > HEARD
    assert (call["disposition"], call["agent"], call["hangup_by"]) == ("answered", "R", "caller")
    assert ("agent:noanswer" not in [k for k, _ in b.events(call["call_id"])])
    assert b.states("R")[-1] == ("ready", None)


def test_caller_hanging_up_hangs_up_the_agents_trunk_for_the_next_callers(box):
    # Two trunks: while R talks, both are taken. After the call, two callers both find a line.
    b = box(HEAD.format(seconds=60, trunks=2, wrapup=0.0) + remote() + caller(talk=10.0)
            + caller(at=30.0, number="5550002", key="2", patience=10.0)
            + caller(at=31.0, number="5550003", key="2", patience=10.0))
    b.snapshot(16.0)
    b.finish()
    first = b.call(0)
    assert first["hangup_by"] == "caller" and first["agent"] == "R"
    phone = b.sim.directory[NUMBER]
    assert phone.calls == 1 and not phone.off_hook
    # R's phone was hung up as the caller left, not when R's own talk time ran out.
    assert b.seen[16.0]["trunks"][1] == (LineState.IDLE, "") and b.agent(16.0, "R")["state"] == "ready"
    assert not b.sim.blocked
    assert [c["disposition"] for c in b.report["calls"][1:]] == ["abandoned", "abandoned"]


def test_remote_agent_hanging_up_ends_the_call_by_agent(box):
    b = box(HEAD.format(seconds=60, trunks=4, wrapup=5.0) + remote(talk=10.0) + caller())
    b.snapshot(17.0)
    b.finish()
    call = b.call()
    assert (call["disposition"], call["hangup_by"]) == ("answered", "agent")
    assert abs(call["talk"] - 10.0) < 0.1 and call["caller"]["ended_by"] == "box"
    assert b.agent(17.0, "R")["state"] == "wrapup" and b.seen[17.0]["trunks"][1] == (LineState.IDLE, "")
    assert [s for s, _ in b.states("R")][-3:] == ["talking", "wrapup", "ready"]
    assert [f[4] for f in journal(b.run.paths.root) if f[1] == call["call_id"]][-1] == "COMPLETEAGENT"


def test_a_remote_agent_whose_exchange_gives_only_busy_tone_is_taken_as_hung_up(box):
    # Their mobile's network plays busy tone on the box's trunk when they hang up: three periods of it
    # (China: 2.1 s) later the call ends as theirs, and the trunk they were dialled on is free.
    b = box(HEAD.format(seconds=60, trunks=4, wrapup=5.0) + remote(talk=10.0, clear="busy") + caller())
    b.snapshot(20.0)
    b.finish()
    call = b.call()
    assert (call["disposition"], call["hangup_by"]) == ("answered", "agent")
    assert 10.0 + 2.1 <= call["talk"] <= 10.0 + 2.8
    assert b.agent(20.0, "R")["state"] == "wrapup" and b.seen[20.0]["trunks"][1] == (LineState.IDLE, "")


# --- the remote agent is not reached --------------------------------------------------------------

@pytest.mark.parametrize("outcome", ["no answer", "busy", "sit"])
def test_remote_agent_not_reached_is_paused_and_the_next_agent_answers(box, caplog, outcome):
    scenario = (HEAD.format(seconds=90, trunks=4, wrapup=0.0)
                + remote(answer_after=60.0 if outcome == "no answer" else 2.0) + station(login_at=0.5))
    if outcome == "busy":
        # The agent is on their phone: here, calling the hotline themselves.
        scenario += caller(at=0.2, number=NUMBER, key="2")
    scenario += caller(at=1.0, talk=20.0)
    b = box(scenario)
    if outcome == "sit":
        del b.sim.directory[NUMBER]      # nobody has that number any more
    with caplog.at_level(logging.WARNING):
        b.finish()
    call = b.call(-1)
    events = b.events(call["call_id"])
    assert [d["agent"] for k, d in events if k == "agent:ring"] == ["R", "S"]
    missed = next(d for k, d in events if k == "agent:noanswer")
    assert missed["agent"] == "R"
    if outcome == "no answer":
        assert "why" not in missed and missed["ring_ms"] == 15000
    else:
        assert missed["why"] == outcome and missed["ring_ms"] < 10000
        assert any("agent R" in r.getMessage() and NUMBER in r.getMessage() and outcome in r.getMessage()
                   for r in caplog.records if r.levelno == logging.WARNING)
    assert (call["agent"], call["disposition"]) == ("S", "answered")
    assert b.states("R")[-1] == ("not_ready", "no answer")
    assert all(t.state == LineState.IDLE for t in b.sim.trunks)     # the failed leg was let go


def test_no_free_trunk_the_station_agent_answers_then_the_remote_agent_gets_the_next(box):
    # R has waited longest, but both trunks carry callers: S takes the first; when its caller hangs
    # up, the trunk is free and R is dialled for the second.
    b = box(HEAD.format(seconds=60, trunks=2, wrapup=5.0) + remote() + station(login_at=0.5)
            + caller(at=1.0, talk=10.0) + caller(at=1.5, number="5550002", talk=10.0))
    b.finish()
    first, second = b.call(0), b.call(1)
    assert first["agent"] == "S" and second["agent"] == "R"
    assert [d["agent"] for k, d in b.events(first["call_id"]) if k == "agent:ring"] == ["S"]
    assert [d["agent"] for k, d in b.events(second["call_id"]) if k == "agent:ring"] == ["R"]
    ended = b.db["calls"].get(first["call_id"])["ended_at"]
    connected = b.db["calls"].get(second["call_id"])["connected_at"]
    assert 2.0 <= connected - ended <= 2.2     # dialled at once; R picks up after 2 s


# --- a trunk frees: the waiting caller is offered at once ------------------------------------------

def connected_after(b: Box, call: dict, since: float) -> float:
    """Seconds from `since` (engine clock) until the call was connected to its agent."""
    return b.db["calls"].get(call["call_id"])["connected_at"] - since


def test_a_line_test_ending_offers_the_waiting_caller_to_the_remote_agent(box):
    # trunk2 is under test while the caller waits on trunk1: R cannot be dialled until it ends.
    b = box(HEAD.format(seconds=40, trunks=2, wrapup=0.0) + remote() + caller())
    jobs = []
    b.engine.later(0.5, lambda: jobs.append(b.engine.cmd_line_test(1, 10.0)))
    b.finish()
    test = b.engine.line_tests[jobs[0]["job"]]
    assert test["state"] == "done" and b.call()["agent"] == "R"
    assert 2.0 <= connected_after(b, b.call(), test["finished_at"]) <= 2.2    # dialled at once; answers in 2 s


def test_a_cleared_alarm_offers_the_waiting_caller_and_a_line_in_alarm_takes_no_call(box):
    b = box(HEAD.format(seconds=50, trunks=2, wrapup=0.0) + remote() + caller())
    b.engine.later(0.5, b.sim.alarm, 0)                 # trunk1 goes down before the caller comes
    b.engine.later(20.0, b.sim.alarm, 0, False)
    b.snapshot(25.0)
    b.finish()
    call = b.call()
    assert b.db["calls"].get(call["call_id"])["channel"] == "trunk2" and call["agent"] == "R"
    assert b.agent(25.0, "R")["trunk"] == "trunk1"
    assert 2.0 <= connected_after(b, call, b.engine.started_at + 20.0) <= 2.2


def test_a_conference_party_leaving_offers_the_waiting_caller_to_the_remote_agent(box):
    # S's caller on trunk1 with the expert conferenced in on trunk2 (who leaves 10 s after answering);
    # a service caller on trunk3 waits for R, who can only be dialled on a free trunk.
    expert = f'[[externals]]\nnumber = "4008200000"\nanswer_after = 2.0\ntalk = 10.0\nvoice_hz = {EXPERT_HZ}\n'
    b = box(HEAD.format(seconds=60, trunks=3, wrapup=0.0) + station() + remote(skills="service = 5") + expert
            + caller() + action(10.0, "conference", agent="S", to="4008200000")
            + caller(at=15.0, number="5550002", key="2"))
    b.finish()
    first, second = b.call(0), b.call(1)
    left = next(e["at"] for e in b.db["call_events"].rows_where("call_id = ? and kind = 'call:third_left'",
                                                                [first["call_id"]]))
    assert (first["agent"], second["agent"]) == ("S", "R")
    assert 2.0 <= connected_after(b, second, left) <= 2.2


# --- everything a station agent does ------------------------------------------------------------

def test_transfer_from_a_remote_agent_to_a_queue(box):
    b = box(HEAD.format(seconds=60, trunks=4, wrapup=0.0) + remote() + station(skills="service = 5")
            + caller() + action(12.0, "transfer", agent="R", to="queue:service")
            + action(40.0, "hangup", agent="S"))
    b.snapshot(12.5)
    b.finish()
    call = b.call()
    assert (call["agent"], call["queue"], call["transfers"]) == ("S", "service", 1)
    kinds = [k for k, _ in b.events(call["call_id"])]
    assert kinds.count("queue:enter") == 2 and kinds.count("queue:connect") == 2
    # R's trunk is hung up as they hand the caller over.
    assert b.seen[12.5]["trunks"][1] == (LineState.IDLE, "") and b.agent(12.5, "R")["state"] == "ready"
    assert b.level("trunk1", STATION_HZ, 15, 39) > HEARD and b.level("trunk1", REMOTE_HZ, 15, 39) < SILENT
    assert ("R", "BLINDTRANSFER") in [(f[3], f[4]) for f in journal(b.run.paths.root)]


SUPERVISOR = f"""
[[supervisors]]
id = "SUP"
answer_after = 1.0
voice_hz = {SUP_HZ}
"""


def test_supervisor_whisper_reaches_the_remote_agent_only(box):
    b = box(HEAD.format(seconds=60, trunks=4, wrapup=0.0) + remote() + SUPERVISOR + caller()
            + action(10.0, "whisper", supervisor="SUP", agent="R") + action(40.0, "hangup", agent="R"))
    b.finish()
    assert b.level("trunk2", SUP_HZ, 12, 38) > HEARD        # the agent, on trunk2, hears the coach
    assert b.level("trunk1", SUP_HZ, 12, 38) < SILENT       # the caller hears no trace of it
    assert b.level("station1", CALLER_HZ, 12, 38) > HEARD   # the supervisor hears both sides
    assert b.level("station1", REMOTE_HZ, 12, 38) > HEARD
    assert b.call()["hangup_by"] == "agent"


EXPERT = f"""
[[externals]]
number = "4008200000"
answer_after = 2.0
talk = 1000.0
voice_hz = {EXPERT_HZ}
"""


def test_hold_then_conference_with_a_remote_agent(box):
    b = box(HEAD.format(seconds=60, trunks=4, wrapup=0.0) + remote() + EXPERT + caller()
            + action(10.0, "hold", agent="R") + action(20.0, "resume", agent="R")
            + action(25.0, "conference", agent="R", to="4008200000") + action(45.0, "hangup", agent="R"))
    b.finish()
    assert b.level("trunk1", REMOTE_HZ, 11, 19) < SILENT and b.level("trunk2", CALLER_HZ, 11, 19) < SILENT
    assert b.level("trunk1", REMOTE_HZ, 21, 25) > HEARD
    # The expert center is dialled on trunk3 and answers after 2 s: all three hear each other.
    for listener, talker in [("trunk1", EXPERT_HZ), ("trunk2", EXPERT_HZ), ("trunk3", CALLER_HZ),
                             ("trunk3", REMOTE_HZ), ("trunk1", REMOTE_HZ), ("trunk2", CALLER_HZ)]:
        assert b.level(listener, talker, 29, 44) > HEARD, (listener, talker)
    assert abs(b.db["calls"].get(b.call()["call_id"])["hold"] - 10.0) < 0.1


def test_attended_transfer_from_a_station_agent_to_a_remote_agent(box):
    b = box(HEAD.format(seconds=80, trunks=4, wrapup=0.0) + station() + remote(login_at=1.0, skills="service = 5")
            + caller() + action(10.0, "transfer", agent="S", to="agent:R", blind=False)
            + action(30.0, "transfer_complete", agent="S") + action(60.0, "hangup", agent="R"))
    b.finish()
    assert b.level("station1", REMOTE_HZ, 13, 29) > HEARD     # S consults R, on trunk2
    assert b.level("trunk1", REMOTE_HZ, 13, 29) < SILENT      # the caller is on hold meanwhile
    assert b.level("trunk1", REMOTE_HZ, 31, 59) > HEARD and b.level("trunk2", CALLER_HZ, 31, 59) > HEARD
    call = b.call()
    assert (call["agent"], call["hangup_by"], call["transfers"]) == ("R", "agent", 1)


def test_intercept_takes_the_call_from_the_remote_agent(box):
    b = box(HEAD.format(seconds=60, trunks=4, wrapup=0.0) + remote() + SUPERVISOR + caller()
            + action(10.0, "monitor", supervisor="SUP", agent="R")
            + action(20.0, "intercept", supervisor="SUP", agent="R") + action(40.0, "stop", supervisor="SUP"))
    b.snapshot(21.0)
    b.finish()
    assert b.level("trunk1", SUP_HZ, 21, 39) > HEARD and b.level("trunk1", REMOTE_HZ, 21, 39) < SILENT
    assert b.seen[21.0]["trunks"][1] == (LineState.IDLE, "") and b.agent(21.0, "R")["state"] == "ready"
    assert (b.call()["disposition"], b.call()["hangup_by"]) == ("answered", "supervisor")


def test_remote_agent_dials_a_customer(box):
    b = box(HEAD.format(seconds=50, trunks=4, wrapup=0.0) + remote() + EXPERT
            + action(5.0, "dial", agent="R", number="4008200000") + action(30.0, "hangup", agent="R"))
    b.snapshot(20.0)
    b.finish()
    out = next(iter(b.db["calls"].rows_where("direction = 'outbound'")))
    assert (out["agent_id"], out["disposition"], out["hangup_by"]) == ("R", "answered", "agent")
    # R was rung first (trunk1); the customer's line was seized only once R answered (trunk2): no
    # trunk is held for a number not yet dialled.
    assert b.seen[20.0]["trunks"][:2] == [(LineState.OUTBOUND, NUMBER), (LineState.OUTBOUND, "4008200000")]
    assert b.level("trunk1", EXPERT_HZ, 12, 29) > HEARD and b.level("trunk2", REMOTE_HZ, 12, 29) > HEARD
    assert out["channel"] == "trunk2"
    assert not b.seen[20.0]["trunks"][2][1]




def test_callback_rings_the_remote_agent_then_dials_the_caller(box):
    asks = """
[[callers]]
at = 1.0
number = "13900000001"
keys = [[1.0, "1"], [8.0, "2"], [12.0, "1"]]
patience = 200.0
talk = 15.0
"""
    b = box(HEAD.format(seconds=150, trunks=4, wrapup=0.0) + remote(login_at=60.0, talk=1000.0) + asks,
            flow=CALLBACK_FLOW)
    b.finish()
    assert b.call()["disposition"] == "callback"
    request = next(iter(b.db["callbacks"].rows))
    assert request["state"] == "done"
    back = b.db["calls"].get(request["callback_call_id"])
    assert (back["direction"], back["agent_id"], back["disposition"]) == ("callback", "R", "answered")
    assert back["hangup_by"] == "caller" and abs(back["talk"] - 15.0) < 0.1
    assert b.sim.directory[NUMBER].calls == 1 and not b.sim.directory[NUMBER].off_hook


def test_line_alarm_on_the_agents_trunk_puts_the_caller_back_first_in_line(box):
    b = box(HEAD.format(seconds=80, trunks=4, wrapup=3.0) + remote() + station(login_at=0.5, talk=20.0) + caller())
    b.engine.later(20.0, b.sim.alarm, 1)     # trunk2, R's line for this call
    b.snapshot(21.0)
    b.finish()
    call = b.call()
    kinds = [k for k, _ in b.events(call["call_id"])]
    assert "agent:lost" in kinds and kinds.count("queue:connect") == 2
    assert (call["agent"], call["disposition"]) == ("S", "answered")
    assert b.line(21.0, "trunk2")["state"] == "alarm"
    # The trunk failed, not R's phone: R is reached on another trunk after the wrap-up.
    assert b.agent(21.0, "R")["state"] == "wrapup" and b.states("R")[-1] == ("ready", None)
    assert not b.sim.directory[NUMBER].off_hook


def test_keys_pressed_on_the_agents_trunk_are_not_caller_input(box):
    b = box(HEAD.format(seconds=40, trunks=4, wrapup=0.0) + remote(voice=False) + caller(talk=20.0))
    b.engine.later(12.0, b.sim._queue_audio, 1, tonegen.dtmf_string("59"))   # R keys 5 and 9 on trunk2
    b.snapshot(14.0)
    b.finish()
    call = b.call()
    assert call["digits_detected"] == "1" and call["disposition"] == "answered"
    assert [d["digit"] for d in b.line(14.0, "trunk2")["digits"]] == ["5", "9"]


# --- configuration ------------------------------------------------------------------------------

SITE = """
[[queue]]
name = "sales"
[[agent]]
id = "1001"
{reach}
skills = {{ sales = 5 }}
"""


@pytest.mark.parametrize("reach, key, reason", [
    ('station = "station1"\nphone = "13800138000"', "agent[0].phone", "not both"),
    ("", "agent[0].station", "required"),
    ('phone = "138-0013"', "agent[0].phone", "not a number the box can dial"),
    ('phone = ""', "agent[0].phone", "not a number the box can dial"),
    ('phone = "' + "1" * 21 + '"', "agent[0].phone", "not a number the box can dial"),
    ("phone = 13800138000", "agent[0].phone", "expected a string"),
])
def test_bad_agent_reach_names_file_key_and_reason(tmp_path, reach, key, reason):
    path = tmp_path / "site.toml"
    path.write_text(SITE.format(reach=reach))
    with pytest.raises(ConfigError) as err:
        read_site(path)
    msg = str(err.value)
    assert str(path) in msg and key in msg and reason in msg, msg


def test_a_phone_number_reaches_one_agent_only(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(SITE.format(reach='phone = "800"') + '[[agent]]\nid = "1002"\nphone = "800"\nqueues = ["sales"]\n')
    with pytest.raises(ConfigError, match=r"agent: a phone number reaches one agent only"):
        read_site(path)


@pytest.mark.parametrize("name", ["station9", "trunk1"])
def test_unknown_station_names_file_key_and_reason(tmp_path, name):
    path = tmp_path / "site.toml"
    path.write_text(SITE.format(reach=f'station = "{name}"'))
    site = read_site(path)
    svc = SimpleNamespace(lines=Board([SimDriver(trunks=2, stations=2)]), clock=SimpleNamespace(time=lambda: 0.0))
    with pytest.raises(AcdError) as err:
        Acd(svc, None, site.queues, site.agents)
    msg = str(err.value)
    assert f"{path}: agent[0].station: no station named {name!r}" in msg and "phone" in msg, msg


def test_remote_agent_in_the_site_file(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(SITE.format(reach='phone = "*9#13800138000"'))
    agent = read_site(path).agents[0]
    assert (agent.station, agent.phone) == (None, "*9#13800138000")


def test_bad_scenario_agent_phone(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[run]\nseconds = 10\n" + remote(number="12ab"))
    with pytest.raises(ConfigError, match=r"agents\[0\]\.phone: '12ab' is not a number the box can dial"):
        load_scenario(path)


# --- a day with remote agents -------------------------------------------------------------------

def test_scenario_with_remote_agents_accounts_for_every_call_once(box):
    scenario = (HEAD.format(seconds=900, trunks=6, wrapup=5.0)
                + remote("R1", number="13800000101", skills="sales = 5, service = 5", talk=90.0)
                + remote("R2", number="13800000102", skills="sales = 5", answer_after=4.0, talk=60.0)
                + station("S", skills="sales = 5, service = 5", talk=120.0) + """
[[traffic]]
per_hour = 150
keys = ["1", "2"]
patience = [30.0, 240.0]
talk = [20.0, 200.0]
""")
    b = box(scenario)
    b.finish()
    calls = b.report["calls"]
    assert len(calls) > 20
    assert all(c["disposition"] for c in calls)
    assert sum(b.report["totals"]["dispositions"].values()) == len(calls)
    hangups = {}
    for row in b.db["call_events"].rows_where("kind = 'call:hangup'"):
        hangups[row["call_id"]] = hangups.get(row["call_id"], 0) + 1
    inbound = [c for c in calls if c["call_id"]]
    assert all(hangups.get(c["call_id"]) == 1 for c in inbound)
    answered_by = {c["agent"] for c in calls if c["disposition"] == "answered"}
    assert {"R1", "R2"} <= answered_by
    # Nothing left behind: every trunk idle, no dialled leg, no agent phone off hook.
    assert all(t.state == LineState.IDLE for t in b.sim.trunks)
    assert not any(phone.busy for phone in b.sim.directory.values())
