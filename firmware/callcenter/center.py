"""The call center: the application the tick loop drives (firmware/core/application.py).

It turns what happens on the lines into calls (answer, IVR, queue, agent, transfer, recording) and
answers the call-center commands. It owns every call and wires its collaborators (ACD, legs,
transfers, supervisors, callbacks, voicemail, IVR sessions) to each other's public methods here, in
one place; of the box it uses only the services it is lent.
"""
from __future__ import annotations

import json
import logging
from collections import deque
from typing import TYPE_CHECKING, Callable

import numpy as np

from drivers.channel import ChannelEvent, ChannelKind, EventKind

from firmware.callcenter.acd import Acd, AcdError, Agent, AgentState
from firmware.callcenter.agent_lines import LINE_DOWN
from firmware.callcenter.callbacks import Callbacks, PendingCallback
from firmware.callcenter.calls import Call, CallError, CallState, Disposition
from firmware.callcenter.conversation import Conversation, Mode
from firmware.callcenter.customers import CustomerDirectory, LookupTables
from firmware.callcenter.dialer import Campaign, Dialer, DialerError
from firmware.callcenter.far_end import FarEnd
from firmware.callcenter.flow_graph import flow_report
from firmware.callcenter.flows import Flow, FlowError, load_flow, schema_json
from firmware.callcenter.ivr import IvrSession
from firmware.callcenter.live import LiveEvents
from firmware.callcenter.schedules import schedule_problems
from firmware.callcenter.legs import FAILURE_TONES, NO_LINE, Legs
from firmware.callcenter.supervisors import Supervisors
from firmware.callcenter.surveys import load_surveys
from firmware.callcenter.trunk_groups import IN, NO_GROUP, TrunkGroups
from firmware.callcenter.transfers import Transfers
from firmware.callcenter.recording import Recordings
from firmware.callcenter.say import Say
from firmware.callcenter.voicemail import Voicemail
from firmware.callcenter.settings import SiteConfig
from firmware.core.application import Services
from firmware.core.commands import COMMANDS
from firmware.core.control import ControlError
from firmware.core.prompts import PromptError
from firmware.core.recorder import Finished

if TYPE_CHECKING:
    from dsp.callerid import CallerIdMessage
    from firmware.callcenter.dialer import ContactSource
    from dsp.tones import TonePlan
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

# Digits heard kept per line for the technician's live view.
DIGITS_KEPT = 20
# How often a due answer checks again whether a caller ID burst has finished: a few ticks.
CALLER_ID_POLL_S = 0.1
# A new tone plan waits for numbers being dialled to be answered or refused; checked this often.
RETUNE_RETRY_S = 1.0
# A fax machine is only told apart from a caller while nobody is talking to it yet.
FAX_STATES = frozenset((CallState.IVR, CallState.QUEUED))


# The agent's and supervisor's commands that act on the agent's call take the call the console or the
# wallboard shows (`call`): checked here on the loop, where no call can end between the check and the
# command, so a page still showing a call that has ended can never hold, transfer, code, monitor,
# intercept or hang up the agent's next one.
ON_CALL = frozenset(name for name, spec in COMMANDS.items() if "call" in spec)


def _refusing(fn: Callable[..., dict]) -> Callable[..., dict]:
    """A command whose refusals (AcdError, OpsError) reach the control socket as ControlError."""
    def run(**args) -> dict:
        try:
            return fn(**args)
        except AcdError as exc:
            raise ControlError(str(exc)) from None
    return run


