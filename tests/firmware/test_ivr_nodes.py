"""Every IVR node type on live simulated calls: hours, caller routing, collect (secure), lookup, say,
voicemail, callback keeping the caller's place, transfer out, and a survey after the agent."""
import json
import wave

import numpy as np

import scenario_builder as sb
from firmware.callcenter.center import CallCenter


def ivr_flow(holidays=()):
    return sb.flow(
        "hours",
        hours={"type": "hours", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00",
               "close": "23:59", "holidays": list(holidays), "next": "who", "closed": "closed"},
        closed={"type": "hangup", "prompts": ["closed"]},
        who={"type": "caller", "on_blocked": "bye", "on_vip": "vipq", "next": "menu"},
        menu={"type": "menu", "prompts": ["main-menu"],
              "choices": {"1": "sales", "2": "order", "3": "vm", "4": "xfer", "5": "card"}, "on_fail": "bye"},
        sales={"type": "queue", "queue": "sales", "keys": {"1": "vm", "2": "cb"}, "after": "survey"},
        vipq={"type": "queue", "queue": "service"},
        order={"type": "collect", "prompts": ["order-enter"], "var": "order", "min_digits": 4, "max_digits": 10,
               "next": "find", "on_fail": "bye"},
        find={"type": "lookup", "table": "orders", "key": "$order", "into": "o", "next": "status",
              "on_missing": "nf"},
        status={"type": "play", "prompts": ["order-status-is", "$o.status"], "next": "amt"},
        amt={"type": "say", "what": "amount", "value": "$o.amount", "prompts": ["amount-due"], "next": "bye"},
        nf={"type": "hangup", "prompts": ["order-not-found"]},
        card={"type": "collect", "prompts": ["enter-number"], "var": "card", "min_digits": 6, "max_digits": 6,
              "secure": True, "next": "bye", "on_fail": "bye"},
        vm={"type": "voicemail", "box": "sales", "silence": 3.0},
        cb={"type": "callback", "on_fail": "bye"},
        xfer={"type": "transfer", "number": "4008200000", "on_fail": "bye"},
        survey={"type": "survey", "name": "csat", "question": "overall", "prompts": ["survey-rate"],
                "next": "thanks"},
        thanks={"type": "hangup", "prompts": ["survey-thanks"]},
        bye={"type": "hangup", "prompts": ["goodbye"]},
    )


def head(seconds):
    return sb.scenario(
        sb.run_section(seconds),
        sb.queue("sales", wrapup=0.0), sb.queue("service"),
        sb.external("4008200000", answer_after=2.0, talk=20.0),
        sb.table("[[lookups]]", {"table": "orders", "key": "123456",
                                 "data": {"status": "order-shipped", "amount": 12.5}}),
    )


def caller(at, number, keys, patience=120.0, talk=30.0, **fields):
    return sb.caller(at, number, keys=keys, patience=patience, talk=talk, **fields)


def agent(id_, login_at=0.0, talk=30.0, skill="sales"):
    return sb.agent(id_, skills={skill: 5}, login_at=login_at, answer_after=1.0, talk=talk)


def test_closed_on_a_holiday(run_inline):
    import time

    from firmware.tools.scenario import SCENARIO_EPOCH
    day = time.strftime("%Y-%m-%d", time.localtime(SCENARIO_EPOCH))   # the scenario clock's day (seed 0)
    ran = run_inline(head(30) + caller(1.0, "13800000001", []),
                     flow=ivr_flow(holidays=[day, "2026-10-01"]))
    assert ran.call()["ivr_path"] == ["hours", "closed"]


def test_blocked_and_vip_callers_are_routed_by_caller_id(run_inline):
    text = head(60) + caller(1.0, "666", [[1.0, "1"]]) + caller(2.0, "888", [[1.0, "1"]])
    text += '[[customers]]\nnumber = "666"\nblocked = true\n[[customers]]\nnumber = "888"\nvip = 2\n'
    ran = run_inline(text, flow=ivr_flow())
    by = {c["number"]: c for c in ran.report["calls"]}
    assert by["666"]["ivr_path"] == ["hours", "who", "bye"]
    assert by["888"]["ivr_path"] == ["hours", "who", "vipq"]


def test_order_lookup_reads_the_status_and_amount_back(run_inline, mocker):
    played = mocker.spy(CallCenter, "play")
    text = head(60) + caller(1.0, "13800000001", [[1.0, "2"], [3.0, "123456#"]], patience=50.0)
    ran = run_inline(text, flow=ivr_flow())
    call = ran.call()
    assert call["ivr_path"] == ["hours", "who", "menu", "order", "find", "status", "amt", "bye"]
    words = [c.args[2] for c in played.call_args_list]
    assert ["order-status-is", "order-shipped"] in words
    assert ["amount-due", "n-12", "cur-yuan", "n-50", "cur-fen"] in words
    events = ran.events(call["call_id"])
    assert ("ivr:collect", {"node": "order", "var": "order", "digits": "123456"}) in events


