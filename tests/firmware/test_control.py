"""The control socket against a running engine: status, agent commands, clear errors, `branchline ctl`."""
import time

import pytest

from firmware import cli
from firmware.core.control import ControlClient, ControlError
from scenario_builder import agent, caller, run_section, scenario

SCENARIO = scenario(
    run_section(3600),
    agent("1001", name="Li Wei", queues=["sales"], login_at=3000.0),
    caller(0.5, "13800138000", keys=[[1.0, "1"]], patience=3000.0),
)


@pytest.fixture
def engine(live_box):
    return live_box(SCENARIO)


def wait_for(fn, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_status_shows_the_waiting_caller(engine):
    run, state = engine
    client = ControlClient(state / "control.sock")
    status = wait_for(lambda: (s := client.call("status"))["calls"] and s["calls"][0]["state"] == "queued" and s)
    call = status["calls"][0]
    assert call["number"] == "13800138000" and call["queue"] == "sales" and call["wait_s"] >= 0
    assert status["queues"][0]["waiting"] == 1
    assert status["ticks"]["count"] > 0 and status["box"]["mode"] == "paced"
    assert {ln["name"] for ln in status["lines"]} >= {"trunk1", "station1"}


def test_agent_commands_change_state_and_connect_the_caller(engine):
    run, state = engine
    client = ControlClient(state / "control.sock")
    wait_for(lambda: client.call("status")["queues"][0]["waiting"] == 1)
    assert client.call("agent.login", agent="1001")["state"] == "not_ready"
    assert client.call("agent.ready", agent="1001")["state"] in ("ready", "ringing")
    agent = wait_for(lambda: (a := client.call("status")["agents"][0])["state"] == "talking" and a)
    assert agent["number"] == "13800138000"
    with pytest.raises(ControlError, match="on a call"):
        client.call("agent.logout", agent="1001")
    client.call("agent.hangup", agent="1001")
    assert wait_for(lambda: client.call("status")["agents"][0]["state"] == "wrapup")


def test_bad_commands_get_clear_errors_and_change_nothing(engine):
    run, state = engine
    client = ControlClient(state / "control.sock")
    with pytest.raises(ControlError, match="unknown agent '9999'"):
        client.call("agent.login", agent="9999")
    with pytest.raises(ControlError, match="unknown command 'agent.dance'"):
        client.call("agent.dance", agent="1001")
    with pytest.raises(ControlError, match="bad arguments"):
        client.call("agent.ready", who="1001")
    with pytest.raises(ControlError, match="not logged in"):
        client.call("agent.ready", agent="1001")
    assert client.call("status")["agents"][0]["state"] == "logged_out"


def test_malformed_lines_are_answered_not_fatal(engine):
    import socket
    run, state = engine
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(state / "control.sock"))
        f = s.makefile("rwb")
        f.write(b"this is not json\n")
        f.flush()
        assert b"malformed request" in f.readline()
        f.write(b'{"id": 1, "cmd": "status"}\n')
        f.flush()
        assert b'"ok":true' in f.readline()


def test_ctl_status_command(engine, capsys):
    run, state = engine
    wait_for(lambda: ControlClient(state / "control.sock").call("status")["queues"][0]["waiting"] == 1)
    assert cli.main(["ctl", "--state", str(state), "status"]) == 0
    out = capsys.readouterr().out
    assert "sales" in out and "waiting   1" in out and "trunk1" in out
    assert cli.main(["ctl", "--state", str(state), "login", "1001"]) == 0
    assert "agent 1001: not_ready (login)" in capsys.readouterr().out
    assert cli.main(["ctl", "--state", str(state), "ready", "4242"]) == 1
    assert "unknown agent" in capsys.readouterr().err


def test_ctl_without_engine_says_so(tmp_path, capsys):
    assert cli.main(["ctl", "--state", str(tmp_path), "status"]) == 1
    assert "engine not reachable" in capsys.readouterr().err


def test_flow_hot_reload_swaps_only_a_valid_flow(engine, tmp_path, capsys):
    run, state = engine
    flow_path = tmp_path / "flow.toml"
    from firmware.config.site import DEFAULTS_DIR
    good = (DEFAULTS_DIR / "flows" / "main.toml").read_text()
    flow_path.write_text(good)
    run.engine.app.flow = type(run.engine.app.flow)(flow_path, run.engine.app.flow.start, run.engine.app.flow.nodes)
    client = ControlClient(state / "control.sock")
    flow_path.write_text(good.replace('queue = "service"', 'queue = "billing"'))
    with pytest.raises(ControlError, match="running flow stays.*node 'service': queue: no queue named 'billing'"):
        client.call("flow.reload")
    assert run.engine.app.flow.nodes["service"].queue == "service"
    flow_path.write_text(good.replace('"2" = "service"', '"2" = "service", "0" = "sales"'))
    assert cli.main(["ctl", "--state", str(state), "reload-flow"]) == 0
    assert "reloaded" in capsys.readouterr().out
    assert dict(run.engine.app.flow.nodes["main_menu"].choices)["0"] == "sales"