class CallCenter:
    """Calls, agents, queues and supervisors on the box's lines (the loop's `Application`)."""

    def __init__(self, svc: Services, site: SiteConfig, flow: Flow, customers: CustomerDirectory | None = None,
                 lookups: LookupTables | None = None, callbacks: list[PendingCallback] | None = None,
                 surveys: dict[str, Flow] | None = None, contacts: ContactSource | None = None,
                 campaigns: list[dict] | None = None):
        """`callbacks`: the requests a stop or a crash left waiting (firmware/callcenter/recovery.py);
        `surveys`: the survey flows the queues name, by name (default: read beside `flow`, before the
        loop runs); `contacts`: where the dialer's due contacts come from (campaign_reader.ContactReader);
        `campaigns`: the campaigns running when the box stopped, taken up again."""
        self.svc, self.site, self.flow = svc, site, flow
        self.clock, self.prompts = svc.clock, svc.prompts
        self.customers, self.lookups = customers, lookups
        board = svc.lines
        n = len(board)
        # Caller ID sent after a ring is only heard if that ring is let pass.
        self.answer_rings = max(site.rings, board.answer_rings)
        self.calls: dict[int, Call] = {}          # trunk channel -> call
        self.sessions: dict[str, IvrSession] = {}
        self.recordings = Recordings(svc)
        # Per-line figures for the technician, kept where the events are handled (never a scan per tick).
        self.line_calls = [0] * n
        self.line_digits = [0] * n
        self.far_end_clears = [0] * n               # calls and legs ended on the far end's tone or silence
        self.heard: dict[int, deque] = {}            # channel -> (digit, time), the last DIGITS_KEPT
        self.last_caller_id: dict[int, dict] = {}
        # Caller ID bursts per line that failed their checks (checksum, framing): a line fault to show.
        self.unreadable = [0] * n
        # The service level's definition (site.toml [reports]): the ACD counts by it, live.
        self.service_level_s = site.service_level_s
        self.short_abandon_s = site.short_abandon_s
        self.say = Say(site.language)
        missing = self.say.prompts() - set(svc.prompts.names())
        if missing:
            raise PromptError(f"prompt set {svc.prompts.directory} lacks {', '.join(sorted(missing))}")
        self.acd = Acd(svc, self, site.queues, site.agents)
        self.legs = Legs(svc, self)
        self.far_end = FarEnd(svc, self)
        self.transfers = Transfers(svc, self, self.legs)
        self.supervisors = Supervisors(svc, self, site.supervisors)
        self.voicemail = Voicemail(svc, self)
        self.callbacks = Callbacks(svc, self)
        self.trunk_groups = TrunkGroups(site.trunk_groups, self._trunk_usage, self.clock.time)
        self.surveys = surveys if surveys is not None else load_surveys(
            flow.path.parent, {q.survey for q in site.queues if q.survey}, set(svc.prompts.names()))
        self.dialer = Dialer(svc, self, self._holidays, contacts)
        # The live events the web's pages follow; a guest's call center (the load test) has none.
        self.live = None if svc.events is None else LiveEvents(
            svc, svc.events, self.acd, self.service_level_s, self.supervisors.find)
        self._commands: dict[str, Callable[..., dict]] = {
            "agent.login": lambda agent: self.acd.cmd_login(agent),
            "agent.logout": lambda agent: self.acd.cmd_logout(agent),
            "agent.ready": lambda agent: self.acd.cmd_ready(agent),
            "agent.not_ready": lambda agent, reason="break": self.acd.cmd_not_ready(agent, reason),
            "agent.hangup": lambda agent: self.acd.cmd_hangup(agent),
            **self.transfers.commands(),
            **self.supervisors.commands(),
            **self.dialer.commands(),
            "flow.reload": self._swap_flow,
            # The check ran off the loop (preparers below); the loop only hands back its report.
            "flow.validate": lambda report: report,
            "flow.schema": lambda schema: schema,
            "prompts.reload": self._swap_prompts,
            "site.reload": self.apply_site,
            # The preparer (firmware/config/site_reload.py) has checked the file off the loop.
            "site.validate": lambda errors, restart=(): {"valid": not errors, "errors": errors,
                                                         "restart": list(restart)},
        }
        self._pending_tones: TonePlan | None = None     # a reloaded tone plan waiting for dialling to end
        self._retune_timer: Timer | None = None
        self._record_roster()
        self.callbacks.restore(callbacks or [])
        for row in campaigns or []:
            try:
                self.dialer.resume(Campaign.of(row))
            except DialerError as exc:
                log.error("campaign %s not taken up again: %s", row.get("id"), exc)

    def _holidays(self) -> frozenset[str]:
        """The site's holidays (every schedule's): a campaign that skips holidays keeps off them."""
        return frozenset(day for s in self.site.schedules.values() for day in s.holidays)

    def _retune(self) -> None:
        """Hear the lines by the new tone plan once no number is being dialled: a call-progress tone
        being timed is heard to its end by the plan it started under (a call is never judged busy or
        unobtainable half by one network's tones, half by another's)."""
        self._retune_timer = None
        plan = self._pending_tones
        if plan is None:
            return
        if any(not leg.answered for leg in self.legs.active.values()):
            self._retune_timer = self.svc.later(RETUNE_RETRY_S, self._retune)
            return
        self._pending_tones = None
        self.svc.retune(plan)

    def _record_roster(self) -> None:
        """The agents and queues as configured, in the records HQ and the web read."""
        now = self.clock.time()
        for agent in self.acd.agents.values():
            self.svc.records.upsert("agents", {"id": agent.id, "name": agent.name,
                                               "station": agent.line.name,
                                               "queues": ",".join(agent.status()["queues"]),
                                               "skills": json.dumps(agent.skills), "updated_at": now})
        for q in self.site.queues:
            self.svc.records.upsert("queues", {"id": q.name, "strategy": q.strategy, "skill": q.skill,
                                               "min_level": q.min_level, "updated_at": now})

    def apply_site(self, site: SiteConfig, flow: Flow | None = None, restart: tuple[str, ...] = (),
                   surveys: dict[str, Flow] | None = None) -> dict:
        """New site settings, checked whole off the loop, swapped in at once (site.reload).

        Calls in progress finish on what they started with (their IVR flow, their queue's timers,
        their agent's line); the next call uses the new settings. `flow`: the flow the new settings
        name, when they name another. `restart`: keys that differ and only a restart applies.
        `surveys`: the survey flows the new settings name, read off the loop; trunk groups apply to
        the next seizure, and a call holding a trunk keeps it whatever the new caps say."""
        try:
            self.acd.check_agents(site.agents)
            self.supervisors.check(site.supervisors)
            self.acd.reconfigure(site.queues, site.agents)
            self.supervisors.reconfigure(site.supervisors)
        except AcdError as exc:
            raise ControlError(f"site not reloaded, the running settings stay: {exc}") from None
        if site.tones.name != self.site.tones.name or self._pending_tones is not None:
            self._pending_tones = site.tones
            if self._retune_timer is None:
                self._retune()
        self.site = site
        self.service_level_s, self.short_abandon_s = site.service_level_s, site.short_abandon_s
        if self.live is not None:
            self.live.service_level_s = site.service_level_s
        self.answer_rings = max(site.rings, self.svc.lines.answer_rings)
        self.trunk_groups.reconfigure(site.trunk_groups)
        if surveys is not None:
            self.surveys = surveys
        if flow is not None:
            self.flow = flow
        self._record_roster()
        if self.live is not None:
            self.live.site_changed()
        log.info("site settings reloaded: %d queues, %d agents, %d supervisors", len(site.queues),
                 len(site.agents), len(site.supervisors))
        return {"queues": [q.name for q in site.queues], "agents": [a.id for a in site.agents],
                "supervisors": [s.id for s in site.supervisors], "flow": str(self.flow.path),
                "draining": sorted(n for n, q in self.acd.queues.items() if q.draining),
                "leaving": sorted(a.id for a in self.acd.agents.values() if a.retiring),
                "restart": list(restart)}

    # --- the loop's interface -----------------------------------------------------------------
    def commands(self) -> dict[str, Callable[..., dict]]:
        return {name: _refusing(self._on_call(name, fn) if name in ON_CALL else fn)
                for name, fn in self._commands.items()}

    def _on_call(self, name: str, fn: Callable[..., dict]) -> Callable[..., dict]:
        """`fn` refusing a `call` argument that is not the agent's call (for a wrap-up code: their
        call, or the last one they had)."""
        def run(agent: str, call: str | None = None, **args) -> dict:
            if call is not None:
                agent_obj = self.acd.agent(agent)
                current = agent_obj.call.id if agent_obj.call else None
                if name == "agent.wrapup" and current is None:
                    current = agent_obj.last_call_id
                if call != current:
                    raise AcdError(f"agent {agent_obj.id}: call {call} is not the agent's call now"
                                   f" ({'on call ' + current if current else 'on no call'})")
            return fn(agent=agent, **args)
        return run

    def preparers(self) -> dict[str, Callable[[dict], dict]]:
        return {"flow.reload": self.load_flow, "flow.validate": self.check_flow_text,
                "flow.schema": lambda args: {"schema": schema_json()}, "prompts.reload": self.read_prompts}

    def on_channel_event(self, ev: ChannelEvent) -> None:
        if ev.kind == EventKind.ANSWER:
            self.line_calls[ev.channel] += 1
        kind = self.svc.lines.channels[ev.channel].kind
        # An alarm is the line's as well as its leg's: the loop has recorded it, _on_trunk_alarm tells the leg.
        for_leg = kind == ChannelKind.TRUNK and ev.kind != EventKind.ALARM
        if for_leg and self.legs.on_event(ev.channel, ev.kind.value, ev.data):
            return
        handler = getattr(self, f"_on_{kind.value}_{ev.kind.value}", None)
        if handler is None:
            log.debug("ignored %s on %s", ev.kind.value, self.svc.lines.channels[ev.channel].name)
            return
        handler(ev)

    def on_caller_id(self, channel: int, msg: CallerIdMessage) -> None:
        call = self.calls.get(channel)
        if call is not None and call.state != CallState.RINGING:
            return  # sent on-hook only: once the line is answered, an FSK-like sound is not caller ID
        if not msg.valid:
            self.unreadable[channel] += 1
            self.last_caller_id[channel] = {"valid": False, "at": self.clock.time()}
            log.warning("caller ID on %s unreadable: the burst failed its checks",
                        self.svc.lines.channels[channel].name)
            return
        self.on_channel_event(ChannelEvent(channel, EventKind.CALLER_ID, {
            "number": msg.number, "name": msg.name, "when": msg.when, "absence": msg.absence}))

    def on_progress(self, channel: int, tone: str, cycles: int) -> None:
        # An answered line's busy or congestion tone is its far end's hang-up (far_end.py); otherwise
        # only a number being dialled out listens for call progress (Legs.on_event).
        if self.far_end.on_tone(channel, tone, cycles):
            return
        if tone in FAILURE_TONES and channel in self.legs.active and not self.legs.active[channel].answered:
            self.on_channel_event(ChannelEvent(channel, EventKind.PROGRESS, {"tone": tone}))

    def on_fax(self, channel: int, tone: str) -> None:
        if self.legs.on_fax(channel, tone):
            return
        call = self.calls.get(channel)
        if tone == "cng" and call is not None and call.direction == "inbound" and call.state in FAX_STATES:
            call.event("call:fax")
            self.end_call(call, Disposition.FAX, "box")

    def on_amd(self, channel: int, result: str, cause: str) -> None:
        self.legs.on_heard(channel, result, cause)

    def on_voice(self, channel: int, active: bool) -> None:
        self.far_end.on_voice(channel, active)

    def on_audio(self, rx: np.ndarray, tx: np.ndarray, levels: np.ndarray) -> None:
        self.recordings.frames(rx, tx)
        self.voicemail.tick(rx, levels)

    def line_freed(self) -> None:
        self.trunk_freed()

    # --- services used by calls, IVR and ACD --------------------------------------------------
    def play(self, call: Call, prompts: list[str], on_done: Callable[[], None]) -> None:
        samples = self.prompts.concat(prompts)
        if samples.size == 0:
            self.svc.later(0.0, on_done)
            return
        self.svc.media.play(call.line, samples, on_done=on_done)

    def stop_playing(self, call: Call) -> bool:
        return call.channel is not None and self.svc.media.stop(call.channel)

    def is_playing(self, call: Call) -> bool:
        return call.channel is not None and self.svc.media.playing(call.channel)

    def play_samples(self, call: Call, samples: np.ndarray, on_done: Callable[[], None]) -> None:
        self.svc.media.play(call.line, samples, on_done=on_done)

    def transfer_out(self, call: Call, number: str, on_fail: Callable[[str], None]) -> None:
        """The flow sends the caller on to an external number: music while it rings, then a bridge."""
        # `leg` is made once the number is dialled, before it can answer.
        def answered() -> None:
            if leg is None:
                raise CallError(f"call {call.id}: {number} answered before it was dialled")
            call.conversation = Conversation(call.line, None, third=leg.line, mode=Mode.CONFERENCE)
            call.transferred_out = True
            self.apply(call)
            call.connected_at = self.clock.time()
            call.update(connected_at=call.connected_at)
            call.set_state(CallState.CONNECTED, to=number)
            if call.recording_id is None:
                self.recordings.start(call)
        leg = self.legs.seize(number, on_answer=answered, on_fail=on_fail,
                              on_clear=lambda: self.end_call(call, Disposition.TRANSFERRED, "external"), call=call)
        if leg is None:
            on_fail(NO_LINE)
            return
        self.hold_music(call)
        call.event("call:transfer_out", number=number)

    def _let_go(self, call: Call) -> None:
        """Free every party the call still holds: third party, dialled legs, listening supervisor."""
        self.transfers.call_ending(call)
        self.legs.call_ending(call)
        self.supervisors.call_ending(call)

    def trunk_freed(self) -> None:
        """A trunk is free again without a call having ended (a dialled leg let go, a line test done,
        an alarm cleared): waiting callers are offered anew, as a remote agent may now be dialled on
        it. Deferred to the timers of this tick, so the handler that freed it finishes first."""
        self.svc.later(0.0, self.acd.dispatch)

    def agent_left(self, call: Call) -> bool:
        """The agent hung up first: if the flow continues after the agent (a survey), take the
        caller back into the flow and return True."""
        session = self.sessions.get(call.id)
        cfg = self.acd.settings_of(call.queue) if call.queue else None
        if call.after_agent is None and cfg is not None and cfg.survey_after and cfg.survey in self.surveys:
            # The queue's post-call survey: the caller stays on for it (site.toml `survey`).
            self.to_survey(call, cfg.survey, by_agent=False)
            return True
        if session is None or call.after_agent is None:
            return False
        self._agent_off(call)
        return session.resume_after_agent()

    def _agent_off(self, call: Call) -> None:
        """The agent leaves the call (hung up, or sent the caller on to a survey): wrap-up as usual."""
        agent = call.talker
        self._let_go(call)
        for ch in call.mixed:
            self.svc.media.disconnect(ch)
        call.conversation, call.mixed, call.agent = None, set(), None
        self.acd.release(agent, call)
        self.acd.dispatch()

    def to_survey(self, call: Call, name: str, by_agent: bool = True) -> None:
        """The caller answers the survey flow `name` (site.toml `survey` of the queue, or the agent's
        transfer to "survey:<name>", `by_agent`: their line is hung up); the agent goes to wrap-up. The
        answers are stored on the call (survey_answers, by the flow's survey nodes)."""
        flow = self.surveys.get(name)
        if flow is None:
            known = ", ".join(sorted(self.surveys)) or "none"
            raise CallError(f"call {call.id}: no survey {name!r} (surveys: {known})")
        agent = call.talker
        if by_agent:
            agent.line.drop()
        self._agent_off(call)
        old = self.sessions.pop(call.id, None)
        if old is not None:
            old.stop()
        call.after_agent = None
        call.set_state(CallState.IVR)
        call.event("call:survey", survey=name, agent=agent.id)
        session = IvrSession(self.svc, self, call, flow)
        self.sessions[call.id] = session
        session.start()

    def hold_music(self, call: Call) -> None:
        self.svc.media.play(call.line, self.prompts.get("music-on-hold"), loop=True)

    def announce(self, call: Call, position: int, wait_s: float) -> None:
        """Tell a waiting caller their place and expected wait (as their queue's `announce` says), then
        back to the music."""
        cfg = self.acd.settings_of(call.queue_name)
        said = cfg.announce if cfg is not None else ("position", "wait")
        words = list(cfg.announce_prompts if cfg is not None else [])
        words += (self.say.position(position) if "position" in said else []) + (
            self.say.wait(wait_s) if "wait" in said else [])

        def back_to_music() -> None:
            if call.state == CallState.QUEUED:
                self.hold_music(call)
        self.play(call, words, on_done=back_to_music)

    def enqueue(self, call: Call, queue: str, on_exit: Callable[[str], None] | None = None) -> bool:
        # A group of queues knows its incoming calls once they reach one of its queues.
        if (call.direction == "inbound" and not call.trunk_group and call.channel is not None
                and call.id in self.sessions and not self._admit(call, self.trunk_groups.group_for(queue=queue))):
            return False
        return self.acd.enqueue(call, queue, on_exit)

    def flow_hangup_cb(self, call: Call) -> Callable[[], None]:
        return lambda: self.end_call(call, Disposition.COMPLETED, "box")

    def connect(self, call: Call, agent: Agent) -> None:
        """The agent answered: bridge the two channels and start recording."""
        call.conversation = Conversation(call.line, agent.line.channel)
        self.apply(call)
        call.set_state(CallState.CONNECTED, agent=agent.id)
        q = self.acd.queues.get(call.queue) if call.queue else None
        if call.recording_id is None and (q is None or q.cfg.recording == "all"):
            self.recordings.start(call)
        self.svc.emit("call:bridged", call=call, agent=agent, channel=call.channel, line=agent.line.channel)

    def apply(self, call: Call) -> None:
        """Set the mixing legs and music for the call's conversation as it now stands."""
        conv = call.talk
        for ch in call.mixed | set(conv.channels()):
            self.svc.media.disconnect(ch)
        for dst, src in conv.legs():
            self.svc.media.connect(dst, src)
        call.mixed = set(conv.channels())
        if conv.caller_on_hold():
            if not self.svc.media.playing(call.line):
                self.hold_music(call)
        else:
            self.svc.media.stop(call.line)
        self.recordings.changed()

    def outbound_call(self, channel: int | None, number: str, agent: Agent, direction: str = "outbound") -> Call:
        """An agent's call out on the trunk `channel`, or on none yet (None: one is taken once the
        number is dialled, take_trunk); the trunk is the call's line, the agent its agent."""
        call = Call(self.svc, self.svc.new_id(), channel, self.clock.time(), direction=direction)
        call.number, call.agent = number, agent
        call.update(number=number, agent_id=agent.id)
        if channel is not None:
            self.calls[channel] = call
        call.set_state(CallState.RINGING_AGENT, agent=agent.id)
        return call

    def take_trunk(self, call: Call, channel: int) -> None:
        """The trunk seized to dial the call's customer becomes its line."""
        call.channel = channel
        self.calls[channel] = call
        call.update(channel=call.line_name)
        self.far_end.quiet_from(channel, self.clock.time())

    def leave_trunk(self, call: Call) -> None:
        """An incoming call took the trunk the call's customer was being dialled on (glare): the call
        has no line until the number is dialled on another."""
        self._free_line(call)
        call.channel = None

    def _free_line(self, call: Call) -> None:
        if call.channel is not None:
            self.calls.pop(call.channel, None)

    def recording_changed(self) -> None:
        self.recordings.changed()

    def start_recording(self, call: Call) -> None:
        """Record from now on (a queue recorded on demand)."""
        if call.recording_id is None:
            self.recordings.start(call)
            call.event("recording:start")

    def end_call(self, call: Call, disposition: Disposition, by: str) -> None:
        """Hang up everything the call holds and close its record. Safe to call twice."""
        if call.state == CallState.ENDED:
            return
        now = self.clock.time()
        if call.state == CallState.DIALING and disposition == Disposition.ANSWERED:
            # Ended (the agent hung up) while the customer's number still rang: nobody was reached.
            disposition = Disposition.UNANSWERED
        if call.connected_at is not None and disposition in (Disposition.COMPLETED, Disposition.IVR_HANGUP):
            # Ended in the flow after an agent had it (a post-call survey): the call was answered.
            disposition = Disposition.ANSWERED
        session = self.sessions.pop(call.id, None)
        if session:
            session.stop()
        line = call.channel     # an agent's call out has no trunk until its number is dialled
        if line is not None:
            self.svc.media.stop(line)
        for ch in call.mixed | ({line} if line is not None else set()):
            self.svc.media.disconnect(ch)
        self._let_go(call)
        if call.state in (CallState.QUEUED, CallState.RINGING_AGENT):
            if disposition == Disposition.ABANDONED:
                self.acd.abandoned(call)
            self.acd.leave(call)
        if call.agent is not None and call.agent.state == AgentState.TALKING:
            call.agent.line.drop()
        self.recordings.stop(call)
        if by != "caller" and line is not None and self.svc.alarm(line) is None:
            self.svc.lines.hangup(line)
        self.far_end.call_ended(call)
        # The line is free before the agents are offered the next caller: a remote agent may be dialled on it.
        self._free_line(call)
        self.acd.call_ended(call)
        call.finish(disposition, by, now)

    # --- channel events -----------------------------------------------------------------------
    def _call_for(self, channel: int) -> Call:
        call = self.calls.get(channel)
        if call is None:
            call = Call(self.svc, self.svc.new_id(), channel, self.clock.time())
            self.calls[channel] = call
            self.line_calls[channel] += 1
            self.svc.hear_anew(channel)
            self.far_end.quiet_from(channel, self.clock.time())
            self.svc.emit("call:arrived", call=call)
        return call

    def _on_trunk_callerid(self, ev: ChannelEvent) -> None:
        call = self._call_for(ev.channel)
        call.number, call.name = ev.data.get("number") or None, ev.data.get("name") or None
        call.customer = self.customers.lookup(call.number) if self.customers else None
        if call.customer is not None:
            call.name = call.name or call.customer.name
        call.update(number=call.number, name=call.name, customer_id=call.customer.id if call.customer else None)
        # A trunk that signals the dialled number (E1 MFC-R2) gives it too: the call's journal keeps it.
        dnis = {"dnis": ev.data["dnis"]} if ev.data.get("dnis") else {}
        call.dnis = ev.data.get("dnis") or None
        call.event("call:callerid", number=call.number, name=call.name, absence=ev.data.get("absence"), **dnis)
        self.last_caller_id[ev.channel] = {"number": call.number, "name": call.name, "at": self.clock.time()}

    def _on_trunk_ring(self, ev: ChannelEvent) -> None:
        call = self._call_for(ev.channel)
        if call.state != CallState.RINGING:
            return
        call.rings += 1
        # A line that went off hook onto the caller (glare on an analog line) rings no more: answer now.
        if call.rings >= self.answer_rings or ev.data.get("off_hook"):
            self._answer_when_heard(call)

    def _answer_when_heard(self, call: Call) -> None:
        """Answer now, unless caller ID is still arriving on the line: then as soon as it has (the
        receiver closes a burst within MAX_CAPTURE_FRAMES, so this ends)."""
        if call.state != CallState.RINGING:
            return
        if self.svc.caller_id_arriving(call.line):
            self.svc.later(CALLER_ID_POLL_S, self._answer_when_heard, call)
        else:
            self._answer(call)

    def _answer(self, call: Call) -> None:
        self.svc.lines.answer(call.line)
        now = self.clock.time()
        call.answered_at = now
        call.update(answered_at=now)
        call.event("call:answered")
        call.set_state(CallState.IVR)
        session = IvrSession(self.svc, self, call, self.flow)
        self.sessions[call.id] = session
        # On an analog line the caller already holds the trunk when it rings: a call over its group's
        # cap is answered to be given the group's overflow, and the trunk is freed as soon as that ends.
        if not self._admit(call, self.trunk_groups.group_for(call.line_name, call.dnis)):
            return
        session.start()

    def _admit(self, call: Call, group: str) -> bool:
        """Take an incoming call into its trunk group, or give it the group's overflow (at its cap)."""
        if group == NO_GROUP:
            return True
        if self.trunk_groups.may_seize(group, IN):
            call.trunk_group = group
            return True
        cfg = self.trunk_groups.cfg(group)
        call.event("trunks:over_cap", group=group, cap=cfg.cap)
        self.sessions[call.id].over_cap(cfg.overflow, cfg.overflow_prompts)
        return False

    def _trunk_usage(self) -> tuple[dict[str, int], int]:
        """Trunks held per trunk group (calls on them and numbers dialled on them), and trunks free."""
        held: dict[str, int] = {}
        for call in self.calls.values():
            held[call.trunk_group] = held.get(call.trunk_group, 0) + 1
        for ch, leg in self.legs.active.items():
            if ch not in self.calls:
                held[leg.group] = held.get(leg.group, 0) + 1
        return held, self.legs.idle_count()

    def group_of(self, call: Call) -> str:
        """The trunk group a trunk seized for `call` counts in: the call's own, else that of its
        queue, else that of the queues of the agent who dials it."""
        if call.trunk_group:
            return call.trunk_group
        queues = [call.queue] if call.queue else []
        if call.agent is not None:
            queues += call.agent.status()["queues"]
        return next((g for g in (self.trunk_groups.group_for(queue=q) for q in queues) if g), NO_GROUP)

    def _on_trunk_clear(self, ev: ChannelEvent) -> None:
        call = self.calls.get(ev.channel)
        if call is not None:
            self._caller_left(call)

    def far_end_gone(self, call: Call) -> None:
        """The caller hung up without a line signal (their exchange's busy tone, a long silence;
        far_end.py): our side goes on hook first, then the call ends as at the caller's clear."""
        line = call.line
        self.svc.media.stop(line)
        if self.svc.alarm(line) is None:
            self.svc.lines.hangup(line)
        self._caller_left(call)

    def _caller_left(self, call: Call) -> None:
        if call.channel in self.voicemail.taking:
            self.voicemail.finish(call, "hangup", hung_up=True)
            self.end_call(call, Disposition.VOICEMAIL, "caller")
            return
        if call.state == CallState.CONNECTED and call.transferred_out:
            self.end_call(call, Disposition.TRANSFERRED, "caller")
            return
        disposition = {CallState.RINGING: Disposition.UNANSWERED, CallState.IVR: Disposition.IVR_HANGUP,
                       CallState.QUEUED: Disposition.ABANDONED, CallState.RINGING_AGENT: Disposition.ABANDONED,
                       CallState.CONNECTED: Disposition.ANSWERED, CallState.DIALING: Disposition.UNANSWERED,
                       }[call.state]
        self.end_call(call, disposition, "caller")

    def _on_trunk_alarm(self, ev: ChannelEvent) -> None:
        if not ev.data.get("active", True):
            return
        call = self.calls.get(ev.channel)
        if call is not None:
            self.end_call(call, Disposition.FAILED, "box")
        else:
            # The loop noted the alarm before handing the event on; LINE_DOWN if it gave no reason.
            self.legs.on_lost(ev.channel, self.svc.alarm(ev.channel) or LINE_DOWN)

    def _on_station_alarm(self, ev: ChannelEvent) -> None:
        agent = self.acd.by_channel.get(ev.channel)
        if agent is None or not ev.data.get("active", True):
            return
        self.agent_line_lost(agent, self.svc.alarm(ev.channel) or LINE_DOWN)
        # Their own phone is out of service until the line comes back.
        if agent.state != AgentState.LOGGED_OUT:
            agent.cancel_timer()
            agent.set_state(AgentState.NOT_READY, "line alarm")

    def agent_line_lost(self, agent: Agent, reason: str) -> None:
        """The line to the agent went down (their station, or the trunk they were dialled on)."""
        call = agent.call
        if agent.state == AgentState.RINGING:
            self.acd.missed(agent, LINE_DOWN)
        elif agent.state != AgentState.TALKING or call is None:
            return
        elif call.agent is agent and call.direction == "inbound" and call.queue:
            # The agent dropped out mid-call: the caller is not left stranded but goes back to the
            # front of their queue.
            call.event("agent:lost", agent=agent.id, reason=reason)
            self._let_go(call)
            call.conversation = None
            for ch in call.mixed:
                self.svc.media.disconnect(ch)
            call.mixed = set()
            call.agent = None
            self.acd.release(agent, call)
            self.acd.requeue(call, call.queue)
        else:
            self.agent_hung_up(agent)

    def _on_station_answer(self, ev: ChannelEvent) -> None:
        agent = self.acd.by_channel.get(ev.channel)
        if agent is not None:
            self.acd.picked_up(agent)
        else:
            self.supervisors.answered(ev.channel)

    def _on_station_clear(self, ev: ChannelEvent) -> None:
        agent = self.acd.by_channel.get(ev.channel)
        if agent is not None:
            self.agent_hung_up(agent)
        else:
            self.supervisors.cleared(ev.channel)

    def agent_hung_up(self, agent: Agent) -> None:
        """The agent's phone went on hook (their station, or the far end of the trunk they were dialled on)."""
        if agent.call is None or agent.state != AgentState.TALKING or self.transfers.third_agent_left(agent):
            return
        call = agent.call
        third = call.third
        if third is not None and third.purpose == "consult" and third.answered:
            # Hanging up during a consultation hands the caller over, as on any office phone.
            self.transfers.cmd_transfer_complete(agent.id)
            return
        if not self.agent_left(call):
            self.end_call(call, Disposition.ANSWERED, "agent")

    def on_digit(self, channel: int, digit: str) -> None:
        call = self.calls.get(channel)
        # Secure input (a PIN, a card number) is masked here too: the technician's live view shows
        # every digit a line hears.
        shown = "*" if call is not None and call.secure_input else digit
        self.line_digits[channel] += 1
        self.heard.setdefault(channel, deque(maxlen=DIGITS_KEPT)).append((shown, self.clock.time()))
        # A trunk carrying a dialled leg (a remote agent's phone, a transfer target) has no call of
        # its own: what its far end keys is nobody's input.
        if call is None or call.state == CallState.RINGING:
            return
        call.digits += shown
        call.update(digits=call.digits)
        call.event("ivr:digit", digit=shown, node=call.node)
        if self.voicemail.on_digit(call, digit) or self.dialer.on_digit(call, digit):
            return
        session = self.sessions.get(call.id)
        if session is None:
            return
        if call.state == CallState.IVR:
            session.on_digit(digit)
        elif call.state == CallState.QUEUED:
            session.on_queue_digit(digit)

    def line_in_use(self, ch: int) -> str | None:
        """Why a line cannot be taken off-hook for a test now, or None."""
        call = self.calls.get(ch)
        if call is not None:
            return f"carries a call ({call.number or 'unknown number'}, {call.state.value})"
        agent = self.acd.by_channel.get(ch)
        if agent is not None and agent.call is not None:
            return f"carries agent {agent.id}'s call"
        if ch in self.legs.active:
            return "carries a call (a line dialled out)"
        if agent is not None and agent.state != AgentState.LOGGED_OUT:
            return f"is agent {agent.id}'s phone and the agent is logged in (log them out first)"
        sup = self.supervisors.by_station.get(ch)
        if sup is not None and sup.call is not None:
            return f"carries supervisor {sup.id}'s call"
        return None

    def load_flow(self, args: dict) -> dict:
        """Read and validate the flow file again (off the loop thread); ControlError if it is bad."""
        try:
            flow = load_flow(self.flow.path, set(self.prompts.names()), set(self.acd.queues))
            problems = schedule_problems(flow, set(self.site.schedules))
            if problems:
                raise FlowError(flow.path, problems)
        except FlowError as exc:
            raise ControlError(f"flow not reloaded, the running flow stays: {exc}") from None
        return {"flow": flow}

    def check_flow_text(self, args: dict) -> dict:
        """Check a flow's text as an editor holds it (off the loop thread): every problem with its
        node, key and line, and the flow as a graph; nothing is loaded or run."""
        path = self.flow.path.with_name(f"{args.get('name') or self.flow.name}.toml")
        return {"report": flow_report(args["text"], path, set(self.prompts.names()), set(self.acd.queues),
                                      self.flow.name)}

    def read_prompts(self, args: dict) -> dict:
        """Read every prompt file again (off the loop thread); ControlError if one is not a prompt."""
        try:
            prompts = self.prompts.read()
        except PromptError as exc:
            raise ControlError(f"prompts not reloaded, the running set stays: {exc}") from None
        lost = self.say.prompts() - set(prompts)
        if lost:
            raise ControlError(f"prompts not reloaded, the running set stays: spoken numbers need "
                               f"{', '.join(sorted(lost))}")
        return {"prompts": prompts}

    def _swap_prompts(self, prompts: dict) -> dict:
        """New plays take the new recordings; a prompt already playing plays on to its end."""
        self.prompts.replace(prompts)
        log.info("prompts reloaded: %d", len(prompts))
        return {"prompts": len(prompts)}

    def _swap_flow(self, flow: Flow) -> dict:
        """New calls take the new flow; calls already in the IVR finish on the one they started."""
        self.flow = flow
        log.info("flow %s reloaded: %d nodes", flow.path, len(flow.nodes))
        return {"flow": str(flow.path), "nodes": len(flow.nodes), "start": flow.start}

    def fault(self, exc: Exception, channel: int | None, subject: Timer | None = None) -> None:
        """A handler on `channel` or the timer `subject` failed: end the call it belonged to."""
        call = None
        if subject is not None:
            # A timer belongs to a call when one of its arguments (or its bound object) is the call or
            # holds it: an agent ringing for it, the call's IVR session.
            for obj in (*subject.args, getattr(subject.fn, "__self__", None)):
                found = obj if isinstance(obj, Call) else getattr(obj, "call", None)
                if isinstance(found, Call):
                    call, channel = found, found.channel
                    break
        where = self.svc.lines.channels[channel].name if channel is not None else "a timer"
        log.error("fault on %s: %s", where, exc, exc_info=exc)
        if call is None and channel is not None:
            # A station's (or a remote agent's trunk's) handler faulted: the call is the agent's.
            agent = self.acd.by_channel.get(channel)
            call = self.calls.get(channel) or (agent.call if agent is not None else None)
        if call is None:
            return
        try:
            self.end_call(call, Disposition.FAILED, "box")
        except Exception as again:  # the record must still be closed and the line freed
            log.error("fault on %s while ending call %s: %s", where, call.id, again, exc_info=again)
            self._free_line(call)
            call.finish(Disposition.FAILED, "box", self.clock.time())

    def on_recording(self, fin: Finished) -> None:
        if not self.voicemail.stored(fin):
            self.recordings.finished(fin)

    # --- status -------------------------------------------------------------------------------
    def line_status(self, channel: int) -> dict:
        """The call on the line (or the agent's call on their phone), and the line's call figures."""
        call = self.calls.get(channel)
        agent = self.acd.by_channel.get(channel)
        state = since = None
        if call is not None:
            state, since = call.state.value, call.arrived_at
        elif agent is not None and agent.call is not None:
            state, since = ("ringing" if agent.state == AgentState.RINGING else "connected"), agent.since
            call = agent.call
        # The trunk group the trunk counts in (trunk_groups.py): its call's, or the number dialled on it;
        # "" for none, None while the trunk carries nothing.
        leg = self.legs.active.get(channel)
        group = self.calls[channel].trunk_group if channel in self.calls else leg.group if leg is not None else None
        return {"state": state, "since": since, "call_id": call.id if call else None, "trunk_group": group,
                "number": call.number if call else None, "last_caller_id": self.last_caller_id.get(channel),
                "calls": self.line_calls[channel], "digits": self.line_digits[channel],
                "far_end_clears": self.far_end_clears[channel],
                "unreadable_ids": self.unreadable[channel],
                "heard": [{"digit": d, "at": t} for d, t in self.heard.get(channel, ())]}

    def status(self) -> dict:
        now = self.clock.time()
        return {"flow": {"name": self.flow.name, "start": self.flow.start, "nodes": len(self.flow.nodes)},
                "language": self.site.language,
                "prompt_dirs": {"stock": str(self.prompts.directory),
                                "own": None if self.prompts.own is None else str(self.prompts.own)},
                "calls": [c.status(now) for c in sorted(self.calls.values(), key=lambda c: c.arrived_at)],
                **self.acd.status(), "supervisors": self.supervisors.status(), "callbacks": self.callbacks.status(),
                "trunk_groups": self.trunk_groups.status(),
                # The post-call surveys an agent may transfer a caller to, with the queues that name each.
                "surveys": [{"name": name, "queues": [q.name for q in self.site.queues if q.survey == name]}
                            for name in sorted(self.surveys)],
                "campaigns": self.dialer.status()}

    def close(self) -> None:
        # An agent's call out whose number is not dialled yet has no trunk: it is found by its agent.
        open_calls = {id(c): c for c in [*self.calls.values(), *(a.call for a in self.acd.agents.values())] if c}
        for call in open_calls.values():
            self.end_call(call, Disposition.FAILED, "box")
        self.acd.log_out_all("shutdown")
        for follower in (self.customers, self.lookups):
            if follower is not None:
                follower.close()
