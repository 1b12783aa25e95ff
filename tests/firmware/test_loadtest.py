"""The load test on the live box (R18): virtual callers through the live flow and queues on virtual lines,
answered by virtual agents, reported while it runs, stoppable, refused above what the box carries, and
never touching a real line, a real agent or the box's own records."""
import sqlite3
import threading

import pytest

from drivers.channel import ChannelError, ChannelKind
from drivers.sim import SimCaller
from firmware.config import loadtest
from firmware.core.commands import check
from firmware.core.control import ControlError
from firmware.tools.scenario import ScenarioRun, load_scenario
from scenario_builder import agent, caller, run_section, scenario

REAL_NUMBER = "13800138000"
# One real caller talking to the one real agent for the whole test; the agent is free otherwise.
SCENARIO = scenario(run_section(3600, trunks=2, drain=0),
                    agent("1001", name="Li Wei", queues=["sales"], answer_after=1.0, talk=3000.0),
                    caller(0.5, REAL_NUMBER, keys=[[1.0, "1"]], patience=3000.0, talk=3000.0))


class Spy:
    """Counts what the loop asks of the real lines' driver (answer, hangup, dial, line tests)."""

    def __init__(self, driver):
        self.actions: list[tuple[str, int]] = []
        for name in ("answer", "hangup", "dial", "test_line"):
            real = getattr(driver, name)
            setattr(driver, name, self._wrap(name, real))

    def _wrap(self, name, real):
        def spy(channel, *args):
            self.actions.append((name, channel))
            return real(channel, *args)
        return spy


@pytest.fixture(autouse=True)
def any_tick_time(monkeypatch):
    """The tick-time thresholds judge the CPU the test happens to get (a shared runner): off here, and set
    by the tests of the thresholds themselves."""
    monkeypatch.setattr(loadtest, "START_P99_MS", float("inf"))
    monkeypatch.setattr(loadtest, "STOP_P99_MS", float("inf"))


@pytest.fixture
def box(tmp_path):
    """The box in fast time with its virtual lines reserved; `cmd` runs a control command as the socket does."""
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    run = ScenarioRun(load_scenario(path), tmp_path / "state", control=True, virtual_lines=True)
    yield run
    run.engine.close()


def cmd(engine, name, **args):
    """A control command as the socket hands it to the loop: checked, prepared off the loop, then run."""
    check(name, args)
    prepare = engine.control.prepare.get(name)
    if prepare is not None:
        args = prepare(args)
    return engine.command(name, args)


def until(engine, seconds):
    engine.run(until=lambda: engine.clock.seconds >= seconds)


def closed():
    """Wait for the run's records to be closed (they are, off the loop, after a stop)."""
    for thread in threading.enumerate():
        if thread.name == "loadtest-close":
            thread.join(10)


