"""Disconnect supervision: a caller or customer whose exchange signals their hang-up only with its busy
or congestion tone (or with nothing) is taken as gone, and the line and the agent are free again."""
import pytest
from firmware.config.tone_plans import load_plan
from scenario_builder import agent, queue, run_section, scenario
from scenario_builder import caller as called

QUEUES = queue("sales", wrapup=2.0) + queue("service")
AGENT = agent("A", skills={"sales": 5}, answer_after=1.0, talk=1000.0)


def caller(at, number, talk, clear="signal", **fields):
    """A caller who presses 1 for sales, talks `talk` s with the agent and hangs up as `clear` says."""
    return called(at, number, keys=[[6.0, "1"]], patience=120.0, talk=talk, clear=clear, **fields)


@pytest.mark.parametrize("plan, tone", [("cn", "busy"), ("cn", "congestion"), ("na", "busy"), ("etsi", "busy")])
def test_a_caller_who_hangs_up_with_a_busy_tone_frees_the_line_and_the_agent(run_inline, plan, tone):
    # One trunk, one agent: the second caller is served only if the first caller's hang-up, heard as
    # the exchange's tone alone, gave back both.
    ran = run_inline(scenario(run_section(120, trunks=1, seed=1, tones=plan), QUEUES, AGENT,
                              caller(1.0, "13800000001", 15.0, clear=tone), caller(40.0, "13800000002", 10.0)))
    first, second = ran.call(0), ran.call(1)
    row = ran.db["calls"].get(first["call_id"])
    assert (row["disposition"], row["hangup_by"]) == ("answered", "caller")
    gone = [d for kind, d in ran.events(first["call_id"]) if kind == "call:far_end_gone"]
    assert gone and gone[0]["why"] == f"{tone} tone"
    # Three whole periods of the tone (China: busy 0.7 s, congestion 1.4 s; docs/standards.md §3) and
    # a segment to confirm the last, not more: the line is not held for long after the caller left.
    spec = next(t for t in load_plan(plan).tones if t.name == tone)
    period = sum(seconds for _, seconds in spec.segments)
    assert first["caller"]["ended_by"] == "caller"
    assert 3 * period <= first["end"] - first["hung_up"] <= 4 * period
    assert second["caller"]["ended_by"] != "busy", "the second caller found the only line still held"
    row2 = ran.db["calls"].get(second["call_id"])
    assert (row2["agent_id"], row2["disposition"]) == ("A", "answered")


def talker(at, number, talk, clear="signal"):
    """A caller whose voice (a steady 300 Hz) is on the line while they talk to the agent."""
    return caller(at, number, talk, clear, voice_hz=300.0)


def test_silence_ends_a_call_only_when_configured_and_only_where_the_caller_is_expected_to_speak(run_inline):
    # Caller 1 talks for 20 s, then their exchange leaves the line silent: 30 s later the call ends.
    # Caller 2 talks for 100 s without a pause: never cut. Caller 3 waits silently in the queue for
    # 60 s (the agent is busy): a waiting caller is not cut either.
    agents = AGENT + agent("B", skills={"sales": 5}, answer_after=1.0, talk=1000.0)
    ran = run_inline(scenario(run_section(240, trunks=3, seed=1, hangup_silence_s=30.0), QUEUES, agents,
                              talker(1.0, "13800000001", 20.0, clear="silence"), talker(2.0, "13800000002", 100.0),
                              talker(12.0, "13800000003", 5.0)))
    first, second, third = (ran.call(i) for i in range(3))
    assert (first["disposition"], first["hangup_by"]) == ("answered", "caller")
    gone = [d for kind, d in ran.events(first["call_id"]) if kind == "call:far_end_gone"]
    assert gone and gone[0]["why"] == "silence"
    assert 30.0 <= first["end"] - first["hung_up"] <= 31.0
    assert (second["disposition"], second["hangup_by"], second["caller"]["ended_by"]) == ("answered", "caller", "caller")
    assert not [k for k, _ in ran.events(second["call_id"]) if k == "call:far_end_gone"]
    assert third["wait"] > 30.0 and third["disposition"] == "answered" and third["caller"]["ended_by"] == "caller"


def test_without_silence_supervision_a_silent_line_is_held(run_inline):
    ran = run_inline(scenario(run_section(120, drain=10, trunks=1, seed=1), QUEUES, AGENT,
                              talker(1.0, "13800000001", 10.0, clear="silence")))
    assert ran.call(0)["hangup_by"] != "caller"


def test_a_site_that_turns_tone_supervision_off_keeps_the_call(run_inline):
    # [box] hangup_tone_cycles = 0: a PBX that plays busy tone to a held call must not cut it.
    ran = run_inline(scenario(run_section(60, drain=10, trunks=1, seed=1, hangup_tone_cycles=0), QUEUES, AGENT,
                              caller(1.0, "13800000001", 10.0, clear="busy")))
    call = ran.call(0)
    assert call["hangup_by"] != "caller"
    assert not [k for k, _ in ran.events(call["call_id"]) if k == "call:far_end_gone"]
