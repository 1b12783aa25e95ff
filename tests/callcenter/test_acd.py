"""The ACD alone, against fake services (README, "Queues, agents and supervisors"): who is rung by
each strategy, VIP order, escalation, the queue's limits and the dedicated agent's wait."""
from __future__ import annotations

import pytest

from firmware.callcenter.acd import Acd, AgentState
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.settings import AgentConfig, QueueConfig

from callcenter.fakes import FakeBox


class Customer:
    def __init__(self, vip: int = 0, agent_id: str | None = None):
        self.id, self.name, self.vip, self.agent_id, self.blocked = "c1", "customer", vip, agent_id, False


class Center:
    """What the ACD asks of the rest of the call center: it notes each request."""
    service_level_s = 20.0

    def __init__(self):
        self.connected: list[tuple[Call, object]] = []
        self.ended: list[tuple[Call, Disposition]] = []
        self.music: list[Call] = []
        self.callbacks = None

    def hold_music(self, call):
        self.music.append(call)

    def announce(self, call, position, wait_s):
        pass

    def connect(self, call, agent):
        self.connected.append((call, agent))
        call.set_state(CallState.CONNECTED, agent=agent.id)

    def end_call(self, call, disposition, by):
        self.ended.append((call, disposition))
        call.finish(disposition, by, 0.0)


class Desk:
    """An ACD with agents at stations 1..n and one queue; `call()` puts a caller in the queue."""

    def __init__(self, queue: QueueConfig, agents: dict[str, dict[str, int]]):
        self.box = FakeBox(trunks=4, stations=len(agents))
        self.center = Center()
        cfgs = [AgentConfig(a, a, f"station{i + 1}", skills) for i, (a, skills) in enumerate(agents.items())]
        self.acd = Acd(self.box.services, self.center, [queue], cfgs)
        self.queue = queue.name
        self.trunk = 0

    def ready(self, *ids: str) -> None:
        for agent_id in ids:
            self.acd.cmd_login(agent_id)
            self.acd.cmd_ready(agent_id)

    def call(self, customer: Customer | None = None, on_exit=None) -> Call:
        call = Call(self.box.services, self.box.new_id(), self.trunk, self.box.clock.time())
        self.trunk += 1
        call.customer = customer
        call.set_state(CallState.IVR)
        self.acd.enqueue(call, self.queue, on_exit)
        return call

    def rung(self, call: Call) -> list[str]:
        return sorted(a.id for a in call.ringing)

    def answer(self, agent_id: str) -> None:
        self.acd.picked_up(self.acd.agent(agent_id))

    def hang_up(self, call: Call) -> None:
        """The call ends; its agent's wrap-up runs out."""
        call.finish(Disposition.ANSWERED, "caller", self.box.clock.time())
        self.acd.call_ended(call)

    def take(self, agent_id: str, talk: float = 10.0) -> None:
        """A caller comes, `agent_id` is rung, answers, talks `talk` s and the call ends."""
        call = self.call()
        assert self.rung(call) == [agent_id]
        self.answer(agent_id)
        self.box.advance(talk)
        self.hang_up(call)
        self.box.advance(0.1)      # the wrap-up (none) runs out


def queue(**kw) -> QueueConfig:
    return QueueConfig(name="sales", wrapup=0.0, **kw)


FOUR = {"a": {"sales": 5}, "b": {"sales": 5}, "c": {"sales": 5}, "d": {"sales": 5}}


def test_longest_idle_rings_the_agent_free_the_longest():
    desk = Desk(queue(), FOUR)
    desk.ready("c")
    desk.box.advance(5.0)
    desk.ready("a", "b")
    assert desk.rung(desk.call()) == ["c"]


def test_round_robin_goes_round_the_roster():
    desk = Desk(queue(strategy="round_robin"), FOUR)
    desk.ready("a", "b", "c", "d")
    for expected in ["a", "b", "c", "d", "a"]:
        desk.take(expected)


def test_ring_all_rings_every_ready_agent_and_the_first_to_answer_takes_it():
    desk = Desk(queue(strategy="ring_all"), FOUR)
    desk.ready("a", "b", "d")
    call = desk.call()
    assert desk.rung(call) == ["a", "b", "d"]
    desk.answer("b")
    assert call.agent.id == "b" and call.ringing == []
    states = {a: desk.acd.agent(a).state for a in "abd"}
    assert states == {"a": AgentState.READY, "b": AgentState.TALKING, "d": AgentState.READY}


def test_fewest_calls_rings_the_agent_who_took_the_fewest():
    desk = Desk(queue(strategy="fewest_calls"), FOUR)
    desk.ready("a")
    desk.take("a")
    desk.ready("b")
    desk.take("b")
    desk.take("a")        # a and b have one call each; a has been free longer
    desk.box.advance(1.0)
    assert desk.rung(desk.call()) == ["b"]


def test_least_talk_rings_the_agent_who_talked_the_least():
    desk = Desk(queue(strategy="least_talk"), FOUR)
    desk.ready("a", "b")
    desk.take("a", talk=60.0)
    desk.take("b", talk=5.0)
    desk.take("b", talk=5.0)     # b took two calls but talked 10 s to a's 60 s
    assert desk.rung(desk.call()) == ["b"]


