"""The outbound dialer on the call center over fake services (docs/architecture.md §22; R9-R11):
each mode with each outcome a dialled number can have, retries and max attempts, calling hours and
holidays, do-not-call, the caps and the trunks kept for incoming calls, pause and stop, refusals."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from dataclasses import replace

import pytest

from drivers.channel import ChannelEvent, EventKind
from firmware.callcenter.acd import AgentState
from firmware.callcenter.calling_window import CallingWindowError, read_hours
from firmware.callcenter.campaign_reader import Batch, Contact
from firmware.callcenter.calls import CallState
from firmware.callcenter.dialer import KEY_WAIT_S, PUMP_S, DialerError
from firmware.callcenter.schedules import Schedule
from firmware.callcenter.settings import AgentConfig, QueueConfig
from firmware.core.commands import CommandError, check

from callcenter.fakes import EPOCH, FIRST_STATION, SALES_FLOW, FakeBox, make_center

NUMBER = "+8613800000001"
# All day, every day: the tests below that are not about calling hours never meet their edge.
ALL_DAY = json.dumps({"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59"})
TODAY = dt.datetime.fromtimestamp(EPOCH)


class Contacts:
    """The contact reader's part (campaign_reader.ContactReader) over the fake records: what is due now."""

    def __init__(self, box: FakeBox):
        self.box, self.wanted, self.confirming = box, frozenset(), frozenset()

    def want(self, ids: frozenset[str]) -> None:
        self.wanted = ids

    def confirm(self, ids: frozenset[str]) -> None:
        self.confirming = ids

    def take(self) -> Batch:
        now = self.box.clock.time()
        rows = sorted(self.box.records.tables["campaign_contacts"].values(), key=lambda r: r.get("next_at") or 0)
        due = {cid: [Contact.of(r) for r in rows if r["campaign_id"] == cid and r["state"] == "pending"
                     and (r.get("next_at") or 0) <= now] for cid in self.wanted}
        counts = {cid: {"states": Counter(r["state"] for r in rows if r["campaign_id"] == cid)} for cid in self.wanted}
        contacts = self.box.records.tables["campaign_contacts"]
        confirmed = {i: contacts[i].get("updated_at") if i in contacts else None for i in self.confirming}
        return Batch(due, frozenset(self.box.records.tables["dnc_numbers"]), counts, confirmed)


class Desk:
    def __init__(self, tmp_path, trunks: int = 4, reserved: int = 1, max_lines: int = 2, agents: int = 1,
                 holidays: tuple[str, ...] = ()):
        self.box = FakeBox(trunks=trunks)
        self.contacts = Contacts(self.box)
        self.center = make_center(
            self.box, tmp_path, SALES_FLOW, queues=[QueueConfig("sales", wrapup=0.0, ring_timeout=15.0)],
            agents=[AgentConfig(f"100{i + 1}", f"Agent {i + 1}", f"station{i + 1}", {"sales": 5})
                    for i in range(agents)],
            site_options={"outbound_reserved": reserved, "outbound_max_lines": max_lines,
                          "schedules": {"office": Schedule("office", holidays=holidays)}},
            contacts=self.contacts)
        self.commands = self.center.commands()
        self.trunks = trunks

    def campaign(self, mode: str = "progressive", cid: str = "c1", **fields) -> dict:
        row = {"id": cid, "name": "Spring offer", "mode": mode, "purpose": "sales", "state": "draft",
               "queue": "sales", "prompt": "goodbye" if mode == "message" else "", "confirm_key": "1",
               "agent_key": "", "hours": ALL_DAY, "skip_holidays": 1, "max_attempts": 3,
               "retry": json.dumps({"busy": 600, "no_answer": 1200, "failed": 300, "congestion": 300}),
               "max_lines": 2, "pace": 1.0, **fields}
        self.box.records.tables["campaigns"][cid] = row
        return row

    def contact(self, kid: str = "k1", number: str = NUMBER, cid: str = "c1") -> None:
        self.box.records.tables["campaign_contacts"][kid] = {
            "id": kid, "campaign_id": cid, "number": number, "name": "Li Lei", "data": "{}", "state": "pending",
            "attempts": 0, "updated_at": EPOCH}

    def start(self, cid: str = "c1") -> dict:
        return self.commands["campaign.start"](id=cid, row=self.box.records.tables["campaigns"][cid])

    def ready(self, n: int = 1) -> None:
        for i in range(n):
            self.center.acd.cmd_login(f"100{i + 1}")
            self.center.acd.cmd_ready(f"100{i + 1}")

    def event(self, channel: int, kind: EventKind, **data) -> None:
        self.center.on_channel_event(ChannelEvent(channel, kind, data))

    def dialled(self) -> list[int]:
        """The trunks a contact's number was dialled on (a mobile of the box's own country: as dialled at home)."""
        return [ch for ch, number in self.box.lines.dialled if number and number.startswith("1380")]

    def row(self, kid: str = "k1") -> dict:
        return self.box.records.tables["campaign_contacts"][kid]

    def call_row(self, kid: str = "k1") -> dict:
        return self.box.records.tables["calls"][self.row(kid)["call_id"]]

    def answers(self, trunk: int, heard: str = "human") -> None:
        self.event(trunk, EventKind.ANSWER)
        self.center.on_amd(trunk, heard, "test")


