"""Callbacks that keep the caller's place: the caller hangs up, a request waits in the queue where
they were, and when its turn comes an agent is rung and the box dials the caller back."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable

from firmware.callcenter.acd import NO_ANSWER, Agent, AgentState, Queue
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.flows import Node
from firmware.callcenter.legs import not_reached
from firmware.callcenter.trunk_groups import OUT
from firmware.core.application import Services

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter
    from firmware.callcenter.ivr import IvrSession
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

# Retry policy for a callback nobody answered (busy, no answer): how often, how long between.
MAX_ATTEMPTS = 3
RETRY_S = 300.0
# Callback numbers: at least a local number, at most an international one (ITU-T E.164: 15 digits).
MIN_NUMBER, MAX_NUMBER = 5, 15


@dataclass(frozen=True)
class PendingCallback:
    """A callback request as the store kept it, to be taken up again at start."""
    id: str
    call_id: str
    number: str
    queue: str
    state: str              # pending (waiting in the queue), retry (waiting to go back), dialing
    attempts: int
    queued_at: float        # its place in the queue
    updated_at: float
    priority: int
    dedicated: str | None   # the caller's own agent, waited for first


class CallbackRequest:
    """Waits in a queue in the caller's place (an acd.QueueEntry): when matched, one agent is rung
    before the number is dialled (`offered`)."""

    def __init__(self, req_id: str, call_id: str, number: str, queue: str, queued_at: float, priority: int,
                 dedicated: str | None, offer: Callable[[Queue, "CallbackRequest", Agent], None]):
        self.id, self.call_id, self.number, self.queue = req_id, call_id, number, queue
        self.queued_at, self.priority = queued_at, priority
        self.dedicated = dedicated
        self.offered: Callable[[Queue, list[Agent]], None] = lambda q, agents: offer(q, self, agents[0])
        self.ringing: list[Agent] = []
        self.ring_timer: Timer | None = None
        self.timers: list[Timer] = []
        self.attempts = 0
        self.state = CallState.QUEUED

    @property
    def waiting_since(self) -> float:
        return self.queued_at

    def event(self, kind: str, **data: object) -> None:
        """Callback progress lives in the callbacks table; nothing to add to a finished call's journal."""


