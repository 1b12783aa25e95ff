"""Callbacks alone, on the call center over fake services (README, "Callbacks"): the agent's phone
rings first, then the box dials; a caller not reached is tried 3 times in all, 5 minutes apart, from
the back of the line; requests a stop or a crash left are taken up again in their place."""
from __future__ import annotations

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.callbacks import MAX_ATTEMPTS, RETRY_S, PendingCallback
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.settings import AgentConfig, QueueConfig

from callcenter.fakes import EPOCH, FIRST_STATION, SALES_FLOW, FakeBox, make_center

NUMBER = "13800000001"
STATION = FIRST_STATION


class Desk:
    def __init__(self, tmp_path):
        self.box = FakeBox()
        self.center = make_center(self.box, tmp_path, SALES_FLOW,
                                  queues=[QueueConfig("sales", wrapup=0.0, ring_timeout=15.0)],
                                  agents=[AgentConfig("1001", "Ann", "station1", {"sales": 5})])
        self.acd = self.center.acd

    def restore(self, state: str = "pending", attempts: int = 0, queued_at: float = EPOCH,
                updated_at: float = EPOCH, req_id: str = "cb1") -> None:
        self.center.callbacks.restore([PendingCallback(req_id, "call0", NUMBER, "sales", state, attempts,
                                                       queued_at, updated_at, 0, None)])

    def ready(self) -> None:
        self.acd.cmd_login("1001")
        self.acd.cmd_ready("1001")

    def event(self, channel: int, kind: EventKind, **data) -> None:
        self.center.on_channel_event(ChannelEvent(channel, kind, data))

    def agent_picks_up(self) -> int:
        """The agent answers their ringing phone; the trunk the number is dialled on."""
        assert STATION in self.box.lines.ringing
        self.event(STATION, EventKind.ANSWER)
        trunk, number = self.box.lines.dialled[-1]
        assert number == NUMBER
        return trunk

    def row(self, req_id: str = "cb1") -> dict:
        return self.box.records.tables["callbacks"][req_id]


def test_the_agent_is_rung_first_then_the_number_dialled_and_the_call_bridged(tmp_path):
    desk = Desk(tmp_path)
    desk.restore()
    desk.ready()
    assert desk.box.lines.dialled == [(STATION, None)]      # only the agent's phone so far
    trunk = desk.agent_picks_up()
    assert desk.row()["state"] == "dialing" and desk.row()["attempts"] == 1
    desk.event(trunk, EventKind.ANSWER)
    call = desk.center.calls[trunk]
    assert call.direction == "callback" and call.state == CallState.CONNECTED and call.agent.id == "1001"
    assert desk.row()["state"] == "done" and desk.center.callbacks.status() == []


def test_a_busy_number_is_tried_three_times_five_minutes_apart_then_given_up(tmp_path):
    desk = Desk(tmp_path)
    desk.restore()
    desk.ready()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        trunk = desk.agent_picks_up()
        desk.event(trunk, EventKind.PROGRESS, tone="busy")
        assert desk.row()["attempts"] == attempt and desk.row()["result"] == "busy"
        if attempt == MAX_ATTEMPTS:
            break
        assert desk.row()["state"] == "retry"
        desk.box.advance(RETRY_S - 1.0)
        assert STATION not in desk.box.lines.ringing       # not before the retry interval
        desk.box.advance(1.5)
        assert desk.row()["state"] == "pending"
    assert desk.row()["state"] == "failed" and desk.center.callbacks.status() == []
    assert [d["why"] for d in desk.box.named("callback:failed")] == ["busy"]


def test_the_agent_hanging_up_while_the_number_rings_is_an_attempt_not_reached(tmp_path):
    desk = Desk(tmp_path)
    desk.restore()
    desk.ready()
    trunk = desk.agent_picks_up()
    desk.event(STATION, EventKind.CLEAR)
    assert trunk not in desk.center.calls
    assert desk.row()["state"] == "retry" and desk.row()["result"] == Disposition.UNANSWERED


def test_an_agent_who_lets_it_ring_out_is_made_not_ready_and_the_request_keeps_its_place(tmp_path):
    desk = Desk(tmp_path)
    desk.restore()
    desk.ready()
    desk.box.advance(15.5)
    agent = desk.acd.agent("1001")
    assert (agent.state.value, agent.reason) == ("not_ready", "no answer")
    assert [r["id"] for r in desk.center.callbacks.status()] == ["cb1"]
    assert desk.acd.queues["sales"].waiting[0].id == "cb1"


def test_a_restored_request_keeps_its_place_ahead_of_a_caller_who_came_later(tmp_path):
    desk = Desk(tmp_path)
    desk.box.advance(10.0)
    caller = Call(desk.box.services, "live", 0, desk.box.clock.time())
    caller.set_state(CallState.IVR)
    desk.acd.enqueue(caller, "sales")
    desk.restore(queued_at=EPOCH + 5.0)       # asked before the caller came
    assert [e.id for e in desk.acd.queues["sales"].waiting] == ["cb1", "live"]
    desk.ready()
    assert STATION in desk.box.lines.ringing and caller.ringing == []


def test_a_request_being_dialled_when_the_box_stopped_counts_as_an_attempt_and_is_retried(tmp_path):
    desk = Desk(tmp_path)
    desk.restore(state="dialing", attempts=1)
    assert desk.row()["state"] == "retry" and desk.row()["attempts"] == 1
    assert desk.row()["result"] == Disposition.INTERRUPTED
    desk.ready()
    desk.box.advance(RETRY_S - 1.0)
    assert STATION not in desk.box.lines.ringing
    desk.box.advance(1.5)
    desk.agent_picks_up()
    assert desk.row()["attempts"] == 2


def test_a_request_waiting_to_be_retried_goes_back_when_its_interval_ends(tmp_path):
    desk = Desk(tmp_path)
    desk.box.advance(100.0)
    desk.restore(state="retry", attempts=1, updated_at=EPOCH)    # its retry was set 100 s ago
    desk.ready()
    desk.box.advance(RETRY_S - 100.0 - 1.0)
    assert STATION not in desk.box.lines.ringing
    desk.box.advance(1.5)
    assert STATION in desk.box.lines.ringing


def test_a_request_on_its_last_attempt_when_the_box_stopped_is_given_up(tmp_path):
    desk = Desk(tmp_path)
    desk.restore(state="dialing", attempts=MAX_ATTEMPTS)
    assert desk.row()["state"] == "failed" and desk.center.callbacks.status() == []
