"""A call's life and its record: explicit states, one `_set_state`, CDR and call events to the store."""
from __future__ import annotations

import enum
import json
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firmware.core.application import Services

log = logging.getLogger(__name__)


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
    VOICEMAIL = "voicemail"      # left a message
    CALLBACK = "callback"        # asked to be called back and hung up; the request keeps their place
    TRANSFERRED = "transferred"  # sent on to an external number (the HQ expert center)
    FAILED = "failed"            # the line failed (alarm) during the call
    FAX = "fax"                  # a fax machine called (T.30 calling tone): the box takes no faxes
    INTERRUPTED = "interrupted"  # the box stopped (a crash, a power cut) during the call: closed at the next start


class Call:
    """One inbound call, from first ring to hang-up."""

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
        self.customer = None                 # customers.Customer when the caller ID is known
        self.priority = 0                    # VIP level: higher waits less
        self.dedicated: str | None = None    # the VIP's own agent, tried first
        self.agent = None                    # acd.Agent once connected
        self.ringing: list = []              # agents whose phones ring for this caller
        self.ring_timer = None
        self.ring_started: float | None = None
        self.queue_position = 0              # position on entering the queue (queue_log origposition)
        self.timers: list = []               # queue timers: max wait, escalation, announcements
        self.on_queue_exit = None            # the flow's continuation when the caller leaves a queue
        self.offered = None                  # what a queue's match does: ring the agents (acd.QueueEntry)
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self.digits = ""
        self.path: list[str] = []
        self.node: str | None = None
        self.disposition: Disposition | None = None
        self.recording_id: str | None = None
        self.recording_paused = False        # an agent's pause, or secure input being typed
        self.conversation = None             # conversation.Conversation once an agent answered
        self.mixed: set[int] = set()         # channels whose mixing legs this call has set
        self.third = None                    # a consulted, conferenced or transferred-to party
        self.after_agent = None              # the flow's continuation when the agent hangs up first
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

    @property
    def line_name(self) -> str | None:
        return self.svc.lines.channels[self.channel].name if self.channel is not None else None

    def __repr__(self) -> str:
        return f"<Call {self.id} ch{self.channel} {self.state.value}>"

    def set_state(self, state: CallState, **data) -> None:
        if state == self.state:
            return
        log.debug("call %s: %s -> %s", self.id, self.state.value, state.value)
        self.state = state
        self.svc.emit(f"call:{state.value}", call=self, **data)

    def event(self, kind: str, **data) -> None:
        """Append to the call's event journal (IVR nodes, digits, queue, agent, hang-up) and tell
        the box's observers (queue_log, scenario runner)."""
        self.svc.emit(kind, call=self, **data)
        self._events += 1
        self.svc.records.insert("call_events", {
            "id": f"{self.id}-{self._events:04d}", "call_id": self.id, "at": self.svc.clock.time(),
            "kind": kind, "data": json.dumps(data, separators=(",", ":")) if data else None})

    def update(self, **changes) -> None:
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
                "priority": self.priority, "customer": self.customer.name if self.customer else None}

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
