"""Trunks shared between groups (seed 004 §7; docs/architecture.md §24), on the call center over fake
services and a clock moved by hand: a group's idle guaranteed share is lent, taken back only as the
borrowers' calls end, never by cutting one; a group at its cap is refused; incoming is never cut."""
from __future__ import annotations

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.settings import QueueConfig, TrunkGroupConfig
from firmware.callcenter.trunk_groups import CLAIM_S

from callcenter.fakes import FakeBox, make_center

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


def desk(tmp_path, *groups: TrunkGroupConfig):
    box = FakeBox(trunks=4, stations=1)
    center = make_center(box, tmp_path, FLOW, queues=[QueueConfig("sales"), QueueConfig("service")],
                         trunk_groups=groups)
    return box, center


def ring(center, trunk: int) -> Call | None:
    """A caller rings in on `trunk`; their call, or None once the box has already ended it."""
    center.on_channel_event(ChannelEvent(trunk, EventKind.RING))
    return center.calls.get(trunk)


def dial(box, center, group: str):
    """A number dialled for a call of `group` (a callback, an agent's call out); its leg or None."""
    call = Call(box.services, box.new_id(), None, box.clock.time(), direction="outbound")
    call.trunk_group = group
    return center.legs.seize("13800000001", on_answer=lambda: None, on_fail=lambda why: None,
                             on_clear=lambda: None, call=call)


def in_use(center) -> dict[str, int]:
    return {g["name"]: g["in_use"] for g in center.status()["trunk_groups"]}


HOTLINE = TrunkGroupConfig("hotline", lines=("trunk1", "trunk2"), guaranteed=2, cap=2)
SALES = TrunkGroupConfig("sales", queues=("service",), guaranteed=0, cap=4)


def test_an_idle_share_is_lent_and_taken_back_only_as_the_borrowers_calls_end(tmp_path):
    box, center = desk(tmp_path, HOTLINE, SALES)
    legs = [dial(box, center, "sales") for _ in range(4)]
    assert all(legs), "the hotline's idle share is lent: sales dials on all four trunks"
    assert in_use(center)["sales"] == 4
    # The hotline now asks for a trunk of its own share: none is free, and no call is cut for it.
    assert dial(box, center, "hotline") is None
    assert len(center.legs.active) == 4
    # A borrower's call ends: the trunk freed goes back to the hotline, not to another borrower.
    center.legs.hangup(legs[0])
    assert dial(box, center, "sales") is None
    assert dial(box, center, "hotline") is not None
    assert in_use(center) == {"hotline": 1, "sales": 3, "": 0}


def test_a_claim_nobody_renews_lapses_and_the_trunk_is_lent_again(tmp_path):
    box, center = desk(tmp_path, HOTLINE, SALES)
    legs = [dial(box, center, "sales") for _ in range(4)]
    assert dial(box, center, "hotline") is None
    center.legs.hangup(legs[0])
    assert dial(box, center, "sales") is None
    box.advance(CLAIM_S + 1)
    assert dial(box, center, "sales") is not None


def test_a_group_at_its_cap_is_refused_a_trunk_though_trunks_are_free(tmp_path):
    box, center = desk(tmp_path, TrunkGroupConfig("sales", queues=("service",), cap=2))
    assert dial(box, center, "sales") and dial(box, center, "sales")
    assert dial(box, center, "sales") is None
    assert center.legs.idle_count() == 2
    assert dial(box, center, "") is not None, "calls of no group still take the free trunks"
    status = {g["name"]: g for g in center.status()["trunk_groups"]}
    assert status["sales"]["refused"] == 1 and status["sales"]["cap"] == 2


def test_an_incoming_call_over_its_groups_cap_is_answered_given_the_overflow_and_its_trunk_freed(tmp_path):
    box, center = desk(tmp_path, TrunkGroupConfig("rental", lines=("trunk1", "trunk2", "trunk3"), cap=2,
                                                  overflow="hangup", overflow_prompts=["goodbye"]))
    first, second = ring(center, 0), ring(center, 1)
    assert first.state == second.state == CallState.QUEUED
    third = ring(center, 2)
    # On an analog line the caller already holds the trunk: answered, told, hung up.
    assert 2 in box.lines.answered
    assert box.prompts.names_of(box.media.players[2][0]) == ["goodbye"]
    box.media.done(2)
    assert third.state == CallState.ENDED and third.disposition == Disposition.OVERFLOW
    assert 2 not in center.calls
    assert [(d["group"], d["cap"]) for d in box.named("trunks:over_cap")] == [("rental", 2)]
    assert first.state == second.state == CallState.QUEUED, "the calls under the cap go on"


