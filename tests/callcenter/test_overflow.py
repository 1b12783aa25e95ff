"""A queue's own overflow targets and announcements (site.toml `on_full`, `on_timeout`,
`overflow_prompts`, `announce`, `announce_prompts`; README, "Queues"), over fake services: where a
caller goes when the queue is full or they waited too long, the flow's queue node still deciding
first, and what a waiting caller is told."""
from __future__ import annotations

import pytest

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.calls import CallState, Disposition
from firmware.callcenter.settings import QueueConfig

from callcenter.fakes import FakeBox, make_center

# "closed" is also the queue's key 9, so the flow reaches it on its own (every node must be reachable).
FLOW = """
[flow]
start = "sales"
[nodes.sales]
type = "queue"
queue = "sales"
keys = { "9" = "closed" }
[nodes.closed]
type = "hangup"
prompts = ["closed"]
"""
FLOW_WITH_NODE_TARGET = FLOW.replace('queue = "sales"\n', 'queue = "sales"\non_full = "closed"\n', 1)


def desk(tmp_path, sales: QueueConfig, flow: str = FLOW):
    box = FakeBox(trunks=4, stations=1)
    center = make_center(box, tmp_path, flow, queues=[sales, QueueConfig("service")])
    calls = []

    def ring():
        """A caller rings in; their call, or None once the box has already ended it."""
        trunk = len(calls)
        center.on_channel_event(ChannelEvent(trunk, EventKind.RING))
        calls.append(center.calls.get(trunk))
        return calls[-1]
    return box, center, ring


def test_a_full_queue_sends_the_next_caller_to_the_queue_its_settings_name(tmp_path):
    _, _, ring = desk(tmp_path, QueueConfig("sales", max_waiting=1, on_full="queue:service"))
    first, second = ring(), ring()
    assert (first.state, first.queue) == (CallState.QUEUED, "sales")
    assert (second.state, second.queue) == (CallState.QUEUED, "service")


def test_overflow_into_another_queue_is_one_hop_only(tmp_path):
    box, _, ring = desk(tmp_path, QueueConfig("sales", max_wait=30.0, on_timeout="queue:service"))
    call = ring()
    box.advance(30.1)
    assert (call.state, call.queue) == (CallState.QUEUED, "service")
    box.advance(600.1)                                  # service's own max wait: no way back to sales
    assert call.state == CallState.ENDED and call.disposition == Disposition.TIMEOUT


def test_a_caller_who_waited_too_long_goes_to_the_flow_node_the_settings_name(tmp_path):
    box, _, ring = desk(tmp_path, QueueConfig("sales", max_wait=30.0, on_timeout="node:closed"))
    call = ring()
    box.advance(30.1)
    assert call.node == "closed" and box.prompts.names_of(box.media.played[-1][1]) == ["closed"]


def test_hangup_with_a_prompt(tmp_path):
    box, _, ring = desk(tmp_path, QueueConfig("sales", max_waiting=1, on_full="hangup", overflow_prompts=["goodbye"]))
    ring()
    second = ring()
    assert second.state != CallState.ENDED
    assert box.prompts.names_of(box.media.players[second.channel][0]) == ["goodbye"]
    box.media.done(second.channel)
    assert second.state == CallState.ENDED and second.disposition == Disposition.OVERFLOW


def test_without_a_target_the_caller_is_hung_up_on_as_before(tmp_path):
    box, _, ring = desk(tmp_path, QueueConfig("sales", max_waiting=1))
    ring()
    assert ring() is None
    assert [r.get("disposition") for r in box.records.tables["calls"].values()] == [None, "overflow"]


def test_the_flows_queue_node_decides_before_the_queues_settings(tmp_path):
    _, _, ring = desk(tmp_path, QueueConfig("sales", max_waiting=1, on_full="queue:service"), FLOW_WITH_NODE_TARGET)
    ring()
    second = ring()
    assert second.node == "closed" and second.queue != "service"


@pytest.mark.parametrize("said", [("position", "wait"), ("wait",), ("position",)])
def test_an_announcement_says_what_the_queue_is_set_to(tmp_path, said):
    box, center, ring = desk(tmp_path, QueueConfig("sales", announce_every=20.0, announce=said,
                                                   announce_prompts=["main-menu"]))
    call = ring()
    box.advance(20.1)
    # Nobody staffs the queue: the wait is given as about a minute (firmware/callcenter/acd.py estimated_wait).
    wait = center.acd.estimated_wait(center.acd.queue("sales"), 1)
    expected = (["main-menu"] + (center.say.position(1) if "position" in said else [])
                + (center.say.wait(wait) if "wait" in said else []))
    heard = box.prompts.names_of(box.media.players[call.channel][0])
    assert heard == expected and ("you-are-caller" in heard) == ("position" in said)
