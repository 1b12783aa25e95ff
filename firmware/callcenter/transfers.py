"""An agent's operations on their live call: hold, bringing in a third party (transfers, blind and
consulted, and conference), calling a customer out, wrap-up codes and recording on demand or paused."""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable

from firmware.callcenter.acd import NO_ANSWER, Agent, AgentState
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.conversation import Mode
from firmware.callcenter.legs import DIAL_TIMEOUT_S, NO_LINE, Leg, Legs, OpsError, not_reached
from firmware.core.application import Services
from firmware.core.commands import WRAPUP_CODE_MAX

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)



class PartyState(str, enum.Enum):
    RINGING = "ringing"     # their phone rings, or their number is dialled
    ANSWERED = "answered"
    GONE = "gone"           # did not answer, hung up, or was let go


@dataclass
class Third:
    """The party an agent brings into a call."""
    purpose: str                    # blind | consult | conference
    channel: int
    agent: Agent | None = None      # an agent rung on their own line
    leg: Leg | None = None          # or a number on a trunk
    state: PartyState = PartyState.RINGING
    timer: Timer | None = None      # an agent rung: how long their phone may ring

    @property
    def name(self) -> str:
        if self.agent is not None:
            return f"agent:{self.agent.id}"
        if self.leg is not None:
            return self.leg.number
        raise OpsError(f"the {self.purpose} party on channel {self.channel} is neither an agent nor a number")

    @property
    def answered(self) -> bool:
        return self.state == PartyState.ANSWERED


def talking(center: "CallCenter", agent_id: str) -> tuple[Agent, Call]:
    """The agent and the call they are talking on; OpsError if they are on none."""
    agent = center.acd.agent(agent_id)
    call = agent.call
    if agent.state != AgentState.TALKING or call is None or call.conversation is None:
        raise OpsError(f"agent {agent.id} is not on a call")
    return agent, call


