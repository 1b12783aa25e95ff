"""Control commands take a share of each tick, never the whole of it: a flood of requests waits for
later ticks instead of stalling the calls, and all the status polls of a tick share one status."""
import time
from concurrent.futures import Future
from types import SimpleNamespace

import pytest
import scenario_builder as sb

from firmware.core import engine as engine_module
from firmware.tools.scenario import ScenarioRun, load_scenario

SCENARIO = sb.scenario(sb.run_section(60), sb.agent("1001", name="Li Wei", queues=["sales"], login_at=3000.0))


@pytest.fixture
def stepped(tmp_path):
    """An engine in fast time, stepped by the test, with its control queue fed directly."""
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    run = ScenarioRun(load_scenario(path), tmp_path / "state", control=True)
    yield run.engine
    run.engine.close()


def queued(engine, *commands) -> list[Future]:
    futures = []
    for cmd, args in commands:
        fut = Future()
        engine.control.requests.put_nowait((cmd, args, fut))
        futures.append(fut)
    return futures


def test_a_tick_takes_at_most_its_share_of_waiting_commands_and_builds_status_once(stepped, monkeypatch):
    engine = stepped
    built = []
    status = engine.status
    monkeypatch.setattr(engine, "status", lambda: built.append(engine.clock.tick) or status())
    futures = queued(engine, *[("status", {})] * 100)
    ticks = 0
    while not all(f.done() for f in futures):
        before = sum(f.done() for f in futures)
        engine.step()
        ticks += 1
        assert sum(f.done() for f in futures) - before <= engine_module.COMMANDS_PER_TICK
    assert ticks >= -(-100 // engine_module.COMMANDS_PER_TICK)
    assert len(built) == ticks == len(set(built))   # one status a tick, whatever the number of polls
    assert all(f.result()["box"]["id"] == engine.box_id for f in futures)


def test_a_status_after_a_command_in_the_same_tick_shows_what_the_command_did(stepped, monkeypatch):
    # The tick's clock stands still, so all three fit its time share however busy the machine is.
    monkeypatch.setattr(engine_module, "time", SimpleNamespace(perf_counter=lambda: 0.0, gmtime=time.gmtime))
    before, login, after = queued(stepped, ("status", {}), ("agent.login", {"agent": "1001"}), ("status", {}))
    stepped.step()
    assert all(f.done() for f in (before, login, after)), "all three are answered in the one tick"
    assert before.result()["agents"][0]["state"] == "logged_out"
    assert login.result()["state"] == "not_ready"
    assert after.result()["agents"][0]["state"] == "not_ready"


def test_commands_stop_for_the_tick_when_its_time_share_is_spent(stepped, monkeypatch):
    engine = stepped
    now = [0.0]
    monkeypatch.setattr(engine_module, "time", SimpleNamespace(perf_counter=lambda: now[0], gmtime=time.gmtime))
    login = engine.app.acd.cmd_login

    def slow_login(agent_id):
        now[0] += 0.002   # each login takes 2 ms of the tick
        return login(agent_id)
    monkeypatch.setattr(engine.app.acd, "cmd_login", slow_login)
    futures = queued(engine, *[("agent.login", {"agent": "1001"})] * 10)
    engine.step()
    # The share is 5 ms: logins start at 0, 2 and 4 ms; the fourth would start at 6 ms.
    assert engine_module.COMMAND_BUDGET_S == pytest.approx(0.005)
    assert sum(f.done() for f in futures) == 3
    engine.step()
    assert sum(f.done() for f in futures) == 6
