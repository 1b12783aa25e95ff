"""Outbound campaigns on the simulated board (docs/architecture.md §22): a campaign in each mode
(progressive, message, and preview with scripted agents dialling each card) calls each kind of called party the simulated network has — a person, an answering machine
(a greeting, then a beep), a fax machine, busy, congestion, no answer, no such number, and a person
whose exchange signals their hang-up only by busy tone — and each contact ends with its outcome."""
import json
import shutil
from pathlib import Path

import pytest

from firmware.store import open_readonly
from firmware.core.events import Subscriber
from firmware.tools.scenario import SCENARIO_EPOCH, ScenarioRun, load_scenario

SCENARIO = Path(__file__).parent.parent / "scenarios" / "campaign_calls.toml"
# The last digit of a number -> (the outcome, the contact's end state in progressive, message and
# preview mode). A machine is hung up on in progressive mode, left the message in message mode, and
# talked to by the agent who dialled it in preview mode (they hear the greeting and hang up).
EXPECTED = {
    "1": ("answered_human", {"progressive": "done", "message": "done", "preview": "done"}),
    "2": ("answered_machine", {"progressive": "failed", "message": "done", "preview": "failed"}),
    "3": ("fax", {"progressive": "failed", "message": "failed", "preview": "failed"}),
    "4": ("busy", {"progressive": "failed", "message": "failed", "preview": "failed"}),
    "5": ("congestion", {"progressive": "failed", "message": "failed", "preview": "failed"}),
    "6": ("no_answer", {"progressive": "failed", "message": "failed", "preview": "failed"}),
    "7": ("answered_human", {"progressive": "done", "message": "done", "preview": "done"}),
    "9": ("unobtainable", {"progressive": "failed", "message": "failed", "preview": "failed"}),
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    work = tmp_path_factory.mktemp("campaigns")
    shutil.copy(SCENARIO, work / "campaigns.toml")
    run = ScenarioRun(load_scenario(work / "campaigns.toml"), work / "state", epoch=SCENARIO_EPOCH)
    sub = Subscriber(100_000)
    run.engine.command("events.subscribe", {"subscriber": sub})
    report = run.run()
    db = open_readonly(work / "state" / "branchline.db")
    calls = {r["id"]: r for r in db["calls"].rows_where("direction = 'outbound'")}
    events: dict[str, list] = {}
    for r in db["call_events"].rows_where(order_by="id"):
        events.setdefault(r["call_id"], []).append((r["kind"], json.loads(r["data"]) if r["data"] else {}))
    return report, calls, events, sub.take(0)


@pytest.mark.parametrize("mode", ["progressive", "message", "preview"])
@pytest.mark.parametrize("last", sorted(EXPECTED))
def test_each_called_party_ends_its_contact_with_its_outcome(ran, mode, last):
    report, calls, events, _ = ran
    outcome, state = EXPECTED[last]
    [contact] = [c for c in report["campaigns"][mode]["contacts"] if c["number"].endswith(last)]
    assert (contact["outcome"], contact["state"], contact["attempts"]) == (outcome, state[mode], 1)
    call = calls[contact["call_id"]]
    assert call["campaign_id"] == mode and call["number"] == contact["number"]


def test_a_person_reached_by_the_progressive_dialer_talks_to_an_agent(ran):
    report, calls, events, _ = ran
    for last in ("1", "7"):
        [contact] = [c for c in report["campaigns"]["progressive"]["contacts"] if c["number"].endswith(last)]
        call = calls[contact["call_id"]]
        assert call["disposition"] == "answered" and call["agent_id"] in {"A1", "A2", "A3", "A4"}
        assert call["hangup_by"] == "caller"      # 7: their exchange's busy tone told it


def test_a_machine_hears_the_message_after_its_beep(ran):
    report, calls, events, _ = ran
    [contact] = [c for c in report["campaigns"]["message"]["contacts"] if c["number"].endswith("2")]
    kinds = [k for k, _ in events[contact["call_id"]]]
    assert kinds.index("call:machine_beep") > kinds.index("call:outcome")
    assert calls[contact["call_id"]]["disposition"] == "completed"


def test_the_campaigns_never_hold_more_lines_than_the_box_allows(ran):
    report, calls, events, _ = ran
    # [run] trunks = 12, reserved_incoming = 1, outbound_lines = 10; the campaigns' max_lines 5, 5, 3.
    moments = sorted([(c["arrived_at"], 1) for c in calls.values()] + [(c["ended_at"], -1) for c in calls.values()])
    held = peak = 0
    for _, step in moments:
        held += step
        peak = max(peak, held)
    assert 5 < peak <= 10



def test_pages_following_the_live_events_see_each_campaign_start_and_its_calls(ran):
    report, calls, events, live = ran
    told = [e for e in live if e["type"] == "campaign"]
    assert {e["campaign"] for e in told} == {"progressive", "message", "preview"}
    for name in ("progressive", "message"):
        states = [e["state"] for e in told if e["campaign"] == name]
        # Started, then ended by the scenario's end of day (or finished before it).
        assert states[0] == "running" and states[-1] in ("stopped", "finished")
    assert max(e["lines"] for e in told if e["campaign"] == "message") >= 2
    outbound = {e["call"] for e in live if e["type"] == "call" and e["direction"] == "outbound"}
    assert outbound == set(calls)


def test_a_preview_contact_is_dialled_by_the_agent_it_was_shown_to_who_then_talks_to_them(ran):
    report, calls, events, live = ran
    shown = {e["contact"]: e["agent"] for e in live if e["type"] == "preview"}
    contacts = report["campaigns"]["preview"]["contacts"]
    assert set(shown) == {c["id"] for c in contacts}
    for c in contacts:
        call = calls[c["call_id"]]
        assert call["agent_id"] == shown[c["id"]] and c["agent_id"] == shown[c["id"]]
        if c["outcome"] == "answered_human":
            assert call["disposition"] == "answered" and call["talk"] > 0
