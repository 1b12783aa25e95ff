"""Agent and supervisor operations on live calls: hold, transfers, conference, outbound calls,
wrap-up codes, recording pause, and listening in (monitor, whisper, barge, intercept)."""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable

from drivers.channel import ChannelError

from firmware.callcenter.acd import NO_ANSWER, AcdError, Agent, AgentState
from firmware.callcenter.agent_lines import LINE_DOWN
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.conversation import Listen, Mode
from firmware.config.site import SupervisorConfig
from firmware.core.commands import WRAPUP_CODE_MAX

if TYPE_CHECKING:
    from firmware.core.engine import Engine

log = logging.getLogger(__name__)

# A number dialled out that has not answered in this time is given up (ITU-T Q.118: 90-180 s is
# the network's own limit; a caller on hold should not wait that long).
DIAL_TIMEOUT_S = 45.0
NO_LINE = "no free line to dial out on"


def not_reached(why: str) -> Disposition:
    """How a dialled customer who never answered ends: busy, failed (no line took the number), or
    unanswered (no answer, unobtainable, congestion, the agent hanging up while it rang)."""
    return {"busy": Disposition.BUSY, NO_LINE: Disposition.FAILED}.get(why, Disposition.UNANSWERED)


class OpsError(AcdError):
    """An operation that does not fit the call or the party's state."""


@dataclass
class Leg:
    """A number the box dialled on a trunk for a call: a transfer target, a conference member, the
    far end of an agent's outbound call, or a remote agent's own phone (call None: the agent's line
    owns that leg, whichever call it carries)."""
    channel: int | None                       # the trunk it is dialled on (None until one takes it)
    number: str
    call: Call | None
    on_answer: Callable[[], None]
    on_fail: Callable[[str], None]            # why: busy, congestion, sit, no answer, cleared, line alarm,
                                              # no free line
    on_clear: Callable[[], None]
    on_lost: Callable[[str], None] | None = None   # the answered line went down (alarm); None: as a clear
    on_moved: Callable[[int], None] | None = None  # glare moved it off this trunk onto `channel`
    answered: bool = False
    timer: object = None


@dataclass
class Third:
    """The party an agent brings into a call."""
    purpose: str                    # blind | consult | conference
    channel: int
    agent: Agent | None = None      # an agent rung on their own line
    leg: Leg | None = None          # or a number on a trunk
    answered: bool = False

    @property
    def name(self) -> str:
        return f"agent:{self.agent.id}" if self.agent else self.leg.number