class Transfers:
    def __init__(self, svc: Services, center: "CallCenter", legs: Legs):
        self.svc, self.center, self.legs = svc, center, legs

    def commands(self) -> dict[str, Callable]:
        return {
            "agent.hold": self.cmd_hold, "agent.resume": self.cmd_resume,
            "agent.transfer": self.cmd_transfer, "agent.transfer_complete": self.cmd_transfer_complete,
            "agent.transfer_cancel": self.cmd_transfer_cancel, "agent.conference": self.cmd_conference,
            "agent.dial": self.cmd_dial, "agent.wrapup": self.cmd_wrapup,
            "agent.pause_recording": self.cmd_pause_recording, "agent.record": self.cmd_record,
        }

    def _set_state(self, call: Call, third: Third, state: PartyState, **data: object) -> None:
        if state == third.state:
            return
        log.debug("call %s: %s %s -> %s", call.id, third.name, third.state.value, state.value)
        third.state = state
        self.svc.emit(f"party:{state.value}", call=call, party=third.name, purpose=third.purpose, **data)

    def _talking(self, agent_id: str) -> tuple[Agent, Call]:
        return talking(self.center, agent_id)

    # --- hold ---------------------------------------------------------------------------------
    def cmd_hold(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        if call.talk.mode != Mode.TALK:
            raise OpsError(f"agent {agent_obj.id}: the call is in {call.talk.mode.value}, not talk")
        call.talk.mode = Mode.HOLD
        call.hold_started = self.svc.clock.time()
        call.event("call:hold", agent=agent_obj.id)
        self.center.apply(call)
        return agent_obj.status()

    def cmd_resume(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        if call.talk.mode != Mode.HOLD:
            raise OpsError(f"agent {agent_obj.id}: the call is not on hold")
        self._resume(call)
        return agent_obj.status()

    def _resume(self, call: Call) -> None:
        if call.hold_started is not None:
            call.hold_s += self.svc.clock.time() - call.hold_started
            call.hold_started = None
        call.talk.mode = Mode.TALK
        call.event("call:resume")
        self.center.apply(call)

    # --- third parties ------------------------------------------------------------------------
    def _bring_in(self, call: Call, to: str, purpose: str, on_answer: Callable[[], None],
                  on_fail: Callable[[str], None]) -> Third:
        """Ring an agent ('agent:ID') or dial a number for the call."""
        if to.startswith("agent:"):
            target = self.center.acd.agent(to[6:])
            if target.state != AgentState.READY:
                raise OpsError(f"agent {target.id} is not ready ({target.state.value})")

            # `third` is made once the phone rings, before it can be answered or give up.
            def answered(agent: Agent) -> None:
                agent.set_state(AgentState.TALKING)
                self._set_state(call, third, PartyState.ANSWERED)
                on_answer()
            if not self.center.acd.ring(target, call, answered,
                                        lambda agent, why: self._third_missed(call, third, on_fail, why)):
                raise OpsError(f"agent {target.id} cannot be rung now: no free line to dial {target.line.name}")
            channel = target.line.channel     # a remote agent's trunk, seized by the ring
            if channel is None:
                raise OpsError(f"agent {target.id} was rung on no line")
            third = Third(purpose, channel, agent=target)
            third.timer = self.svc.later(DIAL_TIMEOUT_S, self._third_missed, call, third, on_fail, NO_ANSWER)
        else:
            if not to or not all(c in "0123456789*#" for c in to):
                raise OpsError(f"cannot dial {to!r}: give agent:ID, queue:NAME or a number")
            # `third` is made once the number is dialled, before the leg can answer or clear.
            def leg_answered() -> None:
                self._set_state(call, third, PartyState.ANSWERED)
                on_answer()
            leg = self.legs.seize(to, leg_answered, on_fail, on_clear=lambda: self._third_left(call, third), call=call)
            if leg is None:
                raise OpsError(NO_LINE)
            third = Third(purpose, leg.line, leg=leg)
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
        self._set_state(call, third, PartyState.GONE)
        if third.agent is not None:
            if third.agent.state == AgentState.RINGING:
                self.center.acd.unring(third.agent)
            else:
                self.center.acd.drop(third.agent, call)
        elif third.leg is not None:
            self.legs.hangup(third.leg)

    def _third_left(self, call: Call, third: Third) -> None:
        """The third party hung up."""
        if call.third is not third:
            return
        call.third = None
        self._set_state(call, third, PartyState.GONE)
        if third.agent is not None:
            self.center.acd.release(third.agent, call)
        call.event("call:third_left", who=third.name)
        if call.conversation is not None and call.conversation.third == third.channel:
            call.conversation.third = None
            if call.conversation.mode in (Mode.CONSULT, Mode.CONFERENCE):
                call.conversation.mode = Mode.TALK
            if call.conversation.agent is None:
                # The transferred-to party was the only one left with the caller.
                self.center.end_call(call, Disposition.ANSWERED, "agent")
                return
            self.center.apply(call)

    def third_agent_left(self, agent: Agent) -> bool:
        """An agent hung up: True if they were a third party brought into their call (handled here)."""
        call = agent.call
        third = call.third if call is not None else None
        if call is None or third is None or third.agent is not agent or not third.answered:
            return False
        self._third_left(call, third)
        return True

    def third_moved(self, lost: int, channel: int) -> None:
        """Glare moved a number being dialled off the trunk `lost` onto `channel`: a third party being
        brought in on that trunk (a number, or a remote agent's phone) is there now."""
        for call in self.center.calls.values():
            if call.third is not None and call.third.channel == lost and not call.third.answered:
                call.third.channel = channel

    def call_ending(self, call: Call) -> None:
        """Let go of the party brought into the call."""
        if call.third is not None:
            self._drop_third(call)

    # --- transfers and conference -------------------------------------------------------------
    def cmd_transfer(self, agent: str, to: str, blind: bool = True) -> dict:
        agent_obj, call = self._talking(agent)
        if call.third is not None:
            raise OpsError(f"agent {agent_obj.id} already has {call.third.name} on this call")
        if to.startswith("survey:"):
            if not blind:
                raise OpsError("a transfer to a survey is always blind")
            if to[7:] not in self.center.surveys:
                raise OpsError(f"no survey {to[7:]!r} (surveys: {', '.join(sorted(self.center.surveys)) or 'none'})")
            call.event("call:transfer", agent=agent_obj.id, to=to, blind=True,
                       talk=round(self.svc.clock.time() - agent_obj.talking_since))
            self.center.to_survey(call, to[7:])
            return agent_obj.status()
        if to.startswith("queue:"):
            if not blind:
                raise OpsError("a transfer to a queue is always blind")
            queue = self.center.acd.queue(to[6:])
            self._hand_over(call, agent_obj, to)
            self.center.acd.requeue(call, queue.name)
            return agent_obj.status()
        if blind:
            self._bring_in(call, to, "blind", on_answer=lambda: self._blind_answered(call),
                           on_fail=lambda why: self._blind_failed(call, why))
            self._hand_over(call, agent_obj, to)
            return agent_obj.status()
        call.talk.mode = Mode.CONSULT
        call.hold_started = self.svc.clock.time()
        self.center.apply(call)
        self._bring_in(call, to, "consult", on_answer=lambda: self._consult_answered(call),
                       on_fail=lambda why: self._consult_failed(call, why))
        return agent_obj.status()

    def _hand_over(self, call: Call, agent: Agent, to: str) -> None:
        """The agent leaves the call to `to`; the caller hears music until someone picks up."""
        talk = round(self.svc.clock.time() - agent.talking_since)
        call.event("call:transfer", agent=agent.id, to=to, blind=True, talk=talk)
        call.talk.agent = None
        call.talk.mode = Mode.HOLD
        call.agent = None
        self.center.acd.drop(agent, call)
        call.transfers += 1
        self.center.apply(call)

    def _blind_answered(self, call: Call) -> None:
        third = call.party
        conv = call.talk
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
        self.center.apply(call)

    def _blind_failed(self, call: Call, why: str) -> None:
        call.event("call:transfer_failed", why=why)
        call.third = None
        if call.queue and call.state != CallState.ENDED:
            self.center.acd.requeue(call, call.queue)
        else:
            self.center.end_call(call, Disposition.FAILED, "box")

    def _consult_answered(self, call: Call) -> None:
        call.talk.third = call.party.channel
        call.event("call:consult", to=call.party.name)
        self.center.apply(call)

    def _consult_failed(self, call: Call, why: str) -> None:
        call.event("call:transfer_failed", why=why)
        call.talk.third = None
        self._resume(call)

    def cmd_transfer_complete(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        third = call.third
        if third is None or third.purpose != "consult" or not third.answered:
            raise OpsError(f"agent {agent_obj.id} has no answered consultation to hand the call to")
        talk = round(self.svc.clock.time() - agent_obj.talking_since)
        call.event("call:transfer", agent=agent_obj.id, to=third.name, blind=False, talk=talk)
        call.agent = None
        self.center.acd.drop(agent_obj, call)
        call.transfers += 1
        call.talk.agent = None
        call.talk.mode = Mode.TALK
        self._blind_answered(call)
        self._resume_timing(call)
        return agent_obj.status()

    def cmd_transfer_cancel(self, agent: str) -> dict:
        agent_obj, call = self._talking(agent)
        if call.third is None or call.third.purpose != "consult":
            raise OpsError(f"agent {agent_obj.id} is not consulting anyone")
        self._drop_third(call)
        call.talk.third = None
        self._resume(call)
        return agent_obj.status()

    def _resume_timing(self, call: Call) -> None:
        if call.hold_started is not None:
            call.hold_s += self.svc.clock.time() - call.hold_started
            call.hold_started = None

    def cmd_conference(self, agent: str, to: str) -> dict:
        agent_obj, call = self._talking(agent)
        third = call.third
        if third is not None and third.purpose == "consult" and third.answered:
            # Turn the consultation into a three-way call.
            third.purpose = "conference"
            call.talk.mode = Mode.CONFERENCE
            self._resume_timing(call)
        elif third is not None:
            raise OpsError(f"agent {agent_obj.id} already has {third.name} on this call")
        else:
            def joined() -> None:
                call.talk.third, call.talk.mode = call.party.channel, Mode.CONFERENCE
                self.center.apply(call)
            self._bring_in(call, to, "conference", on_answer=joined,
                           on_fail=lambda why: call.event("call:conference_failed", why=why))
        call.event("call:conference", to=call.party.name)
        self.center.apply(call)
        return agent_obj.status()

    # --- an agent's call out ----------------------------------------------------------------
    def cmd_dial(self, agent: str, number: str) -> dict:
        """The agent calls a customer: their phone rings first, then the number is dialled on a trunk
        seized at that moment (a trunk held while the agent's phone rang could take no caller)."""
        agent_obj = self.center.acd.agent(agent)
        if agent_obj.state not in (AgentState.READY, AgentState.NOT_READY, AgentState.WRAPUP):
            raise OpsError(f"agent {agent_obj.id} cannot dial now ({agent_obj.state.value})")
        if not number or not all(c in "0123456789*#" for c in number):
            raise OpsError(f"cannot dial {number!r}")
        if self.legs.idle_trunk() is None:
            raise OpsError(NO_LINE)
        call = self.center.outbound_call(None, number, agent_obj)

        def agent_answered(a: Agent) -> None:
            a.set_state(AgentState.TALKING)
            self.legs.dial_out(call, number, on_answer=lambda: self._outbound_answered(call),
                               on_fail=lambda why: self.center.end_call(call, not_reached(why), "box"),
                               on_clear=lambda: self.center.end_call(call, Disposition.ANSWERED, "caller"))
        if not self.center.acd.ring(agent_obj, call, agent_answered, partial(self._dial_missed, call)):
            self.center.end_call(call, Disposition.FAILED, "box")
            raise OpsError(f"agent {agent_obj.id}: no free line to ring {agent_obj.line.name} before dialling")
        agent_obj.cancel_timer()
        return {**agent_obj.status(), "call_id": call.id}

    def _dial_missed(self, call: Call, agent: Agent, why: str) -> None:
        """The agent's own phone did not answer: the number is never dialled."""
        self.center.acd.not_reached(agent, why)
        self.center.end_call(call, Disposition.UNANSWERED, "agent")

    def _outbound_answered(self, call: Call) -> None:
        self.center.connect(call, call.talker)
        call.connected_at = self.svc.clock.time()
        call.update(connected_at=call.connected_at, agent_id=call.talker.id)

    # --- wrap-up and recording ----------------------------------------------------------------
    def cmd_wrapup(self, agent: str, code: str) -> dict:
        """Give the agent's last call a disposition code (during or right after the call)."""
        agent_obj = self.center.acd.agent(agent)
        if not code or len(code) > WRAPUP_CODE_MAX or not code.replace("-", "").replace("_", "").isalnum():
            raise OpsError(f"wrap-up code must be 1-{WRAPUP_CODE_MAX} letters, digits, - or _")
        call_id = agent_obj.call.id if agent_obj.call else agent_obj.last_call_id
        if call_id is None:
            raise OpsError(f"agent {agent_obj.id} has no call to code")
        # Only the site's codes ([box] wrapup_codes, or the call's queue's own): the records and HQ's
        # reports count by them, and a code outside the list would be a disposition nobody reports on.
        allowed = self.center.site.codes_of(agent_obj.call.queue if agent_obj.call else agent_obj.last_call_queue)
        if code not in allowed:
            raise OpsError(f"wrap-up code {code} is not one of this call's: {', '.join(allowed)}")
        self.svc.records.update("calls", call_id, {"wrapup_code": code})
        self.svc.records.insert("call_events", {"id": f"{call_id}-wrapup-{self.svc.new_id()[:8]}",
                                                "call_id": call_id, "at": self.svc.clock.time(),
                                                "kind": "agent:wrapup", "data": f'{{"code":"{code}"}}'})
        return {**agent_obj.status(), "wrapup_code": code, "coded_call": call_id}

    def cmd_record(self, agent: str) -> dict:
        """Start recording a call of a queue whose policy is on demand."""
        agent_obj, call = self._talking(agent)
        if call.recording_id is not None:
            raise OpsError(f"agent {agent_obj.id}: this call is already being recorded")
        self.center.start_recording(call)
        return agent_obj.status()

    def cmd_pause_recording(self, agent: str, paused: bool = True) -> dict:
        agent_obj, call = self._talking(agent)
        if call.recording_id is None:
            raise OpsError(f"agent {agent_obj.id}: this call is not being recorded")
        call.recording_paused = bool(paused)
        call.event("recording:pause" if paused else "recording:resume", agent=agent_obj.id)
        self.center.recording_changed()
        return agent_obj.status()
