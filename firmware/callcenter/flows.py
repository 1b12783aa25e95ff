"""IVR flow files: the node schema (data, also served to the web editor), loading and validation.

A flow is a TOML file with a `[flow]` table (`start`) and one `[nodes.<name>]` table per node.
Checking collects every problem, node by node and key by key (the flow editor shows each next to its
line); nothing half-valid is ever run.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from typed_toml import N_, ConfigError, Section, fill, message

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

# Node type -> its keys. The web flow editor shows each node's keys from this table (the engine's
# `flow.schema`; `branchline flow-schema` prints it).
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


class Problem(NamedTuple):
    """One fault of a flow: the node ("" for the flow as a whole), the key ("" for the node or the
    file as a whole) and the reason; `line` is where the editor shows it (1-based), when known.
    `template` and `params` are the reason for the web to translate (`message` is the English,
    `fill(template, params)`); the template is "" for a reason given only in English."""
    node: str
    field: str
    message: str
    line: int | None = None
    template: str = ""
    params: dict | None = None

    @classmethod
    def of(cls, node: str, key: str, template: str, params: dict | None = None, line: int | None = None) -> Problem:
        """A problem whose reason is a template marked with N_ and its params."""
        return cls(node, key, fill(template, params or {}), line, template, dict(params or {}))

    @classmethod
    def from_error(cls, node: str, key: str, exc: ConfigError) -> Problem:
        return cls(node, key, exc.reason, None, exc.template, exc.params)

    def reason(self) -> dict:
        """The reason alone: {"text", "template", "params"}."""
        return {"text": self.message, "template": self.template, "params": dict(self.params or {})}

    def as_message(self) -> dict:
        """The whole of `str(problem)` as a message: {"text", "template", "params"}."""
        params: dict = {"reason": self.reason()}
        if self.node and self.field:
            out = message(N_("node %(node)s: %(field)s: %(reason)s"),
                          {"node": repr(self.node), "field": self.field, **params})
        elif self.node:
            out = message(N_("node %(node)s: %(reason)s"), {"node": repr(self.node), **params})
        elif self.field:
            out = message(N_("%(field)s: %(reason)s"), {"field": self.field, **params})
        else:
            out = self.reason()
        return out

    def as_dict(self) -> dict:
        """As the control socket sends it: node, field, message, line, template, params."""
        return {**self._asdict(), "params": dict(self.params or {})}

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"node {self.node!r}: {where}{self.message}" if self.node else f"{where}{self.message}"


class FlowError(Exception):
    """A flow file is invalid; `problems` lists every fault found, node by node."""

    def __init__(self, path, problems: list[Problem]):
        self.path, self.problems = str(path), problems
        super().__init__(f"flow {path}: " + "; ".join(str(p) for p in problems))


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

    def edges(self) -> list[tuple[str, str, str]]:
        """(key, label, target) of every way out of the node: a target key is labelled by its name
        (next, on_fail ...), a key map by the DTMF key pressed."""
        out = []
        for key, spec in SCHEMA[self.type].items():
            value = self.opts.get(key)
            if spec.kind == "target" and value:
                out.append((key, key, value))
            elif spec.kind == "keymap":
                out += [(key, k, t) for k, t in value or ()]
        return out

    def targets(self) -> list[str]:
        return [target for _, _, target in self.edges()]

    def prompts_by_key(self) -> list[tuple[str, str]]:
        """(key, prompt name) of the fixed prompts the node plays, in order (variables like
        $order.status are resolved when the call runs)."""
        return [(key, p) for key, spec in SCHEMA[self.type].items() if spec.kind == "prompts"
                for p in self.opts.get(key, ()) if not p.startswith("$")]

    def prompt_names(self) -> list[str]:
        return [p for _, p in self.prompts_by_key()]


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
            raise sec.error(key, N_("expected HH:MM, got %(value)s"), {"value": repr(value)})
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
            if spec.kind == "days":
                raise sec.error(key, N_("%(value)s is not a day (%(days)s)"),
                                {"value": repr(bad[0]), "days": ", ".join(DAYS)})
            raise sec.error(key, N_("%(value)s is not a date YYYY-MM-DD"), {"value": repr(bad[0])})
        return values
    if spec.kind == "keymap":
        table = sec.get_table(key) if spec.required else sec.get_table(key, {})
        pairs = []
        for k in list(table.data):
            if k not in DTMF_KEYS:
                raise sec.error(key, N_("%(key)s: a key must be one DTMF key: 0-9 * # A-D"), {"key": repr(k)})
            pairs.append((k, table.get_str(k)))
        if spec.required and not pairs:
            raise sec.error(key, N_("at least one key is needed"), {})
        return tuple(pairs)
    raise AssertionError(spec.kind)


def _problem_of(name: str, exc: ConfigError, where: str) -> Problem:
    """The problem of the node's key a ConfigError is about (its first part below `where`)."""
    key = exc.key[len(where) + 1:] if exc.key.startswith(where + ".") else exc.key
    head, _, rest = key.partition(".")
    if not rest:
        return Problem.from_error(name, head, exc)
    return Problem.of(name, head, N_("%(key)s: %(reason)s"), {"key": repr(rest), "reason": exc.reason_message()})


