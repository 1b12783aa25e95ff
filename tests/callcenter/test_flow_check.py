"""Checking a flow for the editor (README, "IVR flows"): every problem of every node at once, each
with its key and line, and the flow drawn as a graph even while it is being mistyped."""
from __future__ import annotations

import pytest

from firmware.callcenter.flow_graph import flow_graph
from firmware.callcenter.flows import FlowError, check_flow

PROMPTS = {"welcome", "main-menu", "invalid", "no-input", "goodbye"}
QUEUES = {"sales", "service"}

GOOD = """\
[flow]
start = "welcome"

[nodes.welcome]
type = "play"
prompts = ["welcome"]
next = "main_menu"

[nodes.main_menu]
type = "menu"
prompts = ["main-menu"]
choices = { "1" = "sales", "2" = "service" }
on_fail = "goodbye"

[nodes.sales]
type = "queue"
queue = "sales"
on_timeout = "goodbye"

[nodes.service]
type = "queue"
queue = "service"

[nodes.goodbye]
type = "hangup"
prompts = ["goodbye"]
"""


def check(text):
    return check_flow(text, "main.toml", PROMPTS, QUEUES)


def test_a_good_flow_has_no_problem_and_runs():
    checked = check(GOOD)
    assert checked.problems == []
    assert checked.flow().start == "welcome"


def test_every_bad_key_of_one_node_is_reported_with_its_key_and_line():
    text = GOOD.replace('on_fail = "goodbye"', 'on_fail = "goodbye"\ntimeout = 0.1\nretries = "3"\ncolour = "red"')
    problems = {(p.node, p.field): p for p in check(text).problems}
    assert set(problems) == {("main_menu", "timeout"), ("main_menu", "retries"), ("main_menu", "colour")}
    assert "below the minimum 1.0" in problems["main_menu", "timeout"].message
    assert "expected an integer" in problems["main_menu", "retries"].message
    assert "unknown key" in problems["main_menu", "colour"].message
    lines = text.splitlines()
    for (_, key), p in problems.items():
        assert lines[p.line - 1].startswith(key), (key, p.line)


def test_a_key_map_that_is_not_a_table_is_named_by_its_key():
    problems = check(GOOD.replace('choices = { "1" = "sales", "2" = "service" }', 'choices = "1"')).problems
    assert [(p.node, p.field, p.message) for p in problems][0] == ("main_menu", "choices", "must be a table, got str")


def test_problems_of_several_nodes_come_together_and_the_flow_is_refused():
    text = (GOOD.replace('queue = "service"', 'queue = "billing"')
            .replace('prompts = ["goodbye"]', 'prompts = ["farewell"]')
            .replace('"2" = "service"', '"2" = "service", "12" = "sales"'))
    checked = check(text)
    found = {(p.node, p.field, p.message.split(" (")[0]) for p in checked.problems}
    assert found == {("service", "queue", "no queue named 'billing'"),
                     ("goodbye", "prompts", "no prompt named 'farewell'"),
                     ("main_menu", "choices", "'12': a key must be one DTMF key: 0-9 * # A-D")}
    with pytest.raises(FlowError) as err:
        checked.flow()
    assert "node 'service': queue: no queue named 'billing'" in str(err.value)


def test_a_broken_node_does_not_make_the_nodes_behind_it_unreachable():
    # The menu's timeout is wrong, but its choices still lead to sales and service.
    checked = check(GOOD.replace('on_fail = "goodbye"', 'on_fail = "goodbye"\ntimeout = 99.0'))
    assert [(p.node, p.field) for p in checked.problems] == [("main_menu", "timeout")]


def test_unreachable_nodes_and_jumps_to_nowhere_are_named():
    text = GOOD + '\n[nodes.orphan]\ntype = "goto"\nnext = "nowhere"\n'
    problems = {(p.node, p.field): p.message for p in check(text).problems}
    assert problems == {("orphan", ""): "unreachable from the start node",
                        ("orphan", "next"): "goes to 'nowhere', which is not a node"}


def test_flow_level_problems_name_no_node():
    assert [(p.node, p.field, p.line) for p in check("[flow\n").problems] == [("", "", 1)]
    checked = check(GOOD.replace('start = "welcome"', 'start = "hello"'))
    assert [(p.node, p.field, p.message) for p in checked.problems] == [
        ("", "start", "start node 'hello' does not exist")]
    assert not any(n["unreachable"] for n in flow_graph(checked, PROMPTS)["nodes"])
    problems = check(GOOD.replace("[nodes.welcome]\ntype = \"play\"", "[nodes.welcome]\ntype = \"dance\"")).problems
    assert [(p.node, p.field) for p in problems] == [("welcome", "type")]


def test_the_graph_labels_edges_with_keys_and_outcomes():
    graph = flow_graph(check(GOOD), PROMPTS)
    assert graph["start"] == "welcome"
    edges = {(e["from"], e["label"], e["to"]) for e in graph["edges"]}
    assert edges == {("welcome", "next", "main_menu"), ("main_menu", "1", "sales"), ("main_menu", "2", "service"),
                     ("main_menu", "on_fail", "goodbye"), ("sales", "on_timeout", "goodbye")}
    types = {n["name"]: n["type"] for n in graph["nodes"]}
    assert types == {"welcome": "play", "main_menu": "menu", "sales": "queue", "service": "queue",
                     "goodbye": "hangup"}
    assert not any(n["unreachable"] for n in graph["nodes"])
    # The menu plays its prompt and, by default, the apologies for a wrong key and for silence.
    plays = {p["name"]: p["nodes"] for p in graph["prompts"]}
    assert plays["main-menu"] == ["main_menu"] and plays["invalid"] == ["main_menu"]
    assert plays["goodbye"] == ["goodbye"]


def test_the_graph_marks_unreachable_and_missing_nodes_and_missing_prompts_while_mistyped():
    text = (GOOD.replace('"2" = "service"', '"2" = "servce"')
            .replace('prompts = ["welcome"]', 'prompts = ["welcome", "promo"]'))
    graph = flow_graph(check(text), PROMPTS)
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert nodes["service"]["unreachable"] and not nodes["sales"]["unreachable"]
    assert nodes["main_menu"]["problems"] == 1 and nodes["welcome"]["problems"] == 1
    assert graph["missing_nodes"] == ["servce"]
    assert {"from": "main_menu", "to": "servce", "key": "choices", "label": "2", "missing": True} in graph["edges"]
    assert {p["name"]: p["exists"] for p in graph["prompts"]}["promo"] is False
