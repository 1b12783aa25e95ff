"""IVR flow files: the node schema (data, also served to the web editor), loading and validation.

A flow is a TOML file with a `[flow]` table (`start`) and one `[nodes.<name>]` table per node.
Validation reports every bad node with its name and reason; nothing half-valid is ever returned.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from typed_toml import ConfigError, Section, load_toml

DTMF_KEYS = set("0123456789*#ABCD")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VAR = re.compile(r"^\$[a-z_][a-z0-9_.]*$")


@dataclass(frozen=True)
class F:
    """One key of a node: its kind, whether required, its default and limits, and its doc."""
    kind: str              # str | float | int | bool | choice | prompts | target | keymap | days | times | dates
    doc: str
    required: bool = False
    default: object = None
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()


# ITU-T E.182-style IVR timing: 3-10 s to answer a prompt is usual; 30 s is a generous ceiling.
_TIMEOUT = F("float", "s to wait for the first key after the prompt", default=5.0, lo=1.0, hi=30.0)
_RETRIES = F("int", "times a wrong key or silence is forgiven", default=3, lo=0, hi=9)
_NEXT = F("target", "the node after this one", required=True)
_FAIL = F("target", "where the caller goes when the retries run out", required=True)

# Node type -> its keys. The web editor renders forms from this table (branchline flow-schema).
SCHEMA: dict[str, dict[str, F]] = {
    "play": {"prompts": F("prompts", "prompts played in turn", required=True), "next": _NEXT,
             "barge_in": F("bool", "a key press stops the prompt (and is kept for the next menu)", default=True)},
    "menu": {"prompts": F("prompts", "the menu prompt", required=True),
             "choices": F("keymap", "key -> node", required=True), "timeout": _TIMEOUT, "retries": _RETRIES,
             "invalid": F("prompts", "apology for a wrong key", default=("invalid",)),
             "no_input": F("prompts", "apology for silence", default=("no-input",)), "on_fail": _FAIL},
    "collect": {"prompts": F("prompts", "what to type", required=True),
                "var": F("str", "variable that receives the digits", required=True),
                "min_digits": F("int", "fewest digits accepted", default=1, lo=1, hi=32),
                "max_digits": F("int", "most digits accepted", default=16, lo=1, hi=32),
                "terminator": F("choice", "key that ends the input early", default="#", choices=("#", "*", "")),
                "timeout": _TIMEOUT,
                "inter_digit": F("float", "s of silence that ends the input", default=3.0, lo=1.0, hi=15.0),
                "retries": _RETRIES, "invalid": F("prompts", "apology for a bad entry", default=("invalid",)),
                "secure": F("bool", "digits are masked in records and the recording is silenced while typed",
                            default=False),
                "next": _NEXT, "on_fail": _FAIL},
    "say": {"what": F("choice", "how to say the value", required=True,
                      choices=("digits", "number", "amount", "date")),
            "value": F("str", "a $variable ($caller: caller ID) or a literal", required=True),
            "prompts": F("prompts", "said before the value", default=()),
            "after": F("prompts", "said after the value", default=()), "next": _NEXT},
    "lookup": {"table": F("str", "lookup table name (store table lookup_items)", required=True),
               "key": F("str", "a $variable holding the key", required=True),
               "into": F("str", "prefix of the variables that receive the item's fields", required=True),
               "next": _NEXT, "on_missing": F("target", "where to go when nothing matches", required=True)},
    "queue": {"queue": F("str", "queue name", required=True),
              "on_full": F("target", "where to go when the queue is full (default: hang up, overflow)"),
              "on_timeout": F("target", "where to go after the queue's max wait (default: hang up)"),
              "keys": F("keymap", "key pressed while waiting -> node (voicemail, callback ...)", default=()),
              "after": F("target", "where the caller goes when the agent hangs up first (a survey)")},
    "voicemail": {"box": F("str", "mailbox name", required=True),
                  "prompts": F("prompts", "greeting", default=("leave-message",)),
                  "max_length": F("float", "s of message at most", default=120.0, lo=5.0, hi=600.0),
                  "silence": F("float", "s of silence that ends the message", default=5.0, lo=1.0, hi=30.0),
                  "beep": F("bool", "a beep before recording", default=True),
                  "thanks": F("prompts", "said after the message", default=("vm-thanks",))},
    "callback": {"queue": F("str", "queue whose agent calls back (default: the queue the caller was in)"),
                 "prompts": F("prompts", "said before the number", default=("callback-confirm",)),
                 "confirm": F("prompts", "confirm or change", default=("press-1-confirm-2-change",)),
                 "enter_number": F("prompts", "ask for another number", default=("enter-number",)),
                 "thanks": F("prompts", "said before hanging up", default=("callback-thanks",)),
                 "on_fail": _FAIL},
    "transfer": {"number": F("str", "external number (e.g. HQ expert center)", required=True),
                 "prompts": F("prompts", "said before dialling", default=("transfer-hold",)),
                 "on_fail": _FAIL},
    "hours": {"days": F("days", "open days", default=DAYS[:5]),
              "open": F("times", "opening time HH:MM", default="09:00"),
              "close": F("times", "closing time HH:MM", default="18:00"),
              "holidays": F("dates", "closed dates YYYY-MM-DD", default=()),
              "schedule": F("str", "a named schedule of site.toml ([[schedule]]), used instead of the four above"),
              "next": _NEXT, "closed": F("target", "where to go outside hours", required=True)},
    "caller": {"on_blocked": F("target", "blocked numbers go here"),
               "vip_level": F("int", "VIP level that counts as VIP", default=1, lo=1, hi=9),
               "on_vip": F("target", "VIP customers go here"),
               "on_known": F("target", "known customers go here"), "next": _NEXT},
    "survey": {"name": F("str", "survey name in the records", required=True),
               "question": F("str", "question id in the records", required=True),
               "prompts": F("prompts", "the question", required=True),
               "answers": F("str", "keys that are valid answers", default="12345"),
               "timeout": _TIMEOUT, "retries": F("int", "times to ask again", default=1, lo=0, hi=5),
               "next": _NEXT},
    "hangup": {"prompts": F("prompts", "said before hanging up", default=())},
    "goto": {"next": _NEXT},
}


class FlowError(Exception):
    """A flow file is invalid; `problems` lists (node, reason) for every fault found."""

    def __init__(self, path, problems: list[tuple[str, str]]):
        self.path, self.problems = str(path), problems
        super().__init__(f"flow {path}: " + "; ".join(f"node {n!r}: {r}" if n else r for n, r in problems))


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    opts: dict = field(default_factory=dict)

    def __getattr__(self, key):
        try:
            return self.opts[key]
        except KeyError:
            raise AttributeError(key) from None

    def targets(self) -> list[str]:
        out = []
        for key, spec in SCHEMA[self.type].items():
            value = self.opts.get(key)
            if spec.kind == "target" and value:
                out.append(value)
            elif spec.kind == "keymap":
                out += [t for _, t in value or ()]
        return out

    def prompt_names(self) -> list[str]:
        """Fixed prompt names (variables like $order.status are resolved when the call runs)."""
        return [p for key, spec in SCHEMA[self.type].items() if spec.kind == "prompts"
                for p in self.opts[key] if not p.startswith("$")]


class Flow:
    def __init__(self, path: str | Path, start: str, nodes: dict[str, Node]):
        self.path, self.start, self.nodes = Path(path), start, nodes

    @property
    def name(self) -> str:
        return self.path.stem


def _read_key(sec: Section, key: str, spec: F):
    default = spec.default if not spec.required else ...
    if spec.kind in ("str", "choice", "target", "times"):
        if spec.required:
            value = sec.get_str(key, choices=spec.choices or None)
        else:
            value = sec.get_str(key, default if default is not None else "", choices=spec.choices or None)
        if spec.kind == "times" and not _HHMM.match(value):
            raise sec.error(key, f"expected HH:MM, got {value!r}")
        return value or (None if spec.kind == "target" else value)
    if spec.kind == "float":
        return sec.get_float(key, default, spec.lo, spec.hi) if not spec.required else sec.get_float(key)
    if spec.kind == "int":
        return sec.get_int(key, default, spec.lo, spec.hi) if not spec.required else sec.get_int(key)
    if spec.kind == "bool":
        return sec.get_bool(key, default)
    if spec.kind in ("prompts", "days", "dates"):
        fallback = list(default) if isinstance(default, tuple) else []     # the schema's defaults are tuples
        values = tuple(sec.get_list(key) if spec.required else sec.get_list(key, fallback))
        bad = [v for v in values if (spec.kind == "days" and v not in DAYS)
               or (spec.kind == "dates" and not _DATE.match(v))]
        if bad:
            what = f"day ({', '.join(DAYS)})" if spec.kind == "days" else "date YYYY-MM-DD"
            raise sec.error(key, f"{bad[0]!r} is not a {what}")
        return values
    if spec.kind == "keymap":
        table = sec.get_table(key) if spec.required else sec.get_table(key, {})
        pairs = []
        for k in list(table.data):
            if k not in DTMF_KEYS:
                raise table.error(k, "a key must be one DTMF key: 0-9 * # A-D")
            pairs.append((k, table.get_str(k)))
        if spec.required and not pairs:
            raise sec.error(key, "at least one key is needed")
        return tuple(pairs)
    raise AssertionError(spec.kind)


def _read_node(name: str, data, path) -> Node:
    sec = Section(data, path, f"nodes.{name}")
    ntype = sec.get_str("type", choices=SCHEMA)
    opts = {key: _read_key(sec, key, spec) for key, spec in SCHEMA[ntype].items()}
    sec.done()
    if ntype == "collect" and opts["min_digits"] > opts["max_digits"]:
        raise sec.error("min_digits", "is above max_digits")
    if ntype in ("say", "lookup"):
        ref = opts["value"] if ntype == "say" else opts["key"]
        if ref.startswith("$") and not _VAR.match(ref):
            raise sec.error("value" if ntype == "say" else "key", f"{ref!r} is not a $variable name")
    if ntype == "survey" and (not opts["answers"] or any(c not in DTMF_KEYS for c in opts["answers"])):
        raise sec.error("answers", "give the DTMF keys that are valid answers, e.g. \"12345\"")
    return Node(name, ntype, opts)


def load_flow(path: str | Path, prompts: set[str], queues: set[str]) -> Flow:
    """Read and check a flow against the prompt set and the configured queues."""
    try:
        top = Section(load_toml(path), path)
    except ConfigError as exc:
        raise FlowError(path, [("", str(exc))]) from None
    problems: list[tuple[str, str]] = []
    start = ""
    try:
        head = top.get_table("flow")
        start = head.get_str("start")
        head.done()
    except ConfigError as exc:
        problems.append(("", str(exc)))
    raw_nodes = top.data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        problems.append(("", "the flow has no [nodes.<name>] tables"))
        raw_nodes = {}
    unknown_top = set(top.data) - {"flow", "nodes"}
    if unknown_top:
        problems.append(("", f"unknown top-level key {sorted(unknown_top)[0]!r} (known: flow, nodes)"))
    nodes: dict[str, Node] = {}
    for name, data in raw_nodes.items():
        try:
            nodes[name] = _read_node(name, data, path)
        except ConfigError as exc:
            problems.append((name, str(exc).split(": ", 1)[-1]))
    for node in nodes.values():
        for target in node.targets():
            if target not in raw_nodes:
                problems.append((node.name, f"goes to {target!r}, which is not a node"))
        for prompt in node.prompt_names():
            if prompt not in prompts:
                problems.append((node.name, f"no prompt named {prompt!r}"))
        queue = node.opts.get("queue")
        if queue and queue not in queues:
            problems.append((node.name, f"no queue named {queue!r} (queues: {', '.join(sorted(queues))})"))
    if start and start not in raw_nodes:
        problems.append(("", f"start node {start!r} does not exist"))
    if start in nodes:
        seen, todo = set(), [start]
        while todo:
            n = todo.pop()
            if n in seen or n not in nodes:
                continue
            seen.add(n)
            todo.extend(nodes[n].targets())
        for name in nodes:
            if name not in seen:
                problems.append((name, "unreachable from the start node"))
    if problems:
        raise FlowError(path, problems)
    return Flow(path, start, nodes)


def schema_json() -> dict:
    """The node schema as plain data, for the web flow editor."""
    return {t: {k: {"kind": f.kind, "doc": f.doc, "required": f.required,
                    "default": list(f.default) if isinstance(f.default, tuple) else f.default,
                    "min": f.lo, "max": f.hi, "choices": list(f.choices)} for k, f in keys.items()}
            for t, keys in SCHEMA.items()}