def _read_node(name: str, data: object, path) -> tuple[Node | None, list[Problem]]:
    """The node with every key that could be read, and a Problem for each that could not."""
    where = f"nodes.{name}"
    if not isinstance(data, dict):
        return None, [Problem.of(name, "", N_("must be a table ([%(where)s]), got %(type)s"),
                                 {"where": where, "type": type(data).__name__})]
    sec = Section(data, path, where)
    try:
        ntype = sec.get_str("type", choices=SCHEMA)
    except ConfigError as exc:
        return None, [Problem.from_error(name, "type", exc)]
    problems: list[Problem] = []
    opts = {}
    for key, spec in SCHEMA[ntype].items():
        try:
            opts[key] = _read_key(sec, key, spec)
        except ConfigError as exc:
            problems.append(_problem_of(name, exc, where))
    known = ", ".join(["type", *SCHEMA[ntype]])
    for key in sorted(set(data) - set(SCHEMA[ntype]) - {"type"}):
        problems.append(Problem.of(name, key, N_("unknown key for a %(type)s node (known: %(known)s)"),
                                   {"type": ntype, "known": known}))
    if ntype == "collect" and opts.get("min_digits", 0) > opts.get("max_digits", 99):
        problems.append(Problem.of(name, "min_digits", N_("is above max_digits")))
    if ntype in ("say", "lookup"):
        key = "value" if ntype == "say" else "key"
        ref = opts.get(key, "")
        if ref.startswith("$") and not _VAR.match(ref):
            problems.append(Problem.of(name, key, N_("%(value)s is not a $variable name"), {"value": repr(ref)}))
    answers = opts.get("answers")
    if ntype == "survey" and answers is not None and (not answers or any(c not in DTMF_KEYS for c in answers)):
        problems.append(Problem.of(name, "answers", N_("give the DTMF keys that are valid answers, e.g. \"12345\"")))
    return Node(name, ntype, opts), problems


@dataclass
class Checked:
    """What checking a flow found: every node that could be read (even partly), the start node and
    every problem. `flow()` is the runnable flow, only when there is no problem."""
    path: Path
    start: str
    nodes: dict[str, Node]
    names: list[str]                       # every [nodes.<name>] table, read or not, in file order
    problems: list[Problem]
    reachable: set[str] = field(default_factory=set)

    def flow(self) -> Flow:
        if self.problems:
            raise FlowError(self.path, self.problems)
        return Flow(self.path, self.start, self.nodes)