def rows(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_virtual_lines_are_reserved_apart_from_the_real_ones(box):
    engine = box.engine
    board = engine.board
    virtual = board.channels[board.live:]
    assert len(virtual) == loadtest.VIRTUAL_TRUNKS + loadtest.VIRTUAL_STATIONS
    assert {c.name for c in virtual if c.kind == ChannelKind.TRUNK} == {f"vtrunk{i + 1}" for i in range(30)}
    until(engine, 5.0)
    # The technician's lines and the line tests are the real lines only.
    assert [line["name"] for line in engine.status()["lines"]] == ["trunk1", "trunk2", "station1"]
    with pytest.raises(ControlError, match="no line"):
        cmd(engine, "line.test", channel=board.live)
    # The live call center can neither see nor seize a virtual line.
    lines = engine.services.lines
    assert board.live not in lines and all(c.index < board.live for c in lines.channels)
    with pytest.raises(ChannelError):
        lines.dial(board.live, "123")
    assert cmd(engine, "loadtest.status")["state"] == "idle"


def test_idle_virtual_lines_are_neither_exchanged_nor_listened_to(box):
    # What they would cost idle is `make bench`'s to measure; here, that the loop does no work for them.
    engine = box.engine
    virtual = engine.board.virtual
    until(engine, 5.0)
    assert virtual.tick == 0 and not engine.listener.virtual_on
    cmd(engine, "loadtest.start", callers=1, duration=60.0)
    until(engine, 7.0)
    assert virtual.tick == 100 and engine.listener.virtual_on
    cmd(engine, "loadtest.stop")
    until(engine, 9.0)
    assert virtual.tick == 100 and not engine.listener.virtual_on
    assert not engine.board.exchange(engine.tx)[0][engine.board.live:].any()


def test_a_load_test_runs_through_the_flow_and_queues_and_is_reported_while_it_runs(box, tmp_path):
    engine = box.engine
    until(engine, 5.0)
    spy = Spy(engine.board.drivers[0])
    started = cmd(engine, "loadtest.start", callers=6, duration=120.0, agents=3, talk=5.0, keys="1 2")
    assert started["state"] == "running" and started["run"]["callers"] == 6
    until(engine, 45.0)
    live = cmd(engine, "loadtest.status")
    calls = live["run"]["calls"]
    # Six lines kept busy: callers answered by the box, through the menu into the queues, to the
    # virtual agents, and followed by new callers as they finish.
    assert calls["offered"] > 6 and calls["answered"] >= calls["connected"] > 0 and calls["completed"] > 0
    assert 0 < calls["in_progress"] <= 6 and calls["blocked"] == 0
    ticks = live["run"]["ticks"]
    assert ticks["count"] == pytest.approx(40.0 / 0.02, abs=2) and ticks["p99_ms"] > 0 and ticks["overruns"] >= 0
    # The real lines were not touched, the real caller is still with the real agent, who was rung
    # for no virtual caller.
    assert spy.actions == []
    status = engine.status()
    assert [(c["number"], c["state"]) for c in status["calls"]] == [(REAL_NUMBER, "connected")]
    [real_agent] = status["agents"]
    assert real_agent["id"] == "1001" and real_agent["calls"] == 1
    stopped = cmd(engine, "loadtest.stop")
    assert stopped["state"] == "stopping" and stopped["run"]["stop_reason"] == "stopped by the operator"
    until(engine, 47.0)
    closed()
    assert cmd(engine, "loadtest.status")["state"] == "idle"
    # Every virtual line is free again; the real call goes on.
    virtual = engine.board.virtual
    assert all(t.caller is None for t in virtual.trunks) and not any(h.busy for h in virtual.handsets)
    assert [c["state"] for c in engine.status()["calls"]] == ["connected"]
    # The virtual calls are in the run's own database only: the box's records (and HQ) never see them.
    run_db = f"{stopped['run']['records']}/loadtest.db"
    [(virtual_calls, numbers)] = rows(run_db, "SELECT count(*), count(DISTINCT substr(number, 1, 4)) FROM calls")
    assert virtual_calls >= calls["offered"] and numbers == 1
    # Recorded and filed, then deleted: the card keeps no load-test recording.
    assert rows(run_db, "SELECT count(*), min(size) FROM recordings")[0][0] > 0
    assert rows(run_db, "SELECT min(size) FROM recordings")[0][0] > 44
    assert not list((tmp_path / "state" / "loadtest").rglob("*.wav"))
    box_db = tmp_path / "state" / "branchline.db"
    assert rows(box_db, "SELECT number FROM calls") == [(REAL_NUMBER,)]
    assert rows(box_db, "SELECT count(*) FROM agent_states WHERE agent_id LIKE 'lt%'") == [(0,)]


def test_the_test_ends_by_itself_after_its_duration_and_the_next_run_replaces_its_records(box):
    engine = box.engine
    until(engine, 5.0)
    first = cmd(engine, "loadtest.start", callers=2, duration=10.0)
    until(engine, 17.0)
    done = cmd(engine, "loadtest.status")
    assert done["run"]["stop_reason"] == "finished" and done["run"]["calls"]["offered"] >= 2
    closed()
    second = cmd(engine, "loadtest.start", callers=1, duration=10.0)
    assert second["run"]["id"] != first["run"]["id"]
    assert sorted(p.name for p in box.paths.loadtest.iterdir()) == [second["run"]["id"]]


def test_refused_above_what_the_box_carries(box, monkeypatch):
    engine = box.engine
    until(engine, 5.0)
    with pytest.raises(ControlError, match="30 virtual lines"):
        cmd(engine, "loadtest.start", callers=31, duration=60.0)
    # With the real call on one line, the box carries CARRY_LINES - 1 virtual callers more.
    monkeypatch.setattr(loadtest, "CARRY_LINES", 4)
    assert cmd(engine, "loadtest.status")["limits"]["callers"] == 3
    with pytest.raises(ControlError, match="at most 3"):
        cmd(engine, "loadtest.start", callers=4, duration=60.0)
    for bad in ({"duration": 5.0}, {"talk": 0.5}, {"keys": "1 x"}, {"agents": 31}):
        with pytest.raises(ControlError):
            cmd(engine, "loadtest.start", callers=2, **{"duration": 60.0, **bad})
    # A box already busy (its ticks over the start threshold) is not loaded further.
    monkeypatch.setattr(loadtest, "START_P99_MS", 0.0)
    with pytest.raises(ControlError, match="busy already"):
        cmd(engine, "loadtest.start", callers=1, duration=60.0)
    status = cmd(engine, "loadtest.status")
    assert status["state"] == "idle" and status["run"] is None
    monkeypatch.setattr(loadtest, "START_P99_MS", float("inf"))
    cmd(engine, "loadtest.start", callers=3, duration=60.0)
    with pytest.raises(ControlError, match="running already"):
        cmd(engine, "loadtest.start", callers=1, duration=60.0)


def test_a_test_whose_ticks_pass_the_limit_stops_itself(box, monkeypatch):
    engine = box.engine
    until(engine, 5.0)
    monkeypatch.setattr(loadtest, "STOP_P99_MS", 0.0)
    cmd(engine, "loadtest.start", callers=2, duration=600.0)
    until(engine, 5.0 + loadtest.GUARD_TICKS * 0.02 + 2 * loadtest.CHECK_S)
    run = cmd(engine, "loadtest.status")["run"]
    assert run["ended_at"] is not None and "p99" in run["stop_reason"]


def test_virtual_callers_never_reach_a_real_line_even_when_every_virtual_line_is_taken(box):
    engine = box.engine
    until(engine, 5.0)
    virtual = engine.board.virtual
    spy = Spy(engine.board.drivers[0])
    cmd(engine, "loadtest.start", callers=2, duration=60.0, agents=0)
    until(engine, 30.0)
    # No virtual agent: every virtual caller waits in the queue; none rang a real agent or line.
    assert spy.actions == [] and engine.status()["agents"][0]["calls"] == 1
    assert cmd(engine, "loadtest.status")["run"]["calls"]["waiting"] == 2
    # A caller the PSTN sends while every virtual trunk is busy is blocked, not moved to a real line.
    for ch in range(virtual.n_trunks):
        if virtual.trunks[ch].caller is None:
            assert virtual.place_call(SimCaller(f"0999{ch:07d}", patience=600.0))
    assert not virtual.place_call(SimCaller("09990000000", patience=600.0))
    assert spy.actions == []


def test_the_tick_window_a_load_test_reports_is_its_own_newest_ticks():
    from firmware.core.engine import STATS_TICKS, TickStats

    stats = TickStats()
    for ms in range(1, 101):
        stats.add(ms / 1000.0)
    assert stats.recent(10) == {"mean_ms": 95.5, "p99_ms": pytest.approx(99.91), "max_ms": 100.0}
    for _ in range(STATS_TICKS):        # the ring buffer wraps: the window is still the newest ticks
        stats.add(0.001)
    stats.add(0.050)
    assert stats.recent(2)["max_ms"] == 50.0 and stats.recent(2)["mean_ms"] == 25.5
    assert TickStats().recent(250) == {"mean_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
