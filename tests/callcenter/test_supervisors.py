"""A supervisor setting an agent's state and ending their call (R6; README, control socket:
`supervisor.force_ready|force_not_ready|force_logout`, `supervisor.hangup`), on the call center over
fake services: what the agent is offered next, what agent_states keeps, and that an unknown
supervisor or agent, or a state the command does not fit, is refused with nothing changed."""
from __future__ import annotations

import pytest

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.acd import AgentState
from firmware.callcenter.calls import CallState
from firmware.callcenter.settings import AgentConfig, QueueConfig, SupervisorConfig
from firmware.core.control import ControlError

from callcenter.fakes import FIRST_STATION, SALES_FLOW, FakeBox, make_center

STATION_A = FIRST_STATION


class Desk:
    """Agent A at station1, supervisor S at station2, one queue; callers ring in on trunks 0..3."""

    def __init__(self, tmp_path):
        self.box = FakeBox(trunks=4, stations=2)
        self.center = make_center(self.box, tmp_path, SALES_FLOW,
                                  queues=[QueueConfig("sales", wrapup=30.0, ring_timeout=15.0)],
                                  agents=[AgentConfig("A", "Ann", "station1", {"sales": 5})],
                                  supervisors=[SupervisorConfig("S", "Sue", "station2")])
        self.acd = self.center.acd
        self.agent = self.acd.agent("A")
        self.trunk = 0

    def do(self, command: str, **args) -> dict:
        """A command as the control socket hands it to the call center."""
        return self.center.commands()[command](**args)

    def caller(self):
        """A caller rings in and waits in the queue."""
        trunk, self.trunk = self.trunk, self.trunk + 1
        self.center.on_channel_event(ChannelEvent(trunk, EventKind.RING))
        return self.center.calls[trunk]

    def agent_picks_up(self) -> None:
        assert STATION_A in self.box.lines.ringing
        self.center.on_channel_event(ChannelEvent(STATION_A, EventKind.ANSWER))

    def states(self) -> list[tuple[str, str | None]]:
        """Agent A's state log, oldest first: (state, reason)."""
        rows = [r for r in self.box.records.tables["agent_states"].values() if r["agent_id"] == "A"]
        return [(r["state"], r["reason"]) for r in rows]

    def snapshot(self) -> tuple:
        """Everything a refused command must leave as it was."""
        return (self.agent.state, self.agent.reason, self.agent.call, dict(self.box.records.tables["agent_states"]),
                {c.id: c.state for c in self.center.calls.values()}, set(self.box.lines.ringing))


@pytest.fixture
def desk(tmp_path):
    return Desk(tmp_path)


def test_force_ready_puts_a_not_ready_agent_back_and_they_are_offered_the_waiting_caller(desk):
    desk.acd.cmd_login("A")                       # logged in, not ready
    call = desk.caller()
    assert call.state == CallState.QUEUED and STATION_A not in desk.box.lines.ringing
    desk.do("supervisor.force_ready", supervisor="S", agent="A")
    assert STATION_A in desk.box.lines.ringing    # offered the caller at once
    assert call.state == CallState.RINGING_AGENT and desk.agent.state == AgentState.RINGING
    assert ("ready", "forced by supervisor S") in desk.states()
    desk.agent_picks_up()
    assert call.state == CallState.CONNECTED and call.agent is desk.agent


