"""Trunk groups and the post-call survey on the simulated board through the scenario runner
(docs/architecture.md §24): real lines, tones, DTMF and records."""
import textwrap

import scenario_builder as sb

SURVEY = """
[flow]
start = "rate"
[nodes.rate]
type = "survey"
name = "csat"
question = "satisfaction"
prompts = ["survey-rate"]
timeout = 8.0
next = "thanks"
[nodes.thanks]
type = "hangup"
prompts = ["survey-thanks"]
"""
SALES = sb.flow("sales", sales={"type": "queue", "queue": "sales"})


def test_a_caller_over_the_groups_cap_hears_its_message_and_frees_the_trunk(run_inline):
    text = sb.scenario(
        sb.run_section(60, trunks=3), sb.queue("sales"),
        sb.table("[[trunk_groups]]", {"name": "rental", "queues": ["sales"], "cap": 1, "overflow": "hangup",
                                      "overflow_prompts": ["goodbye"]}),
        sb.caller(1.0, "13800000001", patience=50.0), sb.caller(5.0, "13800000002", patience=50.0))
    ran = run_inline(text, flow=SALES)
    by = {c["number"]: c for c in ran.report["calls"]}
    assert by["13800000001"]["disposition"] == "abandoned"          # waited in the queue, nobody there
    over = by["13800000002"]
    assert over["disposition"] == "overflow" and over["hangup_by"] == "box"
    kinds = [k for k, _ in ran.events(over["call_id"])]
    assert kinds.index("call:answered") < kinds.index("trunks:over_cap")
    # Answered, told and hung up within seconds: the trunk is free long before the first caller gives up.
    row = ran.db["calls"].get(over["call_id"])
    assert row["ended_at"] - row["answered_at"] < 5.0


def agent(talk: float):
    return sb.agent("1001", skills={"sales": 5}, login_at=0.0, answer_after=1.0, talk=talk)


def test_the_caller_stays_on_for_the_survey_after_the_agent_hangs_up(run_inline, tmp_path):
    (tmp_path / "csat.toml").write_text(textwrap.dedent(SURVEY))
    text = sb.scenario(sb.run_section(90), sb.queue("sales", wrapup=0.0, survey="csat", survey_after=True),
                       agent(talk=10.0), sb.caller(1.0, "13800000001", keys=[[16.0, "4"]], patience=100.0, talk=60.0))
    ran = run_inline(text, flow=SALES)
    call = ran.call()
    assert call["disposition"] == "answered" and call["agent"] == "1001"
    answers = [(a["call_id"], a["survey"], a["answer"]) for a in ran.db["survey_answers"].rows]
    assert answers == [(call["call_id"], "csat", "4")]


def test_the_agent_transfers_the_caller_to_the_survey(run_inline, tmp_path):
    (tmp_path / "csat.toml").write_text(textwrap.dedent(SURVEY))
    text = sb.scenario(sb.run_section(90), sb.queue("sales", wrapup=0.0, survey="csat"), agent(talk=60.0),
                       sb.caller(1.0, "13800000001", keys=[[14.0, "5"]], patience=100.0, talk=60.0),
                       sb.action(10.0, "transfer", agent="1001", to="survey:csat"))
    ran = run_inline(text, flow=SALES)
    call = ran.call()
    assert ran.report["actions"][0].get("error") is None
    assert call["disposition"] == "answered"
    answers = [(a["call_id"], a["survey"], a["answer"]) for a in ran.db["survey_answers"].rows]
    assert answers == [(call["call_id"], "csat", "5")]
