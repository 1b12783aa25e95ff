"""The IVR: runs a validated flow (firmware/callcenter/flows.py) for one call, node by node."""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from firmware.callcenter.calls import CallState, Disposition
from firmware.callcenter.flows import Flow, Node
from firmware.callcenter.schedules import Schedule
from firmware.callcenter.say import SayError

if TYPE_CHECKING:
    from firmware.callcenter.calls import Call
    from firmware.callcenter.center import CallCenter
    from firmware.core.application import Services
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)


class IvrError(Exception):
    """A flow's continuation ran for a call whose session is at no node (it was stopped)."""


@dataclass
class _Read:
    """A digit read in progress: what is collected so far, and when it ends."""
    max: int                       # keys to collect
    term: str                      # the key that ends it early ("" for none)
    first: float                   # s to wait for the first key after the prompt
    inter: float                   # ... and between keys
    done: Callable[[str | None], None]
    barge_in: bool                 # a key stops the prompt
    digits: str = ""


class IvrSession:
    """Runs a flow for one call. Digits pressed during a prompt with barge-in stop it and are kept
    for the next node that reads digits (type-ahead), as callers who know the menu expect."""

    def __init__(self, svc: "Services", center: "CallCenter", call: "Call", flow: Flow):
        self.svc, self.center, self.call, self.flow = svc, center, call, flow
        self.node: Node | None = None
        self.vars: dict[str, str] = {"caller": call.number or ""}
        self.typed = ""          # type-ahead digits not yet consumed
        self.tries = 0
        self._timer: Timer | None = None
        self._reader: _Read | None = None   # the digit read in progress

    def start(self) -> None:
        self.enter(self.flow.start)

    def enter(self, name: str) -> None:
        self._cancel_timer()
        self._reader = None
        node = self.flow.nodes[name]
        self.node, self.tries = node, 0
        self.call.node = name
        self.call.path.append(name)
        # Written as it grows so the call list shows the path of calls still in progress.
        self.call.update(path=json.dumps(self.call.path))
        self.call.event("ivr:node", node=name, type=node.type)
        getattr(self, f"_enter_{node.type}")(node)

    def _current(self) -> Node:
        if self.node is None:
            raise IvrError(f"call {self.call.id}: flow {self.flow.name} is at no node")
        return self.node

    def stop(self) -> None:
        self._cancel_timer()
        self._reader = None
        self.node = None

    # --- values -------------------------------------------------------------------------------
    def value(self, ref: str) -> str:
        return self.vars.get(ref[1:], "") if ref.startswith("$") else ref

    def prompts(self, names: Iterable[str]) -> list[str]:
        """Prompt names with $variables resolved; a variable naming no prompt is skipped, logged."""
        out = []
        for name in names:
            name = self.value(name) if name.startswith("$") else name
            if name in self.svc.prompts:
                out.append(name)
            else:
                log.warning("call %s: flow %s node %s: no prompt %r", self.call.id, self.flow.name,
                            self.node.name if self.node else "?", name)
        return out

    def play(self, names: Iterable[str], then: Callable[[], None]) -> None:
        self.center.play(self.call, self.prompts(names), on_done=then)

    # --- reading digits -----------------------------------------------------------------------
    def read(self, prompts: Iterable[str], on_done: Callable[[str | None], None], max_digits: int = 1,
             terminator: str = "", first_timeout: float = 5.0, inter_digit: float = 3.0,
             barge_in: bool = True) -> None:
        """Play `prompts`, then collect up to `max_digits` keys; `on_done(digits)` or `on_done(None)`
        on silence. Keys typed during the prompt (barge-in) or before it count."""
        self._reader = _Read(max_digits, terminator, first_timeout, inter_digit, on_done, barge_in)
        if self.typed:
            self._consume()
            return
        self.play(prompts, then=self._prompt_over)

    def _prompt_over(self) -> None:
        r = self._reader
        if r is None:
            return
        if not self._consume():
            self._timer = self.svc.later(r.inter if r.digits else r.first, self._read_timeout)

    def _consume(self) -> bool:
        """Take typed keys into the read in progress; True once the read has finished."""
        r = self._reader
        while r is not None and self.typed and r is self._reader:
            key, self.typed = self.typed[0], self.typed[1:]
            if r.term and key == r.term:
                self._finish(r, r.digits)
                return True
            r.digits += key
            if len(r.digits) >= r.max:
                self._finish(r, r.digits)
                return True
        return False

    def _finish(self, r: _Read, digits: str | None) -> None:
        self._reader = None
        self._cancel_timer()
        self.center.stop_playing(self.call)
        r.done(digits)

    def _read_timeout(self) -> None:
        r = self._reader
        if r is not None:
            self._finish(r, r.digits or None)

    def on_digit(self, digit: str) -> None:
        self.typed += digit
        node, r = self.node, self._reader
        if node is None:
            return
        if r is None:
            if node.type == "play" and node.barge_in and self.center.stop_playing(self.call):
                self.enter(node.next)
            return
        if self.center.is_playing(self.call):
            if not r.barge_in:
                return
            self.center.stop_playing(self.call)
        self._cancel_timer()
        if not self._consume():
            self._timer = self.svc.later(r.inter, self._read_timeout)

    def _cancel_timer(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None

    def _retry_or_fail(self, apology: Iterable[str], again: Callable[[list[str]], None]) -> None:
        node = self._current()
        self.tries += 1
        if self.tries > node.retries:
            self.enter(node.on_fail)
            return
        again(list(apology))

    # --- node types ---------------------------------------------------------------------------
    def _enter_play(self, node: Node) -> None:
        if node.barge_in and self.typed:
            self.enter(node.next)
            return
        self.play(node.prompts, then=lambda: self.enter(node.next))

    def _enter_goto(self, node: Node) -> None:
        self.enter(node.next)

    def _enter_hangup(self, node: Node) -> None:
        self.play(node.prompts, then=lambda: self.center.end_call(self.call, Disposition.COMPLETED, "box"))

    def _enter_menu(self, node: Node, apology: list[str] | None = None) -> None:
        def chosen(digits: str | None) -> None:
            if digits is None:
                self.call.event("ivr:timeout", node=node.name)
                self._retry_or_fail(node.no_input, lambda a: self._enter_menu(node, a))
                return
            target = dict(node.choices).get(digits)
            if target is None:
                self.call.event("ivr:invalid", node=node.name, digit=digits)
                self.typed = ""
                self._retry_or_fail(node.invalid, lambda a: self._enter_menu(node, a))
                return
            self.call.event("ivr:choice", node=node.name, digit=digits, next=target)
            self.enter(target)
        self.read(list(apology or []) + list(node.prompts), chosen, first_timeout=node.timeout)

    def _enter_collect(self, node: Node, apology: list[str] | None = None) -> None:
        if node.secure:
            self._secure(True)

        def collected(digits: str | None) -> None:
            ok = digits is not None and node.min_digits <= len(digits) <= node.max_digits
            shown = "*" * len(digits or "") if node.secure else digits
            if digits is None or not ok:
                self.call.event("ivr:invalid" if digits else "ivr:timeout", node=node.name, digits=shown)
                self.typed = ""
                self._retry_or_fail(node.invalid, lambda a: self._enter_collect(node, a))
                return
            if node.secure:
                self._secure(False)
            self.vars[node.var] = digits
            self.call.event("ivr:collect", node=node.name, var=node.var, digits=shown)
            self.enter(node.next)
        self.read(list(apology or []) + list(node.prompts), collected, max_digits=node.max_digits,
                  terminator=node.terminator, first_timeout=node.timeout, inter_digit=node.inter_digit)

    def _secure(self, on: bool) -> None:
        """Secure input: the recording (if one runs) is silenced and the digits kept out of the records."""
        self.call.secure_input = on
        if self.call.recording_id:
            self.call.recording_paused = on
            self.center.recording_changed()

    def _enter_say(self, node: Node) -> None:
        say = self.center.say
        raw = self.value(node.value)
        try:
            if node.what == "digits":
                words = say.digits(raw)
            elif node.what == "number":
                words = say.number(int(raw))
            elif node.what == "amount":
                words = say.amount(raw)
            else:   # date: MMDD or YYYY-MM-DD
                digits = raw.replace("-", "")
                words = say.date(int(digits[-4:-2]), int(digits[-2:]))
        except (SayError, ValueError, IndexError) as exc:
            log.warning("call %s: node %s cannot say %r as %s: %s", self.call.id, node.name, raw, node.what, exc)
            words = []
        self.center.play(self.call, self.prompts(node.prompts) + words + self.prompts(node.after),
                         on_done=lambda: self.enter(node.next))

    def _enter_lookup(self, node: Node) -> None:
        key = self.value(node.key)
        item = self.center.lookups.get(node.table, key) if self.center.lookups else None
        self.call.event("ivr:lookup", node=node.name, table=node.table, found=item is not None)
        if item is None:
            self.enter(node.on_missing)
            return
        for field_name, value in item.items():
            self.vars[f"{node.into}.{field_name}"] = str(value)
        self.enter(node.next)

    def _enter_hours(self, node: Node) -> None:
        now = dt.datetime.fromtimestamp(self.svc.clock.time())
        schedule = (self.center.site.schedules.get(node.schedule) if node.schedule
                    else Schedule(node.name, node.days, node.open, node.close, node.holidays))
        # A schedule the settings dropped after the flow was checked against them: closed, as the
        # safer answer (the caller hears the closed message, not a queue nobody may staff).
        self.enter(node.next if schedule is not None and schedule.is_open(now) else node.closed)

    def _enter_caller(self, node: Node) -> None:
        c = self.call.customer
        if c is not None and c.blocked and node.on_blocked:
            self.enter(node.on_blocked)
        elif c is not None and c.vip >= node.vip_level and node.on_vip:
            self.enter(node.on_vip)
        elif c is not None and node.on_known:
            self.enter(node.on_known)
        else:
            self.enter(node.next)

    def _enter_survey(self, node: Node) -> None:
        def answered(digits: str | None) -> None:
            if digits is None or digits not in node.answers:
                self.tries += 1
                if self.tries <= node.retries:
                    self.typed = ""
                    self.read(list(node.prompts), answered, first_timeout=node.timeout)
                    return
                self.enter(node.next)
                return
            # The survey's own `name` (its opts): Node.name is the node's id in the flow.
            survey = node.opts["name"]
            self.svc.records.insert("survey_answers", {
                "id": self.svc.new_id(), "call_id": self.call.id, "survey": survey,
                "question": node.question, "answer": digits, "at": self.svc.clock.time()})
            self.call.event("ivr:survey", survey=survey, question=node.question, answer=digits)
            self.enter(node.next)
        self.read(list(node.prompts), answered, first_timeout=node.timeout)

    def _enter_transfer(self, node: Node) -> None:
        self.play(node.prompts, then=lambda: self.center.transfer_out(
            self.call, node.number, on_fail=lambda why: self.enter(node.on_fail)))

    def _enter_voicemail(self, node: Node) -> None:
        self.play(node.prompts, then=lambda: self.center.voicemail.record(self.call, node))

    def _enter_callback(self, node: Node) -> None:
        self.center.callbacks.offer_in_ivr(self, node)

    # --- queues -------------------------------------------------------------------------------
    def _enter_queue(self, node: Node) -> None:
        self.typed = ""
        self.call.after_agent = (lambda: self.enter(node.after)) if node.after else None
        self.center.enqueue(self.call, node.queue, self._queue_exit)

    def _queue_exit(self, outcome: str) -> None:
        """The caller left the queue: the queue was full, they waited too long, or pressed a key. The
        flow's queue node says where they go; else the queue's own overflow target (site.toml)."""
        node = self._current()
        target = {"full": node.on_full, "timeout": node.on_timeout}.get(outcome)
        if outcome.startswith("key:"):
            target = dict(node.keys).get(outcome[4:])
        if target is not None:
            self.enter(target)
            return
        cfg = self.center.acd.settings_of(self.call.queue or node.queue)
        overflow = (cfg.on_full if outcome == "full" else cfg.on_timeout) if cfg is not None else ""
        self._overflow(overflow, outcome, cfg.overflow_prompts if cfg is not None else [])

    def _overflow(self, target: str, outcome: str, prompts: list[str]) -> None:
        """Send an overflowing caller where their queue's settings say."""
        why = Disposition.OVERFLOW if outcome == "full" else Disposition.TIMEOUT
        kind, _, name = target.partition(":")
        if target:
            self.call.event("queue:overflow", outcome=outcome, to=target)
        if kind == "queue" and name in self.center.acd.queues:
            # One hop only: out of the second queue too, the caller is hung up on (no ping-pong).
            self.center.enqueue(self.call, name, lambda again: self._queue_exit(again) if again.startswith("key:")
                                else self._overflow("", again, []))
        elif kind == "node" and name in self.flow.nodes:
            self.enter(name)
        elif target == "hangup" and prompts:
            self.play(prompts, then=lambda: self.center.end_call(self.call, why, "box"))
        else:
            self.center.end_call(self.call, why, "box")

    def over_cap(self, target: str, prompts: list[str]) -> None:
        """The call's trunk group is at its cap (trunk_groups.py): its overflow, as a full queue's."""
        self._overflow(target, "full", prompts)

    def on_queue_digit(self, digit: str) -> bool:
        """A key pressed while waiting: True if it takes the caller out of the queue."""
        node = self.node
        if node is None or node.type != "queue" or digit not in dict(node.keys):
            return False
        q = self.center.acd.queues[node.queue]
        self.call.event("queue:exitkey", queue=node.queue, digit=digit,
                        position=q.position(self.call) if self.call in q.waiting else 1,
                        wait=round(self.svc.clock.time() - self.call.waiting_since, 2))
        self.center.acd.exit_with(self.call, f"key:{digit}")
        return True

    def resume_after_agent(self) -> bool:
        """The agent hung up first: continue the flow (a survey) if the queue node says so."""
        after = self.call.after_agent
        if after is None or self.call.state == CallState.ENDED:
            return False
        self.call.after_agent = None
        self.call.set_state(CallState.IVR)
        after()
        return True
