"""The engine: the 20 ms tick loop that owns the board, the detectors, every call and every agent."""
from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Callable

import numpy as np

from drivers.channel import (TICK_SAMPLES, TICK_SECONDS, Board, ChannelError, ChannelEvent, ChannelKind,
                             EventKind, LineTest)

from firmware.callcenter import kpi
from firmware.callcenter.acd import Acd, AcdError, Agent, AgentState
from firmware.callcenter.agent_lines import LINE_DOWN
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.core.clock import TickClock
from firmware.callcenter.conversation import Conversation, Mode
from firmware.callcenter.callbacks import Callbacks
from firmware.callcenter.customers import CustomerDirectory, LookupTables
from firmware.core.control import ControlError, ControlServer
from firmware.callcenter.flows import Flow, FlowError, load_flow
from firmware.callcenter.ivr import IvrSession
from firmware.core.journal import Journal
from firmware.core.listening import Listener
from firmware.core.media import MediaPlan
from firmware.callcenter.operations import NO_LINE, Operations
from firmware.core.prompts import PromptError, PromptSet
from firmware.callcenter.queue_log import QueueLog
from firmware.core.recorder import Recorder
from firmware.callcenter.say import Say
from firmware.callcenter.voicemail import Voicemail
from firmware.config.site import SiteConfig
from firmware.store.writer import StoreWriter
from firmware.core.timers import Timers

log = logging.getLogger(__name__)

# Tick durations kept for the statistics in status(): one minute of ticks.
STATS_TICKS = 3000
# A technician's line test listens this long: the modem needs a second to go off-hook and start its
# stream, and dial tone is continuous, so a few seconds settle it.
LINE_TEST_S = 3.0
# A driver that has not finished a test this long after its listening time has lost it (a modem's
# command timeouts add up to a few seconds).
LINE_TEST_GRACE_S = 15.0
# Finished line tests kept for `line.test_result`.
LINE_TESTS_KEPT = 64
# Digits heard kept per line for the technician's live view.
DIGITS_KEPT = 20
# How often a due answer checks again whether a caller ID burst has finished: a few ticks.
CALLER_ID_POLL_S = 0.1
# Control commands get a share of each 20 ms tick, never the whole of it: the loop stops taking
# commands once this much of the tick has gone to them, or after this many (a status took 0.12 ms
# with the demo's four calls), and the rest wait for the next tick. The audio, detectors and mixing
# keep the other three quarters of the tick, with headroom for a Pi-class CPU.
COMMAND_BUDGET_S = TICK_SECONDS / 4
COMMANDS_PER_TICK = 32


