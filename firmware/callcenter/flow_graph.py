"""A checked IVR flow as a graph for the flow editor: nodes, edges labelled with keys and outcomes,
unreachable and missing nodes, the prompts each node plays, and the problems of each node."""
from __future__ import annotations

from pathlib import Path

from firmware.callcenter.flows import Checked, check_flow


def flow_graph(checked: Checked, prompts: set[str]) -> dict:
    """Plain data (JSON) of `checked`; `prompts` is the box's prompt set, to tell missing prompts."""
    problems_of: dict[str, int] = {}
    for p in checked.problems:
        problems_of[p.node] = problems_of.get(p.node, 0) + 1
    nodes: list[dict] = []
    edges: list[dict] = []
    played: dict[str, list[str]] = {}
    for name in checked.names:
        node = checked.nodes.get(name)
        nodes.append({"name": name, "type": node.type if node else None, "start": name == checked.start,
                      # Without a start node there is nothing to reach from: that is the problem shown.
                      "unreachable": checked.start in checked.names and name not in checked.reachable,
                      "prompts": node.prompt_names() if node else [], "problems": problems_of.get(name, 0)})
        for key, label, target in node.edges() if node else ():
            edges.append({"from": name, "to": target, "key": key, "label": label,
                          "missing": target not in checked.names})
        for prompt in node.prompt_names() if node else ():
            played.setdefault(prompt, []).append(name)
    missing = sorted({str(e["to"]) for e in edges if e["missing"]})
    return {"start": checked.start, "nodes": nodes, "edges": edges, "missing_nodes": missing,
            "prompts": [{"name": p, "nodes": sorted(set(by)), "exists": p in prompts}
                        for p, by in sorted(played.items())]}


def flow_report(text: str, path: Path, prompts: set[str], queues: set[str], running: str) -> dict:
    """What the flow editor is told of a flow's text (the engine's `flow.validate`): whether it is
    valid, every problem with its node, key and line, the graph, and the name of the running flow."""
    checked = check_flow(text, path, prompts, queues)
    return {"name": path.stem, "valid": not checked.problems, "running": running,
            "problems": [p.as_dict() for p in checked.problems], "graph": flow_graph(checked, prompts)}
