"""The call center's live events (docs/architecture.md §15): what the box's observers hear, told as
the agent, offer, call, queue and supervisor events the web's pages are built on.

It listens to the call center's own events (`area:action`, emitted by each state change) and reads
the objects they name; it changes nothing. While nobody subscribes it returns at once, so the loop
pays one call and one check per event. A queue's figures and a line's status change many times in
a tick: each goes out once, at the end of the tick (EventBus.later).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from firmware.callcenter.acd import AgentState
from firmware.callcenter.agent_lines import PhoneLine
from firmware.callcenter.calls import Call, CallState

if TYPE_CHECKING:
    from firmware.callcenter.acd import Acd, Agent, Queue
    from firmware.callcenter.supervisors import Supervisor
    from firmware.core.application import Services
    from firmware.core.events import EventBus

# The call's state as the pages name it (the contract of docs/architecture.md §15); a connected call
# is talking, held, transferring or in conference as its parties stand (`_call_state`).
CALL_STATES = {CallState.RINGING: "ringing", CallState.IVR: "ivr", CallState.QUEUED: "queued",
               CallState.RINGING_AGENT: "ringing", CallState.DIALING: "ringing", CallState.ENDED: "ended"}


def call_state(call: Call) -> str:
    if call.state != CallState.CONNECTED:
        return CALL_STATES[call.state]
    third = call.third
    if third is not None and third.purpose == "conference" and third.answered:
        return "conference"
    if third is not None and third.purpose != "conference":
        return "transferring"
    if call.hold_started is not None:
        return "held"
    return "talking"


# The dialer's events and the live event each becomes (docs/architecture.md §15, §22).
CAMPAIGN_EVENTS = {"campaign:changed": "campaign", "campaign:preview": "preview"}


class LiveEvents:
    """Observer of the call center's events; publishes their live form on the engine's EventBus."""

    def __init__(self, svc: "Services", bus: "EventBus", acd: "Acd", service_level_s: float,
                 supervisor: Callable[[str], "Supervisor | None"]):
        """`supervisor(id)`: a supervisor by id (an event about a call names them by id)."""
        self.svc, self.bus, self.acd, self.supervisor = svc, bus, acd, supervisor
        self.service_level_s = service_level_s
        self._calls: dict[str, tuple] = {}     # call id -> what its last call event said
        svc.observe(self.on_event)

    def on_event(self, event: str, data: dict) -> None:
        if not self.bus.subscribed:
            if self._calls:
                self._calls.clear()     # a new subscriber reads the calls from status first
            return
        area = event.partition(":")[0]
        if event in CAMPAIGN_EVENTS:
            # The dialer's (firmware/callcenter/dialer.py): a campaign's state and counts, a contact
            # offered to an agent in preview mode; published as they are.
            self.bus.publish(CAMPAIGN_EVENTS[event], dict(data))
            return
        call = data.get("call")
        if area == "agent" and "agent" in data and not isinstance(data["agent"], str):
            self._agent(data["agent"])
        elif area == "supervisor" and "supervisor" in data:
            sup = self.supervisor(data["supervisor"]) if isinstance(data["supervisor"], str) else data["supervisor"]
            if sup is not None:
                self._supervisor(sup)
        if isinstance(call, Call):
            self._call(call)
            if call.agent is not None and event in ("call:hold", "call:resume"):
                self._agent(call.agent)
            if call.queue is not None:
                self._queue(call.queue)
            if call.channel is not None:
                self.bus.line_changed(call.channel)

    # --- each kind of event -------------------------------------------------------------------------
    def _agent(self, agent: "Agent") -> None:
        call = agent.call
        self.bus.publish("agent", {
            "agent": agent.id, "name": agent.name, "state": agent.state.value, "reason": agent.reason,
            "since": agent.since, "call": call.id if call is not None else None,
            "held": call is not None and call.hold_started is not None,
            "wrapup_until": agent.wrapup_until,
            "remote": isinstance(agent.line, PhoneLine), "number": call.number if call is not None else None,
            # As the status names them (the dashboard's columns): their phone, today's calls and talk.
            **agent.line.status(), "calls": agent.calls, "talk_s": round(agent.talk_s, 1)})
        if agent.state == AgentState.RINGING and call is not None:
            self._offer(agent, call)
        if agent.line.channel is not None:
            self.bus.line_changed(agent.line.channel)
        for q in self.acd.queues.values():
            if agent.level(q.cfg.skill) >= q.cfg.min_level:
                self._queue(q.name)

    def site_changed(self) -> None:
        """New site settings: queues, agents and supervisors may have come or gone, which no state
        change tells; a `site` event has the pages read their snapshot again."""
        self.bus.publish("site", {"queues": sorted(self.acd.queues), "agents": sorted(self.acd.agents)})

    def _offer(self, agent: "Agent", call: Call) -> None:
        customer = call.customer
        self.bus.publish("offer", {
            "agent": agent.id, "call": call.id, "number": call.number, "name": call.name, "queue": call.queue,
            # The IVR path and the keys pressed; secure input was masked as it was heard (center.on_digit).
            "path": list(call.path), "digits": call.digits, "vip": call.priority,
            "customer_id": customer.id if customer is not None else None, "direction": call.direction})

    def _call(self, call: Call) -> None:
        state = call_state(call)
        agent = call.agent.id if call.agent is not None else (
            call.ringing[0].id if len(call.ringing) == 1 else None)
        said = (state, call.state, agent, call.queue, call.number, call.name)
        if self._calls.get(call.id) == said:
            return
        if state == "ended":
            self._calls.pop(call.id, None)
        else:
            self._calls[call.id] = said
        self.bus.publish("call", {
            "call": call.id, "state": state, "agent": agent, "queue": call.queue, "number": call.number,
            "since": self.svc.clock.time(), "arrived_at": call.arrived_at, "queued_at": call.queued_at,
            "ringing": [a.id for a in call.ringing], "direction": call.direction,
            "disposition": call.disposition.value if call.disposition is not None else None,
            # The call as the status lists it (the engine's own state, its trunk, the caller's name).
            "phase": call.state.value, "name": call.name, "channel": call.line_name,
            "priority": call.priority})

    def _queue(self, name: str) -> None:
        self.bus.later(("queue", name), lambda: self._queue_event(name))

    def _queue_event(self, name: str) -> tuple[str, dict] | None:
        q: Queue | None = self.acd.queues.get(name)
        if q is None:
            return None
        figures = self.acd.queue_status(q, self.svc.clock.time())
        return "queue", {**figures, "queue": name, "longest_wait": figures["longest_wait_s"],
                         "target": self.service_level_s, "asa": figures["asa_s"],
                         # When the longest-waiting caller came: a page counts the wait on from it.
                         "oldest_since": min((c.waiting_since for c in q.waiting), default=None)}

    def _supervisor(self, sup: "Supervisor") -> None:
        on_call = sup.call is not None
        self.bus.publish("supervisor", {
            "supervisor": sup.id, "name": sup.name, "state": sup.state.value,
            "mode": sup.listen.value if on_call else None,
            "agent": sup.agent.id if sup.agent is not None else None,
            "call": sup.call.id if sup.call is not None else None})
