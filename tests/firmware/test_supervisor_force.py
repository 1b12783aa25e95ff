"""The supervisor's force commands on the whole box (R6; README, control socket): what the socket's
argument table lets through, then one stretch of a supervisor's interventions run on the loop and read
back from the records head office pulls."""
import pytest

from firmware.core.commands import CommandError, check
from scenario_builder import action, agent, caller, queue, run_section, scenario, supervisor


@pytest.mark.parametrize("cmd, args", [
    ("supervisor.force_ready", {"supervisor": "S", "agent": "A"}),
    ("supervisor.force_not_ready", {"supervisor": "S", "agent": "A"}),
    ("supervisor.force_not_ready", {"supervisor": "S", "agent": "A", "reason": "coaching"}),
    ("supervisor.force_logout", {"supervisor": "S", "agent": "A"}),
    ("supervisor.hangup", {"supervisor": "S", "agent": "A"}),
])
def test_the_socket_lets_the_force_commands_through(cmd, args):
    check(cmd, args)


@pytest.mark.parametrize("cmd, args, message", [
    ("supervisor.force_ready", {"agent": "A"}, r"^supervisor.force_ready: bad arguments: supervisor is required"),
    ("supervisor.hangup", {"supervisor": "S", "agent": "A", "reason": "x"},
     r"^supervisor.hangup: bad arguments: unknown argument 'reason'"),
    ("supervisor.force_not_ready", {"supervisor": "S", "agent": "A", "reason": "x" * 65},
     r"^supervisor.force_not_ready: reason must be a string of 1-64 printable characters"),
])
def test_the_socket_refuses_bad_force_arguments_naming_them(cmd, args, message):
    with pytest.raises(CommandError, match=message):
        check(cmd, args)


def test_a_supervisor_sets_an_agents_state_and_ends_their_call(run_inline):
    ran = run_inline(scenario(
        run_section(40),
        queue("sales", wrapup=0.0), queue("service", wrapup=0.0),
        agent("A", skills={"sales": 5}, answer_after=1.0, talk=1000.0),
        supervisor("S", answer_after=1.0),
        caller(1.0, "13800000001", keys=[[1.0, "1"]], patience=1000.0, talk=1000.0),
        action(0.5, "force_not_ready", supervisor="S", agent="A", reason="coaching"),
        action(10.0, "force_ready", supervisor="S", agent="A"),        # the waiting caller is offered
        action(20.0, "force_logout", supervisor="S", agent="A"),       # refused: A is talking
        action(21.0, "force_ready", supervisor="nobody", agent="A"),
        action(22.0, "force_not_ready", supervisor="S", agent="Z"),
        action(25.0, "force_hangup", supervisor="S", agent="A"),
        action(26.0, "force_logout", supervisor="S", agent="A"),
    ))
    results = ran.report["actions"]
    assert [r.get("error") for r in results] == [
        None, None, "agent A is on a call; hang up first", "unknown supervisor 'nobody'",
        "unknown agent 'Z'", None, None]
    call = ran.call()
    # Not ready, A was offered nobody; made ready at 10 s they were rung and picked up 1 s later.
    connected = call["end"] - call["talk"]
    assert call["agent"] == "A" and 10.0 < connected < 12.0
    # The supervisor's hang-up at 25 s ended the call: answered, hung up by the supervisor.
    assert abs(call["end"] - 25.0) < 0.1
    row = ran.db["calls"].get(call["call_id"])
    assert (row["disposition"], row["hangup_by"]) == ("answered", "supervisor")
    states = [(r["state"], r["reason"]) for r in ran.db["agent_states"].rows_where(
        "agent_id = ?", ["A"], order_by="at, seq")]
    assert ("not_ready", "coaching") in states
    forced = [s for s in states if s[1] == "forced by supervisor S"]
    assert forced == [("not_ready", "forced by supervisor S"), ("ready", "forced by supervisor S"),
                      ("logged_out", "forced by supervisor S")]
    assert states[-1] == ("logged_out", "forced by supervisor S")
