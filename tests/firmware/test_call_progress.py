"""What answered the numbers the box dialled, as the dial-out legs tell their callers (callbacks, an
agent's call out, campaigns): a person, an answering machine, a fax machine, busy, congestion, no
answer, an unobtainable number, a person somewhere too noisy to tell; and a customer whose exchange signals their hang-up only by busy tone."""
import json
import shutil
from pathlib import Path

import pytest

from firmware.store import open_readonly
from firmware.tools.scenario import run_scenario

SCENARIO = Path(__file__).parent.parent / "scenarios" / "called_parties.toml"
# agent -> (the number they dial, the outcome the box must find, the call's disposition)
EXPECTED = {
    "A1": ("13900000001", "answered_human", "answered"),
    "A2": ("13900000002", "answered_machine", "answered"),
    "A3": ("13900000003", "fax", "fax"),
    "A4": ("13900000004", "busy", "busy"),
    "A5": ("13900000005", "congestion", "congestion"),
    "A6": ("13900000006", "no_answer", "unanswered"),
    "A7": ("13900000009", "unobtainable", "unobtainable"),
    "A8": ("13900000008", "answered_human", "answered"),
    "A9": ("13900000010", "answered_unsure", "answered"),
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    work = tmp_path_factory.mktemp("called")
    shutil.copy(SCENARIO, work / "called.toml")
    run_scenario(work / "called.toml", state_dir=work / "state", fast=True)
    db = open_readonly(work / "state" / "branchline.db")
    calls = {r["agent_id"]: r for r in db["calls"].rows_where("direction = 'outbound'")}
    events, at = {}, {}   # call id -> [(kind, data)], {kind: when first}
    for r in db["call_events"].rows_where(order_by="id"):
        events.setdefault(r["call_id"], []).append((r["kind"], json.loads(r["data"]) if r["data"] else {}))
        at.setdefault(r["call_id"], {}).setdefault(r["kind"], r["at"])
    return calls, events, at


@pytest.mark.parametrize("agent", sorted(EXPECTED))
def test_every_kind_of_called_party_gives_its_outcome(ran, agent):
    calls, events, at = ran
    number, outcome, disposition = EXPECTED[agent]
    call = calls[agent]
    assert call["number"] == number
    heard = [d for kind, d in events[call["id"]] if kind == "call:outcome"]
    assert [d["outcome"] for d in heard] == [outcome], heard
    assert call["disposition"] == disposition


def test_a_machine_is_told_apart_while_its_greeting_plays_and_its_beep_is_heard(ran):
    calls, events, at = ran
    heard = [d for kind, d in events[calls["A2"]["id"]] if kind == "call:outcome"]
    # The greeting's words outnumber a person's hello (dsp/amd.py MAX_WORDS), well before it ends.
    assert heard[0]["cause"] == "max_words"
    call = calls["A2"]
    when = at[call["id"]]
    assert when["call:outcome"] - call["connected_at"] < 3.0
    # drivers/sim.py: twelve words (7.7 s), then a 0.5 s beep; the message may start as it ends.
    beeps = [d for kind, d in events[call["id"]] if kind == "call:machine_beep"]
    assert beeps == [{"heard": True}]
    assert 8.2 <= when["call:machine_beep"] - call["connected_at"] <= 8.3


def test_a_fax_machine_is_hung_up_on_as_it_answers(ran):
    calls, events, at = ran
    call = calls["A3"]
    # CED is reported after 0.55 s of it: the attempt ends well inside the tone's 2.6-4 s.
    assert call["ended_at"] - call["connected_at"] < 1.5
    assert call["hangup_by"] == "box"


def test_a_customer_who_hangs_up_with_only_a_busy_tone_is_taken_as_gone(ran):
    calls, events, at = ran
    call = calls["A8"]
    assert (call["disposition"], call["hangup_by"]) == ("answered", "caller")
    # They talked 6 s; three periods of China's busy tone (2.1 s) later the call is over.
    assert call["ended_at"] - call["connected_at"] < 6.0 + 3.5
    assert any(kind == "call:far_end_gone" for kind, _ in events[call["id"]])
