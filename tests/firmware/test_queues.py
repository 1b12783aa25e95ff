"""Skills, strategies, VIP priority, dedicated agents, escalation, limits, exits and announcements."""
import json

import pytest

from scenario_builder import flow


def agent(id_, skills, login_at=0.0, answer_after=1.0, talk=30.0):
    body = ", ".join(f"{k} = {v}" for k, v in skills.items())
    return f"""
    [[agents]]
    id = "{id_}"
    skills = {{ {body} }}
    login_at = {login_at}
    answer_after = {answer_after}
    talk = {talk}
    """


def caller(at, key="1", number="5550001", patience=300.0, talk=20.0, more_keys=""):
    return f"""
    [[callers]]
    at = {at}
    number = "{number}"
    keys = [[1.0, "{key}"]{more_keys}]
    patience = {patience}
    talk = {talk}
    """


def queue(name="sales", **opts):
    body = "\n".join(f"    {k} = {json.dumps(v) if not isinstance(v, str) else repr(v).replace(chr(39), chr(34))}"
                     for k, v in opts.items())
    return f"""
    [[queues]]
    name = "{name}"
{body}
    """


HEAD = "[run]\nseconds = {seconds}\n"


def scenario(*parts, seconds=300):
    return HEAD.format(seconds=seconds) + "".join(parts)


@pytest.mark.parametrize("strategy, expected", [
    ("longest_idle", "a"),     # idle since 0 s, the others since 5 and 10 s
    ("skill_first", "c"),      # level 9 beats 5 and 3
    ("round_robin", "a"),      # roster order on the first call
    ("fewest_calls", "a"),
    ("least_talk", "a"),
])
def test_strategy_picks_the_expected_agent(run_inline, strategy, expected):
    ran = run_inline(scenario(queue("sales", strategy=strategy), queue("service"),
                              agent("a", {"sales": 5}, login_at=0.0), agent("b", {"sales": 3}, login_at=5.0),
                              agent("c", {"sales": 9}, login_at=10.0), caller(20.0)))
    assert ran.call()["agent"] == expected


def test_round_robin_moves_on(run_inline):
    ran = run_inline(scenario(queue("sales", strategy="round_robin", wrapup=0.0), queue("service"),
                              agent("a", {"sales": 5}), agent("b", {"sales": 5}), agent("c", {"sales": 5}),
                              caller(5.0, talk=5.0), caller(30.0, talk=5.0, number="2"),
                              caller(60.0, talk=5.0, number="3"), caller(90.0, talk=5.0, number="4")))
    assert [ran.call(i)["agent"] for i in range(4)] == ["a", "b", "c", "a"]


@pytest.mark.parametrize("strategy, last", [("fewest_calls", "b"), ("least_talk", "b")])
def test_fewest_calls_and_least_talk_balance_the_load(run_inline, strategy, last):
    # "a" alone takes two calls; "b" logs in and takes the third. For the fourth, "b" has fewer
    # calls and less talk time.
    ran = run_inline(scenario(queue("sales", strategy=strategy, wrapup=0.0), queue("service"),
                              agent("a", {"sales": 5}), agent("b", {"sales": 5}, login_at=25.0),
                              caller(5.0, talk=5.0), caller(15.0, talk=5.0, number="2"),
                              caller(40.0, talk=5.0, number="3"), caller(60.0, talk=5.0, number="4")))
    assert [ran.call(i)["agent"] for i in range(4)] == ["a", "a", "b", last]


def test_ring_all_rings_every_ready_agent_and_the_first_pick_up_wins(run_inline):
    ran = run_inline(scenario(queue("sales", strategy="ring_all"), queue("service"),
                              agent("slow", {"sales": 5}, answer_after=6.0), agent("fast", {"sales": 5}, answer_after=2.0),
                              caller(5.0)))
    call = ran.call()
    rings = [d["agent"] for k, d in ran.events(call["call_id"]) if k == "agent:ring"]
    assert sorted(rings) == ["fast", "slow"] and call["agent"] == "fast"
    states = [r["state"] for r in ran.db["agent_states"].rows_where("agent_id = 'slow' AND reason IS NOT 'shutdown'", order_by="rowid")]
    assert states[-2:] == ["ringing", "ready"]   # released, not paused


def test_skill_level_below_the_queue_minimum_never_gets_the_call(run_inline):
    ran = run_inline(scenario(queue("sales", min_level=5, max_wait=60.0), queue("service"),
                              agent("junior", {"sales": 3}), caller(5.0, patience=200.0)))
    call = ran.call()
    assert call["agent"] is None and call["disposition"] == "timeout"


