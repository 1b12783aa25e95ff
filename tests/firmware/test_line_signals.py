"""What the box hears on a line besides keys: caller ID bursts, call-progress tones, fax calling tone.

The simulated exchange sends each as audio (drivers/sim_signals.py) and the box's own detectors must
find it: caller ID per docs/standards.md §4 (Bell 202 between the first and second ring, V.23 and DTMF
before the first), busy and unobtainable tones per the tone plan (§3), CNG per T.30 (§5).
"""
import pytest

from firmware.core.engine import Engine
from scenario_builder import action, agent, caller, external, run_section, scenario


def one_caller(scheme, garbled_id=None):
    return scenario(
        run_section(60, callerid=scheme),
        agent("1001", queues=["sales"]),
        caller(0.5, "13800138000", name="ZHANG SAN", keys=[[1.0, "1"]], talk=5.0, garbled_id=garbled_id),
    )


def row(ran, i=0):
    return ran.db["calls"].get(ran.call(i)["call_id"])


@pytest.mark.parametrize("scheme", ["bell202", "v23", "dtmf", "event"])
def test_the_callers_number_reaches_the_call_record_whatever_the_scheme(run_inline, scheme):
    ran = run_inline(one_caller(scheme))
    call = row(ran)
    assert call["number"] == "13800138000" and call["disposition"] == "answered"
    # DTMF caller ID carries no name (docs/standards.md §4.4).
    assert call["name"] == (None if scheme == "dtmf" else "ZHANG SAN")


def test_bell202_caller_id_waits_for_the_second_ring(run_inline):
    # The burst comes after the first ring: the box lets that ring pass and answers on the second,
    # 5 s after the first (1 s on / 4 s off, docs/standards.md §3.1).
    ran = run_inline(one_caller("bell202"))
    call = ran.call()
    assert 5.0 <= call["answer"] - call["arrival"] < 5.5
    assert row(ran)["number"] == "13800138000"


def test_the_box_answers_only_once_a_burst_before_the_ring_has_been_read(run_inline):
    # V.23 before ringing: the first ring follows the burst by 200 ms (§4.2), sooner than the
    # receiver can close the burst; answering on that ring would lose the number.
    ran = run_inline(one_caller("v23"))
    events = [kind for kind, _ in ran.events(ran.call()["call_id"])]
    assert events.index("call:callerid") < events.index("call:answered")


def test_a_vip_is_known_from_the_decoded_number(run_inline):
    ran = run_inline(one_caller("bell202") + """
[[customers]]
number = "13800138000"
name = "Zhang San"
vip = true
""")
    assert ran.call()["priority"] > 0


def test_a_card_written_in_international_form_is_found_from_the_local_caller_id(run_inline):
    # The card holds +86 138 0013 8000 (as the web writes E.164); the line delivers 13800138000.
    ran = run_inline(one_caller("bell202") + """
[[customers]]
number = "+86 138 0013 8000"
name = "Zhang San"
vip = true
""")
    assert ran.call()["priority"] > 0
    assert row(ran)["customer_id"] == "cust-1"


def test_a_garbled_burst_gives_no_number_and_the_call_goes_on(run_inline):
    ran = run_inline(one_caller("bell202", garbled_id=True))
    call = row(ran)
    # Never a wrong number: none at all, and the caller is still served.
    assert call["number"] is None and call["disposition"] == "answered"


def test_a_garbled_burst_is_counted_on_its_line(tmp_path):
    from firmware.tools.scenario import ScenarioRun, load_scenario
    path = tmp_path / "s.toml"
    path.write_text(one_caller("bell202", garbled_id=True))
    run = ScenarioRun(load_scenario(path), tmp_path / "state")
    engine: Engine = run.engine
    engine.run(until=lambda: engine.clock.seconds >= 8.0)
    line = engine.status()["lines"][0]
    assert line["counters"]["unreadable_ids"] == 1 and line["last_caller_id"]["valid"] is False
    engine.close()


def test_a_fax_machine_is_hung_up_on_not_played_prompts(run_inline):
    ran = run_inline("""
[run]
seconds = 60
[[callers]]
at = 0.5
number = "075588889999"
fax = true
patience = 50.0
""")
    call, record = ran.call(), row(ran)
    assert record["disposition"] == "fax" and record["hangup_by"] == "box"
    # T.30 CNG is 0.5 s on, 3 s off: the first burst gives it away.
    assert call["end"] - call["answer"] < 3.0
    assert "call:fax" in [kind for kind, _ in ran.events(call["call_id"])]


def transfer_out(plan, to):
    return scenario(
        run_section(120, tones=plan),
        agent("1001", queues=["sales"]),
        caller(0.5, "13800138000", keys=[[1.0, "1"]], talk=60.0),
        external("4008001234", answer_after=2.0, talk=5.0),
        action(12.0, "transfer", agent="1001", to=to, blind=False),
    )


@pytest.mark.parametrize("plan", ["cn", "etsi", "na"])
@pytest.mark.parametrize("to, why", [("4008009999", "sit"), ("13800138000", "busy")])
def test_a_number_that_cannot_be_reached_is_heard_by_its_tone(run_inline, plan, to, why):
    # The caller's own number is busy (they are on the line with the box); 4008009999 is nobody's.
    ran = run_inline(transfer_out(plan, to))
    events = ran.events(ran.call()["call_id"])
    failed = [data for kind, data in events if kind == "call:transfer_failed"]
    assert failed and failed[0]["why"] == why
    # The caller stays with the agent.
    assert row(ran)["disposition"] == "answered"