class TickStats:
    """Per-tick processing time: mean, p99, max and overruns (ticks that took longer than a tick)."""

    def __init__(self):
        self._ms = np.zeros(STATS_TICKS, np.float32)
        self.count = 0
        self.overruns = 0
        self.max_ms = 0.0

    def add(self, seconds: float) -> None:
        ms = seconds * 1000.0
        self._ms[self.count % STATS_TICKS] = ms
        self.count += 1
        if seconds > TICK_SECONDS:
            self.overruns += 1
        if ms > self.max_ms:
            self.max_ms = ms

    def status(self) -> dict:
        window = self._ms[:min(self.count, STATS_TICKS)]
        if window.size == 0:
            return {"count": 0, "mean_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "overruns": 0}
        return {"count": self.count, "mean_ms": round(float(window.mean()), 3),
                "p99_ms": round(float(np.percentile(window, 99)), 3), "max_ms": round(self.max_ms, 3),
                "overruns": self.overruns}


class Engine:
    def __init__(self, board: Board, clock: TickClock, site: SiteConfig, flow: Flow, prompts: PromptSet,
                 store: StoreWriter, recorder: Recorder, board_name: str = "sim",
                 control: ControlServer | None = None, seed: str | None = None,
                 customers: CustomerDirectory | None = None, queue_log: Journal | None = None,
                 lookups: LookupTables | None = None):
        self.board, self.clock, self.site, self.flow, self.prompts = board, clock, site, flow, prompts
        self.store, self.recorder, self.control, self.customers = store, recorder, control, customers
        self.queue_log = queue_log
        self.board_name = board_name
        self.timers = Timers()
        self.stats = TickStats()
        self.observers: list[Callable[[str, dict], None]] = []
        self._rng = random.Random(seed) if seed is not None else None
        n = len(board)
        self.listener = Listener(self, site.tones)
        # Caller ID sent after a ring is only heard if that ring is let pass.
        self.answer_rings = max(site.answer_rings, board.answer_rings)
        self.media = MediaPlan(n)
        self.tx = np.zeros((n, TICK_SAMPLES), np.int16)
        self.calls: dict[int, Call] = {}          # trunk channel -> call
        self.sessions: dict[str, IvrSession] = {}
        self.recorded: dict[str, Call] = {}       # recording id -> call
        self._rec_index: tuple | None = None
        self.alarms: dict[int, str] = {}
        # Per-line figures for the technician, kept where the events are handled (never a scan per tick).
        self.line_calls = [0] * n
        self.line_digits = [0] * n
        self.heard: dict[int, deque] = {}            # channel -> (digit, time), the last DIGITS_KEPT
        self.last_caller_id: dict[int, dict] = {}
        self.line_tests: dict[str, dict] = {}        # job id -> record, oldest first
        self.testing: dict[int, tuple[str, LineTest]] = {}   # channel -> (job, test) while one runs
        self._last_test: dict[int, dict] = {}        # channel -> its latest test record
        self.started_at = clock.time()
        self.service_level_s = kpi.SERVICE_LEVEL_S
        self.say = Say(site.language)
        missing = self.say.prompts() - set(prompts.names())
        if missing:
            raise PromptError(f"prompt set {prompts.directory} lacks {', '.join(sorted(missing))}")
        self.acd = Acd(self, site.queues, site.agents)
        self.ops = Operations(self, site.supervisors)
        self.voicemail = Voicemail(self)
        self.callbacks = Callbacks(self)
        self.lookups = lookups
        self._running = False
        if queue_log is not None:
            self.observers.append(QueueLog(self, queue_log))
        self._commands = {
            "status": lambda: self.status(),
            "agent.login": lambda agent: self.acd.cmd_login(agent),
            "agent.logout": lambda agent: self.acd.cmd_logout(agent),
            "agent.ready": lambda agent: self.acd.cmd_ready(agent),
            "agent.not_ready": lambda agent, reason="break": self.acd.cmd_not_ready(agent, reason),
            "agent.hangup": lambda agent: self.acd.cmd_hangup(agent),
            **self.ops.commands(),
            "flow.reload": self._swap_flow,
            "line.test": self.cmd_line_test,
            "line.test_result": self.cmd_line_test_result,
        }
        if control is not None:
            control.prepare["flow.reload"] = self.load_flow
        for agent in self.acd.agents.values():
            store.upsert("agents", {"id": agent.id, "name": agent.name,
                                    "station": agent.line.name,
                                    "queues": ",".join(agent.status()["queues"]),
                                    "skills": json.dumps(agent.skills), "updated_at": self.started_at})
        for q in site.queues:
            store.upsert("queues", {"id": q.name, "strategy": q.strategy, "skill": q.skill,
                                    "min_level": q.min_level, "updated_at": self.started_at})

    # --- services used by calls, IVR and ACD --------------------------------------------------
    def new_id(self) -> str:
        """A record id unique across restarts and boxes (firmware/store/ids.py: a seeded engine's generator
        is seeded with the box id and the boot number as well as the scenario seed)."""
        if self._rng is not None:
            return uuid.UUID(int=self._rng.getrandbits(128), version=4).hex
        return uuid.uuid4().hex

    def emit(self, event: str, /, **data) -> None:
        for observer in self.observers:
            observer(event, data)

    def later(self, seconds: float, fn: Callable, *args):
        return self.timers.at(self.clock.seconds + seconds, fn, *args)

    def play(self, call: Call, prompts: list[str], on_done: Callable[[], None]) -> None:
        samples = self.prompts.concat(prompts)
        if samples.size == 0:
            self.later(0.0, on_done)
            return
        self.media.play(call.channel, samples, on_done=on_done)

    def stop_playing(self, call: Call) -> bool:
        return self.media.stop(call.channel)

    def is_playing(self, call: Call) -> bool:
        return self.media.playing(call.channel)

    def play_samples(self, call: Call, samples: np.ndarray, on_done: Callable[[], None]) -> None:
        self.media.play(call.channel, samples, on_done=on_done)

    def transfer_out(self, call: Call, number: str, on_fail: Callable[[str], None]) -> None:
        """The flow sends the caller on to an external number: music while it rings, then a bridge."""
        # `leg` is made once the number is dialled, before it can answer.
        def answered() -> None:
            call.conversation = Conversation(call.channel, None, third=leg.channel, mode=Mode.CONFERENCE)
            call.transferred_out = True
            self.apply(call)
            call.connected_at = self.clock.time()
            call.update(connected_at=call.connected_at)
            call.set_state(CallState.CONNECTED, to=number)
            if call.recording_id is None:
                self._start_recording(call)
        leg = self.ops.seize(number, on_answer=answered, on_fail=on_fail,
                             on_clear=lambda: self.end_call(call, Disposition.TRANSFERRED, "external"), call=call)
        if leg is None:
            on_fail(NO_LINE)
            return
        self.hold_music(call)
        call.event("call:transfer_out", number=number)

    def trunk_freed(self) -> None:
        """A trunk is free again without a call having ended (a dialled leg let go, a line test done,
        an alarm cleared): waiting callers are offered anew, as a remote agent may now be dialled on
        it. Deferred to the timers of this tick, so the handler that freed it finishes first."""
        self.later(0.0, self.acd.dispatch)

    def agent_left(self, call: Call) -> bool:
        """The agent hung up first: if the flow continues after the agent (a survey), take the
        caller back into the flow and return True."""
        session = self.sessions.get(call.id)
        if session is None or call.after_agent is None:
            return False
        agent = call.agent
        self.ops.call_ending(call)
        for ch in call.mixed:
            self.media.disconnect(ch)
        call.conversation, call.mixed, call.agent = None, set(), None
        self.acd.release(agent, call)
        self.acd.dispatch()
        return session.resume_after_agent()

    def hold_music(self, call: Call) -> None:
        self.media.play(call.channel, self.prompts.get("music-on-hold"), loop=True)

    def announce(self, call: Call, position: int, wait_s: float) -> None:
        """Tell a waiting caller their place and expected wait, then back to the music."""
        words = self.say.position(position) + self.say.wait(wait_s)
        self.play(call, words, on_done=lambda: call.state == CallState.QUEUED and self.hold_music(call))

    def enqueue(self, call: Call, queue: str, on_exit: Callable[[str], None] | None = None) -> bool:
        return self.acd.enqueue(call, queue, on_exit)

    def flow_hangup_cb(self, call: Call) -> Callable[[], None]:
        return lambda: self.end_call(call, Disposition.COMPLETED, "box")

    def connect(self, call: Call, agent) -> None:
        """The agent answered: bridge the two channels and start recording."""
        call.conversation = Conversation(call.channel, agent.line.channel)
        self.apply(call)
        call.set_state(CallState.CONNECTED, agent=agent.id)
        q = self.acd.queues.get(call.queue) if call.queue else None
        if call.recording_id is None and (q is None or q.cfg.recording == "all"):
            self._start_recording(call)
        self.emit("call:bridged", call=call, agent=agent, channel=call.channel, line=agent.line.channel)

    def apply(self, call: Call) -> None:
        """Set the mixing legs and music for the call's conversation as it now stands."""
        conv = call.conversation
        for ch in call.mixed | set(conv.channels()):
            self.media.disconnect(ch)
        for dst, src in conv.legs():
            self.media.connect(dst, src)
        call.mixed = set(conv.channels())
        if conv.caller_on_hold():
            if not self.media.playing(call.channel):
                self.hold_music(call)
        else:
            self.media.stop(call.channel)
        self._rec_index = None

    def outbound_call(self, channel: int | None, number: str, agent, direction: str = "outbound") -> Call:
        """An agent's call out on the trunk `channel`, or on none yet (None: one is taken once the
        number is dialled, take_trunk); the trunk is the call's line, the agent its agent."""
        call = Call(self, self.new_id(), channel, self.clock.time(), direction=direction)
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

    def leave_trunk(self, call: Call) -> None:
        """An incoming call took the trunk the call's customer was being dialled on (glare): the call
        has no line until the number is dialled on another."""
        self.calls.pop(call.channel, None)
        call.channel = None

    def recording_changed(self) -> None:
        self._rec_index = None

    def start_recording(self, call: Call) -> None:
        """Record from now on (a queue recorded on demand)."""
        if call.recording_id is None:
            self._start_recording(call)
            call.event("recording:start")

    def _start_recording(self, call: Call) -> None:
        rec_id = self.new_id()
        when = time.gmtime(self.clock.time())
        relpath = f"{when.tm_year:04d}/{when.tm_mon:02d}/{when.tm_mday:02d}/{call.id}.wav"
        call.recording_id = rec_id
        self.recorded[rec_id] = call
        self._rec_index = None
        self.recorder.open(rec_id, relpath)

    def end_call(self, call: Call, disposition: Disposition, by: str) -> None:
        """Hang up everything the call holds and close its record. Safe to call twice."""
        if call.state == CallState.ENDED:
            return
        now = self.clock.time()
        if call.state == CallState.DIALING and disposition == Disposition.ANSWERED:
            # Ended (the agent hung up) while the customer's number still rang: nobody was reached.
            disposition = Disposition.UNANSWERED
        session = self.sessions.pop(call.id, None)
        if session:
            session.stop()
        line = {call.channel} - {None}     # an agent's call out has no trunk until its number is dialled
        if line:
            self.media.stop(call.channel)
        for ch in call.mixed | line:
            self.media.disconnect(ch)
        self.ops.call_ending(call)
        if call.state in (CallState.QUEUED, CallState.RINGING_AGENT):
            if disposition == Disposition.ABANDONED:
                self.acd.abandoned(call)
            self.acd.leave(call)
        if call.agent is not None and call.agent.state == AgentState.TALKING:
            call.agent.line.drop()
        if call.recording_id:
            self.recorded.pop(call.recording_id, None)
            self._rec_index = None
            self.recorder.close(call.recording_id)
        if by != "caller" and line and call.channel not in self.alarms:
            self.board.hangup(call.channel)
        # The line is free before the agents are offered the next caller: a remote agent may be dialled on it.
        self.calls.pop(call.channel, None)
        self.acd.call_ended(call)
        call.finish(disposition, by, now)

    # --- channel events -----------------------------------------------------------------------
    def _on_channel_event(self, ev: ChannelEvent) -> None:
        if ev.kind == EventKind.ANSWER:
            self.line_calls[ev.channel] += 1
        kind = self.board.channels[ev.channel].kind
        # An alarm is the line's as well as its leg's: _on_trunk_alarm records it, then tells the leg.
        for_leg = kind == ChannelKind.TRUNK and ev.kind != EventKind.ALARM
        if for_leg and self.ops.leg_event(ev.channel, ev.kind.value, ev.data):
            return
        handler = getattr(self, f"_on_{kind.value}_{ev.kind.value}", None)
        if handler is None:
            log.debug("ignored %s on %s", ev.kind.value, self.board.channels[ev.channel].name)
            return
        handler(ev)

    def _call_for(self, channel: int) -> Call:
        call = self.calls.get(channel)
        if call is None:
            call = Call(self, self.new_id(), channel, self.clock.time())
            self.calls[channel] = call
            self.line_calls[channel] += 1
            self.listener.reset(channel)
            self.emit("call:arrived", call=call)
        return call

    def _on_trunk_callerid(self, ev: ChannelEvent) -> None:
        call = self._call_for(ev.channel)
        call.number, call.name = ev.data.get("number") or None, ev.data.get("name") or None
        call.customer = self.customers.lookup(call.number) if self.customers else None
        if call.customer is not None:
            call.name = call.name or call.customer.name
        call.update(number=call.number, name=call.name, customer_id=call.customer.id if call.customer else None)
        call.event("call:callerid", number=call.number, name=call.name, absence=ev.data.get("absence"))
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
        if self.listener.receiving_caller_id(call.channel):
            self.later(CALLER_ID_POLL_S, self._answer_when_heard, call)
        else:
            self._answer(call)

    def _answer(self, call: Call) -> None:
        self.board.answer(call.channel)
        now = self.clock.time()
        call.answered_at = now
        call.update(answered_at=now)
        call.event("call:answered")
        call.set_state(CallState.IVR)
        session = IvrSession(self, call, self.flow)
        self.sessions[call.id] = session
        session.start()

    def _on_trunk_clear(self, ev: ChannelEvent) -> None:
        call = self.calls.get(ev.channel)
        if call is None:
            return
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
        self._alarm(ev)
        if not ev.data.get("active", True):
            return
        call = self.calls.get(ev.channel)
        if call is not None:
            self.end_call(call, Disposition.FAILED, "box")
        else:
            self.ops.leg_lost(ev.channel, self.alarms[ev.channel])

    def _on_station_alarm(self, ev: ChannelEvent) -> None:
        self._alarm(ev)
        agent = self.acd.by_channel.get(ev.channel)
        if agent is None or not ev.data.get("active", True):
            return
        self.agent_line_lost(agent, self.alarms[ev.channel])
        # Their own phone is out of service until the line comes back.
        if agent.state != AgentState.LOGGED_OUT:
            if agent._timer:
                agent._timer.cancel()
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
            self.ops.call_ending(call)
            call.conversation = None
            for ch in call.mixed:
                self.media.disconnect(ch)
            call.mixed = set()
            call.agent = None
            self.acd.release(agent, call)
            self.acd.requeue(call, call.queue)
        else:
            self.agent_hung_up(agent)

    def _alarm(self, ev: ChannelEvent) -> None:
        name = self.board.channels[ev.channel].name
        if ev.data.get("active", True):
            self.alarms[ev.channel] = ev.data.get("reason", "alarm")
            log.error("line %s in alarm: %s", name, self.alarms[ev.channel])
        elif self.alarms.pop(ev.channel, None) is not None:
            log.warning("line %s back in service", name)
            self.trunk_freed()
        self.emit("line:alarm", channel=ev.channel, **ev.data)

    def _on_station_answer(self, ev: ChannelEvent) -> None:
        agent = self.acd.by_channel.get(ev.channel)
        if agent is not None:
            self.acd.picked_up(agent)
        else:
            self.ops.supervisor_answered(ev.channel)

    def _on_station_clear(self, ev: ChannelEvent) -> None:
        agent = self.acd.by_channel.get(ev.channel)
        if agent is not None:
            self.agent_hung_up(agent)
        else:
            self.ops.supervisor_cleared(ev.channel)

    def agent_hung_up(self, agent: Agent) -> None:
        """The agent's phone went on hook (their station, or the far end of the trunk they were dialled on)."""
        if agent.call is None or agent.state != AgentState.TALKING or self.ops.third_agent_left(agent):
            return
        call = agent.call
        third = call.third
        if third is not None and third.purpose == "consult" and third.answered:
            # Hanging up during a consultation hands the caller over, as on any office phone.
            self.ops.cmd_transfer_complete(agent.id)
            return
        if not self.agent_left(call):
            self.end_call(call, Disposition.ANSWERED, "agent")

    def _on_digit(self, channel: int, digit: str) -> None:
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
        if self.voicemail.on_digit(call, digit):
            return
        session = self.sessions.get(call.id)
        if session is None:
            return
        if call.state == CallState.IVR:
            session.on_digit(digit)
        elif call.state == CallState.QUEUED:
            session.on_queue_digit(digit)

    # --- commands -----------------------------------------------------------------------------
    def command(self, cmd: str, args: dict) -> dict:
        """Run one control command on the loop thread; ControlError for anything refused."""
        fn = self._commands.get(cmd)
        if fn is None:
            raise ControlError(f"unknown command {cmd!r} (commands: {', '.join(sorted(self._commands))})")
        try:
            return fn(**args)
        except TypeError as exc:
            raise ControlError(f"{cmd}: bad arguments: {exc}") from None
        except AcdError as exc:
            raise ControlError(str(exc)) from None

    def cmd_line_test(self, channel: int, seconds: float = LINE_TEST_S) -> dict:
        """Start a dial-tone test on an idle line; its result comes later (line.test_result, status)."""
        ch = self._line_arg("line.test", channel)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0.5 <= seconds <= 60.0:
            raise ControlError(f"line.test: seconds must be a number from 0.5 to 60, got {seconds!r}")
        name = self.board.channels[ch].name
        if ch in self.testing:
            raise ControlError(f"line {name} is being tested already (job {self.testing[ch][0]})")
        busy = self._line_in_use(ch)
        if busy:
            raise ControlError(f"line {name} {busy}: it cannot be tested now")
        try:
            test = self.board.test_line(ch, float(seconds), self.site.tones)
        except ChannelError as exc:
            raise ControlError(f"line {name}: {exc}") from None
        job = self.new_id()
        record = {"job": job, "channel": ch, "line": name, "state": "running", "seconds": float(seconds),
                  "started_at": self.clock.time(), "finished_at": None, "result": None}
        self.line_tests[job] = record
        finished = [j for j, r in self.line_tests.items() if r["state"] != "running"]
        for old in finished[:max(0, len(self.line_tests) - LINE_TESTS_KEPT)]:
            del self.line_tests[old]
        self.testing[ch] = (job, test)
        self._last_test[ch] = record
        log.info("line %s: test %s started (%.1f s)", name, job, seconds)
        self.emit("line:test", channel=ch, job=job)
        return dict(record)

    def cmd_line_test_result(self, job: str) -> dict:
        record = self.line_tests.get(job) if isinstance(job, str) else None
        if record is None:
            raise ControlError(f"no line test {job!r} (the last {LINE_TESTS_KEPT} finished tests are kept)")
        return dict(record)

    def _line_arg(self, cmd: str, channel) -> int:
        n = len(self.board.channels)
        if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < n:
            raise ControlError(f"{cmd}: no line {channel!r} on this box (lines 0-{n - 1})")
        return channel

    def _line_in_use(self, ch: int) -> str | None:
        """Why a line cannot be taken off-hook for a test now, or None."""
        call = self.calls.get(ch)
        if call is not None:
            return f"carries a call ({call.number or 'unknown number'}, {call.state.value})"
        agent = self.acd.by_channel.get(ch)
        if agent is not None and agent.call is not None:
            return f"carries agent {agent.id}'s call"
        if ch in self.ops.legs:
            return "carries a call (a line dialled out)"
        if agent is not None and agent.state != AgentState.LOGGED_OUT:
            return f"is agent {agent.id}'s phone and the agent is logged in (log them out first)"
        sup = self.ops.by_station.get(ch)
        if sup is not None and sup.call is not None:
            return f"carries supervisor {sup.id}'s call"
        return None

    def _check_tests(self) -> None:
        """Collect the line tests their drivers have finished (or lost)."""
        now = self.clock.time()
        for ch, (job, test) in list(self.testing.items()):
            record = self._last_test[ch]
            if test.done:
                result = test.result
            elif now < record["started_at"] + record["seconds"] + LINE_TEST_GRACE_S:
                continue
            else:
                result = {"dial_tone": None, "level_dbm0": None,
                          "detail": f"line {record['line']}: the {self.board.channels[ch].driver} driver gave no "
                                    f"result within {record['seconds'] + LINE_TEST_GRACE_S:.0f} s"}
            del self.testing[ch]
            self.trunk_freed()
            record.update(state="failed" if result["dial_tone"] is None else "done", result=dict(result),
                          finished_at=now)
            log.info("line %s: test %s %s: %s", record["line"], job, record["state"], result["detail"])
            self.emit("line:tested", channel=ch, job=job, **result)

    def load_flow(self, args: dict) -> dict:
        """Read and validate the flow file again (off the loop thread); ControlError if it is bad."""
        try:
            flow = load_flow(self.flow.path, set(self.prompts.names()), set(self.acd.queues))
        except FlowError as exc:
            raise ControlError(f"flow not reloaded, the running flow stays: {exc}") from None
        return {"flow": flow}

    def _swap_flow(self, flow: Flow) -> dict:
        """New calls take the new flow; calls already in the IVR finish on the one they started."""
        self.flow = flow
        log.info("flow %s reloaded: %d nodes", flow.path, len(flow.nodes))
        return {"flow": str(flow.path), "nodes": len(flow.nodes), "start": flow.start}

    def _drain_commands(self) -> None:
        """Run this tick's share of the waiting commands (COMMAND_BUDGET_S, COMMANDS_PER_TICK)."""
        requests = self.control.requests
        deadline = time.perf_counter() + COMMAND_BUDGET_S
        # One status answers every status request of the tick, until another command changes what
        # it shows: a flood of status polls costs the loop one status a tick. It is built here on
        # the loop rather than served from a snapshot off it, so a status always shows the commands
        # answered before it (the web polls right after an agent command), and a stalled loop shows
        # as an engine that does not answer, not as a picture that has stopped moving.
        status = None
        for _ in range(COMMANDS_PER_TICK):
            if requests.empty() or time.perf_counter() > deadline:
                return
            cmd, args, fut = requests.get_nowait()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                if cmd == "status":
                    status = status or self.status()
                    fut.set_result(status)
                    continue
                status = None
                fut.set_result(self.command(cmd, args))
            except ControlError as exc:
                fut.set_exception(exc)
            except Exception as exc:  # a bug in one command must not stop the loop
                log.exception("control command %s failed", cmd)
                fut.set_exception(ControlError(f"{cmd}: internal error: {exc}"))

    # --- faults -------------------------------------------------------------------------------
    def _guarded(self, channel: int, fn: Callable, *args) -> None:
        """Run one handler; a fault ends the call on that channel, never the loop."""
        try:
            fn(*args)
        except Exception as exc:
            self._fault(exc, channel)

    def _timer_fault(self, exc: Exception, timer) -> None:
        # A timer belongs to a call when one of its arguments (or its bound object) is the call or
        # holds it: an agent ringing for it, the call's IVR session.
        for obj in (*timer.args, getattr(timer.fn, "__self__", None)):
            call = obj if isinstance(obj, Call) else getattr(obj, "call", None)
            if isinstance(call, Call):
                self._fault(exc, call.channel, call)
                return
        self._fault(exc, None)

    def _fault(self, exc: Exception, channel: int | None, call: Call | None = None) -> None:
        where = self.board.channels[channel].name if channel is not None else "a timer"
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
            self.calls.pop(call.channel, None)
            call.finish(Disposition.FAILED, "box", self.clock.time())

    # --- the tick -----------------------------------------------------------------------------
    def step(self) -> None:
        """One tick: exchange audio, detect, handle events and timers, render the next output."""
        self.clock.wait()
        t0 = time.perf_counter()
        rx, events = self.board.exchange(self.tx)
        for ev in events:
            self._guarded(ev.channel, self._on_channel_event, ev)
        self.listener.hear(rx)
        self.timers.run_due(self.clock.seconds, on_error=self._timer_fault)
        if self.testing:
            self._check_tests()
        if self.control is not None:
            self._drain_commands()
        self.tx = self.media.render(rx)
        for channel, done in self.media.finished():
            self._guarded(channel, done)
        self._record(rx, self.tx)
        self.voicemail.tick(rx, self.listener.levels)
        for fin in self.recorder.finished():
            self._recording_done(fin)
        self.store.pump()
        self.stats.add(time.perf_counter() - t0)
        self.clock.advance()

    def _record(self, rx: np.ndarray, tx: np.ndarray) -> None:
        """Left: what the caller says; right: what the caller hears (agent, third party, music on
        hold, a barging supervisor; never a whisper). Paused recordings get silence."""
        if not self.recorded:
            return
        if self._rec_index is None:
            ids = tuple(self.recorded)
            channels = np.array([self.recorded[r].channel for r in ids], np.intp)
            paused = np.array([self.recorded[r].recording_paused for r in ids], bool)
            self._rec_index = (ids, channels, paused)
        ids, channels, paused = self._rec_index
        audio = np.stack([rx[channels], tx[channels]], axis=1)
        if paused.any():
            audio[paused] = 0
        self.recorder.frames(ids, audio)

    def _recording_done(self, fin) -> None:
        if self.voicemail.stored(fin):
            return
        call_id = fin.path.stem
        self.store.insert("recordings", {"id": fin.rec_id, "call_id": call_id,
                                         "path": str(fin.path.relative_to(self.recorder.directory)),
                                         "duration": round(fin.duration, 3), "size": fin.size,
                                         "sha256": fin.sha256, "created_at": self.clock.time()})
        self.emit("recording:done", recording=fin, call_id=call_id)

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Run ticks until `until()` is true or `stop()` is called."""
        self._running = True
        while self._running and not (until and until()):
            self.step()

    def stop(self) -> None:
        self._running = False

    # --- status -------------------------------------------------------------------------------
    def status(self) -> dict:
        now = self.clock.time()
        lines = []
        agents_by_channel = self.acd.by_channel
        own = self.board.line_status()
        for info in self.board.channels:
            call = self.calls.get(info.index)
            agent = agents_by_channel.get(info.index)
            if info.index in self.alarms:
                state, since = "alarm", None
            elif call is not None:
                state, since = call.state.value, call.arrived_at
            elif agent is not None and agent.call is not None:
                state, since = ("ringing" if agent.state == AgentState.RINGING else "connected"), agent.since
                call = agent.call
            elif info.index in self.testing:
                state, since = "testing", self._last_test[info.index]["started_at"]
            else:
                state, since = "idle", None
            drv = own[info.index]
            counters = drv.get("counters") or {}
            test = self._last_test.get(info.index)
            lines.append({"channel": info.index, "name": info.name, "kind": info.kind.value, "state": state,
                          "call_id": call.id if call else None, "number": call.number if call else None,
                          "since": since, "alarm": self.alarms.get(info.index),
                          "driver": info.driver, "device": drv.get("device") or info.device,
                          "driver_state": drv.get("state"), "last_caller_id": self.last_caller_id.get(info.index),
                          # resets and overruns are the hardware's own counts: None where a driver keeps none.
                          "counters": {"calls": self.line_calls[info.index], "digits": self.line_digits[info.index],
                                       "unreadable_ids": self.listener.unreadable[info.index],
                                       "resets": counters.get("resets"), "overruns": counters.get("overruns")},
                          "digits": [{"digit": d, "at": t} for d, t in self.heard.get(info.index, ())],
                          "test": dict(test) if test else None})
        return {"box": {"id": self.site.box_id, "board": self.board_name, "mode": self.clock.mode,
                        "started_at": self.started_at, "now": now},
                "ticks": self.stats.status(),
                "lines": lines,
                "calls": [c.status(now) for c in sorted(self.calls.values(), key=lambda c: c.arrived_at)],
                **self.acd.status(), "supervisors": self.ops.status(), "callbacks": self.callbacks.status(),
                "store": self.store.status(), "recorder": self.recorder.status(),
                "journal": self.queue_log.status() if self.queue_log is not None else None}

    def close(self) -> None:
        # An agent's call out whose number is not dialled yet has no trunk: it is found by its agent.
        open_calls = {id(c): c for c in [*self.calls.values(), *(a.call for a in self.acd.agents.values())] if c}
        for call in open_calls.values():
            self.end_call(call, Disposition.FAILED, "box")
        self.acd.log_out_all("shutdown")
        if self.control is not None:
            self.control.close()
        for follower in (self.customers, self.lookups):
            if follower is not None:
                follower.close()
        if self.queue_log is not None:
            self.queue_log.close()
        self.recorder.stop()
        for fin in self.recorder.finished():
            self._recording_done(fin)
        self.store.close()
        self.board.close()