def test_escalation_widens_to_lower_levels_after_the_wait(run_inline):
    ran = run_inline(scenario(queue("sales", min_level=7, escalate=[[30.0, 3]]), queue("service"),
                              agent("junior", {"sales": 3}), caller(5.0)))
    call = ran.call()
    assert call["agent"] == "junior"
    # Offered once the 30 s step passed, picked up 1 s later.
    assert 30.0 <= call["wait"] <= 31.5


def test_escalation_keeps_the_callers_place(run_inline):
    # The first caller waits for the expert, then widens; the second arrives later and must not pass.
    ran = run_inline(scenario(queue("sales", min_level=7, escalate=[[20.0, 3]], wrapup=0.0), queue("service"),
                              agent("junior", {"sales": 3}, talk=5.0), caller(5.0, talk=100.0),
                              caller(15.0, number="2", talk=100.0)))
    first, second = ran.call(0), ran.call(1)
    c1 = ran.db["calls"].get(first["call_id"])["connected_at"]
    c2 = ran.db["calls"].get(second["call_id"])["connected_at"]
    assert c1 < c2


def test_vip_caller_jumps_the_queue(run_inline):
    text = scenario(queue("sales"), queue("service"), agent("a", {"sales": 5}, login_at=60.0),
                    caller(5.0, number="100"), caller(10.0, number="200"), caller(15.0, number="888"))
    text += '\n[[customers]]\nnumber = "888"\nname = "Big Client"\nvip = true\n'
    ran = run_inline(text)
    by_number = {c["number"]: c for c in ran.report["calls"]}
    connected = {n: ran.db["calls"].get(c["call_id"])["connected_at"] for n, c in by_number.items()}
    assert connected["888"] < connected["100"] < connected["200"]
    row = ran.db["calls"].get(by_number["888"]["call_id"])
    assert row["priority"] == 1 and row["name"] == "Big Client" and row["customer_id"]


def test_dedicated_agent_is_tried_first_then_anyone(run_inline):
    text = scenario(queue("sales", dedicated_wait=20.0), queue("service"),
                    agent("own", {"sales": 5}, login_at=0.0, talk=100.0),
                    agent("other", {"sales": 5}, login_at=0.0),
                    caller(2.0, number="111", talk=60.0), caller(10.0, number="888"))
    text += '\n[[customers]]\nnumber = "888"\nvip = 2\nagent = "own"\n'
    ran = run_inline(text)
    vip = next(c for c in ran.report["calls"] if c["number"] == "888")
    # "own" is busy with the first caller: the VIP waits the 20 s grace, then "other" takes them.
    assert vip["agent"] == "other" and 20.0 <= vip["wait"] <= 21.5
    ran2 = run_inline(scenario(queue("sales"), queue("service"), agent("other", {"sales": 5}, login_at=0.0),
                               agent("own", {"sales": 5}, login_at=5.0), caller(10.0, number="888"))
                      + '\n[[customers]]\nnumber = "888"\nagent = "own"\n')
    assert ran2.call()["agent"] == "own"      # both ready: the dedicated one, not the longest idle


GOODBYE = {"type": "hangup", "prompts": ["goodbye"]}
FLOW = flow(
    "q",
    q={"type": "queue", "queue": "sales", "on_full": "full", "on_timeout": "late", "keys": {"9": "bye"}},
    full=GOODBYE, late=GOODBYE, bye=GOODBYE,
)


def test_queue_full_goes_to_the_flows_overflow_node(run_inline):
    ran = run_inline(scenario(queue("sales", max_waiting=2), queue("service"),
                              caller(1.0, number="1"), caller(2.0, number="2"), caller(3.0, number="3")), flow=FLOW)
    third = ran.report["calls"][2]
    assert third["ivr_path"] == ["q", "full"] and third["queue"] is None
    assert third["disposition"] == "completed"
    assert any(k == "queue:full" for k, _ in ran.events(third["call_id"]))


def test_max_wait_goes_to_the_flows_timeout_node(run_inline):
    ran = run_inline(scenario(queue("sales", max_wait=30.0), queue("service"), caller(1.0)), flow=FLOW)
    call = ran.call()
    assert call["ivr_path"] == ["q", "late"] and call["queue"] == "sales"
    assert call["disposition"] == "completed"


def test_exit_key_leaves_the_queue(run_inline):
    ran = run_inline(scenario(queue("sales"), queue("service"), caller(1.0, more_keys=', [10.0, "9"]')), flow=FLOW)
    call = ran.call()
    assert call["ivr_path"] == ["q", "bye"]
    assert any(k == "queue:exitkey" and d["digit"] == "9" for k, d in ran.events(call["call_id"]))


def test_full_queue_without_overflow_node_is_an_overflow(run_inline):
    ran = run_inline(scenario(queue("sales", max_waiting=1), queue("service"),
                              caller(1.0, number="1"), caller(2.0, number="2")))
    assert ran.report["calls"][1]["disposition"] == "overflow"
