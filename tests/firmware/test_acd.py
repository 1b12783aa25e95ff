"""Queues and agents on live simulated calls: who gets the call, ring-no-answer, limits, wrap-up."""

AGENTS_TWO = """
    [run]
    seconds = 200
    [[queues]]
    name = "sales"
    ring_timeout = 15.0
    wrapup = 10.0
    max_wait = 120.0
    [[queues]]
    name = "service"
    max_wait = 120.0
    [[agents]]
    id = "late"
    queues = ["sales"]
    login_at = 5.0
    answer_after = 1.0
    talk = 30.0
    [[agents]]
    id = "early"
    queues = ["sales"]
    login_at = 0.0
    answer_after = {early_answer}
    talk = 30.0
"""


def caller(at, keys='[[1.0, "1"]]', patience=100.0, talk=20.0, number="5550001"):
    return f"""
    [[callers]]
    at = {at}
    number = "{number}"
    keys = {keys}
    patience = {patience}
    talk = {talk}
    """


def test_longest_idle_agent_gets_the_call(run_inline):
    ran = run_inline(AGENTS_TWO.format(early_answer=1.0) + caller(10.0) + caller(12.0, number="5550002"))
    first, second = ran.call(0), ran.call(1)
    assert first["agent"] == "early"      # ready since 0 s, the other since 5 s
    assert second["agent"] == "late"


def test_ring_no_answer_moves_the_call_and_pauses_the_agent(run_inline):
    ran = run_inline(AGENTS_TWO.format(early_answer=40.0) + caller(10.0))
    call = ran.call()
    events = ran.events(call["call_id"])
    rings = [d["agent"] for k, d in events if k == "agent:ring"]
    assert rings == ["early", "late"]
    assert ("agent:noanswer", {"agent": "early", "ring_ms": 15000}) in events
    assert call["agent"] == "late" and call["disposition"] == "answered"
    states = [r["state"] for r in ran.db["agent_states"].rows_where("agent_id = 'early' AND reason IS NOT 'shutdown'", order_by="at")]
    assert states[-1] == "not_ready"
    reason = list(ran.db["agent_states"].rows_where("agent_id = 'early' and state = 'not_ready'",
                                                    order_by="at"))[-1]["reason"]
    assert reason == "no answer"
    # The wait counts from entering the queue to the second agent's pick-up, ring time included.
    assert 15.0 <= call["wait"] <= 17.5


def test_nobody_to_answer_times_out_at_max_wait(run_inline):
    scenario = AGENTS_TWO.format(early_answer=1.0) + caller(1.0, keys='[[1.0, "2"]]', patience=500.0)
    ran = run_inline(scenario)
    call = ran.call()
    assert call["queue"] == "service" and call["disposition"] == "timeout"
    assert call["hangup_by"] == "box" and abs(call["wait"] - 120.0) < 0.05


def test_wrapup_keeps_agent_from_the_next_call(run_inline):
    one_agent = AGENTS_TWO.format(early_answer=1.0).split("[[agents]]")[0] + """
    [[agents]]
    id = "solo"
    queues = ["sales"]
    answer_after = 1.0
    talk = 100.0
    """
    ran = run_inline(one_agent + caller(1.0, talk=10.0) + caller(3.0, number="5550002", talk=10.0))
    first, second = ran.call(0), ran.call(1)
    assert first["agent"] == second["agent"] == "solo"
    first_end = ran.db["calls"].get(first["call_id"])["ended_at"]
    second_connect = ran.db["calls"].get(second["call_id"])["connected_at"]
    # 10 s of wrap-up, then one second for the phone to be picked up.
    assert 10.9 <= second_connect - first_end <= 11.2


def test_oldest_caller_first_across_queues(run_inline):
    scenario = """
    [run]
    seconds = 150
    [[agents]]
    id = "both"
    queues = ["sales", "service"]
    login_at = 30.0
    answer_after = 1.0
    talk = 20.0
    """ + caller(1.0, keys='[[1.0, "2"]]', number="5550001") + caller(5.0, keys='[[1.0, "1"]]', number="5550002")
    ran = run_inline(scenario)
    a, b = ran.call(0), ran.call(1)
    ca = ran.db["calls"].get(a["call_id"])["connected_at"]
    cb = ran.db["calls"].get(b["call_id"])["connected_at"]
    assert a["queue"] == "service" and b["queue"] == "sales"
    assert ca < cb


def test_agent_hanging_up_first_is_recorded(run_inline):
    ran = run_inline(AGENTS_TWO.format(early_answer=1.0) + caller(1.0, talk=300.0, patience=400.0))
    call = ran.call()
    assert call["disposition"] == "answered" and call["hangup_by"] == "agent"
    assert abs(call["talk"] - 30.0) < 0.05
    assert call["caller"]["ended_by"] == "box"
