"""New site settings swapped into the running call center (README, "Site settings changed while the box
runs"; `site.reload`), over fake services: no call is dropped, calls in progress finish on what they
started with, the next offer and the next call use the new settings; a removed queue drains and a
removed agent finishes their call before they are logged out."""
from __future__ import annotations

import dataclasses

import pytest

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.acd import AgentState
from firmware.callcenter.calls import CallState
from firmware.callcenter.settings import AgentConfig, QueueConfig, SupervisorConfig
from firmware.core.control import ControlError

from callcenter.fakes import FIRST_STATION, FakeBox, make_center

STATION_A, STATION_B = FIRST_STATION, FIRST_STATION + 1
# Callers pressing nothing go to sales; the flow is the box's own shape, two queues behind a menu.
TWO_QUEUES = """
[flow]
start = "sales"
[nodes.sales]
type = "queue"
queue = "sales"
on_full = "service"
[nodes.service]
type = "queue"
queue = "service"
"""
SALES = QueueConfig("sales", ring_timeout=15.0, wrapup=30.0)
SERVICE = QueueConfig("service", ring_timeout=15.0, wrapup=30.0)
ANN = AgentConfig("A", "Ann", "station1", {"sales": 5, "service": 5})
BEN = AgentConfig("B", "Ben", "station2", {"sales": 5, "service": 5})
SUE = SupervisorConfig("S", "Sue", "station3")


class Desk:
    def __init__(self, tmp_path):
        self.box = FakeBox(trunks=4, stations=3)
        self.center = make_center(self.box, tmp_path, TWO_QUEUES, queues=[SALES, SERVICE], agents=[ANN, BEN],
                                  supervisors=[SUE])
        self.acd = self.center.acd
        self.trunk = 0

    def caller(self):
        trunk, self.trunk = self.trunk, self.trunk + 1
        self.center.on_channel_event(ChannelEvent(trunk, EventKind.RING))
        return self.center.calls[trunk]

    def ready(self, *ids):
        for agent_id in ids:
            self.acd.cmd_login(agent_id)
            self.acd.cmd_ready(agent_id)

    def picks_up(self, station: int) -> None:
        assert station in self.box.lines.ringing
        self.center.on_channel_event(ChannelEvent(station, EventKind.ANSWER))

    def hangs_up(self, call) -> None:
        self.center.on_channel_event(ChannelEvent(call.channel, EventKind.CLEAR))

    def reload(self, queues=(SALES, SERVICE), agents=(ANN, BEN), supervisors=(SUE,)):
        site = dataclasses.replace(self.center.site, queues=list(queues), agents=list(agents),
                                   supervisors=list(supervisors))
        return self.center.commands()["site.reload"](site=site, flow=None, restart=())


@pytest.fixture
def desk(tmp_path):
    return Desk(tmp_path)


def test_a_reload_drops_no_call_and_the_next_offer_uses_the_new_ring_timeout(desk):
    desk.ready("A")
    talking = desk.caller()
    desk.picks_up(STATION_A)
    waiting = desk.caller()
    assert talking.state == CallState.CONNECTED and waiting.state == CallState.QUEUED

    desk.reload(queues=[dataclasses.replace(SALES, ring_timeout=5.0, wrapup=0.0), SERVICE])
    assert talking.state == CallState.CONNECTED and waiting.state == CallState.QUEUED
    assert desk.acd.agent("A").call is talking

    desk.ready("B")                                   # offered the waiting caller, under the new settings
    assert waiting.state == CallState.RINGING_AGENT and STATION_B in desk.box.lines.ringing
    desk.box.advance(5.5)
    assert desk.acd.agent("B").state == AgentState.NOT_READY      # rang out after 5 s, not 15
    assert waiting.state == CallState.QUEUED
    desk.hangs_up(talking)
    desk.box.advance(0.1)                             # no wrap-up any more: A takes the waiting caller
    assert waiting.state == CallState.RINGING_AGENT and STATION_A in desk.box.lines.ringing


def test_new_skills_decide_the_next_offer(desk):
    desk.ready("A", "B")
    desk.reload(agents=[dataclasses.replace(ANN, skills={"service": 5}), BEN])
    call = desk.caller()
    assert call.ringing == [desk.acd.agent("B")]      # Ann no longer has sales


