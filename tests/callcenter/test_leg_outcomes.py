"""The dial-out legs' outcomes over fake services: the interface whoever dials a number (callbacks,
an agent's call out, campaigns) is told through: what answered a screened leg, why a leg was not
reached, and a far end that hung up with its exchange's tone (docs/architecture.md §20)."""
from __future__ import annotations

import pytest

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.legs import NO_LINE, Outcome, outcome_of
from firmware.callcenter.settings import QueueConfig

from callcenter.fakes import SALES_FLOW, FakeBox, make_center

NUMBER = "13900000001"


class Dialler:
    """A caller of Legs.seize, noting everything it is told."""

    def __init__(self, tmp_path, screen=True):
        self.box = FakeBox()
        self.center = make_center(self.box, tmp_path, SALES_FLOW, queues=[QueueConfig("sales")])
        self.told: list[tuple] = []
        self.leg = self.center.legs.seize(
            NUMBER, on_answer=lambda: self.told.append(("answer",)),
            on_fail=lambda why: self.told.append(("fail", why)), on_clear=lambda: self.told.append(("clear",)),
            screen=screen, on_outcome=lambda outcome, cause: self.told.append(("outcome", outcome, cause)),
            on_beep=lambda heard: self.told.append(("beep", heard)))
        assert self.leg is not None
        self.trunk = self.leg.line

    def event(self, kind: EventKind, **data) -> None:
        self.center.on_channel_event(ChannelEvent(self.trunk, kind, data))


def test_a_screened_leg_is_listened_to_once_answered_and_tells_a_machine_then_its_beep(tmp_path):
    d = Dialler(tmp_path)
    assert d.box.screened == []                  # nothing is screened while it rings
    d.event(EventKind.ANSWER)
    assert d.box.screened == [d.trunk]
    d.center.on_amd(d.trunk, "machine", "max_words")
    d.center.on_amd(d.trunk, "beep", "1000 Hz")
    assert d.told == [("answer",), ("outcome", Outcome.ANSWERED_MACHINE, "max_words"), ("beep", True)]
    assert d.leg.outcome == Outcome.ANSWERED_MACHINE and d.trunk in d.center.legs.active


def test_a_fax_answering_a_screened_leg_hangs_it_up(tmp_path):
    d = Dialler(tmp_path)
    d.event(EventKind.ANSWER)
    d.center.on_fax(d.trunk, "v21")
    assert d.told == [("answer",), ("outcome", Outcome.FAX, "v21")]
    assert d.trunk not in d.center.legs.active and d.trunk not in d.box.lines.ringing


def test_an_unscreened_leg_is_not_listened_to(tmp_path):
    d = Dialler(tmp_path, screen=False)
    d.event(EventKind.ANSWER)
    d.center.on_amd(d.trunk, "machine", "max_words")
    d.center.on_fax(d.trunk, "ced")
    assert d.box.screened == [] and d.told == [("answer",)] and d.leg.outcome is None


@pytest.mark.parametrize("tone, outcome", [("busy", Outcome.BUSY), ("congestion", Outcome.CONGESTION),
                                           ("sit", Outcome.UNOBTAINABLE)])
def test_a_number_not_reached_gives_its_outcome_then_fails(tmp_path, tone, outcome):
    d = Dialler(tmp_path)
    d.center.on_progress(d.trunk, tone, 2)
    assert d.told == [("outcome", outcome, tone), ("fail", tone)]


def test_no_answer_and_a_line_that_cannot_dial(tmp_path):
    d = Dialler(tmp_path)
    d.box.advance(46.0)
    assert d.told[0][:2] == ("outcome", Outcome.NO_ANSWER)
    assert outcome_of(NO_LINE) == Outcome.FAILED


def test_busy_tone_on_an_answered_leg_is_its_far_end_hanging_up(tmp_path):
    d = Dialler(tmp_path)
    d.event(EventKind.ANSWER)
    d.center.on_amd(d.trunk, "human", "after_greeting_silence")
    d.center.on_progress(d.trunk, "busy", 2)      # the first report: not yet enough periods
    assert d.trunk in d.center.legs.active
    assert d.center.line_status(d.trunk)["far_end_clears"] == 0
    d.center.on_progress(d.trunk, "busy", 3)
    assert d.told[-1] == ("clear",) and d.trunk not in d.center.legs.active and d.trunk not in d.box.lines.ringing
    # The technician's lines page counts it against the line.
    assert d.center.line_status(d.trunk)["far_end_clears"] == 1


def test_a_fax_first_taken_for_a_machine_is_told_again_as_a_fax(tmp_path):
    # A fax whose CED reads as a long greeting word before the answer tone is confirmed.
    d = Dialler(tmp_path)
    d.event(EventKind.ANSWER)
    d.center.on_amd(d.trunk, "machine", "long_greeting")
    d.center.on_fax(d.trunk, "ced")
    assert [t[1] for t in d.told if t[0] == "outcome"] == [Outcome.ANSWERED_MACHINE, Outcome.FAX]
    assert d.leg.outcome == Outcome.FAX and d.trunk not in d.center.legs.active
