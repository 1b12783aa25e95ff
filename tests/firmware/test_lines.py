"""The technician's view of the lines: per-line status fields, digits heard, line tests that never block the loop."""
import textwrap
import time

import numpy as np
import pytest

from drivers.channel import LineTest
from drivers.sim import SimCaller
from drivers.sim_signals import progress_tone
from drivers.modem_line import LineState
from dsp.levels import dbm0_to_amplitude
from firmware.config.tone_plans import load_plan
from firmware.callcenter.center import DIGITS_KEPT
from firmware.core import engine as engine_module
from firmware.config.box import StatePaths, load_site, open_engine
from firmware.config.boards import build_board, load_profile
from firmware.core.control import ControlError
from firmware.tools.scenario import ScenarioRun, load_scenario
from scenario_builder import agent, caller, flow, run_section, scenario

AGENTS = (agent("1001", name="Li Wei", queues=["sales"], login_at=3000.0),
          agent("1002", name="Ana Costa", queues=["sales"], login_at=3000.0))


def waiting_caller(keys):
    return caller(0.5, "13800138000", name="ZHAO LEI", keys=keys, patience=3000.0)


SCENARIO = scenario(run_section(3600, trunks=3), AGENTS,
                    waiting_caller([[1.0, "1"], [12.0, "2345678023456780234567"]]))

SECURE_FLOW = flow(
    "card",
    card={"type": "collect", "prompts": ["enter-number"], "var": "card", "min_digits": 6, "max_digits": 6,
          "secure": True, "next": "menu", "on_fail": "menu"},
    menu={"type": "menu", "prompts": ["main-menu"], "choices": {"1": "sales"}, "on_fail": "sales"},
    sales={"type": "queue", "queue": "sales"},
)


@pytest.fixture
def box(tmp_path):
    """A box on three simulated trunks in fast time, stepped by the test; its status by line name."""
    runs = []

    def make(text=SCENARIO, flow=None):
        path = tmp_path / "s.toml"
        if flow is not None:
            (tmp_path / "flow.toml").write_text(textwrap.dedent(flow))
            text = text.replace("[run]\n", '[run]\nflow = "flow.toml"\n', 1)
        path.write_text(text)
        run = ScenarioRun(load_scenario(path), tmp_path / "state")
        runs.append(run)
        return run
    yield make
    for run in runs:
        run.engine.close()


def until(engine, seconds):
    engine.run(until=lambda: engine.clock.seconds >= seconds)


def lines(engine):
    return {ln["name"]: ln for ln in engine.status()["lines"]}


def test_status_gives_each_lines_driver_device_caller_id_counters_and_digits(box):
    run = box()
    engine = run.engine
    until(engine, 5.0)
    trunk1 = lines(engine)["trunk1"]
    assert (trunk1["driver"], trunk1["device"], trunk1["state"]) == ("sim", "sim:trunk1", "queued")
    assert trunk1["alarm"] is None
    assert trunk1["last_caller_id"]["number"] == "13800138000" and trunk1["last_caller_id"]["name"] == "ZHAO LEI"
    # The caller arrives 0.5 s into the run; the V.23 burst before the first ring (alerting tone,
    # ~0.8 s of FSK) is read once the line has been quiet a moment after it.
    assert 1.3 < trunk1["last_caller_id"]["at"] - engine.started_at < 2.0
    # The simulated board keeps no hardware counters: the engine says so rather than inventing zeros.
    assert trunk1["counters"] == {"calls": 1, "far_end_clears": 0, "digits": 1, "unreadable_ids": 0, "resets": None,
                                  "overruns": None}
    [one] = trunk1["digits"]
    # Pressed 1 s after the box answered, which it did as soon as the caller ID was read.
    assert one["digit"] == "1" and 1.0 < one["at"] - trunk1["last_caller_id"]["at"] < 1.6
    idle = lines(engine)["trunk2"]
    assert idle["state"] == "idle" and idle["last_caller_id"] is None and idle["digits"] == []
    assert idle["counters"]["calls"] == 0 and idle["test"] is None


def test_digits_heard_keep_the_last_twenty_in_order_and_every_one_is_counted(box):
    run = box()
    engine = run.engine
    until(engine, 25.0)
    trunk1 = lines(engine)["trunk1"]
    pressed = "1" + "2345678023456780234567"
    assert run.sim_callers[0].pressed == pressed
    assert trunk1["counters"]["digits"] == len(pressed)
    assert "".join(d["digit"] for d in trunk1["digits"]) == pressed[-DIGITS_KEPT:]
    times = [d["at"] for d in trunk1["digits"]]
    assert times == sorted(times)


