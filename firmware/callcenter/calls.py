"""A call's life and its record: explicit states, one `_set_state`, CDR and call events to the store."""
from __future__ import annotations

import enum
import json
import logging
from typing import TYPE_CHECKING, Callable, TypeVar

if TYPE_CHECKING:
    from firmware.callcenter.acd import Agent, Queue
    from firmware.callcenter.conversation import Conversation
    from firmware.callcenter.customers import Customer
    from firmware.callcenter.transfers import Third
    from firmware.core.application import Services
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

T = TypeVar("T")


class CallError(Exception):
    """A call lacks what its state should have given it (a line, a queue, an agent, a conversation):
    the state machine was broken, and the handler that found it fails for that call alone."""


class CallState(str, enum.Enum):
    RINGING = "ringing"              # the line rings; the box has not answered yet
    IVR = "ivr"                      # answered, in the flow
    QUEUED = "queued"                # waiting for an agent
    RINGING_AGENT = "ringing_agent"  # an agent's phone rings for this caller
    DIALING = "dialing"              # outbound: the customer's number is being dialled
    CONNECTED = "connected"          # caller and agent talk
    ENDED = "ended"


class Disposition(str, enum.Enum):
    ANSWERED = "answered"        # talked to an agent
    ABANDONED = "abandoned"      # hung up while waiting for an agent
    IVR_HANGUP = "ivr_hangup"    # hung up in the IVR before reaching a queue
    COMPLETED = "completed"      # the flow ended the call itself (goodbye)
    TIMEOUT = "timeout"          # waited longer than the queue's maximum
    OVERFLOW = "overflow"        # the queue was full and the flow had nowhere else to send the caller
    UNANSWERED = "unanswered"    # rang off before the box answered; outbound: nobody picked up
    BUSY = "busy"                # outbound: the number was busy
    CONGESTION = "congestion"    # outbound: the network had no route (congestion tone)
    UNOBTAINABLE = "unobtainable"  # outbound: no such number (special information / unobtainable tone)
    VOICEMAIL = "voicemail"      # left a message
    CALLBACK = "callback"        # asked to be called back and hung up; the request keeps their place
    TRANSFERRED = "transferred"  # sent on to an external number (the HQ expert center)
    FAILED = "failed"            # the line failed (alarm) during the call
    FAX = "fax"                  # a fax machine called (T.30 CNG) or answered (CED, V.21 flags): the box takes no faxes
    INTERRUPTED = "interrupted"  # the box stopped (a crash, a power cut) during the call: closed at the next start