# --- progressive ---------------------------------------------------------------------------------
def test_progressive_dials_for_a_free_agent_and_puts_the_person_through_to_them(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign()
    desk.contact()
    desk.start()
    desk.box.advance(PUMP_S)
    assert desk.dialled() == []                       # nobody free to talk to
    desk.ready()
    desk.box.advance(PUMP_S)
    [trunk] = desk.dialled()
    assert desk.row()["state"] == "dialing" and desk.row()["attempts"] == 1
    desk.answers(trunk)
    assert FIRST_STATION in desk.box.lines.ringing    # the agent's phone rings for the person
    desk.event(FIRST_STATION, EventKind.ANSWER)
    call = desk.center.calls[trunk]
    assert call.state == CallState.CONNECTED and call.agent.id == "1001"
    assert desk.call_row()["direction"] == "outbound" and desk.call_row()["campaign_id"] == "c1"
    desk.event(trunk, EventKind.CLEAR)
    assert desk.row()["state"] == "done" and desk.row()["outcome"] == "answered_human"


def test_the_dialer_forgets_a_write_once_a_read_shows_it(tmp_path):
    # It keeps its last write of each contact to tell a read made before the writer caught up; kept
    # for ever, that grew by every contact of every campaign the box ever called.
    desk = Desk(tmp_path)
    desk.campaign()
    desk.contact()
    desk.start()
    desk.ready()
    desk.box.advance(PUMP_S)
    [trunk] = desk.dialled()
    assert "k1" in desk.center.dialer.written        # a read made now could still be stale
    desk.answers(trunk)
    desk.event(FIRST_STATION, EventKind.ANSWER)
    desk.event(trunk, EventKind.CLEAR)
    assert desk.row()["state"] == "done"
    desk.box.advance(3 * PUMP_S)
    assert desk.center.dialer.written == {}


def test_progressive_paces_calls_per_free_agent(tmp_path):
    desk = Desk(tmp_path, trunks=6, max_lines=4)
    desk.campaign(pace=2.0, max_lines=4)
    for i in range(4):
        desk.contact(f"k{i}", f"+861380000000{i}")
    desk.start()
    desk.ready()
    desk.box.advance(PUMP_S)
    assert len(desk.dialled()) == 2                  # pace 2 for the one free agent


def test_a_machine_on_a_progressive_call_is_hung_up_and_tried_again_later(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign(retry=json.dumps({"answered_machine": 3600}))
    desk.contact()
    desk.start()
    desk.ready()
    desk.box.advance(PUMP_S)
    [trunk] = desk.dialled()
    desk.answers(trunk, "machine")
    assert trunk not in desk.center.calls
    assert desk.row()["state"] == "pending" and desk.row()["outcome"] == "answered_machine"
    assert desk.row()["next_at"] == pytest.approx(desk.box.clock.time() + 3600)
    assert desk.center.acd.agents["1001"].state == AgentState.READY    # the agent was never rung


# --- message -------------------------------------------------------------------------------------
def message_desk(tmp_path, **fields) -> tuple[Desk, int]:
    desk = Desk(tmp_path)
    desk.campaign("message", **fields)
    desk.contact()
    desk.start()
    desk.box.advance(PUMP_S)
    [trunk] = desk.dialled()
    return desk, trunk


def test_a_message_call_plays_the_prompt_and_takes_the_confirm_key(tmp_path):
    desk, trunk = message_desk(tmp_path)
    desk.answers(trunk)
    assert desk.box.prompts.names_of(desk.box.media.played[-1][1]) == ["goodbye"]
    desk.center.on_digit(trunk, "1")
    assert desk.row()["state"] == "done" and desk.row()["result"] == "1"
    assert desk.row()["outcome"] == "answered_human" and desk.call_row()["disposition"] == "completed"


def test_a_survey_key_is_stored_as_the_answer(tmp_path):
    desk, trunk = message_desk(tmp_path, purpose="survey", survey=json.dumps({"keys": "12345"}))
    desk.answers(trunk)
    desk.center.on_digit(trunk, "4")
    [answer] = desk.box.records.tables["survey_answers"].values()
    assert answer["answer"] == "4" and answer["survey"] == "c1" and answer["call_id"] == desk.row()["call_id"]
    assert desk.row()["result"] == "4"


def test_the_agent_key_puts_the_person_through_to_the_queue(tmp_path):
    desk, trunk = message_desk(tmp_path, agent_key="0")
    desk.ready()
    desk.answers(trunk)
    desk.center.on_digit(trunk, "0")
    assert desk.center.calls[trunk].state == CallState.RINGING_AGENT
    desk.event(FIRST_STATION, EventKind.ANSWER)
    assert desk.center.calls[trunk].state == CallState.CONNECTED


def test_no_key_plays_the_message_again_then_ends(tmp_path):
    desk, trunk = message_desk(tmp_path)
    desk.answers(trunk)
    desk.box.media.done(trunk)
    desk.box.advance(KEY_WAIT_S + 0.1)
    desk.box.media.done(trunk)
    desk.box.advance(KEY_WAIT_S + 0.1)
    assert trunk not in desk.center.calls
    assert desk.row()["state"] == "done" and desk.row()["result"] is None


def test_a_machine_gets_the_message_after_its_beep(tmp_path):
    desk, trunk = message_desk(tmp_path)
    desk.answers(trunk, "machine")
    assert not desk.box.media.playing(trunk)           # not over the greeting
    desk.center.on_amd(trunk, "beep", "1000 Hz")
    assert desk.box.prompts.names_of(desk.box.media.played[-1][1]) == ["goodbye"]
    desk.box.media.done(trunk)
    assert desk.row()["state"] == "done" and desk.row()["outcome"] == "answered_machine"


def test_a_fax_ends_the_attempt_as_fax_and_is_not_called_again(tmp_path):
    desk, trunk = message_desk(tmp_path)
    desk.event(trunk, EventKind.ANSWER)
    desk.center.on_fax(trunk, "ced")
    assert desk.row()["state"] == "failed" and desk.row()["outcome"] == "fax"
    assert desk.call_row()["disposition"] == "fax"


@pytest.mark.parametrize("tone, outcome", [("busy", "busy"), ("congestion", "congestion"), ("sit", "unobtainable")])
def test_a_number_not_reached_is_retried_by_its_outcome_or_given_up(tmp_path, tone, outcome):
    desk, trunk = message_desk(tmp_path)
    desk.event(trunk, EventKind.PROGRESS, tone=tone)
    row = desk.row()
    assert row["outcome"] == outcome and desk.call_row()["campaign_id"] == "c1"
    if outcome == "unobtainable":                        # not in the retry table: no point trying again
        assert row["state"] == "failed"
    else:
        assert row["state"] == "pending" and row["next_at"] > desk.box.clock.time()


def test_no_answer_retries_until_max_attempts(tmp_path):
    desk, trunk = message_desk(tmp_path, max_attempts=2)
    desk.box.advance(46.0)                               # legs.DIAL_TIMEOUT_S
    assert desk.row()["state"] == "pending" and desk.row()["outcome"] == "no_answer"
    desk.box.advance(1190.0)
    assert len(desk.dialled()) == 1                      # not before the retry time (1200 s)
    desk.box.advance(12.0)
    assert len(desk.dialled()) == 2 and desk.row()["attempts"] == 2
    desk.box.advance(46.0)
    assert desk.row()["state"] == "failed" and desk.row()["attempts"] == 2


# --- preview -------------------------------------------------------------------------------------
def test_preview_shows_the_contact_then_rings_the_agent_and_dials_when_they_pick_up(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign("preview")
    desk.contact()
    desk.start()
    desk.ready()
    desk.box.advance(PUMP_S)
    [offer] = desk.box.named("campaign:preview")
    assert offer["agent"] == "1001" and offer["contact"] == "k1" and offer["number"] == NUMBER
    agent = desk.center.acd.agents["1001"]
    assert (agent.state, agent.reason) == (AgentState.NOT_READY, "preview") and desk.dialled() == []
    desk.commands["agent.preview_dial"](agent="1001", contact="k1")
    desk.event(FIRST_STATION, EventKind.ANSWER)
    [trunk] = desk.dialled()
    desk.answers(trunk)
    assert desk.center.calls[trunk].state == CallState.CONNECTED and agent.state == AgentState.TALKING
    desk.event(trunk, EventKind.CLEAR)
    assert desk.row()["state"] == "done" and desk.row()["agent_id"] == "1001"


def test_a_skipped_preview_frees_the_agent_and_comes_round_later(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign("preview")
    desk.contact()
    desk.start()
    desk.ready()
    desk.box.advance(PUMP_S)
    desk.commands["agent.preview_skip"](agent="1001", contact="k1")
    assert desk.center.acd.agents["1001"].state == AgentState.READY
    assert desk.row()["state"] == "pending" and desk.row()["next_at"] > desk.box.clock.time()
    with pytest.raises(Exception, match="no contact k1 in preview"):
        desk.commands["agent.preview_dial"](agent="1001", contact="k1")


# --- rules ---------------------------------------------------------------------------------------
def closed_now(now: dt.datetime) -> list[str]:
    """Calling hours that do not hold `now`: another day of the week, or later (earlier) today."""
    other_days = [d for d in range(1, 8) if d != now.isoweekday()]
    later_today = ({"start": (now + dt.timedelta(minutes=2)).strftime("%H:%M"), "end": "23:59"}
                   if now.strftime("%H:%M") < "23:57" else {"start": "00:00", "end": now.strftime("%H:%M")})
    return [json.dumps({"days": other_days, "start": "00:00", "end": "23:59"}),
            json.dumps({"days": [now.isoweekday()], **later_today})]


@pytest.mark.parametrize("which", [0, 1])
def test_no_calls_outside_the_calling_hours(tmp_path, which):
    desk = Desk(tmp_path)
    desk.campaign("message", hours=closed_now(TODAY)[which])
    desk.contact()
    desk.start()
    desk.box.advance(PUMP_S)
    assert desk.dialled() == [] and desk.row()["state"] == "pending"


@pytest.mark.parametrize("skip, calls", [(1, 0), (0, 1)])
def test_no_calls_on_the_sites_holidays_unless_the_campaign_says(tmp_path, skip, calls):
    desk = Desk(tmp_path, holidays=(TODAY.strftime("%Y-%m-%d"),))
    desk.campaign("message", skip_holidays=skip)
    desk.contact()
    desk.start()
    desk.box.advance(PUMP_S)
    assert len(desk.dialled()) == calls


def test_a_contact_kept_as_e164_is_dialled_as_the_exchange_takes_it(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign("message", pace=30.0)        # a call every 2 s
    desk.contact("k1", "+8613800000001")       # a mobile at home: no trunk prefix
    desk.contact("k2", "+862161234567")        # a Shanghai number: with its trunk prefix 0
    desk.start()
    for _ in range(5):
        desk.box.advance(PUMP_S)
    numbers = {number for _ch, number in desk.box.lines.dialled if number}
    assert {"13800000001", "02161234567"} <= numbers and not any(n.startswith("+") for n in numbers)


def test_calling_hours_hold_from_start_to_before_end_on_their_days():
    hours = read_hours(json.dumps({"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "20:00"}), True)
    monday = dt.datetime(2026, 12, 7)
    assert hours.open_at(monday.replace(hour=9), ()) and hours.open_at(monday.replace(hour=19, minute=59), ())
    assert not hours.open_at(monday.replace(hour=8, minute=59), ()) and not hours.open_at(monday.replace(hour=20), ())
    assert not hours.open_at(dt.datetime(2026, 12, 12, 10), ())                 # a Saturday
    assert not hours.open_at(monday.replace(hour=10), ("2026-12-07",))
    with pytest.raises(CallingWindowError):
        read_hours(json.dumps({"days": [0]}), True)


def test_a_campaigns_own_days_off_are_kept_even_when_it_calls_on_site_holidays():
    # The web's definition form writes them in campaigns.hours "holidays" (docs/architecture.md §23).
    hours = read_hours(json.dumps({"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "20:00",
                                   "holidays": ["2026-12-08"]}), False)
    assert hours.open_at(dt.datetime(2026, 12, 7, 10), ("2026-12-07",))       # site holiday, not skipped
    assert not hours.open_at(dt.datetime(2026, 12, 8, 10), ())                 # the campaign's own day off
    with pytest.raises(CallingWindowError):
        read_hours(json.dumps({"days": [1], "holidays": ["8 Dec"]}), True)


def test_a_number_on_the_do_not_call_list_is_never_dialled_even_if_listed_after_the_import(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign("message")
    desk.contact()
    desk.box.records.tables["dnc_numbers"][NUMBER] = {"id": NUMBER, "added_at": EPOCH}
    desk.start()
    desk.box.advance(PUMP_S)
    assert desk.dialled() == [] and desk.row()["state"] == "dnc"


def test_the_trunks_kept_for_incoming_calls_are_never_seized(tmp_path):
    desk = Desk(tmp_path, trunks=4, reserved=2, max_lines=4)
    desk.campaign("message", max_lines=4, pace=1000.0)
    for i in range(4):
        desk.contact(f"k{i}", f"+861380000000{i}")
    desk.start()
    desk.box.advance(3 * PUMP_S)
    assert len(desk.dialled()) == 2                     # 4 trunks, 2 kept idle
    desk.event(0 if 0 not in desk.dialled() else 3, EventKind.RING)   # an incoming call finds a trunk
    assert len(desk.center.calls) == 3
    desk.box.advance(3 * PUMP_S)
    assert len(desk.dialled()) == 2                     # one idle trunk left: still kept for incoming


@pytest.mark.parametrize("campaign_lines, box_lines", [(1, 4), (4, 1)])
def test_the_campaign_and_the_box_caps_on_simultaneous_calls(tmp_path, campaign_lines, box_lines):
    desk = Desk(tmp_path, trunks=8, reserved=0, max_lines=box_lines)
    desk.campaign("message", max_lines=campaign_lines, pace=1000.0)
    for i in range(4):
        desk.contact(f"k{i}", f"+861380000000{i}")
    desk.start()
    desk.box.advance(3 * PUMP_S)
    assert len(desk.dialled()) == 1


def test_pause_stops_new_calls_and_lets_the_call_in_progress_finish(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign("message", pace=1000.0, max_lines=1)
    desk.contact("k1")
    desk.contact("k2", "+8613800000002")
    desk.start()
    desk.box.advance(PUMP_S)
    [trunk] = desk.dialled()
    assert desk.commands["campaign.pause"](id="c1")["state"] == "paused"
    assert desk.box.records.tables["campaigns"]["c1"]["state"] == "paused"
    desk.answers(trunk)
    desk.center.on_digit(trunk, "1")
    desk.box.advance(3 * PUMP_S)
    assert len(desk.dialled()) == 1 and desk.row("k1")["state"] == "done"
    desk.commands["campaign.start"](id="c1", row=desk.box.records.tables["campaigns"]["c1"])
    desk.box.advance(PUMP_S)
    assert len(desk.dialled()) == 2
    desk.commands["campaign.stop"](id="c1")
    assert desk.center.calls and desk.box.records.tables["campaigns"]["c1"]["state"] == "stopped"
    [campaign] = desk.box.named("campaign:changed")[-1:]
    assert campaign["state"] == "stopped"


@pytest.mark.parametrize("fields, reason", [
    ({"queue": "nowhere"}, "no queue 'nowhere'"),
    ({"mode": "message", "prompt": ""}, "needs a prompt"),
    ({"mode": "message", "prompt": "no-such-prompt"}, "no prompt 'no-such-prompt'"),
    ({"state": "running"}, "only a draft or paused campaign starts"),
    ({"hours": "{\"start\": \"18:00\", \"end\": \"09:00\"}"}, "must come after"),
    ({"mode": "robocall"}, "is not one of"),
])
def test_a_campaign_that_cannot_run_is_refused_with_its_reason(tmp_path, fields, reason):
    desk = Desk(tmp_path)
    desk.campaign(**fields)
    with pytest.raises(Exception, match=reason):
        desk.start()


def test_a_campaign_with_no_usable_trunk_is_refused(tmp_path):
    desk = Desk(tmp_path, trunks=2, reserved=1)
    desk.box.alarms[0] = "no loop current"
    desk.campaign()
    with pytest.raises(DialerError, match="no usable trunk"):
        desk.center.dialer.cmd_start(id="c1", row=desk.box.records.tables["campaigns"]["c1"])


def test_the_commands_arguments_are_checked_before_the_loop():
    check("campaign.start", {"id": "c1"})
    check("campaign.status", {})
    for cmd, args in [("campaign.start", {}), ("campaign.stop", {"id": ""}),
                      ("agent.preview_dial", {"agent": "1001"})]:
        with pytest.raises(CommandError):
            check(cmd, args)


def test_a_campaign_with_every_contact_ended_is_finished(tmp_path):
    desk, trunk = message_desk(tmp_path)
    desk.answers(trunk)
    desk.center.on_digit(trunk, "1")
    desk.box.advance(PUMP_S)
    assert desk.box.records.tables["campaigns"]["c1"]["state"] == "finished"
    assert desk.center.dialer.status() == []


def test_a_campaign_running_when_the_box_stopped_runs_again(tmp_path):
    first = Desk(tmp_path)
    row = dict(first.campaign("message"), state="running")
    box = FakeBox()
    contacts = Contacts(box)
    box.records.tables["campaign_contacts"]["k1"] = {
        "id": "k1", "campaign_id": "c1", "number": NUMBER, "name": "", "data": "{}", "state": "pending",
        "attempts": 1, "updated_at": EPOCH}
    center = make_center(box, tmp_path, SALES_FLOW, queues=[QueueConfig("sales")], contacts=contacts,
                         campaigns=[row])
    box.advance(PUMP_S)
    assert [n for _, n in box.lines.dialled] == ["13800000001"]   # NUMBER as the exchange takes it
    assert box.records.tables["campaign_contacts"]["k1"]["attempts"] == 2
    assert center.dialer.status()[0]["state"] == "running"


def test_new_outbound_settings_apply_on_site_reload(tmp_path):
    desk = Desk(tmp_path, trunks=4, reserved=3, max_lines=4)
    desk.campaign("message", max_lines=4, pace=1000.0)
    for i in range(3):
        desk.contact(f"k{i}", f"+861380000000{i}")
    desk.start()
    desk.box.advance(PUMP_S)
    assert len(desk.dialled()) == 1
    desk.box.advance(3 * PUMP_S)
    assert len(desk.dialled()) == 1                     # 3 of the 4 trunks kept for incoming calls
    desk.center.apply_site(replace(desk.center.site, outbound_reserved=1))
    desk.box.advance(3 * PUMP_S)
    assert len(desk.dialled()) == 3


def preview_shown(tmp_path) -> Desk:
    desk = Desk(tmp_path)
    desk.campaign("preview")
    desk.contact()
    desk.start()
    desk.ready()
    desk.box.advance(PUMP_S)
    assert desk.row()["state"] == "preview"
    return desk


def test_an_agent_who_takes_a_break_while_previewing_gives_the_contact_back(tmp_path):
    desk = preview_shown(tmp_path)
    desk.center.acd.cmd_not_ready("1001", "lunch")
    assert desk.row()["state"] == "pending"
    assert desk.center.dialer.status()[0]["previews"] == 0


def test_pausing_while_the_agent_is_rung_for_a_preview_dials_nothing(tmp_path):
    desk = preview_shown(tmp_path)
    desk.commands["agent.preview_dial"](agent="1001", contact="k1")
    desk.commands["campaign.pause"](id="c1")
    assert FIRST_STATION not in desk.box.lines.ringing
    assert desk.center.acd.agents["1001"].state == AgentState.READY
    desk.event(FIRST_STATION, EventKind.ANSWER)
    assert desk.dialled() == [] and desk.row()["state"] == "pending"


def test_a_preview_being_dialled_can_be_neither_skipped_nor_dialled_twice(tmp_path):
    desk = preview_shown(tmp_path)
    desk.commands["agent.preview_dial"](agent="1001", contact="k1")
    for cmd in ("agent.preview_skip", "agent.preview_dial"):
        with pytest.raises(Exception, match="is being rung to dial contact k1"):
            desk.commands[cmd](agent="1001", contact="k1")
    desk.event(FIRST_STATION, EventKind.ANSWER)
    assert len(desk.dialled()) == 1


def test_an_e164_number_is_dialled_as_the_trunk_dials_it_and_a_bad_one_never(tmp_path):
    desk = Desk(tmp_path, trunks=6, max_lines=4)
    desk.campaign("message", max_lines=4, pace=1000.0)
    desk.contact("k1", "+862161234567")              # Shanghai, from a box in China: trunk prefix 0
    desk.contact("k2", "+16502530000")               # abroad: the international prefix 00
    desk.contact("k3", "+86123")                     # too short for any Chinese number
    desk.start()
    desk.box.advance(3 * PUMP_S)
    assert sorted(n for _, n in desk.box.lines.dialled if n) == ["0016502530000", "02161234567"]
    assert desk.row("k3")["state"] == "failed" and "wrong number of digits" in desk.row("k3")["result"]


def test_a_number_listed_in_another_form_is_still_not_called(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign("message")
    desk.contact("k1", "13800000001")                 # as imported, not E.164
    desk.box.records.tables["dnc_numbers"][NUMBER] = {"id": NUMBER, "added_at": EPOCH}
    desk.start()
    desk.box.advance(PUMP_S)
    assert desk.box.lines.dialled == [] and desk.row()["state"] == "dnc"


def test_a_campaign_whose_queue_the_site_settings_removed_is_paused(tmp_path):
    desk = Desk(tmp_path)
    desk.campaign()
    desk.contact()
    desk.start()
    desk.ready()
    desk.center.apply_site(replace(desk.center.site, queues=[QueueConfig("service")], agents=[]))
    desk.box.advance(2 * PUMP_S)
    assert desk.dialled() == [] and desk.box.records.tables["campaigns"]["c1"]["state"] == "paused"