def test_skill_first_rings_the_highest_level_then_the_longest_idle():
    desk = Desk(queue(strategy="skill_first"),
                {"a": {"sales": 3}, "b": {"sales": 9}, "c": {"sales": 9}, "d": {"sales": 5}})
    desk.ready("c", "a")
    desk.box.advance(2.0)
    desk.ready("b", "d")
    assert desk.rung(desk.call()) == ["c"]


def test_an_agent_without_the_skill_at_the_level_is_never_offered_the_call():
    desk = Desk(queue(min_level=5), {"a": {"sales": 4}, "b": {"service": 9}})
    desk.ready("a", "b")
    call = desk.call()
    desk.box.advance(100.0)
    assert call.state == CallState.QUEUED and call.ringing == []


def test_vips_are_served_before_earlier_callers_first_come_first_served_within_a_level():
    desk = Desk(queue(), FOUR)
    plain = desk.call()
    desk.box.advance(1.0)
    vip1 = desk.call(Customer(vip=1))
    desk.box.advance(1.0)
    vip2 = desk.call(Customer(vip=2))
    desk.box.advance(1.0)
    vip2b = desk.call(Customer(vip=2))
    order = []
    for agent_id in "abcd":
        desk.ready(agent_id)
        rung = next(c for c in (plain, vip1, vip2, vip2b) if c.ringing)
        order.append(rung)
        desk.answer(agent_id)
    assert order == [vip2, vip2b, vip1, plain]


def test_escalation_widens_the_pool_as_the_wait_grows_and_the_caller_keeps_their_place():
    desk = Desk(queue(min_level=5, escalate=[(45.0, 2)]), {"a": {"sales": 2}})
    desk.ready("a")
    call = desk.call()
    desk.box.advance(44.0)
    assert call.ringing == []
    desk.box.advance(1.5)
    assert desk.rung(call) == ["a"]


def test_a_full_queue_turns_the_next_caller_away_to_the_flow():
    desk = Desk(queue(max_waiting=2), FOUR)
    outcomes = []
    first, second = desk.call(), desk.call()
    third = desk.call(on_exit=outcomes.append)
    assert outcomes == ["full"]
    assert third.state == CallState.IVR and first.state == second.state == CallState.QUEUED
    assert ("queue:full", 2) in [(e, d["waiting"]) for e, d in desk.box.events if e == "queue:full"]


def test_max_wait_hands_the_caller_back_to_the_flow_or_ends_the_call():
    desk = Desk(queue(max_wait=60.0), FOUR)
    outcomes = []
    to_flow = desk.call(on_exit=outcomes.append)
    no_flow = desk.call()
    desk.box.advance(59.0)
    assert outcomes == [] and no_flow.state == CallState.QUEUED
    desk.box.advance(1.5)
    assert outcomes == ["timeout"] and to_flow.state == CallState.IVR
    assert desk.center.ended == [(no_flow, Disposition.TIMEOUT)]


def test_an_unanswered_agent_is_made_not_ready_and_the_caller_offered_to_the_next():
    desk = Desk(queue(ring_timeout=15.0), FOUR)
    desk.ready("a")
    desk.box.advance(1.0)
    desk.ready("b")
    call = desk.call()
    assert desk.rung(call) == ["a"]
    desk.box.advance(15.5)
    a = desk.acd.agent("a")
    assert (a.state, a.reason) == (AgentState.NOT_READY, "no answer")
    assert desk.rung(call) == ["b"]


def test_the_dedicated_agent_is_waited_for_then_anyone_may_take_the_caller():
    desk = Desk(queue(dedicated_wait=30.0), FOUR)
    desk.ready("a", "b")
    desk.acd.cmd_login("c")          # the dedicated agent is working, on a break
    call = desk.call(Customer(agent_id="c"))
    desk.box.advance(29.0)
    assert call.ringing == []
    desk.box.advance(1.5)
    assert desk.rung(call) == ["a"]


def test_the_dedicated_agent_gets_the_caller_when_ready_within_the_wait():
    desk = Desk(queue(dedicated_wait=30.0), FOUR)
    desk.ready("a")
    desk.acd.cmd_login("c")
    call = desk.call(Customer(agent_id="c"))
    desk.box.advance(10.0)
    desk.acd.cmd_ready("c")
    assert desk.rung(call) == ["c"]


def test_a_dedicated_agent_who_is_logged_out_is_not_waited_for():
    desk = Desk(queue(dedicated_wait=30.0), FOUR)
    desk.ready("a")
    call = desk.call(Customer(agent_id="c"))
    assert desk.rung(call) == ["a"]


@pytest.mark.parametrize("command", ["cmd_ready", "cmd_not_ready"])
def test_agent_commands_refuse_an_agent_not_logged_in(command):
    desk = Desk(queue(), FOUR)
    with pytest.raises(Exception, match="agent a is not logged in"):
        getattr(desk.acd, command)("a")