class Call:
    """One call, inbound or an agent's call out, from first ring to hang-up.

    Fields a state gives the call (its line, queue, agent, conversation) are Optional until then;
    code that runs only in such a state reads them through the accessors below (`line`,
    `queue_name`, `waiting_since`, `ring_since`, `talker`, `party`, `talk`), which raise CallError
    naming the call if the state machine broke."""

    def __init__(self, svc: "Services", call_id: str, channel: int | None, now: float, direction: str = "inbound"):
        """`channel`: the call's trunk; None for an agent's call out until its number is dialled."""
        self.svc = svc
        self.id = call_id
        self.channel = channel
        self.state = CallState.RINGING
        self.number: str | None = None
        self.name: str | None = None
        self.rings = 0
        self.arrived_at = now
        self.answered_at: float | None = None
        self.queue: str | None = None
        self.queued_at: float | None = None
        self.customer: Customer | None = None    # when the caller ID is known
        self.priority = 0                    # VIP level: higher waits less
        self.dedicated: str | None = None    # the VIP's own agent, tried first
        self.agent: Agent | None = None      # once an agent answered (or was dialled for the call out)
        self.ringing: list[Agent] = []       # agents whose phones ring for this caller
        self.ring_timer: Timer | None = None
        self.ring_started: float | None = None
        self.queue_position = 0              # position on entering the queue (queue_log origposition)
        self.timers: list[Timer] = []        # queue timers: max wait, escalation, announcements
        self.on_queue_exit: Callable[[str], None] | None = None   # the flow's continuation on leaving a queue
        # What a queue's match does (acd.QueueEntry): ring the agents; set on entering a queue.
        self.offered: Callable[[Queue, list[Agent]], None] = self._not_queued
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self.digits = ""
        self.path: list[str] = []
        self.node: str | None = None
        self.disposition: Disposition | None = None
        self.recording_id: str | None = None
        self.recording_paused = False        # an agent's pause, or secure input being typed
        self.conversation: Conversation | None = None   # once an agent answered
        self.mixed: set[int] = set()         # channels whose mixing legs this call has set
        self.third: Third | None = None      # a consulted, conferenced or transferred-to party
        self.trunk_group = ""        # the trunk group holding its line (trunk_groups.py); "" for none
        self.dnis: str | None = None     # the number the caller dialled, where the trunk signals it (E1)
        self.after_agent: Callable[[], None] | None = None   # the flow's continuation when the agent hangs up first
        self.secure_input = False            # digits being typed are masked in the records
        self.voicemail_id: str | None = None
        self.callback_id: str | None = None
        self.transferred_out = False         # bridged to an external number by the flow
        self._events = 0
        self.direction = direction
        self.hold_started: float | None = None
        self.hold_s = 0.0
        self.transfers = 0
        svc.records.insert("calls", {"id": call_id, "direction": direction, "channel": self.line_name,
                                     "arrived_at": now})

    def _have(self, value: T | None, what: str) -> T:
        if value is None:
            raise CallError(f"call {self.id} has no {what}")
        return value

    @property
    def line(self) -> int:
        """The call's trunk, once it has one (an agent's call out has none until dialled)."""
        return self._have(self.channel, "line yet")

    @property
    def queue_name(self) -> str:
        """The queue the caller is in, or was last in."""
        return self._have(self.queue, "queue")

    @property
    def waiting_since(self) -> float:
        """When the caller took their place in the queue (acd.QueueEntry)."""
        return self._have(self.queued_at, "place in a queue")

    @property
    def ring_since(self) -> float:
        """When the agents' phones began to ring for the caller."""
        return self._have(self.ring_started, "agent ringing")

    @property
    def talker(self) -> "Agent":
        """The agent the call is with."""
        return self._have(self.agent, "agent")

    @property
    def party(self) -> "Third":
        """The party brought into the call (consulted, conferenced, transferred to)."""
        return self._have(self.third, "third party")

    @property
    def talk(self) -> "Conversation":
        """The call's conversation, from the agent's answer on."""
        return self._have(self.conversation, "conversation")

    def _not_queued(self, queue: "Queue", agents: list["Agent"]) -> None:
        raise CallError(f"call {self.id} is offered to {queue.name} but was never queued")

    @property
    def line_name(self) -> str | None:
        return self.svc.lines.channels[self.channel].name if self.channel is not None else None

    def __repr__(self) -> str:
        return f"<Call {self.id} ch{self.channel} {self.state.value}>"

    def set_state(self, state: CallState, **data: object) -> None:
        if state == self.state:
            return
        log.debug("call %s: %s -> %s", self.id, self.state.value, state.value)
        self.state = state
        self.svc.emit(f"call:{state.value}", call=self, **data)

    def event(self, kind: str, **data: object) -> None:
        """Append to the call's event journal (IVR nodes, digits, queue, agent, hang-up) and tell
        the box's observers (queue_log, scenario runner)."""
        self.svc.emit(kind, call=self, **data)
        self._events += 1
        self.svc.records.insert("call_events", {
            "id": f"{self.id}-{self._events:04d}", "call_id": self.id, "at": self.svc.clock.time(),
            "kind": kind, "data": json.dumps(data, separators=(",", ":")) if data else None})

    def update(self, **changes: object) -> None:
        self.svc.records.update("calls", self.id, changes)

    def wait_seconds(self, now: float) -> float | None:
        if self.queued_at is None:
            return None
        return (self.connected_at or now) - self.queued_at

    def status(self, now: float) -> dict:
        return {"id": self.id, "number": self.number, "name": self.name,
                "channel": self.line_name, "state": self.state.value,
                "node": self.node, "queue": self.queue, "arrived_at": self.arrived_at,
                "queued_at": self.queued_at, "wait_s": self.wait_seconds(now),
                "agent": self.agent.id if self.agent else None, "digits": self.digits,
                "priority": self.priority, "customer": self.customer.name if self.customer else None,
                "customer_id": self.customer.id if self.customer else None, "path": list(self.path)}

    def finish(self, disposition: Disposition, hangup_by: str, now: float) -> None:
        """Close the record: final disposition, durations; exactly once per call."""
        if self.state == CallState.ENDED:
            return
        self.disposition = disposition
        self.ended_at = now
        talk = now - self.connected_at if self.connected_at is not None else None
        self.event("call:hangup", by=hangup_by, disposition=disposition.value)
        if self.hold_started is not None:
            self.hold_s += now - self.hold_started
        self.update(ended_at=now, disposition=disposition.value, hangup_by=hangup_by,
                    digits=self.digits, path=json.dumps(self.path), wait=self.wait_seconds(now), talk=talk,
                    hold=round(self.hold_s, 3), transfers=self.transfers)
        self.set_state(CallState.ENDED, disposition=disposition.value)
