"""Scenario files written from Python: one builder instead of the same TOML typed out in every test.

`scenario(run_section(...), queue(...), agent(...), caller(...))` returns the text of a scenario file
(README, scenarios), which the `run_inline` fixture runs in fast time; the parts come from `queue()`,
`agent()`, `caller()` and the rest, each one table of the file with its keys in the order given, and
`flow(start, name={...})` writes a flow file (README, IVR flows). Values are Python values: a float
stays a float (`talk = 1000.0`), a list of pairs becomes a TOML array (`keys = [[1.0, "1"]]`), a dict
an inline table (`skills = { sales = 5 }`). A test of a file's own shape still writes its TOML.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping


class ScenarioBuildError(Exception):
    """A value the builder cannot write as TOML."""


def key(k: str) -> str:
    """A TOML key: bare where TOML allows it (letters, digits, - and _), else quoted ("*", "#")."""
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def value(v: object) -> str:
    """One TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)     # a JSON string is a TOML basic string
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise ScenarioBuildError(f"scenario builder: no TOML for {v!r} ({type(v).__name__})")


def table(header: str, fields: Mapping[str, object]) -> str:
    """`[header]` or `[[header]]` and its keys, in order; a None value leaves its key out."""
    return header + "\n" + "".join(f"{k} = {value(v)}\n" for k, v in fields.items() if v is not None)


def run_section(seconds: float, **fields: object) -> str:
    return table("[run]", {"seconds": seconds, **fields})


def queue(name: str, **fields: object) -> str:
    return table("[[queues]]", {"name": name, **fields})


def agent(id_: str, **fields: object) -> str:
    return table("[[agents]]", {"id": id_, **fields})


def supervisor(id_: str, **fields: object) -> str:
    return table("[[supervisors]]", {"id": id_, **fields})


def external(number: str, **fields: object) -> str:
    return table("[[externals]]", {"number": number, **fields})


def caller(at: float, number: str, **fields: object) -> str:
    return table("[[callers]]", {"at": at, "number": number, **fields})


def action(at: float, do: str, **fields: object) -> str:
    return table("[[actions]]", {"at": at, "do": do, **fields})


def traffic(**fields: object) -> str:
    return table("[[traffic]]", fields)


def flow(start: str, **nodes: Mapping[str, object]) -> str:
    """A flow file (README, IVR flows): `[flow] start` and one `[nodes.<name>]` table a node, in order."""
    return table("[flow]", {"start": start}) + "".join(table(f"[nodes.{name}]", node) for name, node in nodes.items())


def scenario(run: str, *parts: str | Iterable[str]) -> str:
    """The file: `run` (from run_section()) then every part, a table or an iterable of tables, in order."""
    out = [run]
    for part in parts:
        out += [part] if isinstance(part, str) else list(part)
    return "".join(out)


# The flows more than one test file runs.

# Press 1 for sales; waiting in sales, 2 asks for a callback (README, callbacks).
CALLBACK_FLOW = flow(
    "menu",
    menu={"type": "menu", "prompts": ["main-menu"], "choices": {"1": "sales"}, "on_fail": "bye"},
    sales={"type": "queue", "queue": "sales", "keys": {"2": "cb"}},
    cb={"type": "callback", "on_fail": "bye"},
    bye={"type": "hangup", "prompts": ["goodbye"]},
)
