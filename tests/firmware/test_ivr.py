"""IVR flows: validation names every bad node; menus, barge-in, retries and timeouts on live calls."""
import textwrap

import pytest

from firmware.callcenter.flows import FlowError, load_flow
from scenario_builder import agent, caller, run_section, scenario

PROMPTS = {"welcome", "main-menu", "invalid", "no-input", "goodbye", "music-on-hold"}
QUEUES = {"sales", "service"}


def flow_file(tmp_path, text):
    p = tmp_path / "f.toml"
    p.write_text(textwrap.dedent(text))
    return p


def test_stock_flow_is_valid():
    from firmware.config.site import DEFAULTS_DIR
    flow = load_flow(DEFAULTS_DIR / "flows" / "main.toml", PROMPTS, QUEUES)
    assert flow.start == "welcome"
    assert dict(flow.nodes["main_menu"].choices) == {"1": "sales", "2": "service"}


@pytest.mark.parametrize("text, node, reason", [
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "dance"\n""", "a", "'dance' is not one of"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "play"\nprompts = ["welcome"]\n""", "a", "next: required key is missing"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "play"\nprompts = ["nope"]\nnext = "b"\n[nodes.b]\ntype = "hangup"\n""",
     "a", "no prompt named 'nope'"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "goto"\nnext = "zz"\n""", "a", "goes to 'zz', which is not a node"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "queue"\nqueue = "billing"\n""", "a", "no queue named 'billing'"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "menu"\nprompts = []\nchoices = { "12" = "a" }\non_fail = "a"\n""",
     "a", "one DTMF key"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "menu"\nprompts = []\nchoices = { "1" = "a" }\non_fail = "a"\ntimeout = 0.1\n""",
     "a", "below the minimum"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "hangup"\ncolour = "red"\n""", "a", "unknown key"),
    ("""[flow]\nstart = "a"\n[nodes.a]\ntype = "hangup"\n[nodes.b]\ntype = "hangup"\n""", "b", "unreachable"),
])
def test_bad_node_is_named_with_its_reason(tmp_path, text, node, reason):
    with pytest.raises(FlowError) as err:
        load_flow(flow_file(tmp_path, text), PROMPTS, QUEUES)
    assert any(p.node == node and reason in str(p) for p in err.value.problems), err.value.problems
    assert f"node {node!r}" in str(err.value) and str(tmp_path / "f.toml") in str(err.value)


def test_every_bad_node_is_reported_at_once(tmp_path):
    text = """
        [flow]
        start = "a"
        [nodes.a]
        type = "goto"
        next = "b"
        [nodes.b]
        type = "queue"
        queue = "nowhere"
        [nodes.c]
        type = "play"
        prompts = ["welcome"]
        next = "gone"
    """
    with pytest.raises(FlowError) as err:
        load_flow(flow_file(tmp_path, text), PROMPTS, QUEUES)
    nodes = {p.node for p in err.value.problems}
    assert {"b", "c"} <= nodes


def test_missing_start_and_broken_toml(tmp_path):
    with pytest.raises(FlowError, match="start node 'x' does not exist"):
        load_flow(flow_file(tmp_path, '[flow]\nstart = "x"\n[nodes.a]\ntype = "hangup"\n'), PROMPTS, QUEUES)
    with pytest.raises(FlowError, match="not valid TOML"):
        load_flow(flow_file(tmp_path, "[flow\n"), PROMPTS, QUEUES)


def one_caller(keys, patience=50.0):
    return scenario(
        run_section(120),
        agent("1", queues=["sales", "service"], answer_after=1.0, talk=5.0),
        caller(1.0, "5551000", keys=keys, patience=patience, talk=4.0),
    )


def test_barge_in_during_welcome_goes_straight_to_the_choice(run_inline):
    # The welcome prompt lasts 4.7 s; the caller presses 2 after one second.
    ran = run_inline(one_caller([[1.0, "2"]]))
    call = ran.call()
    assert call["ivr_path"] == ["welcome", "main_menu", "service"]
    assert call["queue"] == "service" and call["disposition"] == "answered"
    # Reached the queue long before the two prompts (about 8.5 s) could have played out.
    row = ran.db["calls"].get(call["call_id"])
    assert row["queued_at"] - row["answered_at"] < 1.5


def test_invalid_choice_then_valid(run_inline):
    ran = run_inline(one_caller([[9.0, "7"], [13.0, "1"]]))
    call = ran.call()
    kinds = [k for k, _ in ran.events(call["call_id"])]
    assert "ivr:invalid" in kinds
    assert call["digits_detected"] == "71" and call["queue"] == "sales"


def test_silence_retries_then_on_fail_hangs_up(run_inline):
    ran = run_inline(one_caller([], patience=200.0))
    call = ran.call()
    events = ran.events(call["call_id"])
    assert sum(1 for k, _ in events if k == "ivr:timeout") == 4     # first try + 3 retries
    assert call["ivr_path"][-1] == "goodbye"
    assert call["disposition"] == "completed" and call["hangup_by"] == "box"
    assert call["caller"]["ended_by"] == "box"


def test_caller_hanging_up_in_the_menu_is_an_ivr_hangup(run_inline):
    ran = run_inline(one_caller([], patience=6.0))
    call = ran.call()
    assert call["disposition"] == "ivr_hangup" and call["queue"] is None
