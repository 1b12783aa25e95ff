"""The IVR runner alone, on the call center over fake services (README, "IVR flows"): menus with
their retries for a wrong key and for silence, collecting digits, barge-in and type-ahead, and
secure input kept out of the records."""
from __future__ import annotations

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.calls import CallState, Disposition

from callcenter.fakes import FakeBox, make_center

TRUNK = 0

FLOW = """
[flow]
start = "menu"
[nodes.menu]
type = "menu"
prompts = ["main-menu"]
choices = {{ "1" = "bye", "2" = "pin", "3" = "intro" }}
timeout = 5.0
retries = 1
on_fail = "failed"
[nodes.intro]
type = "play"
prompts = ["leave-message"]
next = "menu"
[nodes.pin]
type = "collect"
prompts = ["enter-number"]
var = "pin"
min_digits = 4
max_digits = 6
terminator = "#"
secure = {secure}
retries = 1
next = "bye"
on_fail = "failed"
[nodes.bye]
type = "hangup"
prompts = ["goodbye"]
[nodes.failed]
type = "hangup"
prompts = ["closed"]
"""


class Line:
    """One caller on trunk 0 of a call center running FLOW."""

    def __init__(self, tmp_path, secure: bool = False):
        self.box = FakeBox()
        self.center = make_center(self.box, tmp_path, FLOW.format(secure=str(secure).lower()))
        self.center.on_channel_event(ChannelEvent(TRUNK, EventKind.RING))
        self.call = self.center.calls[TRUNK]

    def hearing(self) -> list[str]:
        """The prompts playing to the caller now ([] for silence)."""
        player = self.box.media.players.get(TRUNK)
        return self.box.prompts.names_of(player[0]) if player else []

    def prompt_over(self) -> None:
        self.box.media.done(TRUNK)

    def press(self, keys: str) -> None:
        for key in keys:
            self.center.on_digit(TRUNK, key)

    def events(self, kind: str) -> list[dict]:
        return [{k: v for k, v in d.items() if k != "call"} for e, d in self.box.events if e == kind]


def test_the_call_is_answered_and_the_menu_played(tmp_path):
    line = Line(tmp_path)
    assert line.box.lines.answered == [TRUNK] and line.call.state == CallState.IVR
    assert line.hearing() == ["main-menu"]


def test_a_menu_choice_leads_to_its_node(tmp_path):
    line = Line(tmp_path)
    line.prompt_over()
    line.press("1")
    assert line.events("ivr:choice") == [{"node": "menu", "digit": "1", "next": "bye"}]
    assert line.hearing() == ["goodbye"]
    line.prompt_over()
    assert line.call.disposition == Disposition.COMPLETED and line.call.path == ["menu", "bye"]


def test_a_wrong_key_is_apologised_for_and_asked_again_until_the_retries_run_out(tmp_path):
    line = Line(tmp_path)
    line.prompt_over()
    line.press("7")
    assert line.events("ivr:invalid") == [{"node": "menu", "digit": "7"}]
    assert line.hearing() == ["invalid", "main-menu"]
    line.prompt_over()
    line.press("8")                     # retries = 1: the second wrong key goes to on_fail
    assert line.call.path == ["menu", "failed"] and line.hearing() == ["closed"]


def test_silence_is_apologised_for_after_the_timeout_then_the_caller_goes_to_on_fail(tmp_path):
    line = Line(tmp_path)
    line.prompt_over()
    line.box.advance(4.9)
    assert line.events("ivr:timeout") == []
    line.box.advance(0.2)
    assert line.events("ivr:timeout") == [{"node": "menu"}]
    assert line.hearing() == ["no-input", "main-menu"]
    line.prompt_over()
    line.box.advance(5.1)
    assert line.call.path == ["menu", "failed"]


def test_a_key_during_the_menu_prompt_stops_it_and_is_taken(tmp_path):
    line = Line(tmp_path)
    line.press("1")                     # barge-in: the prompt is still playing
    assert line.events("ivr:choice") == [{"node": "menu", "digit": "1", "next": "bye"}]
    assert line.hearing() == ["goodbye"]


def test_keys_during_a_barge_in_prompt_skip_it_and_count_for_the_next_menu(tmp_path):
    line = Line(tmp_path)
    line.prompt_over()
    line.press("3")
    assert line.hearing() == ["leave-message"]
    line.press("1")                     # skips the play node; type-ahead: the menu takes the 1
    assert line.call.path == ["menu", "intro", "menu", "bye"]


def test_collect_takes_digits_up_to_the_terminator(tmp_path):
    line = Line(tmp_path)
    line.press("2")
    line.prompt_over()
    line.press("12345#")
    assert line.events("ivr:collect") == [{"node": "pin", "var": "pin", "digits": "12345"}]
    assert line.call.path[-1] == "bye"


def test_collect_stops_at_max_digits_without_a_terminator(tmp_path):
    line = Line(tmp_path)
    line.press("2")
    line.prompt_over()
    line.press("123456")
    assert line.events("ivr:collect")[0]["digits"] == "123456"


def test_too_few_digits_are_refused_and_asked_for_again(tmp_path):
    line = Line(tmp_path)
    line.press("2")
    line.prompt_over()
    line.press("12#")
    assert line.events("ivr:invalid") == [{"node": "pin", "digits": "12"}]
    assert line.hearing() == ["invalid", "enter-number"]
    line.prompt_over()
    line.press("9876#")
    assert line.events("ivr:collect")[0]["digits"] == "9876" and line.call.path[-1] == "bye"


def test_secure_input_is_masked_in_every_record_and_silences_the_recording(tmp_path):
    line = Line(tmp_path, secure=True)
    line.call.recording_id = "rec"          # a recording runs on the call
    line.press("2")
    line.prompt_over()
    assert line.call.secure_input and line.call.recording_paused
    line.press("4321#")
    assert line.events("ivr:collect") == [{"node": "pin", "var": "pin", "digits": "****"}]
    assert [d["digit"] for d in line.events("ivr:digit")] == ["2", "*", "*", "*", "*", "*"]
    assert "4321" not in line.call.digits and line.call.digits.startswith("2")
    assert not line.call.secure_input and not line.call.recording_paused
    assert line.center.line_status(TRUNK)["heard"][-1]["digit"] == "*"