def test_an_agent_removed_on_a_call_finishes_it_then_is_logged_out(desk):
    desk.ready("A")
    call = desk.caller()
    desk.picks_up(STATION_A)
    result = desk.reload(agents=[BEN])
    assert result["leaving"] == ["A"]
    assert [(a["id"], a["leaving"]) for a in desk.center.status()["agents"]] == [("B", False), ("A", True)]
    assert call.state == CallState.CONNECTED and desk.acd.agent("A").call is call
    desk.hangs_up(call)
    desk.box.advance(31.0)                            # the call's wrap-up, then out
    assert "A" not in desk.acd.agents
    assert [a["id"] for a in desk.center.status()["agents"]] == ["B"]
    states = [r for r in desk.box.records.tables["agent_states"].values() if r["agent_id"] == "A"]
    assert (states[-1]["state"], states[-1]["reason"]) == ("logged_out", "removed from the settings")
    assert STATION_A not in desk.acd.by_channel


def test_an_idle_agent_removed_is_logged_out_at_once_and_never_rung(desk):
    desk.ready("A", "B")
    desk.reload(agents=[BEN])
    assert "A" not in desk.acd.agents
    desk.caller()
    assert STATION_A not in desk.box.lines.ringing and STATION_B in desk.box.lines.ringing


def test_an_agent_moved_on_a_call_keeps_their_station_until_the_call_is_over(desk):
    desk.ready("A")
    call = desk.caller()
    desk.picks_up(STATION_A)
    desk.reload(agents=[dataclasses.replace(ANN, station="station3"), BEN], supervisors=[])
    assert call.state == CallState.CONNECTED and desk.acd.by_channel[STATION_A].id == "A"
    desk.hangs_up(call)
    desk.box.advance(31.0)
    desk.acd.cmd_ready("A")
    desk.caller()
    assert STATION_A + 2 in desk.box.lines.ringing and STATION_A not in desk.box.lines.ringing


def test_a_removed_queue_takes_no_new_caller_serves_those_waiting_then_goes(desk):
    first = desk.caller()                             # nobody ready: waits in sales
    result = desk.reload(queues=[SERVICE])
    assert result["draining"] == ["sales"]
    assert [(q["name"], q["draining"]) for q in desk.center.status()["queues"]] == [("sales", True), ("service", False)]
    assert first.state == CallState.QUEUED and first.queue == "sales"
    second = desk.caller()                            # sales takes nobody new: the flow's on_full
    assert second.state == CallState.QUEUED and second.queue == "service"
    desk.ready("A")
    desk.picks_up(STATION_A)                          # the sales caller was waiting longest
    assert first.state == CallState.CONNECTED
    assert "sales" not in desk.acd.queues
    assert [q["name"] for q in desk.center.status()["queues"]] == ["service"]


def test_a_station_still_carrying_a_removed_agents_call_is_refused_to_another_and_nothing_changes(desk):
    desk.ready("A")
    call = desk.caller()
    desk.picks_up(STATION_A)
    carl = AgentConfig("C", "Carl", "station1", {"sales": 5})
    with pytest.raises(ControlError, match="station1 still carries agent A's call"):
        desk.reload(agents=[carl, BEN])
    assert set(desk.acd.agents) == {"A", "B"} and not desk.acd.agent("A").retiring
    assert call.state == CallState.CONNECTED
    assert desk.center.site.agents == [ANN, BEN]


def test_a_caller_id_scheme_sent_after_the_first_ring_makes_the_box_answer_on_the_second(desk):
    desk.reload()
    desk.center.on_channel_event(ChannelEvent(0, EventKind.RING))
    desk.box.advance(0.2)
    assert desk.box.lines.answered == [0]
    desk.center.on_channel_event(ChannelEvent(0, EventKind.CLEAR))
    site = dataclasses.replace(desk.center.site, callerid="bell202")
    desk.center.commands()["site.reload"](site=site, flow=None, restart=())
    desk.center.on_channel_event(ChannelEvent(1, EventKind.RING))
    desk.box.advance(0.2)
    assert desk.box.lines.answered == [0]              # GR-30: the FSK comes after this ring
    desk.center.on_channel_event(ChannelEvent(1, EventKind.RING))
    desk.box.advance(0.2)
    assert desk.box.lines.answered == [0, 1]


def test_a_new_tone_plan_is_heard_once_no_number_is_being_dialled(desk):
    from firmware.config.tone_plans import load_plan

    desk.ready("A")
    desk.center.commands()["agent.dial"](agent="A", number="02155501234")
    desk.picks_up(STATION_A)                          # the agent's phone first, then the number is dialled
    assert any(not leg.answered for leg in desk.center.legs.active.values())
    etsi = dataclasses.replace(desk.center.site, tones=load_plan("etsi"))
    desk.center.commands()["site.reload"](site=etsi, flow=None, restart=())
    desk.box.advance(3.0)
    assert desk.box.tone_plans == []                  # the ringing number is judged by the plan it began under
    trunk = next(iter(desk.center.legs.active))
    desk.center.on_channel_event(ChannelEvent(trunk, EventKind.ANSWER))
    desk.box.advance(1.1)
    assert [p.name for p in desk.box.tone_plans] == ["etsi"]
