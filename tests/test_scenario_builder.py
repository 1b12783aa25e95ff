"""The scenario builder writes the TOML a scenario or flow file would hold, value for value."""
import tomllib

import pytest

from scenario_builder import (CALLBACK_FLOW, ScenarioBuildError, action, agent, caller, flow, queue, run_section,
                              scenario)


def test_a_scenario_reads_back_as_the_values_given_with_their_types():
    text = scenario(run_section(60, trunks=4, flow="f.toml"),
                    queue("sales", wrapup=0.0), agent("A", skills={"sales": 5}, talk=1000.0, phone=None),
                    [caller(1.0, "5550001", keys=[[1.0, "1"], [3.0, "*#"]], fax=True)],
                    action(10.0, "transfer", agent="A", to="queue:service", blind=False))
    got = tomllib.loads(text)
    assert got == {"run": {"seconds": 60, "trunks": 4, "flow": "f.toml"},
                   "queues": [{"name": "sales", "wrapup": 0.0}],
                   "agents": [{"id": "A", "skills": {"sales": 5}, "talk": 1000.0}],
                   "callers": [{"at": 1.0, "number": "5550001", "keys": [[1.0, "1"], [3.0, "*#"]], "fax": True}],
                   "actions": [{"at": 10.0, "do": "transfer", "agent": "A", "to": "queue:service", "blind": False}]}
    # TOML tells integers from floats, and the typed reader refuses a float where it wants an integer.
    assert isinstance(got["run"]["seconds"], int) and isinstance(got["queues"][0]["wrapup"], float)


def test_a_flow_keeps_its_node_order_and_quotes_keys_toml_cannot_leave_bare():
    text = flow("menu", menu={"type": "menu", "choices": {"1": "q", "*": "bye"}}, q={"type": "queue"})
    got = tomllib.loads(text)
    assert got["flow"] == {"start": "menu"} and list(got["nodes"]) == ["menu", "q"]
    assert got["nodes"]["menu"]["choices"] == {"1": "q", "*": "bye"}
    assert tomllib.loads(CALLBACK_FLOW)["nodes"]["sales"]["keys"] == {"2": "cb"}


def test_a_value_toml_has_no_form_for_is_refused():
    with pytest.raises(ScenarioBuildError, match="no TOML for"):
        agent("A", talk=object())
