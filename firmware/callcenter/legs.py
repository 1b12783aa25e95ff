"""Numbers the box dials out on its trunks for a call (legs): seizing a trunk, following the leg's
progress (answer, busy, no answer, clear, glare, alarm), and hanging it up."""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from drivers.channel import ChannelError, ChannelKind

from firmware.callcenter.acd import NO_ANSWER, AcdError
from firmware.callcenter.agent_lines import LINE_DOWN
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.trunk_groups import OUT
from firmware.core.application import Services

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

# A number dialled out that has not answered in this time is given up (ITU-T Q.118: 90-180 s is
# the network's own limit; a caller on hold should not wait that long).
DIAL_TIMEOUT_S = 45.0
NO_LINE = "no free line to dial out on"
# The tones a leg gives up on (ITU-T Q.35).
FAILURE_TONES = frozenset(("busy", "congestion", "sit"))


class Outcome(str, enum.Enum):
    """What became of a number the box dialled: the interface for whoever dials (callbacks, an
    agent's call out, campaigns). Answered ones are told apart on a leg dialled with `screen`
    (dsp/amd.py, dsp/faxtone.py, dsp/v21.py; docs/architecture.md §20)."""
    ANSWERED_HUMAN = "answered_human"
    ANSWERED_MACHINE = "answered_machine"
    ANSWERED_UNSURE = "answered_unsure"
    FAX = "fax"                     # CED / ANS or V.21 flags after the answer
    BUSY = "busy"
    CONGESTION = "congestion"
    UNOBTAINABLE = "unobtainable"   # the special information tone or number-unobtainable tone
    NO_ANSWER = "no_answer"
    FAILED = "failed"               # no line took the number, the line went down, the far end cleared at once


# A leg's `why` (on_fail) as an Outcome.
_FAILED_AS = {"busy": Outcome.BUSY, "congestion": Outcome.CONGESTION, "sit": Outcome.UNOBTAINABLE,
              NO_ANSWER: Outcome.NO_ANSWER}
_HEARD_AS = {"human": Outcome.ANSWERED_HUMAN, "machine": Outcome.ANSWERED_MACHINE, "unsure": Outcome.ANSWERED_UNSURE}
# The fax tones that end a screened leg: a called fax machine's answer tone and its V.21 flags.
ANSWER_FAX_TONES = frozenset(("ced", "v21"))


def outcome_of(why: str) -> Outcome:
    """The Outcome of a leg that failed for `why` (Leg.on_fail's argument)."""
    return _FAILED_AS.get(why, Outcome.FAILED)


class OpsError(AcdError):
    """An operation that does not fit the call or the party's state."""


def not_reached(why: str) -> Disposition:
    """How a dialled customer who never answered ends: busy, congestion, unobtainable, failed (no line
    took the number), or unanswered (no answer, the agent hanging up while it rang)."""
    return {"busy": Disposition.BUSY, "congestion": Disposition.CONGESTION, "sit": Disposition.UNOBTAINABLE,
            NO_LINE: Disposition.FAILED}.get(why, Disposition.UNANSWERED)


class LegState(str, enum.Enum):
    DIALING = "dialing"
    ANSWERED = "answered"
    FAILED = "failed"       # gone before it answered (busy, no answer, cleared, line down, no line)
    ENDED = "ended"         # gone after it answered (hung up, cleared, line down)


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
    state: LegState = LegState.DIALING
    timer: Timer | None = None                # the dial timeout, from the seizure on
    # Screening (seize(screen=True)): once answered, what answered is heard and told through
    # on_outcome(outcome, cause) — a person, a machine, unsure, or a fax (whose leg is hung up first;
    # it may come after a machine verdict) — and for a machine on_beep(heard) when its greeting's beep
    # ends (False: none came).
    screen: bool = False
    on_outcome: Callable[[Outcome, str], None] | None = None
    on_beep: Callable[[bool], None] | None = None
    outcome: Outcome | None = None
    group: str = ""                           # the trunk group it counts in (trunk_groups.py)

    @property
    def line(self) -> int:
        """The trunk it is dialled on: a leg is seized on one before anything else sees it."""
        if self.channel is None:
            raise OpsError(f"the leg to {self.number} has no trunk")
        return self.channel

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    @property
    def answered(self) -> bool:
        return self.state in (LegState.ANSWERED, LegState.ENDED)