def test_secure_input_is_masked_in_the_digits_heard(box):
    run = box(scenario(run_section(3600, trunks=3), AGENTS, waiting_caller([[1.0, "424242"], [8.0, "1"]])),
              SECURE_FLOW)
    engine = run.engine
    until(engine, 15.0)
    trunk1 = lines(engine)["trunk1"]
    assert "".join(d["digit"] for d in trunk1["digits"]) == "******1"
    assert trunk1["counters"]["digits"] == 7


def test_line_test_runs_beside_the_loop_and_reports_dial_tone(box):
    run = box()
    engine = run.engine
    until(engine, 5.0)
    job = engine.command("line.test", {"channel": 1})
    assert job["state"] == "running" and job["line"] == "trunk2" and job["seconds"] == engine_module.LINE_TEST_S
    # The loop goes on ticking while the line listens: the command answered at once.
    until(engine, 6.0)
    assert engine.command("line.test_result", {"job": job["job"]})["state"] == "running"
    assert lines(engine)["trunk2"]["state"] == "testing"
    # A caller arriving meanwhile finds the tested line busy and rings the next one.
    caller = SimCaller("13900000002", patience=600.0)
    run.lines.place_call(caller)
    assert caller.line == 2
    until(engine, 5.0 + engine_module.LINE_TEST_S + 0.1)
    done = engine.command("line.test_result", {"job": job["job"]})
    assert done["state"] == "done" and done["finished_at"] - done["started_at"] == pytest.approx(3.0, abs=0.05)
    assert done["result"]["dial_tone"] is True and done["result"]["level_dbm0"] == -10.0
    assert "dial tone" in done["result"]["detail"] and "trunk2" in done["result"]["detail"]
    trunk2 = lines(engine)["trunk2"]
    assert trunk2["state"] == "idle" and trunk2["test"] == done


@pytest.mark.parametrize("plan", ["cn", "etsi", "na"])
def test_line_tests_judge_the_sites_dial_tone_by_ear(box, plan):
    # The site's network (scenario [run] tones, as site.toml's [box] tones): its exchange gives its
    # dial tone; one trunk carries a loud busy tone instead, another white noise at -10 dBm0.
    run = box(scenario(run_section(3600, tones=plan, trunks=3), AGENTS))
    engine = run.engine
    busy = progress_tone(load_plan(plan), "busy", 0, 160)
    run.sim.off_hook_audio[1] = busy.samples[:busy.period]
    run.sim.off_hook_audio[2] = np.random.default_rng(1).standard_normal(8000) * dbm0_to_amplitude(-10.0) * np.sqrt(0.5)
    until(engine, 0.2)
    jobs = [engine.command("line.test", {"channel": ch})["job"] for ch in (0, 1, 2)]
    until(engine, 0.2 + engine_module.LINE_TEST_S + 0.1)
    results = [engine.command("line.test_result", {"job": job})["result"] for job in jobs]
    assert [r["dial_tone"] for r in results] == [True, False, False]
    assert f"{plan} dial tone heard" in results[0]["detail"]
    assert all(f"no {plan} dial tone" in r["detail"] and r["level_dbm0"] > -30.0 for r in results[1:])


def test_a_line_in_alarm_reports_no_dial_tone(box):
    run = box()
    engine = run.engine
    until(engine, 1.0)
    run.sim.alarm(2, reason="loss of line")
    until(engine, 1.1)
    assert lines(engine)["trunk3"]["alarm"] == "loss of line"
    job = engine.command("line.test", {"channel": 2})
    until(engine, 1.1 + engine_module.LINE_TEST_S + 0.1)
    result = engine.command("line.test_result", {"job": job["job"]})
    assert result["state"] == "done" and result["result"]["dial_tone"] is False
    assert "loss of line" in result["result"]["detail"]


def test_a_line_that_carries_a_call_cannot_be_tested(box):
    run = box()
    engine = run.engine
    until(engine, 5.0)
    with pytest.raises(ControlError, match=r"line trunk1 carries a call \(13800138000, queued\): it cannot be tested"):
        engine.command("line.test", {"channel": 0})
    assert engine.line_tests == {} and engine.testing == {}
    assert engine.app.calls[0].state.value == "queued"


@pytest.mark.parametrize("args, message", [
    ({"channel": 99}, r"no line 99 on this box \(lines 0-4\)"),
    ({"channel": -1}, r"no line -1"),
    ({"channel": "1"}, r"no line '1'"),
    ({"channel": True}, r"no line True"),
    ({"channel": 1, "seconds": 0.1}, r"seconds must be a number from 0.5 to 60"),
    ({"channel": 1, "seconds": "3"}, r"seconds must be a number"),
    ({"channel": 3}, r"station1 is agent 1001's phone and the agent is logged in"),
    ({"line": 1}, r"line.test: bad arguments"),
])
def test_bad_line_test_requests_are_refused_clearly(box, args, message):
    engine = box().engine
    until(engine, 0.2)
    engine.app.acd.cmd_login("1001")
    with pytest.raises(ControlError, match=message):
        engine.command("line.test", args)
    assert engine.testing == {}