def test_borrowers_take_the_lenders_lines_last_and_its_callers_are_never_refused_below_the_cap(tmp_path):
    box, center = desk(tmp_path, HOTLINE, SALES)
    legs = [dial(box, center, "sales") for _ in range(3)]
    # trunk3 and trunk4 belong to no group; of the hotline's own lines only one is lent.
    assert sorted(leg.channel for leg in legs) == [0, 2, 3]
    caller = ring(center, 1)                                   # the hotline's caller on trunk2
    assert caller.state == CallState.QUEUED and caller.trunk_group == "hotline"
    assert all(leg.channel in center.legs.active for leg in legs), "no borrowed call was cut"
    assert in_use(center) == {"hotline": 1, "sales": 3, "": 0}


def test_a_group_of_queues_overflows_when_its_callers_reach_the_queue_at_the_cap(tmp_path):
    box, center = desk(tmp_path, TrunkGroupConfig("sales", queues=("sales",), cap=1, overflow="node:closed"))
    first = ring(center, 0)
    second = ring(center, 1)
    assert first.state == CallState.QUEUED and first.trunk_group == "sales"
    assert second.node == "closed" and box.prompts.names_of(box.media.players[1][0]) == ["closed"]
    box.media.done(1)
    assert second.disposition == Disposition.COMPLETED


def test_a_reload_with_a_lower_cap_cuts_no_call_and_refuses_the_next(tmp_path):
    box, center = desk(tmp_path, TrunkGroupConfig("rental", lines=("trunk1", "trunk2", "trunk3"), cap=3))
    calls = [ring(center, t) for t in range(2)]
    site = center.site
    site.trunk_groups = [TrunkGroupConfig("rental", lines=("trunk1", "trunk2", "trunk3"), cap=1)]
    center.apply_site(site)
    assert all(c.state == CallState.QUEUED for c in calls)
    assert ring(center, 2) is None
    assert in_use(center)["rental"] == 2


def test_the_status_command_prints_each_groups_share(tmp_path):
    from firmware.cli import _format_status

    box, center = desk(tmp_path, HOTLINE, SALES)
    for _ in range(4):
        dial(box, center, "sales")
    dial(box, center, "hotline")
    status = {**center.status(), "box": {"id": "b", "board": "sim", "mode": "fast"}, "lines": [],
              "ticks": {"count": 0, "mean_ms": 0, "p99_ms": 0, "overruns": 0}}
    text = _format_status(status)
    lines = text[text.index("trunk groups:"):].splitlines()[1:]
    assert lines[0].split() == ["hotline", "in", "use", "0", "guaranteed", "2", "cap", "2", "borrowed", "0",
                                "refused", "1", "(claims", "its", "share)"]
    assert lines[1].split()[:4] == ["sales", "in", "use", "4"] and "borrowed   4" in lines[1]


def test_a_callback_of_a_group_at_its_cap_rings_no_agent_until_a_trunk_of_its_own_frees(tmp_path):
    from firmware.callcenter.callbacks import PendingCallback
    from firmware.callcenter.settings import AgentConfig

    from callcenter.fakes import EPOCH, FIRST_STATION, SALES_FLOW

    box = FakeBox(trunks=4, stations=1)
    center = make_center(box, tmp_path, SALES_FLOW, queues=[QueueConfig("sales", wrapup=0.0)],
                         agents=[AgentConfig("1001", "Ann", "station1", {"sales": 5})],
                         trunk_groups=[TrunkGroupConfig("sales", queues=("sales",), cap=1)])
    held = dial(box, center, "sales")                    # the group's one trunk, taken by another call
    center.callbacks.restore([PendingCallback("cb1", "call0", "13800000001", "sales", "pending", 0,
                                              EPOCH, EPOCH, 0, None)])
    center.acd.cmd_login("1001")
    center.acd.cmd_ready("1001")
    assert FIRST_STATION not in box.lines.ringing, "the agent is not rung for a number that cannot be dialled"
    assert center.acd.agents["1001"].state.value == "ready"
    center.legs.hangup(held)
    box.advance(0.1)
    assert FIRST_STATION in box.lines.ringing
