"""IVR flows: loaded from TOML, validated whole (every bad node named), run one session per call."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .calls import Disposition
from .config import ConfigError, Section, load_toml

if TYPE_CHECKING:
    from .calls import Call
    from .engine import Engine

log = logging.getLogger(__name__)

DTMF_KEYS = set("0123456789*#ABCD")


class FlowError(Exception):
    """A flow file is invalid; `problems` lists (node, reason) for every fault found."""

    def __init__(self, path, problems: list[tuple[str, str]]):
        self.path, self.problems = str(path), problems
        super().__init__(f"flow {path}: " + "; ".join(f"node {n!r}: {r}" if n else r for n, r in problems))


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    prompts: tuple[str, ...] = ()
    next: str | None = None
    barge_in: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    timeout: float = 5.0
    retries: int = 3
    invalid: tuple[str, ...] = ("invalid",)
    no_input: tuple[str, ...] = ("no-input",)
    on_fail: str | None = None
    queue: str | None = None
    on_full: str | None = None
    on_timeout: str | None = None
    keys: tuple[tuple[str, str], ...] = ()

    def targets(self) -> list[str]:
        return [t for t in (self.next, self.on_fail, self.on_full, self.on_timeout,
                            *(n for _, n in self.choices), *(n for _, n in self.keys)) if t]


def _read_play(sec: Section) -> dict:
    return {"prompts": tuple(sec.get_list("prompts")), "next": sec.get_str("next"),
            "barge_in": sec.get_bool("barge_in", True)}


def _key_map(sec: Section, name: str, required: bool) -> tuple[tuple[str, str], ...]:
    """A table of one DTMF key -> node name."""
    table = sec.get_table(name) if required else sec.get_table(name, {})
    pairs = []
    for key in list(table.data):
        if key not in DTMF_KEYS:
            raise table.error(key, "a key must be one DTMF key: 0-9 * # A-D")
        pairs.append((key, table.get_str(key)))
    if required and not pairs:
        raise sec.error(name, "at least one key is needed")
    return tuple(pairs)


def _read_menu(sec: Section) -> dict:
    return {"prompts": tuple(sec.get_list("prompts")), "choices": _key_map(sec, "choices", True),
            # ITU-T E.182-style IVR practice: 3-10 s to answer a menu; 30 s is a generous maximum.
            "timeout": sec.get_float("timeout", 5.0, 1.0, 30.0),
            "retries": sec.get_int("retries", 3, 0, 9),
            "invalid": tuple(sec.get_list("invalid", ["invalid"])),
            "no_input": tuple(sec.get_list("no_input", ["no-input"])),
            "on_fail": sec.get_str("on_fail")}


def _read_queue(sec: Section) -> dict:
    # Without on_full / on_timeout the call ends there (disposition overflow / timeout).
    return {"queue": sec.get_str("queue"), "on_full": sec.get_str("on_full", "") or None,
            "on_timeout": sec.get_str("on_timeout", "") or None,
            "keys": _key_map(sec, "keys", False)}


def _read_hangup(sec: Section) -> dict:
    return {"prompts": tuple(sec.get_list("prompts", []))}


def _read_goto(sec: Section) -> dict:
    return {"next": sec.get_str("next")}


NODE_READERS: dict[str, Callable[[Section], dict]] = {
    "play": _read_play, "menu": _read_menu, "queue": _read_queue, "hangup": _read_hangup,
    "goto": _read_goto,
}


class Flow:
    def __init__(self, path: str | Path, start: str, nodes: dict[str, Node]):
        self.path, self.start, self.nodes = Path(path), start, nodes

    @property
    def name(self) -> str:
        return self.path.stem


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
            sec = Section(data, path, f"nodes.{name}")
            ntype = sec.get_str("type", choices=NODE_READERS)
            fields = NODE_READERS[ntype](sec)
            sec.done()
            nodes[name] = Node(name=name, type=ntype, **fields)
        except ConfigError as exc:
            problems.append((name, str(exc).split(": ", 1)[-1]))
    for node in nodes.values():
        for target in node.targets():
            if target not in raw_nodes:
                problems.append((node.name, f"goes to {target!r}, which is not a node"))
        for prompt in (*node.prompts, *(node.invalid if node.type == "menu" else ()),
                       *(node.no_input if node.type == "menu" else ())):
            if prompt not in prompts:
                problems.append((node.name, f"no prompt named {prompt!r}"))
        if node.queue is not None and node.queue not in queues:
            problems.append((node.name, f"no queue named {node.queue!r} (queues: {', '.join(sorted(queues))})"))
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


class IvrSession:
    """Runs a flow for one call. Digits pressed during a prompt with barge-in stop it and are kept
    for the next node that reads digits (type-ahead), as callers who know the menu expect."""

    def __init__(self, engine: "Engine", call: "Call", flow: Flow):
        self.engine, self.call, self.flow = engine, call, flow
        self.node: Node | None = None
        self.typed = ""          # type-ahead digits not yet consumed
        self.tries = 0
        self._timer = None
        self._collecting = False

    def start(self) -> None:
        self.enter(self.flow.start)

    def enter(self, name: str) -> None:
        self._cancel_timer()
        node = self.flow.nodes[name]
        self.node, self.tries, self._collecting = node, 0, False
        self.call.node = name
        self.call.path.append(name)
        self.call.event("ivr:node", node=name, type=node.type)
        getattr(self, f"_enter_{node.type}")(node)

    # --- node types ---------------------------------------------------------------------------
    def _enter_play(self, node: Node) -> None:
        if node.barge_in and self.typed:
            self.enter(node.next)
            return
        self.engine.play(self.call, list(node.prompts), on_done=lambda: self.enter(node.next))

    def _enter_menu(self, node: Node, prompts: tuple[str, ...] = ()) -> None:
        self._collecting = True
        if self.typed:
            self._take_digit()
            return
        self.engine.play(self.call, list(prompts) + list(node.prompts), on_done=self._await_digit)

    def _enter_queue(self, node: Node) -> None:
        self.typed = ""
        on_exit = self._queue_exit if (node.on_full or node.on_timeout or node.keys) else None
        if not self.engine.enqueue(self.call, node.queue, on_exit) and on_exit is None:
            self.engine.end_call(self.call, Disposition.OVERFLOW, "box")

    def _queue_exit(self, outcome: str) -> None:
        """The caller left the queue: the queue was full, they waited too long, or pressed a key."""
        node = self.node
        target = {"full": node.on_full, "timeout": node.on_timeout}.get(outcome)
        if outcome.startswith("key:"):
            target = dict(node.keys).get(outcome[4:])
        if target is None:
            self.engine.end_call(self.call, Disposition.OVERFLOW if outcome == "full" else Disposition.TIMEOUT, "box")
            return
        self.enter(target)

    def on_queue_digit(self, digit: str) -> bool:
        """A key pressed while waiting: True if it takes the caller out of the queue."""
        node = self.node
        if node is None or node.type != "queue" or digit not in dict(node.keys):
            return False
        q = self.engine.acd.queues[node.queue]
        self.call.event("queue:exitkey", queue=node.queue, digit=digit,
                        position=q.position(self.call) if self.call in q.waiting else 1,
                        wait=round(self.engine.clock.time() - self.call.queued_at, 2))
        self.engine.acd.exit_with(self.call, f"key:{digit}")
        return True

    def _enter_hangup(self, node: Node) -> None:
        self.engine.play(self.call, list(node.prompts), on_done=self.engine.flow_hangup_cb(self.call))

    def _enter_goto(self, node: Node) -> None:
        self.enter(node.next)

    # --- input --------------------------------------------------------------------------------
    def on_digit(self, digit: str) -> None:
        self.typed += digit
        node = self.node
        if node is None or node.type not in ("play", "menu"):
            return
        if node.barge_in and self.engine.stop_playing(self.call):
            if node.type == "play":
                self.enter(node.next)
                return
        if self._collecting and not self.engine.is_playing(self.call):
            self._take_digit()

    def _await_digit(self) -> None:
        if self.typed:
            self._take_digit()
            return
        self._timer = self.engine.later(self.node.timeout, self._no_input)

    def _take_digit(self) -> None:
        self._cancel_timer()
        node = self.node
        digit, self.typed = self.typed[0], self.typed[1:]
        target = dict(node.choices).get(digit)
        if target is not None:
            self.call.event("ivr:choice", node=node.name, digit=digit, next=target)
            self.enter(target)
            return
        self.call.event("ivr:invalid", node=node.name, digit=digit)
        self.typed = ""
        self._retry(node.invalid)

    def _no_input(self) -> None:
        self.call.event("ivr:timeout", node=self.node.name)
        self._retry(self.node.no_input)

    def _retry(self, apology: tuple[str, ...]) -> None:
        node = self.node
        self.tries += 1
        if self.tries > node.retries:
            self.enter(node.on_fail)
            return
        self._enter_menu(node, prompts=apology)

    def _cancel_timer(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None

    def stop(self) -> None:
        self._cancel_timer()
        self.node = None