class SupervisorState(str, enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"
    LISTENING = "listening"
    TALKING = "talking"     # took the call over (intercept)


class Supervisor:
    def __init__(self, cfg: SupervisorConfig, station: int):
        self.id, self.name, self.station = cfg.id, cfg.name, station
        self.state = SupervisorState.IDLE
        self.call: Call | None = None
        self.listen = Listen.MONITOR
        self.agent: Agent | None = None

    def status(self) -> dict:
        return {"id": self.id, "name": self.name, "state": self.state.value,
                "call_id": self.call.id if self.call else None, "mode": self.listen.value,
                "agent": self.agent.id if self.agent else None}


class Operations:
    def __init__(self, engine: "Engine", supervisors: list[SupervisorConfig]):
        self.engine = engine
        self.legs: dict[int, Leg] = {}
        channels = {c.name: c.index for c in engine.board.channels}
        self.supervisors: dict[str, Supervisor] = {}
        for cfg in supervisors:
            if cfg.station not in channels:
                raise AcdError(f"supervisor {cfg.id}: no channel named {cfg.station!r} on this board")
            self.supervisors[cfg.id] = Supervisor(cfg, channels[cfg.station])
        self.by_station = {s.station: s for s in self.supervisors.values()}

    def commands(self) -> dict[str, Callable]:
        return {
            "agent.hold": self.cmd_hold, "agent.resume": self.cmd_resume,
            "agent.transfer": self.cmd_transfer, "agent.transfer_complete": self.cmd_transfer_complete,
            "agent.transfer_cancel": self.cmd_transfer_cancel, "agent.conference": self.cmd_conference,
            "agent.dial": self.cmd_dial, "agent.wrapup": self.cmd_wrapup,
            "agent.pause_recording": self.cmd_pause_recording, "agent.record": self.cmd_record,
            "supervisor.monitor": self.cmd_monitor, "supervisor.stop": self.cmd_stop,
            "supervisor.intercept": self.cmd_intercept, "supervisor.hangup": self.cmd_force_hangup,
            "supervisor.force_ready": lambda supervisor, agent: self._force(supervisor, agent, "ready"),
            "supervisor.force_not_ready": lambda supervisor, agent, reason="supervisor":
                self._force(supervisor, agent, "not_ready", reason),
            "supervisor.force_logout": lambda supervisor, agent: self._force(supervisor, agent, "logout"),
        }

    # --- lookups ------------------------------------------------------------------------------
    def _talking(self, agent_id: str) -> tuple[Agent, Call]:
        agent = self.engine.acd.agent(agent_id)
        call = agent.call
        if agent.state != AgentState.TALKING or call is None or call.conversation is None:
            raise OpsError(f"agent {agent.id} is not on a call")
        return agent, call

    def supervisor(self, sup_id: str) -> Supervisor:
        try:
            return self.supervisors[str(sup_id)]
        except KeyError:
            raise OpsError(f"unknown supervisor {sup_id!r}") from None

    def idle_trunk(self) -> int | None:
        """A trunk that looks idle from here (a hint: only seize() takes one), or None."""
        return next(self._idle_trunks(), None)

    def _idle_trunks(self):
        eng = self.engine
        return (info.index for info in eng.board.channels
                if info.kind.value == "trunk" and info.index not in eng.calls and info.index not in self.legs
                and info.index not in eng.alarms and info.index not in eng.testing)

    def seize(self, number: str, on_answer, on_fail, on_clear, on_lost=None, call: Call | None = None,
              on_moved=None) -> Leg | None:
        """Dial `number` on the first idle trunk that takes it; None when none does. The one way the
        box takes a trunk to dial out (a remote agent's phone, a callback, an agent's outbound call, a
        transfer or conference number): the trunk is chosen and seized in the same step, when the
        number is dialled, never reserved ahead while an agent's phone rings.

        Glare: a line that looks idle here may already be ringing with a call whose ring or caller ID
        has not reached the box. The driver arbitrates. Where it can tell at once (the simulated
        exchange; a modem that has reported RING or caller ID) it refuses the seizure with
        ChannelError and the next line is tried. A modem finds out only once it has gone off hook,
        which answered the caller: it clears the leg with `glare` and reports the caller's RING, and
        leg_event dials the number again on another line (_glare). Either way the incoming call keeps
        that line and gets its own record, and the dialled number goes out on the next free line."""
        leg = Leg(None, number, call, on_answer, on_fail, on_clear, on_lost, on_moved)
        return leg if self._place(leg, self._idle_trunks()) else None

    # --- hold ---------------------------------------------------------------------------------
    def cmd_hold(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        if call.conversation.mode != Mode.TALK:
            raise OpsError(f"agent {agent_obj.id}: the call is in {call.conversation.mode.value}, not talk")
        call.conversation.mode = Mode.HOLD
        call.hold_started = self.engine.clock.time()
        call.event("call:hold", agent=agent_obj.id)
        self.engine.apply(call)
        return agent_obj.status()

    def cmd_resume(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        if call.conversation.mode != Mode.HOLD:
            raise OpsError(f"agent {agent_obj.id}: the call is not on hold")
        self._resume(call)
        return agent_obj.status()

    def _resume(self, call: Call) -> None:
        if call.hold_started is not None:
            call.hold_s += self.engine.clock.time() - call.hold_started
            call.hold_started = None
        call.conversation.mode = Mode.TALK
        call.event("call:resume")
        self.engine.apply(call)

    # --- third parties ------------------------------------------------------------------------
    def _bring_in(self, call: Call, to: str, purpose: str, on_answer: Callable[[], None],
                  on_fail: Callable[[str], None]) -> Third:
        """Ring an agent ('agent:ID') or dial a number for the call."""
        if to.startswith("agent:"):
            target = self.engine.acd.agent(to[6:])
            if target.state != AgentState.READY:
                raise OpsError(f"agent {target.id} is not ready ({target.state.value})")

            # `third` is made once the phone rings, before it can be answered or give up.
            def answered(agent: Agent) -> None:
                agent.set_state(AgentState.TALKING)
                third.answered = True
                on_answer()
            if not self.engine.acd.ring(target, call, answered,
                                        lambda agent, why: self._third_missed(call, third, on_fail, why)):
                raise OpsError(f"agent {target.id} cannot be rung now: no free line to dial {target.line.name}")
            third = Third(purpose, target.line.channel, agent=target)
            third.timer = self.engine.later(DIAL_TIMEOUT_S, self._third_missed, call, third, on_fail, NO_ANSWER)
        else:
            if not to or not all(c in "0123456789*#" for c in to):
                raise OpsError(f"cannot dial {to!r}: give agent:ID, queue:NAME or a number")
            # `third` is made once the number is dialled, before the leg can answer or clear.
            def leg_answered() -> None:
                third.answered = True
                on_answer()
            leg = self.seize(to, leg_answered, on_fail, on_clear=lambda: self._third_left(call, third), call=call)
            if leg is None:
                raise OpsError(NO_LINE)
            third = Third(purpose, leg.channel, leg=leg)
        call.third = third
        call.event("call:third", to=third.name, purpose=purpose)
        return third

    def _third_missed(self, call: Call, third: Third, on_fail: Callable[[str], None], why: str) -> None:
        """The agent brought in did not answer, or their line could not reach them."""
        if call.third is third and not third.answered:
            self._drop_third(call)
            on_fail(why)

    def _drop_third(self, call: Call) -> None:
        third, call.third = call.third, None
        if third is None:
            return
        if third.agent is not None:
            if third.agent.state == AgentState.RINGING:
                self.engine.acd.unring(third.agent)
            else:
                self.engine.acd.drop(third.agent, call)
        elif third.leg is not None:
            self.hangup_leg(third.leg)

    def _third_left(self, call: Call, third: Third) -> None:
        """The third party hung up."""
        if call.third is not third:
            return
        call.third = None
        if third.agent is not None:
            self.engine.acd.release(third.agent, call)
        call.event("call:third_left", who=third.name)
        if call.conversation is not None and call.conversation.third == third.channel:
            call.conversation.third = None
            if call.conversation.mode in (Mode.CONSULT, Mode.CONFERENCE):
                call.conversation.mode = Mode.TALK
            if call.conversation.agent is None:
                # The transferred-to party was the only one left with the caller.
                self.engine.end_call(call, Disposition.ANSWERED, "agent")
                return
            self.engine.apply(call)

    def third_agent_left(self, agent: Agent) -> bool:
        """An agent hung up: True if they were a third party brought into their call (handled here)."""
        call = agent.call
        third = call.third if call is not None else None
        if third is None or third.agent is not agent or not third.answered:
            return False
        self._third_left(call, third)
        return True

    def supervisor_cleared(self, channel: int) -> None:
        """A supervisor's station hung up."""
        sup = self.by_station.get(channel)
        if sup is not None and sup.call is not None:
            if sup.state == SupervisorState.TALKING:
                self.engine.end_call(sup.call, Disposition.ANSWERED, "supervisor")
            else:
                self._leave(sup)

    def supervisor_answered(self, channel: int) -> None:
        """A supervisor's station picked up: they join the call they asked to listen to."""
        sup = self.by_station.get(channel)
        if sup is None or sup.state != SupervisorState.RINGING or sup.call is None:
            return
        sup.state = SupervisorState.LISTENING
        conv = sup.call.conversation
        conv.supervisor, conv.listen = sup.station, sup.listen
        sup.call.event("supervisor:join", supervisor=sup.id, mode=sup.listen.value)
        self.engine.apply(sup.call)

    # --- transfers and conference -------------------------------------------------------------
    def cmd_transfer(self, agent: str, to: str, blind: bool = True) -> dict:
        agent_obj, call = self._talking(agent)
        if call.third is not None:
            raise OpsError(f"agent {agent_obj.id} already has {call.third.name} on this call")
        if to.startswith("queue:"):
            if not blind:
                raise OpsError("a transfer to a queue is always blind")
            queue = self.engine.acd.queue(to[6:])
            self._hand_over(call, agent_obj, to)
            self.engine.acd.requeue(call, queue.name)
            return agent_obj.status()
        if blind:
            self._bring_in(call, to, "blind", on_answer=lambda: self._blind_answered(call),
                           on_fail=lambda why: self._blind_failed(call, why))
            self._hand_over(call, agent_obj, to)
            return agent_obj.status()
        call.conversation.mode = Mode.CONSULT
        call.hold_started = self.engine.clock.time()
        self.engine.apply(call)
        self._bring_in(call, to, "consult", on_answer=lambda: self._consult_answered(call),
                       on_fail=lambda why: self._consult_failed(call, why))
        return agent_obj.status()

    def _hand_over(self, call: Call, agent: Agent, to: str) -> None:
        """The agent leaves the call to `to`; the caller hears music until someone picks up."""
        talk = round(self.engine.clock.time() - agent.talk_started)
        call.event("call:transfer", agent=agent.id, to=to, blind=True, talk=talk)
        call.conversation.agent = None
        call.conversation.mode = Mode.HOLD
        call.agent = None
        self.engine.acd.drop(agent, call)
        call.transfers += 1
        self.engine.apply(call)

    def _blind_answered(self, call: Call) -> None:
        third = call.third
        conv = call.conversation
        conv.agent, conv.mode, conv.third = third.channel, Mode.TALK, None
        if third.agent is not None:
            call.agent = third.agent
            call.third = None
            call.update(agent_id=third.agent.id)
        else:
            conv.third = third.channel
            conv.agent = None
            conv.mode = Mode.CONFERENCE
        call.event("call:transfer_answered", to=third.name)
        self.engine.apply(call)

    def _blind_failed(self, call: Call, why: str) -> None:
        call.event("call:transfer_failed", why=why)
        call.third = None
        if call.queue and call.state != CallState.ENDED:
            self.engine.acd.requeue(call, call.queue)
        else:
            self.engine.end_call(call, Disposition.FAILED, "box")

    def _consult_answered(self, call: Call) -> None:
        call.conversation.third = call.third.channel
        call.event("call:consult", to=call.third.name)
        self.engine.apply(call)

    def _consult_failed(self, call: Call, why: str) -> None:
        call.event("call:transfer_failed", why=why)
        call.conversation.third = None
        self._resume(call)

    def cmd_transfer_complete(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        third = call.third
        if third is None or third.purpose != "consult" or not third.answered:
            raise OpsError(f"agent {agent_obj.id} has no answered consultation to hand the call to")
        talk = round(self.engine.clock.time() - agent_obj.talk_started)
        call.event("call:transfer", agent=agent_obj.id, to=third.name, blind=False, talk=talk)
        call.agent = None
        self.engine.acd.drop(agent_obj, call)
        call.transfers += 1
        call.conversation.agent = None
        call.conversation.mode = Mode.TALK
        self._blind_answered(call)
        self._resume_timing(call)
        return agent_obj.status()

    def cmd_transfer_cancel(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        if call.third is None or call.third.purpose != "consult":
            raise OpsError(f"agent {agent_obj.id} is not consulting anyone")
        self._drop_third(call)
        call.conversation.third = None
        self._resume(call)
        return agent_obj.status()

    def _resume_timing(self, call: Call) -> None:
        if call.hold_started is not None:
            call.hold_s += self.engine.clock.time() - call.hold_started
            call.hold_started = None

    def cmd_conference(self, agent: str, to: str) -> dict:
        agent_obj, call = self._talking(agent)
        third = call.third
        if third is not None and third.purpose == "consult" and third.answered:
            # Turn the consultation into a three-way call.
            third.purpose = "conference"
            call.conversation.mode = Mode.CONFERENCE
            self._resume_timing(call)
        elif third is not None:
            raise OpsError(f"agent {agent_obj.id} already has {third.name} on this call")
        else:
            def joined() -> None:
                call.conversation.third, call.conversation.mode = call.third.channel, Mode.CONFERENCE
                self.engine.apply(call)
            self._bring_in(call, to, "conference", on_answer=joined,
                           on_fail=lambda why: call.event("call:conference_failed", why=why))
        call.event("call:conference", to=call.third.name)
        self.engine.apply(call)
        return agent_obj.status()

    # --- outbound -----------------------------------------------------------------------------
    def _place(self, leg: Leg, trunks) -> bool:
        """Dial the leg's number on the first of `trunks` whose driver takes it; False if none does."""
        for trunk in trunks:
            try:
                self.engine.board.dial(trunk, leg.number)
            except ChannelError as exc:
                log.info("dialling %s: %s; trying another line", leg.number, exc)
                continue
            leg.channel = trunk
            self.legs[trunk] = leg
            leg.timer = self.engine.later(DIAL_TIMEOUT_S, self._leg_timeout, leg)
            return True
        return False

    def _glare(self, leg: Leg, why: str) -> None:
        """An incoming call took the trunk the leg was being dialled on (the driver found out once
        off hook): the trunk is the caller's now, and the same leg is dialled on another line."""
        lost = leg.channel
        self._forget(leg)
        call = leg.call
        # An agent's call out (dial_out) has the trunk as its own line: it lets go of it before the
        # caller's ring on it is handled, or that ring would be taken for this call's.
        own_line = call is not None and call.channel == lost
        if own_line:
            self.engine.leave_trunk(call)
        if call is not None:
            call.event("call:glare", number=leg.number, line=self.engine.board.channels[lost].name, why=why)
        log.warning("dialling %s on %s: %s; trying another line", leg.number,
                    self.engine.board.channels[lost].name, why)
        if not self._place(leg, (t for t in self._idle_trunks() if t != lost)):
            leg.on_fail(NO_LINE)
            return
        if own_line:
            self.engine.take_trunk(call, leg.channel)
            call.event("call:dial", number=leg.number, line=call.line_name)
        # A third party being brought in on that trunk (a number, or a remote agent's phone) is there now.
        for other in self.engine.calls.values():
            if other.third is not None and other.third.channel == lost and not other.third.answered:
                other.third.channel = leg.channel
        if leg.on_moved is not None:
            leg.on_moved(lost)

    def _leg_timeout(self, leg: Leg) -> None:
        if not leg.answered and self.legs.get(leg.channel) is leg:
            self.hangup_leg(leg)
            leg.on_fail(NO_ANSWER)

    def hangup_leg(self, leg: Leg) -> None:
        if self.legs.get(leg.channel) is leg:
            del self.legs[leg.channel]
            if leg.timer:
                leg.timer.cancel()
            self.engine.media.disconnect(leg.channel)
            self.engine.board.hangup(leg.channel)
            self.engine.trunk_freed()

    def leg_event(self, channel: int, kind: str, data: dict) -> bool:
        """A trunk event for a dialled leg; True if the channel was one."""
        leg = self.legs.get(channel)
        if leg is None:
            return False
        if kind == "answer" and not leg.answered:
            leg.answered = True
            leg.timer.cancel()
            leg.on_answer()
        elif kind == "progress" and not leg.answered and data.get("tone") in ("busy", "congestion", "sit"):
            self.hangup_leg(leg)
            leg.on_fail(data["tone"])
        elif kind == "clear" and not leg.answered and data.get("glare"):
            self._glare(leg, data.get("reason", "glare"))
        elif kind == "clear":
            self._forget(leg)
            (leg.on_clear if leg.answered else lambda: leg.on_fail("cleared"))()
        return True

    def leg_lost(self, channel: int, reason: str) -> bool:
        """The trunk under a dialled leg went into alarm: its far end is gone. True if it was a leg."""
        leg = self.legs.get(channel)
        if leg is None:
            return False
        self._forget(leg)
        if not leg.answered:
            leg.on_fail(LINE_DOWN)
        elif leg.on_lost is not None:
            leg.on_lost(reason)
        else:
            leg.on_clear()
        return True

    def _forget(self, leg: Leg) -> None:
        """The line is gone already (far-end clear, alarm): stop following it."""
        del self.legs[leg.channel]
        leg.timer.cancel()
        self.engine.media.disconnect(leg.channel)
        self.engine.trunk_freed()

    def cmd_dial(self, agent: str, number: str) -> dict:
        """The agent calls a customer: their phone rings first, then the number is dialled on a trunk
        seized at that moment (a trunk held while the agent's phone rang could take no caller)."""
        agent_obj = self.engine.acd.agent(agent)
        if agent_obj.state not in (AgentState.READY, AgentState.NOT_READY, AgentState.WRAPUP):
            raise OpsError(f"agent {agent_obj.id} cannot dial now ({agent_obj.state.value})")
        if not number or not all(c in "0123456789*#" for c in number):
            raise OpsError(f"cannot dial {number!r}")
        if self.idle_trunk() is None:
            raise OpsError(NO_LINE)
        call = self.engine.outbound_call(None, number, agent_obj)

        def agent_answered(a: Agent) -> None:
            a.set_state(AgentState.TALKING)
            self.dial_out(call, number, on_answer=lambda: self._outbound_answered(call),
                          on_fail=lambda why: self.engine.end_call(call, not_reached(why), "box"),
                          on_clear=lambda: self.engine.end_call(call, Disposition.ANSWERED, "caller"))
        if not self.engine.acd.ring(agent_obj, call, agent_answered, partial(self._dial_missed, call)):
            self.engine.end_call(call, Disposition.FAILED, "box")
            raise OpsError(f"agent {agent_obj.id}: no free line to ring {agent_obj.line.name} before dialling")
        if agent_obj._timer:
            agent_obj._timer.cancel()
        return {**agent_obj.status(), "call_id": call.id}

    def dial_out(self, call: Call, number: str, on_answer, on_fail, on_clear) -> Leg | None:
        """Dial the customer of an agent's own call (outbound, callback), the agent on the line already:
        the trunk seized becomes the call's line. With no trunk to be had the call ends as failed, with
        its record; None then."""
        leg = self.seize(number, on_answer, on_fail, on_clear, call=call)
        if leg is None:
            call.event("call:dial_failed", number=number, why=NO_LINE)
            self.engine.end_call(call, Disposition.FAILED, "box")
            return None
        self.engine.take_trunk(call, leg.channel)
        call.set_state(CallState.DIALING)
        call.event("call:dial", number=number, line=call.line_name)
        return leg

    def _dial_missed(self, call: Call, agent: Agent, why: str) -> None:
        """The agent's own phone did not answer: the number is never dialled."""
        self.engine.acd.not_reached(agent, why)
        self.engine.end_call(call, Disposition.UNANSWERED, "agent")

    def _outbound_answered(self, call: Call) -> None:
        self.engine.connect(call, call.agent)
        call.connected_at = self.engine.clock.time()
        call.update(connected_at=call.connected_at, agent_id=call.agent.id)

    # --- wrap-up and recording ----------------------------------------------------------------
    def cmd_wrapup(self, agent: str, code: str) -> dict:
        """Give the agent's last call a disposition code (during or right after the call)."""
        agent_obj = self.engine.acd.agent(agent)
        if not code or len(code) > WRAPUP_CODE_MAX or not code.replace("-", "").replace("_", "").isalnum():
            raise OpsError(f"wrap-up code must be 1-{WRAPUP_CODE_MAX} letters, digits, - or _")
        call_id = agent_obj.call.id if agent_obj.call else agent_obj.last_call_id
        if call_id is None:
            raise OpsError(f"agent {agent_obj.id} has no call to code")
        self.engine.store.update("calls", call_id, {"wrapup_code": code})
        self.engine.store.insert("call_events", {"id": f"{call_id}-wrapup-{self.engine.new_id()[:8]}",
                                                 "call_id": call_id, "at": self.engine.clock.time(),
                                                 "kind": "agent:wrapup", "data": f'{{"code":"{code}"}}'})
        return {**agent_obj.status(), "wrapup_code": code, "coded_call": call_id}

    def cmd_record(self, agent: str) -> dict:
        """Start recording a call of a queue whose policy is on demand."""
        agent_obj, call = self._talking(agent)
        if call.recording_id is not None:
            raise OpsError(f"agent {agent_obj.id}: this call is already being recorded")
        self.engine.start_recording(call)
        return agent_obj.status()

    def cmd_pause_recording(self, agent: str, paused: bool = True) -> dict:
        agent_obj, call = self._talking(agent)
        if call.recording_id is None:
            raise OpsError(f"agent {agent_obj.id}: this call is not being recorded")
        call.recording_paused = bool(paused)
        call.event("recording:pause" if paused else "recording:resume", agent=agent_obj.id)
        self.engine.recording_changed()
        return agent_obj.status()

    # --- supervisors --------------------------------------------------------------------------
    def cmd_monitor(self, supervisor: str, agent: str, mode: str = "monitor") -> dict:
        sup = self.supervisor(supervisor)
        try:
            listen = Listen(mode)
        except ValueError:
            raise OpsError(f"mode must be monitor, whisper or barge, not {mode!r}") from None
        agent_obj, call = self._talking(agent)
        if sup.call is not None and sup.call is not call:
            raise OpsError(f"supervisor {sup.id} is already on call {sup.call.id}")
        if call.conversation.supervisor is not None and sup.call is not call:
            raise OpsError(f"someone already listens to agent {agent_obj.id}")
        sup.listen, sup.agent = listen, agent_obj
        if sup.call is call and sup.state == SupervisorState.LISTENING:
            call.conversation.listen = listen
            call.event("supervisor:mode", supervisor=sup.id, mode=listen.value)
            self.engine.apply(call)
            return sup.status()
        sup.call, sup.state = call, SupervisorState.RINGING
        self.engine.board.dial(sup.station)
        return sup.status()

    def cmd_stop(self, supervisor: str) -> dict:
        sup = self.supervisor(supervisor)
        if sup.call is None:
            raise OpsError(f"supervisor {sup.id} is not listening to any call")
        if sup.state == SupervisorState.TALKING:
            self.engine.end_call(sup.call, Disposition.ANSWERED, "supervisor")
            return sup.status()
        self.engine.board.hangup(sup.station)
        self._leave(sup)
        return sup.status()

    def _leave(self, sup: Supervisor) -> None:
        call = sup.call
        sup.call, sup.agent, sup.state = None, None, SupervisorState.IDLE
        if call is not None and call.conversation is not None and call.conversation.supervisor == sup.station:
            call.conversation.supervisor = None
            call.event("supervisor:leave", supervisor=sup.id)
            self.engine.media.disconnect(sup.station)
            self.engine.apply(call)

    def cmd_intercept(self, supervisor: str, agent: str) -> dict:
        """The supervisor takes the call over; the agent drops out."""
        sup = self.supervisor(supervisor)
        agent_obj, call = self._talking(agent)
        if sup.call is not call or sup.state != SupervisorState.LISTENING:
            raise OpsError(f"supervisor {sup.id} must be listening to agent {agent_obj.id}'s call first")
        call.event("supervisor:intercept", supervisor=sup.id, agent=agent_obj.id)
        call.agent = None
        self.engine.acd.drop(agent_obj, call)
        conv = call.conversation
        conv.agent, conv.supervisor, conv.mode = sup.station, None, Mode.TALK
        sup.state = SupervisorState.TALKING
        call.update(intercepted_by=sup.id)
        self.engine.apply(call)
        return sup.status()

    def cmd_force_hangup(self, supervisor: str, agent: str) -> dict:
        self.supervisor(supervisor)
        agent_obj, call = self._talking(agent)
        call.event("supervisor:hangup", supervisor=supervisor, agent=agent_obj.id)
        self.engine.end_call(call, Disposition.ANSWERED, "supervisor")
        return agent_obj.status()

    def _force(self, supervisor: str, agent: str, what: str, reason: str = "supervisor") -> dict:
        self.supervisor(supervisor)
        acd = self.engine.acd
        result = {"ready": lambda: acd.cmd_ready(agent), "logout": lambda: acd.cmd_logout(agent),
                  "not_ready": lambda: acd.cmd_not_ready(agent, reason)}[what]()
        self.engine.store.insert("agent_states", {
            "id": f"{agent}-forced-{self.engine.new_id()[:8]}", "agent_id": agent,
            "state": result["state"], "reason": f"forced by supervisor {supervisor}",
            "at": self.engine.clock.time()})
        return result

    # --- the call ends ------------------------------------------------------------------------
    def call_ending(self, call: Call) -> None:
        """Free every party the call still holds: third party, dialled legs, listening supervisor."""
        if call.third is not None:
            self._drop_third(call)
        for leg in [leg for leg in self.legs.values() if leg.call is call]:
            self.hangup_leg(leg)
        for sup in self.supervisors.values():
            if sup.call is call:
                self.engine.board.hangup(sup.station)
                sup.call, sup.agent, sup.state = None, None, SupervisorState.IDLE
                self.engine.media.disconnect(sup.station)

    def status(self) -> list[dict]:
        return [s.status() for s in self.supervisors.values()]