class Callbacks:
    def __init__(self, svc: Services, center: "CallCenter"):
        self.svc, self.center = svc, center
        self.requests: dict[str, CallbackRequest] = {}
        self.dialing: dict[str, CallbackRequest] = {}     # callback call id -> its request, until answered
        svc.observe(self._observe)

    # --- the caller asks ----------------------------------------------------------------------
    def offer_in_ivr(self, session: "IvrSession", node: Node) -> None:
        call = session.call
        queue = node.queue or call.queue
        if not queue or queue not in self.center.acd.queues:
            log.warning("call %s: callback node %s has no queue to wait in", call.id, node.name)
            session.enter(node.on_fail)
            return
        if call.number and MIN_NUMBER <= len(call.number) <= MAX_NUMBER and call.number.isdigit():
            self._confirm(session, node, queue, call.number)
        else:
            self._ask_number(session, node, queue)

    def _confirm(self, session: "IvrSession", node: Node, queue: str, number: str) -> None:
        words = session.prompts(node.prompts) + self.center.say.digits(number) + session.prompts(node.confirm)

        def answered(key: str | None) -> None:
            if key == "1":
                self._accept(session, node, queue, number)
            elif key == "2":
                self._ask_number(session, node, queue)
            else:
                session.tries += 1
                if session.tries > 2:
                    session.enter(node.on_fail)
                else:
                    self._confirm(session, node, queue, number)
        session.center.play(session.call, words, on_done=lambda: session.read([], answered))

    def _ask_number(self, session: "IvrSession", node: Node, queue: str) -> None:
        def typed(digits: str | None) -> None:
            if digits and MIN_NUMBER <= len(digits) <= MAX_NUMBER:
                self._confirm(session, node, queue, digits)
                return
            session.tries += 1
            if session.tries > 2:
                session.enter(node.on_fail)
            else:
                self._ask_number(session, node, queue)
        session.read(list(node.enter_number), typed, max_digits=MAX_NUMBER, terminator="#")

    def _accept(self, session: "IvrSession", node: Node, queue_name: str, number: str) -> None:
        call = session.call
        q = self.center.acd.queues[queue_name]
        # The request takes the caller's place if they were waiting in this queue.
        queued_at = call.queued_at if call.queue == queue_name and call.queued_at else self.svc.clock.time()
        req = CallbackRequest(self.svc.new_id(), call.id, number, queue_name, queued_at, call.priority,
                              call.dedicated, self.offer)
        self.requests[req.id] = req
        q.insert(req)
        self.svc.records.insert("callbacks", {"id": req.id, "call_id": call.id, "number": number, "queue": queue_name,
                                              "requested_at": self.svc.clock.time(), "attempts": 0, "state": "pending",
                                              "updated_at": self.svc.clock.time()})
        call.event("callback:requested", number=number, queue=queue_name, position=q.position(req))
        call.callback_id = req.id
        session.play(node.thanks, then=lambda: self.center.end_call(call, Disposition.CALLBACK, "box"))

    def restore(self, pending: list[PendingCallback]) -> None:
        """Take up the requests a stop or a crash left: each goes back to its place in its queue
        (its time of entry and priority); one being dialled when the box stopped was an attempt that
        reached nobody, and follows the retry rules (README, callbacks)."""
        now = self.svc.clock.time()
        for p in pending:
            if p.queue not in self.center.acd.queues:
                log.warning("callback %s: queue %s is gone; the request is dropped", p.id, p.queue)
                self._update_row(p.id, "failed", p.attempts, result="queue gone")
                continue
            dedicated = p.dedicated if p.dedicated in self.center.acd.agents else None
            req = CallbackRequest(p.id, p.call_id, p.number, p.queue, p.queued_at, p.priority, dedicated,
                                  self.offer)
            req.attempts = p.attempts
            self.requests[req.id] = req
            if p.state == "pending":
                self.center.acd.queues[p.queue].insert(req)
            elif p.state == "retry":
                self.svc.later(max(0.0, p.updated_at + RETRY_S - now), self._requeue, req)
            else:
                self._retry(req, Disposition.INTERRUPTED.value)
            log.info("callback %s to %s taken up again (%s, %d attempts)", p.id, p.number, p.state, p.attempts)

    # --- its turn comes -----------------------------------------------------------------------
    def offer(self, q: Queue, req: CallbackRequest, agent: Agent) -> None:
        """The queue matched the request with a free agent: ring the agent first, unless its trunk
        group may not take a trunk now (at its cap, or the free ones owed to another group): then
        nobody is rung for nothing, and the request keeps its place for the next dispatch."""
        if not self.center.trunk_groups.may_seize(self.center.trunk_groups.group_for(queue=req.queue), OUT):
            return
        if not self.center.acd.ring(agent, None, partial(self._agent_answered, q, req),
                                    partial(self._agent_missed, req)):
            return   # the request keeps its place for the next free agent
        req.ringing = [agent]
        req.ring_timer = self.svc.later(q.cfg.ring_timeout, self._agent_missed, req, agent, NO_ANSWER)

    def _agent_missed(self, req: CallbackRequest, agent: Agent, why: str) -> None:
        if req.ringing != [agent]:
            return
        if req.ring_timer:
            req.ring_timer.cancel()
        req.ringing, req.ring_timer = [], None
        self.center.acd.not_reached(agent, why)
        self.center.acd.dispatch()

    def _agent_answered(self, q: Queue, req: CallbackRequest, agent: Agent) -> None:
        if req.ring_timer:
            req.ring_timer.cancel()
        req.ringing = []
        group = self.center.trunk_groups.group_for(queue=req.queue)
        if self.center.legs.idle_trunk() is None or not self.center.trunk_groups.may_seize(group, OUT):
            # The agent is released, the request keeps its place and asks again at the next trunk freed.
            log.warning("callback %s: no line its trunk group may take to dial %s out on; it waits",
                        req.id, req.number)
            self.center.acd.unring(agent)
            return
        q.waiting.remove(req)
        req.attempts += 1
        call = self.center.outbound_call(None, req.number, agent, direction="callback")
        agent.call = call    # the agent's hang-up ends it, as any call of theirs
        call.queue = req.queue
        call.update(queue=req.queue)
        agent.set_state(AgentState.TALKING)
        call.event("callback:dial", request=req.id, number=req.number, attempt=req.attempts)
        self._update(req, "dialing", callback_call_id=call.id, agent_id=agent.id)
        self.dialing[call.id] = req
        self.center.legs.dial_out(call, req.number, on_answer=lambda: self._answered(req, call),
                                  on_fail=lambda why: self._failed(req, call, why),
                                  on_clear=lambda: self.center.end_call(call, Disposition.ANSWERED, "caller"))

    def _answered(self, req: CallbackRequest, call: Call) -> None:
        self.dialing.pop(call.id, None)
        self.center.connect(call, call.talker)
        call.connected_at = self.svc.clock.time()
        call.update(connected_at=call.connected_at, agent_id=call.talker.id)
        self.requests.pop(req.id, None)
        self._update(req, "done", result="answered")
        self.svc.emit("callback:answered", call=call, request=req.id)

    def _failed(self, req: CallbackRequest, call: Call, why: str) -> None:
        """The number was busy, unobtainable or did not answer."""
        self.dialing.pop(call.id, None)
        self.center.end_call(call, not_reached(why), "box")
        self._retry(req, why)

    def _observe(self, event: str, data: dict) -> None:
        # A callback call can end before its customer answered in other ways than the network's
        # answer: the agent hangs up while it rings, the line fails, a fault. It is not reached then.
        if event == "call:ended":
            req = self.dialing.pop(data["call"].id, None)
            if req is not None:
                self._retry(req, data["disposition"])

    def _retry(self, req: CallbackRequest, why: str) -> None:
        """README, callbacks: a caller not reached is tried again MAX_ATTEMPTS times in all, RETRY_S apart."""
        if req.attempts >= MAX_ATTEMPTS:
            self.requests.pop(req.id, None)
            self._update(req, "failed", result=why)
            self.svc.emit("callback:failed", request=req.id, why=why)
            return
        self._update(req, "retry", result=why)
        # Back at the end of the line after the retry interval: a retry never jumps the queue.
        self.svc.later(RETRY_S, self._requeue, req)

    def _requeue(self, req: CallbackRequest) -> None:
        q = self.center.acd.queues[req.queue]
        req.queued_at = self.svc.clock.time()
        q.insert(req)
        self._update(req, "pending")
        self.center.acd.dispatch()

    def _update(self, req: CallbackRequest, state: str, **changes: object) -> None:
        self._update_row(req.id, state, req.attempts, **changes)

    def _update_row(self, req_id: str, state: str, attempts: int, **changes: object) -> None:
        self.svc.records.update("callbacks", req_id, {"state": state, "attempts": attempts,
                                                      "updated_at": self.svc.clock.time(), **changes})

    def status(self) -> list[dict]:
        return [{"id": r.id, "number": r.number, "queue": r.queue, "attempts": r.attempts,
                 "waiting_since": r.queued_at} for r in self.requests.values()]
