"""The whole box on the simulated board for a busy stretch of a working day: every digit heard and
routed, every call closed exactly once, VIPs served first, every conversation recorded.

`make test` runs the first hour (about 250 calls); `make test-slow` runs the whole day (about 2,000).
"""
import json
import shutil
import wave
from pathlib import Path

import pytest

from firmware.tools.scenario import run_scenario
from firmware.store import open_readonly

SCENARIOS = Path(__file__).parent.parent / "scenarios"
ROUTE = {"1": "sales", "2": "service"}   # tests/scenarios/day_flow.toml
FINAL = {"answered", "abandoned", "ivr_hangup", "completed", "timeout", "overflow", "voicemail", "callback",
         "transferred", "unanswered", "busy"}


def run_day(tmp_path_factory, seconds):
    work = tmp_path_factory.mktemp("day")
    text = (SCENARIOS / "day_2000.toml").read_text().replace("seconds = 28800", f"seconds = {seconds}")
    (work / "day.toml").write_text(text)
    shutil.copy(SCENARIOS / "day_flow.toml", work / "day_flow.toml")
    return run_scenario(work / "day.toml", state_dir=work / "state", fast=True), work / "state"


@pytest.fixture(scope="module", params=[
    pytest.param(3600, id="hour"),
    pytest.param(28800, id="day", marks=pytest.mark.slow),
])
def day(request, tmp_path_factory):
    return run_day(tmp_path_factory, request.param), request.param


def test_every_arrival_has_exactly_one_final_disposition(day):
    (report, state), seconds = day
    calls = report["calls"]
    assert len(calls) >= 200 if seconds == 3600 else len(calls) >= 1800
    db = open_readonly(state / "branchline.db")
    rows = {r["id"]: r for r in db["calls"].rows_where("direction = 'inbound'")}
    assert len(rows) == sum(1 for c in calls if c["call_id"])
    assert all(r["disposition"] in FINAL and r["ended_at"] for r in rows.values())
    hangups = dict(db.execute("SELECT call_id, count(*) FROM call_events WHERE kind = 'call:hangup' "
                              "GROUP BY call_id").fetchall())
    assert [cid for cid in rows if hangups.get(cid) != 1] == []
    # A caller who found all 30 lines busy never reached the box: the report says busy, nothing else.
    blocked = [c for c in calls if not c["call_id"]]
    assert all(c["disposition"] == "busy" and c["caller"]["ended_by"] == "busy" for c in blocked)
    assert len(blocked) <= 0.05 * len(calls)


def test_every_pressed_menu_digit_detected_and_routed(day):
    (report, _), _ = day
    for c in report["calls"]:
        assert c["digits_detected"] == c["digits_pressed"], c
        if c["digits_pressed"]:
            assert c["ivr_path"][:3] == ["welcome", "menu", ROUTE[c["digits_pressed"][0]]], c


def test_answered_calls_have_complete_cdr_and_recording(day):
    (report, state), _ = day
    db = open_readonly(state / "branchline.db")
    answered = [c for c in report["calls"] if c["disposition"] == "answered"]
    assert len(answered) >= 150
    for c in answered:
        row = db["calls"].get(c["call_id"])
        for key in ("number", "arrived_at", "answered_at", "queue", "queued_at", "agent_id", "connected_at",
                    "ended_at", "wait", "talk", "path", "digits", "hangup_by"):
            assert row[key] is not None, (key, row)
        assert row["arrived_at"] <= row["answered_at"] <= row["queued_at"] <= row["connected_at"] <= row["ended_at"]
        with wave.open(str(state / "recordings" / c["recording"])) as w:
            assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
            assert abs(w.getnframes() / 8000 - row["talk"]) <= 0.04


def test_abandoned_callers_recorded_as_abandoned(day):
    (report, state), _ = day
    db = open_readonly(state / "branchline.db")
    left = {r["call_id"] for r in db.query("SELECT DISTINCT call_id FROM call_events WHERE kind IN "
                                           "('queue:exitkey', 'queue:timeout', 'queue:full')")}
    # Hung up while still waiting in the queue (not after leaving it for voicemail or a callback).
    gave_up = [c for c in report["calls"] if c["caller"]["ended_by"] == "caller" and not c["caller"]["connected"]
               and c["queue"] and c["call_id"] not in left]
    assert len(gave_up) >= 10
    wrong = [c for c in gave_up if c["disposition"] != "abandoned" or c["agent"] is not None]
    assert wrong == []


def test_vip_callers_wait_less(day):
    (report, _), _ = day
    waits = {True: [], False: []}
    for c in report["calls"]:
        if c["disposition"] == "answered":
            waits[c["priority"] > 0].append(c["wait"])
    assert len(waits[True]) >= 5
    assert sum(waits[True]) / len(waits[True]) < sum(waits[False]) / len(waits[False])


def test_overflow_voicemail_and_callbacks_happen_and_close(day):
    (report, state), _ = day
    dispositions = report["totals"]["dispositions"]
    assert dispositions.get("voicemail", 0) >= 1 and dispositions.get("callback", 0) >= 1
    db = open_readonly(state / "branchline.db")
    for cb in db["callbacks"].rows:
        assert cb["state"] in ("done", "failed", "pending", "retry")
        if cb["state"] == "done":
            back = db["calls"].get(cb["callback_call_id"])
            assert back["direction"] == "callback" and back["connected_at"] is not None
    for vm in db["voicemails"].rows:
        assert (state / "recordings" / vm["path"]).exists() and vm["duration"] >= 1.0


def test_report_totals_match_calls(day):
    (report, _), seconds = day
    tot = report["totals"]
    assert tot["calls"] == len(report["calls"]) == sum(tot["dispositions"].values())
    assert sum(a["calls"] for a in report["agents"].values()) == tot["answered"]
    assert report["ticks"]["count"] >= seconds / 0.02
    q = report["queues"]
    assert sum(v["answered"] for v in q.values()) >= tot["answered"]
    json.dumps(report)
