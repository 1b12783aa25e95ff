"""Agent and supervisor operations on live simulated calls, checked on the audio each party hears.

Every party speaks a steady tone, so who hears whom is measured, not assumed. The tones sit at least
35 Hz from every harmonic (up to the 15th) of the music-on-hold notes, so music is never taken for a
voice.
"""
import numpy as np
import pytest

from firmware.core.engine import Engine
from scenario_builder import action, agent, caller, external, queue, run_section, scenario, supervisor

CALLER_HZ, AGENT_HZ, AGENT2_HZ, SUP_HZ, EXPERT_HZ = 624, 930, 1271, 1876, 2509


def base(seconds, talk):
    return scenario(
        run_section(seconds, drain=60.0),
        queue("sales", wrapup=0.0), queue("service", wrapup=0.0),
        agent("A", skills={"sales": 5}, answer_after=1.0, talk=1000.0, voice_hz=AGENT_HZ),
        agent("B", skills={"service": 5}, answer_after=1.0, talk=1000.0, voice_hz=AGENT2_HZ),
        supervisor("S", answer_after=1.0, voice_hz=SUP_HZ),
        external("4008200000", answer_after=2.0, talk=1000.0, voice_hz=EXPERT_HZ),
        caller(1.0, "13800000001", keys=[[1.0, "1"]], patience=1000.0, talk=talk, voice_hz=CALLER_HZ),
    )


def actions(*rows):
    return "".join(action(**row) for row in rows)


@pytest.fixture
def run(run_inline, mocker):
    def go(seconds, talk=1000.0, acts=""):
        channels = []
        real_init = Engine.__init__

        def capture(self, board, *a, **k):
            channels.extend(board.channels)
            real_init(self, board, *a, **k)
        mocker.patch.object(Engine, "__init__", capture)
        ran = run_inline(base(seconds, talk) + acts)
        ran.engine_channels = channels
        errors = [a for a in ran.report["actions"] if "error" in a]
        assert not errors, errors
        return ran
    return go


HEARD, SILENT = -35.0, -60.0   # a -20 dBm0 voice comes through near -20; leakage must stay far below


def test_plain_call_caller_and_agent_hear_each_other_only(run, heard):
    ran = run(40, talk=20.0)
    assert heard(ran, "trunk1", AGENT_HZ, 8, 20) > HEARD
    assert heard(ran, "station1", CALLER_HZ, 8, 20) > HEARD
    assert heard(ran, "trunk1", CALLER_HZ, 8, 20) < SILENT      # no echo of the caller's own voice


def test_hold_plays_music_to_the_caller_and_silence_to_the_agent(run, heard):
    ran = run(60, acts=actions({"at": 10.0, "do": "hold", "agent": "A"}, {"at": 20.0, "do": "resume", "agent": "A"},
                               {"at": 30.0, "do": "hangup", "agent": "A"}))
    assert heard(ran, "trunk1", AGENT_HZ, 11, 19) < SILENT
    assert heard(ran, "station1", CALLER_HZ, 11, 19) < SILENT
    assert heard(ran, "trunk1", AGENT_HZ, 21, 29) > HEARD
    row = ran.db["calls"].get(ran.call()["call_id"])
    assert abs(row["hold"] - 10.0) < 0.1


def test_whisper_reaches_the_agent_only(run, heard):
    ran = run(60, acts=actions({"at": 10.0, "do": "whisper", "supervisor": "S", "agent": "A"},
                               {"at": 40.0, "do": "hangup", "agent": "A"}))
    # The supervisor picks up 1 s after being rung.
    assert heard(ran, "station1", SUP_HZ, 12, 38) > HEARD       # the agent hears the coach
    assert heard(ran, "trunk1", SUP_HZ, 12, 38) < SILENT        # the caller hears no trace of it
    assert heard(ran, "station3", CALLER_HZ, 12, 38) > HEARD    # the supervisor hears both sides
    assert heard(ran, "station3", AGENT_HZ, 12, 38) > HEARD


def test_monitor_is_silent_both_ways_and_barge_is_heard_by_all(run, heard):
    ran = run(80, acts=actions({"at": 10.0, "do": "monitor", "supervisor": "S", "agent": "A"},
                               {"at": 30.0, "do": "barge", "supervisor": "S", "agent": "A"},
                               {"at": 50.0, "do": "stop", "supervisor": "S"},
                               {"at": 60.0, "do": "hangup", "agent": "A"}))
    assert heard(ran, "station3", CALLER_HZ, 12, 29) > HEARD
    assert heard(ran, "trunk1", SUP_HZ, 12, 29) < SILENT
    assert heard(ran, "station1", SUP_HZ, 12, 29) < SILENT
    assert heard(ran, "trunk1", SUP_HZ, 31, 49) > HEARD
    assert heard(ran, "station1", SUP_HZ, 31, 49) > HEARD
    assert heard(ran, "trunk1", SUP_HZ, 51, 59) < SILENT
    assert heard(ran, "trunk1", AGENT_HZ, 51, 59) > HEARD


