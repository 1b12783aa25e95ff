"""The whole box on the simulated board for a busy half hour: every digit heard, every call recorded."""
import json
import wave
from pathlib import Path

import pytest

from firmware.scenario import run_scenario
from firmware.store import open_readonly

SCENARIO = Path(__file__).parent.parent / "scenarios" / "day_200.toml"
ROUTE = {"1": "sales", "2": "service"}   # board/defaults/flows/main.toml


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    state = tmp_path_factory.mktemp("day")
    return run_scenario(SCENARIO, state_dir=state, fast=True), state


def test_at_least_200_calls_each_with_one_final_disposition(day):
    report, state = day
    calls = report["calls"]
    assert len(calls) >= 200
    db = open_readonly(state / "branchline.db")
    rows = list(db["calls"].rows)
    # Every arrival the box saw has exactly one record, closed with a disposition.
    assert len(rows) == len({r["id"] for r in rows}) == sum(1 for c in calls if c["call_id"])
    assert all(r["disposition"] and r["ended_at"] for r in rows)
    hangups = db.execute("SELECT call_id, count(*) FROM call_events WHERE kind = 'call:hangup' "
                         "GROUP BY call_id").fetchall()
    assert len(hangups) == len(rows) and all(n == 1 for _, n in hangups)


def test_every_pressed_digit_detected_and_routed(day):
    report, _ = day
    pressed = [c for c in report["calls"] if c["digits_pressed"]]
    assert len(pressed) >= 150
    for c in pressed:
        assert c["digits_detected"] == c["digits_pressed"], c
        assert c["queue"] == ROUTE[c["digits_pressed"][0]], c
        assert c["ivr_path"][-1] == c["queue"], c
    assert report["totals"]["digits_detected"] == report["totals"]["digits_pressed"]


def test_answered_calls_have_complete_cdr_and_recording(day):
    report, state = day
    db = open_readonly(state / "branchline.db")
    answered = [c for c in report["calls"] if c["disposition"] == "answered"]
    assert len(answered) >= 50
    for c in answered:
        assert c["caller"]["connected"], c
        row = db["calls"].get(c["call_id"])
        for key in ("number", "arrived_at", "answered_at", "queue", "queued_at", "agent_id", "connected_at",
                    "ended_at", "wait", "talk", "path", "digits", "hangup_by"):
            assert row[key] is not None, (key, row)
        assert row["arrived_at"] <= row["answered_at"] <= row["queued_at"] <= row["connected_at"] <= row["ended_at"]
        assert abs(row["wait"] - (row["connected_at"] - row["queued_at"])) < 0.05
        assert abs(row["talk"] - (row["ended_at"] - row["connected_at"])) < 0.05
        events = [e["kind"] for e in db["call_events"].rows_where("call_id = ?", [c["call_id"]], order_by="at")]
        for kind in ("call:answered", "ivr:node", "ivr:digit", "queue:enter", "agent:ring", "queue:connect",
                     "call:hangup"):
            assert kind in events, (kind, events)
        # The recording is a playable stereo WAV as long as the conversation (one tick of slack).
        with wave.open(str(state / "recordings" / c["recording"])) as w:
            assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
            assert abs(w.getnframes() / 8000 - row["talk"]) <= 0.04
        rec = db["recordings"].rows_where("call_id = ?", [c["call_id"]])
        assert len(list(rec)) == 1


def test_abandoned_callers_recorded_as_abandoned(day):
    report, _ = day
    gave_up = [c for c in report["calls"]
               if c["caller"]["ended_by"] == "caller" and not c["caller"]["connected"] and c["queue"]]
    assert len(gave_up) >= 10
    for c in gave_up:
        assert c["disposition"] == "abandoned", c
        assert c["agent"] is None
    abandoned = [c for c in report["calls"] if c["disposition"] == "abandoned"]
    assert len(abandoned) == len(gave_up)


def test_report_totals_match_calls(day):
    report, _ = day
    calls = report["calls"]
    tot = report["totals"]
    assert tot["calls"] == len(calls)
    assert sum(tot["dispositions"].values()) == len(calls)
    assert sum(a["calls"] for a in report["agents"].values()) == tot["answered"]
    assert report["ticks"]["count"] >= 1800 / 0.02
    json.dumps(report)