def test_handsets_second_tests_and_unknown_jobs_are_refused(box):
    engine = box().engine
    until(engine, 0.2)
    with pytest.raises(ControlError, match="line station2: sim: station2 is a handset"):
        engine.command("line.test", {"channel": 4})
    job = engine.command("line.test", {"channel": 1})["job"]
    with pytest.raises(ControlError, match=f"line trunk2 is being tested already \\(job {job}\\)"):
        engine.command("line.test", {"channel": 1})
    with pytest.raises(ControlError, match="no line test 'f00'"):
        engine.command("line.test_result", {"job": "f00"})


def test_a_test_the_driver_never_finishes_fails_after_the_grace_time(box, monkeypatch):
    run = box()
    engine = run.engine
    monkeypatch.setattr(run.sim, "test_line", lambda channel, seconds, plan: LineTest(seconds))
    job = engine.command("line.test", {"channel": 1})["job"]
    limit = engine_module.LINE_TEST_S + engine_module.LINE_TEST_GRACE_S
    until(engine, limit - 0.5)
    assert engine.command("line.test_result", {"job": job})["state"] == "running"
    until(engine, limit + 0.5)
    record = engine.command("line.test_result", {"job": job})
    assert record["state"] == "failed" and record["result"]["dial_tone"] is None
    assert "the sim driver gave no result within 18 s" in record["result"]["detail"]
    assert engine.testing == {}


def test_finished_tests_are_kept_up_to_a_limit(box, monkeypatch):
    engine = box().engine
    monkeypatch.setattr(engine_module, "LINE_TESTS_KEPT", 2)
    jobs = []
    for _ in range(4):
        jobs.append(engine.command("line.test", {"channel": 1})["job"])
        until(engine, engine.clock.seconds + engine_module.LINE_TEST_S + 0.1)
    assert list(engine.line_tests) == jobs[-2:]
    with pytest.raises(ControlError, match="no line test"):
        engine.command("line.test_result", {"job": jobs[0]})


def test_resets_and_overruns_come_from_the_drivers_own_line_status(box, monkeypatch):
    run = box()
    engine = run.engine
    figures = [{"device": f"/dev/fake{i}", "state": "idle", "counters": {"resets": i, "overruns": 10 * i}}
               for i in range(len(engine.board))]
    monkeypatch.setattr(run.sim, "status", lambda: {"driver": "sim", "lines": figures})
    status = engine.status()["lines"]
    assert [(ln["device"], ln["driver_state"], ln["counters"]["resets"], ln["counters"]["overruns"])
            for ln in status] == [(f"/dev/fake{i}", "idle", i, 10 * i) for i in range(len(engine.board))]


def test_line_tests_on_emulated_modems_hear_dial_tone_and_find_a_dead_line(tmp_path, monkeypatch):
    from drivers import modem_chat
    monkeypatch.setattr(modem_chat, "COMMAND_DELAY_S", 0.01)
    board = build_board(load_profile("sim-modems"))
    modem = board.drivers[0]
    paths = StatePaths(tmp_path / "state")
    engine = open_engine(paths, board, load_site(paths), clock="paced", control=False, seed=3)
    t0 = time.monotonic()

    def run_until(cond, limit):
        engine.run(until=lambda: cond() or time.monotonic() - t0 > limit)
        assert cond()
    try:
        run_until(lambda: all(ln.state == LineState.IDLE for ln in modem.lines), 10)
        modem.emulators[1].dead_line = True
        good = engine.command("line.test", {"channel": 0, "seconds": 2.0})
        dead = engine.command("line.test", {"channel": 1, "seconds": 2.0})
        assert lines(engine)["line1"]["state"] == "testing"
        run_until(lambda: not engine.testing and all(ln.state == LineState.IDLE for ln in modem.lines), 20)
        good = engine.command("line.test_result", {"job": good["job"]})
        dead = engine.command("line.test_result", {"job": dead["job"]})
        status = lines(engine)
    finally:
        engine.close()
    assert good["state"] == "done" and good["result"]["dial_tone"] is True
    # The emulated network is the site's (sim-modems.toml, site.toml: cn): 450 Hz at -10 dBm0.
    assert -11.0 <= good["result"]["level_dbm0"] <= -9.0
    assert dead["result"]["dial_tone"] is False and "no cn dial tone" in dead["result"]["detail"]
    line1, line2 = status["line1"], status["line2"]
    assert line1["driver"] == "voice_modem" and "usb-Emulated_usr5637" in line1["device"]
    assert line1["alarm"] is None and line1["counters"]["resets"] == 0 and line1["counters"]["overruns"] == 0
    assert line2["state"] == "alarm" and "no cn dial tone" in line2["alarm"] and line2["driver_state"] == "idle"