def test_force_ready_ends_wrapup_early(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    first = desk.caller()
    desk.agent_picks_up()
    desk.center.on_channel_event(ChannelEvent(first.channel, EventKind.CLEAR))
    assert desk.agent.state == AgentState.WRAPUP   # 30 s of wrap-up ahead
    second = desk.caller()
    desk.do("supervisor.force_ready", supervisor="S", agent="A")
    assert second.state == CallState.RINGING_AGENT and STATION_A in desk.box.lines.ringing


def test_force_ready_that_changes_nothing_logs_nothing(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    call = desk.caller()
    desk.agent_picks_up()                         # talking: force ready leaves them on the call
    before = desk.snapshot()
    assert desk.do("supervisor.force_ready", supervisor="S", agent="A")["state"] == "talking"
    assert desk.snapshot() == before and call.state == CallState.CONNECTED


def test_force_not_ready_records_the_reason_and_who_forced_it(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    status = desk.do("supervisor.force_not_ready", supervisor="S", agent="A", reason="coaching")
    assert status["state"] == "not_ready" and status["reason"] == "coaching"
    assert desk.states()[-2:] == [("not_ready", "coaching"), ("not_ready", "forced by supervisor S")]
    call = desk.caller()                          # a not-ready agent is offered nobody
    assert call.state == CallState.QUEUED and STATION_A not in desk.box.lines.ringing


def test_force_not_ready_without_a_reason_says_a_supervisor_did_it(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    assert desk.do("supervisor.force_not_ready", supervisor="S", agent="A")["reason"] == "supervisor"


def test_force_logout_of_an_idle_agent(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    status = desk.do("supervisor.force_logout", supervisor="S", agent="A")
    assert status["state"] == "logged_out" and desk.agent.state == AgentState.LOGGED_OUT
    assert desk.states()[-1] == ("logged_out", "forced by supervisor S")
    call = desk.caller()
    assert call.state == CallState.QUEUED and STATION_A not in desk.box.lines.ringing
    with pytest.raises(ControlError, match="^agent A is not logged in$"):   # nor can they be forced ready
        desk.do("supervisor.force_ready", supervisor="S", agent="A")


@pytest.mark.parametrize("command", ["supervisor.force_logout", "supervisor.force_not_ready"])
def test_an_agent_on_a_call_cannot_be_forced_out_of_it(desk, command):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    call = desk.caller()
    desk.agent_picks_up()
    before = desk.snapshot()
    with pytest.raises(ControlError, match="^agent A is on a call; hang up first$"):
        desk.do(command, supervisor="S", agent="A")
    assert desk.snapshot() == before and call.state == CallState.CONNECTED


def test_force_hangup_ends_the_agents_call_as_answered_by_the_supervisor(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    call = desk.caller()
    desk.agent_picks_up()
    desk.do("supervisor.hangup", supervisor="S", agent="A")
    row = desk.box.records.tables["calls"][call.id]
    assert row["disposition"] == "answered" and row["hangup_by"] == "supervisor"
    assert call.state == CallState.ENDED and call.channel not in desk.center.calls
    assert desk.agent.state == AgentState.WRAPUP and desk.agent.call is None
    journal = [(r["kind"], r["data"]) for r in desk.box.records.tables["call_events"].values()
               if r["call_id"] == call.id]
    assert ("supervisor:hangup", '{"supervisor":"S","agent":"A"}') in journal


def test_force_hangup_also_hangs_up_the_supervisor_listening_in(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    call = desk.caller()
    desk.agent_picks_up()
    desk.do("supervisor.monitor", supervisor="S", agent="A")
    sup_station = STATION_A + 1
    desk.center.on_channel_event(ChannelEvent(sup_station, EventKind.ANSWER))
    assert desk.do("supervisor.hangup", supervisor="S", agent="A")["state"] == "wrapup"
    assert call.state == CallState.ENDED and sup_station not in desk.box.lines.ringing
    assert desk.center.supervisors.supervisor("S").status()["state"] == "idle"


def test_force_hangup_of_an_agent_on_no_call_is_refused(desk):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    before = desk.snapshot()
    with pytest.raises(ControlError, match="^agent A is not on a call$"):
        desk.do("supervisor.hangup", supervisor="S", agent="A")
    assert desk.snapshot() == before


@pytest.mark.parametrize("command", ["supervisor.force_ready", "supervisor.force_not_ready",
                                     "supervisor.force_logout", "supervisor.hangup"])
def test_an_unknown_supervisor_is_refused_and_nothing_changes(desk, command):
    desk.acd.cmd_login("A")
    desk.acd.cmd_ready("A")
    call = desk.caller()
    desk.agent_picks_up()
    if command != "supervisor.hangup":
        desk.center.on_channel_event(ChannelEvent(call.channel, EventKind.CLEAR))   # A in wrap-up
    before = desk.snapshot()
    with pytest.raises(ControlError, match="^unknown supervisor 'nobody'$"):
        desk.do(command, supervisor="nobody", agent="A")
    assert desk.snapshot() == before


@pytest.mark.parametrize("command", ["supervisor.force_ready", "supervisor.force_not_ready",
                                     "supervisor.force_logout", "supervisor.hangup"])
def test_an_unknown_agent_is_refused_and_nothing_changes(desk, command):
    desk.acd.cmd_login("A")
    before = desk.snapshot()
    with pytest.raises(ControlError, match="^unknown agent 'Z'$"):
        desk.do(command, supervisor="S", agent="Z")
    assert desk.snapshot() == before