class Legs:
    """The legs being dialled or talking, by trunk; the one way the box takes a trunk to dial out."""

    def __init__(self, svc: Services, center: "CallCenter"):
        self.svc, self.center = svc, center
        self.active: dict[int, Leg] = {}

    def _set_state(self, leg: Leg, state: LegState, **data: object) -> None:
        if state == leg.state:
            return
        log.debug("leg %s on %s: %s -> %s", leg.number, leg.channel, leg.state.value, state.value)
        leg.state = state
        self.svc.emit(f"leg:{state.value}", leg=leg, channel=leg.channel, **data)

    def idle_trunk(self) -> int | None:
        """A trunk that looks idle from here (a hint: only seize() takes one), or None."""
        return next(self._idle_trunks(), None)

    def idle_count(self) -> int:
        """How many trunks look idle now (the dialer keeps some of them for incoming calls)."""
        return sum(1 for _ in self._idle_trunks())

    def usable_trunks(self) -> Iterator[int]:
        """The trunks in service (no alarm), busy or not."""
        return (info.index for info in self.svc.lines.channels
                if info.kind == ChannelKind.TRUNK and self.svc.alarm(info.index) is None)

    def _idle_trunks(self) -> Iterator[int]:
        return (info.index for info in self.svc.lines.channels
                if info.kind == ChannelKind.TRUNK and info.index not in self.center.calls
                and info.index not in self.active and self.svc.alarm(info.index) is None
                and not self.svc.testing(info.index))

    def seize(self, number: str, on_answer: Callable[[], None], on_fail: Callable[[str], None],
              on_clear: Callable[[], None], on_lost: Callable[[str], None] | None = None, call: Call | None = None,
              on_moved: Callable[[int], None] | None = None, screen: bool = False,
              on_outcome: Callable[[Outcome, str], None] | None = None,
              on_beep: Callable[[bool], None] | None = None) -> Leg | None:
        """Dial `number` on the first idle trunk that takes it; None when none does. The one way the
        box takes a trunk to dial out (a remote agent's phone, a callback, an agent's outbound call, a
        transfer or conference number): the trunk is chosen and seized in the same step, when the
        number is dialled, never reserved ahead while an agent's phone rings.

        Glare: a line that looks idle here may already be ringing with a call whose ring or caller ID
        has not reached the box. The driver arbitrates. Where it can tell at once (the simulated
        exchange; a modem that has reported RING or caller ID) it refuses the seizure with
        ChannelError and the next line is tried. A modem finds out only once it has gone off hook,
        which answered the caller: it clears the leg with `glare` and reports the caller's RING, and
        on_event dials the number again on another line (_glare). Either way the incoming call keeps
        that line and gets its own record, and the dialled number goes out on the next free line.

        `screen`: tell what answered (Leg.on_outcome, on_beep); every leg's failure is also given as
        an Outcome to on_outcome (outcome_of(why)) before on_fail.

        The trunk counts in the trunk group of `call` (CallCenter.group_of); a group at its cap, or
        borrowing a share another group has claimed, gets None as when no trunk is free."""
        group = self.center.group_of(call) if call is not None else ""
        if not self.center.trunk_groups.may_seize(group, OUT):
            log.info("dialling %s: trunk group %r may not take a trunk now", number, group)
            return None
        leg = Leg(None, number, call, on_answer, on_fail, on_clear, on_lost, on_moved, screen=screen,
                  on_outcome=on_outcome, on_beep=on_beep, group=group)
        names = self.svc.lines.channels
        trunks = self.center.trunk_groups.order(group, [(ch, names[ch].name) for ch in self._idle_trunks()])
        return leg if self._place(leg, trunks) else None

    def dial_out(self, call: Call, number: str, on_answer: Callable[[], None], on_fail: Callable[[str], None],
                 on_clear: Callable[[], None]) -> Leg | None:
        """Dial the customer of an agent's own call (outbound, callback), the agent on the line already:
        the trunk seized becomes the call's line. With no trunk to be had the call ends as failed, with
        its record; None then."""
        def heard(outcome: Outcome, cause: str) -> None:
            call.event("call:outcome", number=number, outcome=outcome.value, cause=cause)
            if outcome == Outcome.FAX:
                # Nobody to talk to: the attempt ends as a fax (its leg is hung up already).
                self.center.end_call(call, Disposition.FAX, "box")
        leg = self.seize(number, on_answer, on_fail, on_clear, call=call, screen=True, on_outcome=heard,
                         on_beep=lambda beeped: call.event("call:machine_beep", heard=beeped))
        if leg is None:
            call.event("call:dial_failed", number=number, why=NO_LINE)
            self.center.end_call(call, Disposition.FAILED, "box")
            return None
        self.center.take_trunk(call, leg.line)
        call.set_state(CallState.DIALING)
        call.event("call:dial", number=number, line=call.line_name)
        return leg

    def _place(self, leg: Leg, trunks: Iterable[int]) -> bool:
        """Dial the leg's number on the first of `trunks` whose driver takes it; False if none does."""
        for trunk in trunks:
            try:
                self.svc.lines.dial(trunk, leg.number)
            except ChannelError as exc:
                log.info("dialling %s: %s; trying another line", leg.number, exc)
                continue
            leg.channel = trunk
            self.active[trunk] = leg
            leg.timer = self.svc.later(DIAL_TIMEOUT_S, self._timeout, leg)
            self.svc.emit(f"leg:{leg.state.value}", leg=leg, channel=trunk)
            return True
        return False

    def _glare(self, leg: Leg, why: str) -> None:
        """An incoming call took the trunk the leg was being dialled on (the driver found out once
        off hook): the trunk is the caller's now, and the same leg is dialled on another line."""
        lost = leg.line
        self._forget(leg, gone=False)
        call = leg.call
        # An agent's call out (dial_out) has the trunk as its own line: it lets go of it before the
        # caller's ring on it is handled, or that ring would be taken for this call's.
        own_line = call if call is not None and call.channel == lost else None
        if own_line is not None:
            self.center.leave_trunk(own_line)
        if call is not None:
            call.event("call:glare", number=leg.number, line=self.svc.lines.channels[lost].name, why=why)
        log.warning("dialling %s on %s: %s; trying another line", leg.number,
                    self.svc.lines.channels[lost].name, why)
        if not self._place(leg, (t for t in self._idle_trunks() if t != lost)):
            self._set_state(leg, LegState.FAILED, why=NO_LINE)
            self._failed(leg, NO_LINE)
            return
        if own_line is not None:
            self.center.take_trunk(own_line, leg.line)
            own_line.event("call:dial", number=leg.number, line=own_line.line_name)
        self.center.transfers.third_moved(lost, leg.line)
        if leg.on_moved is not None:
            leg.on_moved(lost)

    def _timeout(self, leg: Leg) -> None:
        if not leg.answered and self.active.get(leg.line) is leg:
            self.hangup(leg)
            self._failed(leg, NO_ANSWER)

    def _failed(self, leg: Leg, why: str) -> None:
        """The leg did not answer, for `why`: its outcome, then its on_fail."""
        leg.outcome = outcome_of(why)
        self.svc.emit("leg:outcome", leg=leg, channel=leg.channel, outcome=leg.outcome.value, cause=why)
        if leg.on_outcome is not None:
            leg.on_outcome(leg.outcome, why)
        leg.on_fail(why)

    def hangup(self, leg: Leg) -> None:
        if self.active.get(leg.line) is leg:
            del self.active[leg.line]
            leg.cancel_timer()
            self.svc.media.disconnect(leg.line)
            self.svc.lines.hangup(leg.line)
            self._gone(leg)
            self.center.trunk_freed()

    def on_event(self, channel: int, kind: str, data: dict) -> bool:
        """A trunk event for a dialled leg; True if the channel was one."""
        leg = self.active.get(channel)
        if leg is None:
            return False
        if kind == "answer" and not leg.answered:
            self._set_state(leg, LegState.ANSWERED)
            leg.cancel_timer()
            if leg.screen:
                self.svc.screen(leg.line)
            leg.on_answer()
        elif kind == "progress" and not leg.answered and data.get("tone") in FAILURE_TONES:
            self.hangup(leg)
            self._failed(leg, data["tone"])
        elif kind == "clear" and not leg.answered and data.get("glare"):
            self._glare(leg, data.get("reason", "glare"))
        elif kind == "clear":
            self._forget(leg)
            (leg.on_clear if leg.answered else lambda: self._failed(leg, "cleared"))()
        return True

    def on_heard(self, channel: int, result: str, cause: str) -> bool:
        """What answered the screened leg on `channel` (dsp.amd.AmdEvent's result); True if it was one."""
        leg = self.active.get(channel)
        if leg is None or not leg.screen or not leg.answered:
            return False
        if result in ("beep", "no_beep"):
            if leg.on_beep is not None:
                leg.on_beep(result == "beep")
            return True
        if leg.outcome is None:
            self._heard(leg, _HEARD_AS[result], cause)
        return True

    def on_fax(self, channel: int, tone: str) -> bool:
        """A fax machine's answer tone or flags on a screened leg that answered: hung up, its outcome
        a fax. True if the channel was such a leg."""
        leg = self.active.get(channel)
        if leg is None or not leg.screen or not leg.answered or tone not in ANSWER_FAX_TONES:
            return False
        self.hangup(leg)
        # A fax that first sounded like a greeting (CED or flags read as a long word: machine) is told
        # again, as the fax it is.
        if leg.outcome != Outcome.FAX:
            self._heard(leg, Outcome.FAX, tone)
        return True

    def _heard(self, leg: Leg, outcome: Outcome, cause: str) -> None:
        leg.outcome = outcome
        self.svc.emit("leg:outcome", leg=leg, channel=leg.channel, outcome=outcome.value, cause=cause)
        if leg.on_outcome is not None:
            leg.on_outcome(outcome, cause)

    def far_end_gone(self, leg: Leg, why: str) -> bool:
        """The answered leg's far end hung up without a line signal (its exchange's busy tone, a long
        silence; firmware/callcenter/far_end.py): hang up our side and end it as a clear. False for a
        leg not answered yet (its tones are call progress, handled in on_event)."""
        if not leg.answered or self.active.get(leg.line) is not leg:
            return False
        if leg.call is not None:
            leg.call.event("call:far_end_gone", number=leg.number, why=why)
        self.hangup(leg)
        leg.on_clear()
        return True

    def on_lost(self, channel: int, reason: str) -> bool:
        """The trunk under a dialled leg went into alarm: its far end is gone. True if it was a leg."""
        leg = self.active.get(channel)
        if leg is None:
            return False
        self._forget(leg)
        if not leg.answered:
            self._failed(leg, LINE_DOWN)
        elif leg.on_lost is not None:
            leg.on_lost(reason)
        else:
            leg.on_clear()
        return True

    def _forget(self, leg: Leg, gone: bool = True) -> None:
        """The line is gone already (far-end clear, alarm, glare): stop following it on that trunk."""
        del self.active[leg.line]
        leg.cancel_timer()
        self.svc.media.disconnect(leg.line)
        if gone:
            self._gone(leg)
        self.center.trunk_freed()

    def _gone(self, leg: Leg) -> None:
        self._set_state(leg, LegState.ENDED if leg.answered else LegState.FAILED)
        if leg.screen:
            # What was listening for this leg's answerer stops: a later leg or call on the trunk starts afresh.
            self.svc.hear_anew(leg.line)

    def call_ending(self, call: Call) -> None:
        """Hang up every leg dialled for the call."""
        for leg in [leg for leg in self.active.values() if leg.call is call]:
            self.hangup(leg)