def test_intercept_hands_the_call_to_the_supervisor(run, heard):
    ran = run(60, acts=actions({"at": 10.0, "do": "monitor", "supervisor": "S", "agent": "A"},
                               {"at": 20.0, "do": "intercept", "supervisor": "S", "agent": "A"},
                               {"at": 40.0, "do": "stop", "supervisor": "S"}))
    assert heard(ran, "trunk1", SUP_HZ, 21, 39) > HEARD
    assert heard(ran, "trunk1", AGENT_HZ, 21, 39) < SILENT
    call = ran.call()
    row = ran.db["calls"].get(call["call_id"])
    assert row["intercepted_by"] == "S" and call["disposition"] == "answered"
    assert call["hangup_by"] == "supervisor"
    states = [r["state"] for r in ran.db["agent_states"].rows_where("agent_id = 'A' AND reason IS NOT 'shutdown'", order_by="rowid")]
    assert "wrapup" in states


def test_blind_transfer_to_another_agent(run, heard):
    ran = run(60, acts=actions({"at": 10.0, "do": "transfer", "agent": "A", "to": "agent:B"},
                               {"at": 40.0, "do": "hangup", "agent": "B"}))
    assert heard(ran, "trunk1", AGENT2_HZ, 12, 39) > HEARD
    assert heard(ran, "trunk1", AGENT_HZ, 12, 39) < SILENT
    call = ran.call()
    assert call["agent"] == "B" and call["disposition"] == "answered"
    assert ran.db["calls"].get(call["call_id"])["transfers"] == 1


def test_blind_transfer_to_a_queue(run):
    ran = run(60, acts=actions({"at": 10.0, "do": "transfer", "agent": "A", "to": "queue:service"},
                               {"at": 40.0, "do": "hangup", "agent": "B"}))
    call = ran.call()
    assert call["agent"] == "B" and call["queue"] == "service"
    kinds = [k for k, _ in ran.events(call["call_id"])]
    assert kinds.count("queue:enter") == 2 and kinds.count("queue:connect") == 2


def test_blind_transfer_to_an_external_number(run, heard):
    ran = run(60, acts=actions({"at": 10.0, "do": "transfer", "agent": "A", "to": "4008200000"}))
    assert heard(ran, "trunk1", EXPERT_HZ, 14, 50) > HEARD   # dialled on trunk2, answered after 2 s
    assert heard(ran, "trunk2", CALLER_HZ, 14, 50) > HEARD
    states = [r["state"] for r in ran.db["agent_states"].rows_where("agent_id = 'A' AND reason IS NOT 'shutdown'", order_by="rowid")]
    assert states[-1] == "ready"


def test_attended_transfer_consults_first_then_hands_over(run, heard):
    ran = run(80, acts=actions({"at": 10.0, "do": "transfer", "agent": "A", "to": "agent:B", "blind": False},
                               {"at": 30.0, "do": "transfer_complete", "agent": "A"},
                               {"at": 60.0, "do": "hangup", "agent": "B"}))
    assert heard(ran, "station1", AGENT2_HZ, 12, 29) > HEARD    # A and B talk
    assert heard(ran, "trunk1", AGENT2_HZ, 12, 29) < SILENT     # the caller is on hold meanwhile
    assert heard(ran, "trunk1", AGENT_HZ, 12, 29) < SILENT
    assert heard(ran, "trunk1", AGENT2_HZ, 31, 59) > HEARD      # then B has the caller
    assert ran.call()["agent"] == "B"


def test_attended_transfer_cancelled_returns_to_the_caller(run, heard):
    ran = run(80, acts=actions({"at": 10.0, "do": "transfer", "agent": "A", "to": "agent:B", "blind": False},
                               {"at": 30.0, "do": "transfer_cancel", "agent": "A"},
                               {"at": 60.0, "do": "hangup", "agent": "A"}))
    assert heard(ran, "trunk1", AGENT_HZ, 31, 59) > HEARD
    assert ran.call()["agent"] == "A"
    states = [r["state"] for r in ran.db["agent_states"].rows_where("agent_id = 'B' AND reason IS NOT 'shutdown'", order_by="rowid")]
    assert states[-1] == "ready"


def test_three_way_conference(run, heard):
    ran = run(60, acts=actions({"at": 10.0, "do": "conference", "agent": "A", "to": "4008200000"},
                               {"at": 40.0, "do": "hangup", "agent": "A"}))
    for listener, talker in [("trunk1", AGENT_HZ), ("trunk1", EXPERT_HZ), ("station1", CALLER_HZ),
                             ("station1", EXPERT_HZ), ("trunk2", CALLER_HZ), ("trunk2", AGENT_HZ)]:
        assert heard(ran, listener, talker, 14, 39) > HEARD, (listener, talker)