def test_unknown_order_goes_to_on_missing(run_inline):
    text = head(60) + caller(1.0, "13800000001", [[1.0, "2"], [3.0, "9999#"]], patience=50.0)
    ran = run_inline(text, flow=ivr_flow())
    assert ran.call()["ivr_path"][-2:] == ["find", "nf"]


def test_secure_input_is_masked_in_every_record(run_inline):
    text = head(60) + caller(1.0, "13800000001", [[1.0, "5"], [3.0, "424242"]], patience=50.0)
    ran = run_inline(text, flow=ivr_flow())
    call = ran.call()
    assert call["digits_detected"] == "5******"
    everything = json.dumps(ran.events(call["call_id"]))
    assert "424242" not in everything and "4" not in call["digits_detected"]
    assert call["ivr_path"][-1] == "bye"


def test_voicemail_records_the_message_until_silence(run_inline):
    text = head(90) + caller(1.0, "13800000001", [[1.0, "3"]], patience=60.0,
                                            speak=[[9.0, 6.0]])
    ran = run_inline(text, flow=ivr_flow())
    call = ran.call()
    assert call["disposition"] == "voicemail" and call["hangup_by"] == "box"
    vm = list(ran.db["voicemails"].rows)
    assert len(vm) == 1 and vm[0]["call_id"] == call["call_id"] and vm[0]["box"] == "sales"
    assert vm[0]["number"] == "13800000001"
    # Recording starts after greeting and beep; the caller talks 6 s then is silent for 3 s.
    with wave.open(str(ran.state / "recordings" / vm[0]["path"])) as w:
        assert (w.getnchannels(), w.getframerate()) == (1, 8000)
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    assert abs(vm[0]["duration"] - w.getnframes() / 8000) < 0.01
    frames = audio[:audio.size // 160 * 160].reshape(-1, 160).astype(float)
    talking = np.sqrt((frames ** 2).mean(axis=1)) > 300      # 20 ms frames well above line noise
    assert 5.9 <= talking.sum() * 0.02 <= 6.1
    assert 3.0 <= (talking.size - np.flatnonzero(talking)[-1]) * 0.02 <= 3.2


def test_callback_keeps_the_callers_place_and_calls_back(run_inline):
    # A waits first, asks for a callback and hangs up; B waits on the line. The agent logs in later:
    # A's callback is served first, then B.
    text = (head(200) + agent("1001", login_at=60.0, talk=20.0)
            + caller(1.0, "13800000001", [[1.0, "1"], [8.0, "2"], [12.0, "1"]], patience=200.0, talk=15.0)
            + caller(5.0, "13900000002", [[1.0, "1"]], patience=200.0, talk=15.0))
    ran = run_inline(text, flow=ivr_flow())
    a, b = ran.report["calls"]
    assert a["disposition"] == "callback" and a["ivr_path"][-1] == "cb"
    requests = list(ran.db["callbacks"].rows)
    assert len(requests) == 1 and requests[0]["number"] == "13800000001" and requests[0]["state"] == "done"
    back = ran.db["calls"].get(requests[0]["callback_call_id"])
    assert back["direction"] == "callback" and back["agent_id"] == "1001" and back["disposition"] == "answered"
    b_row = ran.db["calls"].get(b["call_id"])
    assert back["connected_at"] < b_row["connected_at"]
    assert b["agent"] == "1001"


def test_transfer_out_to_the_expert_center(run_inline):
    text = head(60) + caller(1.0, "13800000001", [[1.0, "4"]], patience=100.0, talk=40.0)
    ran = run_inline(text, flow=ivr_flow())
    call = ran.call()
    assert call["ivr_path"][-1] == "xfer" and call["disposition"] == "transferred"
    assert call["hangup_by"] == "external"          # the expert center hung up after 20 s


def test_survey_after_the_agent_hangs_up(run_inline):
    text = (head(90) + agent("1001", talk=10.0)
            + caller(1.0, "13800000001", [[1.0, "1"], [19.0, "4"]], patience=100.0, talk=60.0))
    ran = run_inline(text, flow=ivr_flow())
    call = ran.call()
    assert call["ivr_path"][-2:] == ["survey", "thanks"] and call["disposition"] == "answered"
    answers = list(ran.db["survey_answers"].rows)
    assert [(a["survey"], a["question"], a["answer"]) for a in answers] == [("csat", "overall", "4")]