def check_flow(text: str, path: str | Path, prompts: set[str], queues: set[str]) -> Checked:
    """Check a flow's TOML text against the prompt set and the queues; collect ALL problems, per node
    and key, rather than stop at the first."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _AT_LINE.search(str(exc))
        line = int(at.group(1)) if at else None
        problem = Problem.of("", "", N_("not valid TOML: %(error)s"), {"error": str(exc)}, line)
        return Checked(path, "", {}, [], [problem])
    top = Section(data, path)
    problems: list[Problem] = []
    start = ""
    try:
        head = top.get_table("flow")
        start = head.get_str("start")
        head.done()
    except ConfigError as exc:
        problems.append(Problem.from_error("", exc.key.removeprefix("flow.") if exc.key else "", exc))
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        problems.append(Problem.of("", "", N_("the flow has no [nodes.<name>] tables")))
        raw_nodes = {}
    for key in sorted(set(data) - {"flow", "nodes"}):
        problems.append(Problem.of("", key, N_("unknown top-level key (known: flow, nodes)")))
    nodes: dict[str, Node] = {}
    for name, raw in raw_nodes.items():
        node, found = _read_node(name, raw, path)
        problems += found
        if node is not None:
            nodes[name] = node
    for node in nodes.values():
        for key, _, target in node.edges():
            if target not in raw_nodes:
                problems.append(Problem.of(node.name, key, N_("goes to %(target)s, which is not a node"),
                                           {"target": repr(target)}))
        for key, prompt in node.prompts_by_key():
            if prompt not in prompts:
                problems.append(Problem.of(node.name, key, N_("no prompt named %(prompt)s"), {"prompt": repr(prompt)}))
        queue = node.opts.get("queue")
        if queue and queue not in queues:
            problems.append(Problem.of(node.name, "queue", N_("no queue named %(queue)s (queues: %(queues)s)"),
                                       {"queue": repr(queue), "queues": ", ".join(sorted(queues))}))
    if start and start not in raw_nodes:
        problems.append(Problem.of("", "start", N_("start node %(start)s does not exist"), {"start": repr(start)}))
    # A node with a problem may have lost a way out; its raw strings stand in for its edges, so one
    # typo does not also mark everything behind it unreachable.
    faulty = {p.node for p in problems}
    seen: set[str] = set()
    todo = [start] if start in raw_nodes else []
    while todo:
        n = todo.pop()
        if n in seen or n not in raw_nodes:
            continue
        seen.add(n)
        if n in nodes and n not in faulty:
            todo.extend(nodes[n].targets())
        else:
            todo.extend(_strings(raw_nodes[n]))
    if start in raw_nodes:
        problems += [Problem.of(name, "", N_("unreachable from the start node"))
                     for name in raw_nodes if name not in seen]
    lines = _locate(text)
    located = [p._replace(line=p.line or lines.get((p.node, p.field)) or lines.get((p.node, ""))) for p in problems]
    return Checked(path, start, nodes, list(raw_nodes), located, seen)


# A table header `[nodes.name]` (bare or quoted name) and a `key =` line, for pointing at problems.
_HEADER = re.compile(r"""^\s*\[\s*(nodes\s*\.\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))|flow)\s*\]""")
# tomllib's message ends "(at line 3, column 7)" (its exception has no line attribute before 3.14).
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_ASSIGN = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


def _strings(value: object) -> list[str]:
    """Every string in a raw TOML value (tables and arrays searched)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in _strings(v)] if isinstance(value, list) else []


def _locate(text: str) -> dict[tuple[str, str], int]:
    """(node, key) -> 1-based line of its table header (key "") or its assignment, found by a
    line scan (tomllib keeps no positions); good for the usual one-table-per-node layout."""
    out: dict[tuple[str, str], int] = {}
    node: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if m := _HEADER.match(line):
            node = "" if m.group(1) == "flow" else next(g for g in m.groups()[1:] if g is not None)
            out.setdefault((node, ""), number)
        elif node is not None and (m := _ASSIGN.match(line)):
            out.setdefault((node, next(g for g in m.groups() if g is not None)), number)
        elif line.lstrip().startswith("["):
            node = None
    return out


def load_flow(path: str | Path, prompts: set[str], queues: set[str]) -> Flow:
    """Read and check a flow file against the prompt set and the configured queues."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(path, [Problem.of("", "", N_("cannot be read: %(error)s"), {"error": str(exc)})]) from None
    return check_flow(text, path, prompts, queues).flow()


def schema_json() -> dict:
    """The node schema as plain data, for the web flow editor and `branchline flow-schema`."""
    return {t: {k: {"kind": f.kind, "doc": f.doc, "required": f.required,
                    "default": list(f.default) if isinstance(f.default, tuple) else f.default,
                    "min": f.lo, "max": f.hi, "choices": list(f.choices)} for k, f in keys.items()}
            for t, keys in SCHEMA.items()}