def test_outbound_call_and_wrapup_code(run, heard):
    ran = run(60, talk=5.0, acts=actions({"at": 20.0, "do": "dial", "agent": "A", "number": "4008200000"},
                                         {"at": 40.0, "do": "hangup", "agent": "A"},
                                         {"at": 41.0, "do": "wrapup", "agent": "A", "code": "sale"}))
    rows = list(ran.db["calls"].rows_where("direction = 'outbound'"))
    assert len(rows) == 1
    out = rows[0]
    assert out["number"] == "4008200000" and out["agent_id"] == "A" and out["disposition"] == "answered"
    assert out["wrapup_code"] == "sale" and out["connected_at"] is not None
    assert heard(ran, "station1", EXPERT_HZ, 25, 39) > HEARD


def test_pause_recording_leaves_silence_in_the_file(run):
    import wave
    ran = run(60, acts=actions({"at": 10.0, "do": "pause_recording", "agent": "A"},
                               {"at": 20.0, "do": "pause_recording", "agent": "A", "paused": False},
                               {"at": 30.0, "do": "hangup", "agent": "A"}))
    call = ran.call()
    with wave.open(str(ran.state / "recordings" / call["recording"])) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    row = ran.db["calls"].get(call["call_id"])
    connected = call["answer"] + row["connected_at"] - row["answered_at"]   # in run seconds
    a, b = int((10.5 - connected) * 8000), int((19.5 - connected) * 8000)
    assert not audio[a:b].any()                       # both sides silent while paused
    assert np.abs(audio[b + 8000:b + 16000]).max() > 1000   # voices back afterwards


def test_operations_refused_with_clear_errors(run_inline):
    ran = run_inline(base(30, 1000.0) + actions(
        {"at": 10.0, "do": "transfer_complete", "agent": "A"},
        {"at": 11.0, "do": "transfer", "agent": "A", "to": "agent:Z"},
        {"at": 12.0, "do": "resume", "agent": "A"},
        {"at": 13.0, "do": "hold", "agent": "B"},
        {"at": 14.0, "do": "intercept", "supervisor": "S", "agent": "A"},
        {"at": 15.0, "do": "monitor", "supervisor": "nobody", "agent": "A"},
        {"at": 16.0, "do": "dial", "agent": "A", "number": "12ab"},
        {"at": 17.0, "do": "wrapup", "agent": "A", "code": "bad code!"},
        # A well-formed word that is not one of the site's codes (the stock list here) is refused too.
        {"at": 18.0, "do": "wrapup", "agent": "A", "code": "sale-made"}))
    errors = [a["error"] for a in ran.report["actions"]]
    assert errors == ["agent A has no answered consultation to hand the call to", "unknown agent 'Z'",
                      "agent A: the call is not on hold", "agent B is not on a call",
                      "supervisor S must be listening to agent A's call first", "unknown supervisor 'nobody'",
                      "agent A cannot dial now (talking)", "wrap-up code must be 1-40 letters, digits, - or _",
                      ("wrap-up code sale-made is not one of this call's: resolved, information, sale, complaint, "
                       "follow-up, callback, wrong-number")]
    assert ran.call()["agent"] == "A"


def test_an_action_naming_a_call_the_agent_is_not_on_changes_nothing(run_inline):
    # A console still showing an ended call sends that call's id: the loop refuses, the live call goes on.
    ran = run_inline(base(40, 1000.0) + actions(
        {"at": 10.0, "do": "hold", "agent": "A", "call": "ended-call"},
        {"at": 11.0, "do": "transfer", "agent": "A", "to": "queue:service", "call": "ended-call"},
        {"at": 12.0, "do": "hangup", "agent": "B", "call": "ended-call"},
        {"at": 13.0, "do": "wrapup", "agent": "B", "code": "sale", "call": "ended-call"}))
    errors = [a["error"] for a in ran.report["actions"]]
    assert errors == ["agent A: call ended-call is not the agent's call now (on call " + ran.call()["call_id"] + ")",
                      "agent A: call ended-call is not the agent's call now (on call " + ran.call()["call_id"] + ")",
                      "agent B: call ended-call is not the agent's call now (on no call)",
                      "agent B: call ended-call is not the agent's call now (on no call)"]
    call = ran.call()
    assert call["agent"] == "A"
    row = ran.db["calls"].get(call["call_id"])
    assert not row["hold"] and not row["transfers"] and row["wrapup_code"] is None


def test_a_call_of_a_queue_with_its_own_codes_takes_only_those(run_inline):
    ran = run_inline(base(40, 1000.0).replace('name = "sales"\n', 'name = "sales"\nwrapup_codes = ["sold", "quoted"]\n')
                     + actions({"at": 10.0, "do": "wrapup", "agent": "A", "code": "resolved"},
                               {"at": 11.0, "do": "wrapup", "agent": "A", "code": "quoted"}))
    errors = [a.get("error") for a in ran.report["actions"]]
    assert errors == ["wrap-up code resolved is not one of this call's: sold, quoted", None]
    assert ran.db["calls"].get(ran.call()["call_id"])["wrapup_code"] == "quoted"
