"""The post-call survey (docs/architecture.md §24), on the call center over fake services: the caller
stays on for the queue's survey when the agent hangs up first, or the agent transfers them to it; the
answer is stored on the call, the agent goes to wrap-up and the call counts as answered."""
from __future__ import annotations

import pytest

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.acd import AgentState
from firmware.callcenter.calls import CallState, Disposition
from firmware.callcenter.settings import AgentConfig, QueueConfig
from firmware.core.control import ControlError

from callcenter.fakes import FIRST_STATION, SALES_FLOW, FakeBox, make_center

SURVEY = """
[flow]
start = "rate"
[nodes.rate]
type = "survey"
name = "csat"
question = "satisfaction"
prompts = ["survey-rate"]
next = "thanks"
[nodes.thanks]
type = "hangup"
prompts = ["survey-thanks"]
"""


def desk(tmp_path, survey_after: bool):
    (tmp_path / "csat.toml").write_text(SURVEY)
    box = FakeBox(trunks=4, stations=1)
    center = make_center(box, tmp_path, SALES_FLOW,
                         queues=[QueueConfig("sales", wrapup=30.0, survey="csat", survey_after=survey_after)],
                         agents=[AgentConfig("1001", "Ann", "station1", {"sales": 5})])
    center.acd.cmd_login("1001")
    center.acd.cmd_ready("1001")
    return box, center


def talking(box, center):
    """A caller rings in and the agent picks up."""
    center.on_channel_event(ChannelEvent(0, EventKind.RING))
    center.on_channel_event(ChannelEvent(FIRST_STATION, EventKind.ANSWER))
    call = center.calls[0]
    assert call.state == CallState.CONNECTED
    return call


def answer_survey(box, center, call, key: str) -> None:
    assert call.state == CallState.IVR and call.node == "rate"
    assert box.prompts.names_of(box.media.players[0][0]) == ["survey-rate"]
    box.media.done(0)
    center.on_digit(0, key)
    assert box.prompts.names_of(box.media.players[0][0]) == ["survey-thanks"]
    box.media.done(0)


def test_the_caller_stays_on_for_the_survey_when_the_agent_hangs_up(tmp_path):
    box, center = desk(tmp_path, survey_after=True)
    call = talking(box, center)
    center.on_channel_event(ChannelEvent(FIRST_STATION, EventKind.CLEAR))
    assert center.acd.agents["1001"].state == AgentState.WRAPUP
    answer_survey(box, center, call, "4")
    answers = list(box.records.tables["survey_answers"].values())
    assert [(a["call_id"], a["survey"], a["question"], a["answer"]) for a in answers] == [
        (call.id, "csat", "satisfaction", "4")]
    assert call.state == CallState.ENDED and call.disposition == Disposition.ANSWERED
    assert box.records.tables["calls"][call.id]["agent_id"] == "1001"


def test_without_survey_after_the_agents_hang_up_ends_the_call(tmp_path):
    box, center = desk(tmp_path, survey_after=False)
    call = talking(box, center)
    center.on_channel_event(ChannelEvent(FIRST_STATION, EventKind.CLEAR))
    assert call.state == CallState.ENDED and not box.records.tables["survey_answers"]


def test_the_agent_transfers_the_caller_to_the_survey(tmp_path):
    box, center = desk(tmp_path, survey_after=False)
    call = talking(box, center)
    center.commands()["agent.transfer"](agent="1001", call=call.id, to="survey:csat")
    assert center.acd.agents["1001"].state == AgentState.WRAPUP
    assert not any(FIRST_STATION in leg for leg in box.media.legs), "the agent hears the caller no more"
    answer_survey(box, center, call, "5")
    assert [a["answer"] for a in box.records.tables["survey_answers"].values()] == ["5"]
    assert call.disposition == Disposition.ANSWERED
    assert [d["to"] for d in box.named("call:transfer")] == ["survey:csat"]


def test_a_caller_who_hangs_up_during_the_survey_leaves_an_answered_call_without_an_answer(tmp_path):
    box, center = desk(tmp_path, survey_after=True)
    call = talking(box, center)
    center.on_channel_event(ChannelEvent(FIRST_STATION, EventKind.CLEAR))
    center.on_channel_event(ChannelEvent(0, EventKind.CLEAR))
    assert call.disposition == Disposition.ANSWERED and not box.records.tables["survey_answers"]


def test_a_transfer_to_a_survey_the_box_lacks_is_refused_and_the_call_goes_on(tmp_path):
    box, center = desk(tmp_path, survey_after=False)
    call = talking(box, center)
    with pytest.raises(ControlError, match="no survey 'nps'"):
        center.commands()["agent.transfer"](agent="1001", call=call.id, to="survey:nps")
    with pytest.raises(ControlError, match="always blind"):
        center.commands()["agent.transfer"](agent="1001", call=call.id, to="survey:csat", blind=False)
    assert call.state == CallState.CONNECTED
