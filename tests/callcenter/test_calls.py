"""A call's state gives it a line, a queue, an agent and a conversation; code that needs one of
them before the state gave it is told which call broke the rule, not handed None to fail on later."""
from __future__ import annotations

import pytest

from firmware.callcenter.acd import Queue
from firmware.callcenter.calls import Call, CallError
from firmware.callcenter.legs import Leg, OpsError
from firmware.callcenter.settings import QueueConfig

from callcenter.fakes import FakeBox


@pytest.fixture
def box() -> FakeBox:
    return FakeBox()


def test_an_outbound_call_not_yet_dialled_has_no_line(box):
    call = Call(box.services, "out-1", None, box.clock.time(), direction="outbound")
    with pytest.raises(CallError, match="call out-1 has no line"):
        _ = call.line
    call.channel = 2
    assert call.line == 2


def test_a_call_never_queued_names_itself_when_asked_for_its_queue_or_agent(box):
    call = Call(box.services, "in-1", 0, box.clock.time())
    for accessor in ("queue_name", "waiting_since", "ring_since", "talker", "party", "talk"):
        with pytest.raises(CallError, match="call in-1 has no"):
            getattr(call, accessor)


def test_a_call_offered_to_agents_without_having_been_queued_is_refused(box):
    """The queue's match (acd.QueueEntry.offered) is the entry's own, set on entering a queue."""
    call = Call(box.services, "in-2", 0, box.clock.time())
    with pytest.raises(CallError, match="call in-2 .*sales.*never queued"):
        call.offered(Queue(QueueConfig(name="sales", skill="sales")), [])


def test_a_leg_not_yet_seized_on_a_trunk_names_its_number():
    leg = Leg(None, "5550100", None, on_answer=lambda: None, on_fail=lambda why: None, on_clear=lambda: None)
    with pytest.raises(OpsError, match="the leg to 5550100 has no trunk"):
        _ = leg.line
