"""The outbound dialer: runs the running campaigns on the trunks beside incoming calls
(docs/architecture.md §22; requirements R9-R11).

Everything here runs on the loop and does no I/O: a campaign's definition is read off the loop when
it is started (campaign.start's preparer), its due contacts arrive in batches from a reader thread
(firmware/callcenter/campaign_reader.py), and every write goes to the store's writer as the other
records do. A contact moves pending -> dialing -> done | failed | dnc (or back to pending with a
next_at for a retry); in preview mode it is `preview` while an agent looks at it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

from firmware.callcenter.acd import NO_ANSWER, AcdError, Agent, AgentState
from firmware.callcenter.calling_window import CallingHours, CallingWindowError, read_hours
from firmware.callcenter.campaign_reader import Batch, Contact
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.legs import NO_LINE, Outcome, not_reached
from firmware.core.application import Services
from firmware.store.phones import PhoneNumberError, caller_key, dialled_form

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

MODES = ("preview", "progressive", "message")
# How often the loop looks for a contact to dial: a second is far below any pacing a campaign sets.
PUMP_S = 1.0
# A message call waits this long for a key after its prompt, then plays it once more, then ends
# (the usual IVR input timeout; ITU-T E.182 leaves it to the service).
KEY_WAIT_S = 8.0
MESSAGE_PLAYS = 2
# Without its own retry table a campaign tries again after these (seconds): soon for a network
# fault, later for a line in use, much later for nobody home; a person, a fax or an unknown number
# is not called again.
DEFAULT_RETRY = {Outcome.BUSY.value: 600.0, Outcome.CONGESTION.value: 300.0, Outcome.NO_ANSWER.value: 1800.0,
                 Outcome.FAILED.value: 300.0, Outcome.ANSWERED_MACHINE.value: 3600.0}
# Outcomes that end a contact as reached.
REACHED = frozenset((Outcome.ANSWERED_HUMAN.value, Outcome.ANSWERED_UNSURE.value))
# A contact's `result` keeps this much of why it was not dialled (a number that does not parse).
RESULT_CHARS = 80
# The states (campaigns.state) campaign.start moves a campaign from.
STARTABLE = ("draft", "paused")


class DialerError(AcdError):
    """A campaign command that cannot be carried out: the reason is the operator's to read."""


class ContactSource(Protocol):
    """Where due contacts come from (campaign_reader.ContactReader): told the campaigns running,
    it hands over its latest read, never waiting."""

    def want(self, campaign_ids: frozenset[str]) -> None: ...

    def confirm(self, contact_ids: frozenset[str]) -> None: ...

    def take(self) -> Batch | None: ...


@dataclass(frozen=True)
class Campaign:
    """A campaign's definition as the web wrote it (campaigns row), checked."""
    id: str
    name: str
    mode: str
    queue: str
    prompt: str
    confirm_key: str
    agent_key: str
    survey_keys: str            # the keys taken as a survey's answer ("" : none)
    hours: CallingHours
    max_attempts: int
    retry: dict[str, float]
    max_lines: int
    pace: float
    state: str

    @classmethod
    def of(cls, row: dict) -> "Campaign":
        """DialerError naming what is wrong with the row."""
        mode = row.get("mode") or ""
        if mode not in MODES:
            raise DialerError(f"campaign {row['id']}: mode {mode!r} is not one of {', '.join(MODES)}")
        try:
            hours = read_hours(row.get("hours"), bool(row.get("skip_holidays", 1)))
            retry = json.loads(row.get("retry") or "null") or DEFAULT_RETRY
            survey = json.loads(row.get("survey") or "null") or {}
        except (CallingWindowError, ValueError) as exc:
            raise DialerError(f"campaign {row['id']}: {exc}") from None
        if not isinstance(retry, dict) or not all(
                k in Outcome._value2member_map_ and isinstance(v, (int, float)) and v >= 0 for k, v in retry.items()):
            raise DialerError(f"campaign {row['id']}: retry must map outcomes to seconds")
        keys = survey.get("keys", "") if isinstance(survey, dict) else ""
        return cls(row["id"], row.get("name") or row["id"], mode, row.get("queue") or "", row.get("prompt") or "",
                   row.get("confirm_key") or "", row.get("agent_key") or "",
                   "".join(str(k) for k in keys) if isinstance(keys, (list, str)) else "", hours,
                   max(1, int(row.get("max_attempts") or 1)), {k: float(v) for k, v in retry.items()},
                   max(1, int(row.get("max_lines") or 1)), float(row.get("pace") or 1.0), row.get("state") or "draft")


@dataclass
class Attempt:
    """One contact being dialled or talked to."""
    contact: Contact
    campaign: Campaign
    call: Call
    outcome: str = Outcome.FAILED.value
    result: str | None = None
    agent: Agent | None = None
    plays: int = 0
    key_timer: Timer | None = None
    left_message: bool = False


@dataclass
class Running:
    campaign: Campaign
    state: str = "running"
    due: deque[Contact] = field(default_factory=deque)
    attempts: dict[str, Attempt] = field(default_factory=dict)     # call id -> attempt
    previews: dict[str, Contact] = field(default_factory=dict)     # agent id -> contact offered
    ringing: set[str] = field(default_factory=set)     # agents rung to dial their preview: a line each
    last_dial: float = float("-inf")
    counts: dict = field(default_factory=dict)


class Dialer:
    def __init__(self, svc: Services, center: "CallCenter", holidays: Callable[[], frozenset[str]],
                 reader: ContactSource | None = None):
        """`holidays`: the site's holidays now (YYYY-MM-DD); `reader`: where due contacts come from
        (campaign_reader.ContactReader, or a test's), None for a box without campaigns."""
        self.svc, self.center, self.holidays, self.reader = svc, center, holidays, reader
        self.running: dict[str, Running] = {}
        self.by_call: dict[str, Attempt] = {}
        self.dnc: frozenset[str] = frozenset()
        # Contact id -> updated_at this loop last wrote, until a read shows the row has it (`_take`).
        self.written: dict[str, float] = {}
        self._timer: Timer | None = None
        self._ring_timers: dict[str, Timer] = {}     # agent id -> their preview ring's timeout
        svc.observe(self._observe)

    # --- commands -----------------------------------------------------------------------------
    def commands(self) -> dict[str, Callable[..., dict]]:
        return {"campaign.start": self.cmd_start, "campaign.pause": self.cmd_pause,
                "campaign.stop": self.cmd_stop, "campaign.status": self.cmd_status,
                "agent.preview_dial": self.cmd_preview_dial, "agent.preview_skip": self.cmd_preview_skip}

    def cmd_start(self, id: str, row: dict, counts: dict | None = None) -> dict:
        """campaign.start: `row` is campaign `id` as read off the loop (its preparer)."""
        campaign = Campaign.of(row)
        run = self.running.get(campaign.id)
        state = run.state if run is not None else campaign.state
        if state not in STARTABLE:
            raise DialerError(f"campaign {campaign.id} is {state}: only a draft or paused campaign starts")
        problem = self.cannot_run(campaign)
        if problem:
            raise DialerError(f"campaign {campaign.id} cannot run: {problem}")
        self.resume(campaign, counts or {})
        self._set_state(campaign.id, "running", started_at=self.svc.clock.time())
        return self._status_of(self.running[campaign.id])

    def resume(self, campaign: Campaign, counts: dict | None = None) -> None:
        """Run the campaign (started now, or running when the box stopped)."""
        old = self.running.get(campaign.id)
        run = Running(campaign, counts=counts or {})
        if old is not None:
            run.attempts, run.previews = old.attempts, old.previews
        self.running[campaign.id] = run
        self._want()
        if self._timer is None:
            self._timer = self.svc.later(0.0, self._pump)

    def cannot_run(self, c: Campaign) -> str | None:
        """Why the campaign cannot be dialled on this box now, or None."""
        if c.mode in ("preview", "progressive") and c.queue not in self.center.acd.queues:
            return f"no queue {c.queue!r} for its agents (queues: {', '.join(sorted(self.center.acd.queues))})"
        if c.agent_key and c.queue not in self.center.acd.queues:
            return f"its agent key needs a queue; there is no queue {c.queue!r}"
        if c.mode == "message" and (not c.prompt or c.prompt not in self.svc.prompts):
            return f"no prompt {c.prompt!r} to play" if c.prompt else "a message campaign needs a prompt"
        site = self.center.site
        if site.outbound_max_lines < 1:
            return "the site allows no outbound lines ([outbound] max_lines = 0)"
        usable = sum(1 for _ in self.center.legs.usable_trunks())
        if usable <= site.outbound_reserved:
            return (f"no usable trunk: {usable} in service and {site.outbound_reserved} kept for incoming calls"
                    " ([outbound] reserved_incoming)")
        if self.reader is None:
            return "this box reads no campaign contacts"
        return None

    def cmd_pause(self, id: str, row: dict | None = None) -> dict:
        """campaign.pause: no new calls; calls in progress finish. `row`: the campaign as stored."""
        run = self._run(id, row)
        run.state = "paused"
        self._drop_previews(run)
        self._set_state(id, "paused")
        return self._status_of(run)

    def cmd_stop(self, id: str, row: dict | None = None) -> dict:
        """campaign.stop: no new calls, for good; calls in progress finish (never cut)."""
        if id not in self.running and row is not None and row.get("state") in STARTABLE:
            # Paused before the box restarted (a paused campaign is not taken up at start).
            self.running[id] = Running(Campaign.of(row), state=row["state"])
        run = self._run(id, row)
        run.state = "stopped"
        self._drop_previews(run)
        self._set_state(id, "stopped", ended_at=self.svc.clock.time())
        status = self._status_of(run)
        self._forget_if_idle(run)
        return status

    def cmd_status(self, id: str | None = None, counts: dict | None = None, states: dict | None = None) -> dict:
        """campaign.status: each campaign on this box (or the one named); `counts` and `states`: the
        contacts by state and outcome, and the campaigns' stored states, read off the loop."""
        counts, states = counts or {}, states or {}
        if id is not None and id not in self.running:
            if id not in states:
                raise DialerError(f"no campaign {id}")
            return {"campaigns": [_figures(id, states[id], counts.get(id, {}))]}
        runs = [self.running[id]] if id is not None else list(self.running.values())
        for run in runs:
            run.counts = counts.get(run.campaign.id, run.counts)
        return {"campaigns": [self._status_of(r) for r in runs]}

    def cmd_preview_dial(self, agent: str, contact: str) -> dict:
        """The agent dials the contact shown: their phone rings first (as for a callback), and the
        number is dialled once they pick up."""
        agent_obj, run, c = self._preview_of(agent, contact)
        if agent_obj.id in run.ringing:
            raise DialerError(f"agent {agent_obj.id} is being rung to dial contact {contact} already")
        if run.state != "running" or not self._trunk_free(run):
            raise DialerError(f"contact {contact} not dialled: " + (
                "no trunk is free for outbound calls now; try again or skip it" if run.state == "running"
                else f"the campaign is {run.state}"))
        refused = self._refused(run, c)
        if refused:
            del run.previews[agent_obj.id]
            self._release_preview(agent_obj)
            raise DialerError(f"contact {contact} not dialled: {refused}")
        q = self.center.acd.queues[run.campaign.queue]
        run.ringing.add(agent_obj.id)      # before the ring: its state change is no leaving the preview
        if not self.center.acd.ring(agent_obj, None, lambda ag: self._preview_picked_up(run, ag, c),
                                    lambda ag, why: self._preview_missed(run, ag, c, why)):
            run.ringing.discard(agent_obj.id)
            raise DialerError(f"agent {agent_obj.id} cannot be rung now")
        self._ring_timers[agent_obj.id] = self.svc.later(q.cfg.ring_timeout, self._preview_missed, run, agent_obj,
                                                         c, NO_ANSWER)
        return {"contact": contact, "ringing": agent_obj.id}

    def _preview_picked_up(self, run: Running, agent: Agent, contact: Contact) -> None:
        self._cancel_ring(agent)
        run.previews.pop(agent.id, None)
        run.ringing.discard(agent.id)
        agent.set_state(AgentState.TALKING)
        agent.calls += 1
        self._dial(run, contact, agent)

    def _preview_missed(self, run: Running, agent: Agent, contact: Contact, why: str) -> None:
        if run.previews.get(agent.id) is not contact or agent.state != AgentState.RINGING:
            return
        self._cancel_ring(agent)
        del run.previews[agent.id]
        run.ringing.discard(agent.id)
        self.center.acd.not_reached(agent, why)
        self._write(contact, "pending", result=None)

    def _cancel_ring(self, agent: Agent) -> None:
        timer = self._ring_timers.pop(agent.id, None)
        if timer is not None:
            timer.cancel()

    def cmd_preview_skip(self, agent: str, contact: str) -> dict:
        agent_obj, run, c = self._preview_of(agent, contact)
        if agent_obj.id in run.ringing:
            raise DialerError(f"agent {agent_obj.id} is being rung to dial contact {contact}: too late to skip it")
        del run.previews[agent_obj.id]
        self._release_preview(agent_obj)
        # Skipped is no attempt: the contact comes round again after a no-answer's wait.
        self._write(c, "pending", agent_id=agent_obj.id, result="skipped",
                    next_at=self.svc.clock.time() + DEFAULT_RETRY[Outcome.NO_ANSWER.value])
        return {"contact": contact, "skipped": True}

    # --- the pump: on the loop, no I/O ----------------------------------------------------------
    def _pump(self) -> None:
        # The next step is due before this one runs: a fault in one campaign stops no other.
        self._timer = self.svc.later(PUMP_S, self._pump) if self.running else None
        batch = self.reader.take() if self.reader is not None else None
        if batch is not None:
            self._take(batch)
        for run in list(self.running.values()):
            if run.state == "running":
                self._run_campaign(run)

    def _take(self, batch: Batch) -> None:
        self.dnc = batch.dnc
        # A row read with this loop's last write of it (or gone) can no longer be read stale: forgotten,
        # so the map holds only the writes in flight, not every contact of every campaign.
        for contact_id, at in batch.confirmed.items():
            if contact_id in self.written and (at is None or at >= self.written[contact_id]):
                del self.written[contact_id]
        if self.reader is not None:
            self.reader.confirm(frozenset(self.written))
        for cid, contacts in batch.due.items():
            run = self.running.get(cid)
            if run is None:
                continue
            busy = {a.contact.id for a in run.attempts.values()} | {c.id for c in run.previews.values()}
            # A row read before this loop's last write of it is stale (the writer had not caught up).
            run.due = deque(c for c in contacts if c.id not in busy
                            and c.updated_at >= self.written.get(c.id, float("-inf")))
            run.counts = batch.counts.get(cid, run.counts)
            if self._finished(run):
                run.state = "finished"
                self._set_state(cid, "finished", ended_at=self.svc.clock.time())
                del self.running[cid]
                self._want()
            else:
                self._publish(run)

    @staticmethod
    def _finished(run: Running) -> bool:
        """Every contact has its end (done, failed, dnc, cancelled) and no call is left: a contact
        ends only on the loop, so a read showing none open while the loop holds none is not stale."""
        states = run.counts.get("states")
        return (states is not None and run.state == "running" and not run.attempts and not run.previews and not run.due
                and not any(states.get(s) for s in ("pending", "dialing", "preview")))

    def _run_campaign(self, run: Running) -> None:
        c = run.campaign
        now = self.svc.clock.time()
        if c.queue and c.queue not in self.center.acd.queues:
            # New site settings took its queue away: no call is placed that no agent could take.
            log.error("campaign %s paused: its queue %s is gone from the site settings", c.id, c.queue)
            self.cmd_pause(c.id)
            return
        if not c.hours.open_at(dt.datetime.fromtimestamp(now), self.holidays()):
            return
        while run.due and self._trunk_free(run):
            if c.mode == "progressive" and len(self._unanswered(run)) >= self._free_agents(c) * c.pace:
                return
            if c.mode == "message" and now - run.last_dial < 60.0 / max(c.pace, 0.01):
                return
            if c.mode == "preview":
                agent = self._preview_agent(run)
                if agent is None:
                    return
                contact = run.due.popleft()
                if self._allowed(run, contact):
                    self._offer_preview(run, agent, contact)
                continue
            contact = run.due.popleft()
            if self._allowed(run, contact):
                self._dial(run, contact, None)

    def _trunk_free(self, run: Running) -> bool:
        """Caps (the campaign's, the box's) and the trunks kept for incoming calls (R9): a trunk is
        seized only while more than `reserved_incoming` are idle, so incoming never waits. An agent
        being rung to dial their preview holds a line already (it is dialled once they pick up)."""
        site = self.center.site
        ringing = sum(len(r.ringing) for r in self.running.values())
        if (len(run.attempts) + len(run.ringing) >= run.campaign.max_lines
                or len(self.by_call) + ringing >= site.outbound_max_lines):
            return False
        return self.center.legs.idle_count() - ringing > site.outbound_reserved

    def _allowed(self, run: Running, contact: Contact) -> bool:
        return self._refused(run, contact) is None

    def _refused(self, run: Running, contact: Contact) -> str | None:
        """Do-not-call, checked right before dialling (a number listed after the import too), and a
        number the trunks can dial: why the contact ends here, never dialled, or None."""
        region = self.center.site.region
        if contact.number in self.dnc or caller_key(contact.number, region) in self.dnc:
            self._write(contact, "dnc", outcome=None, result="do not call")
            return "the number is on the do-not-call list"
        try:
            dialled_form(contact.number, region)
        except PhoneNumberError as exc:
            log.warning("campaign %s: contact %s not dialled: %s", run.campaign.id, contact.id, exc)
            self._write(contact, "failed", outcome=Outcome.FAILED.value, result=str(exc)[:RESULT_CHARS])
            return str(exc)
        return None

    def _unanswered(self, run: Running) -> list[Attempt]:
        return [a for a in run.attempts.values() if a.call.state == CallState.DIALING]

    def _free_agents(self, c: Campaign) -> int:
        q = self.center.acd.queues[c.queue]
        return sum(1 for a in self.center.acd.agents.values()
                   if a.state == AgentState.READY and a.level(q.cfg.skill) >= q.cfg.min_level)

    # --- dialling -----------------------------------------------------------------------------
    def _dial(self, run: Running, contact: Contact, agent: Agent | None) -> Attempt | None:
        """Dial the contact (for `agent` in preview); the attempt counts from here."""
        now = self.svc.clock.time()
        run.last_dial = now
        call = Call(self.svc, self.svc.new_id(), None, now, direction="outbound")
        call.number, call.name = contact.number, contact.name or None
        call.update(number=contact.number, name=call.name, campaign_id=run.campaign.id,
                    queue=run.campaign.queue or None)
        if agent is not None:       # preview: the agent's own call, ended by their hang-up too
            call.agent, agent.call = agent, call
            call.update(agent_id=agent.id)
        attempt = Attempt(contact, run.campaign, call, agent=agent)
        attempts = contact.attempts + 1
        attempt.contact = Contact(contact.id, contact.campaign_id, contact.number, contact.name, contact.data,
                                  attempts, now)
        self._write(attempt.contact, "dialing", attempts=attempts, call_id=call.id,
                    agent_id=agent.id if agent else None)
        run.attempts[call.id] = self.by_call[call.id] = attempt
        leg = self.center.legs.seize(
            dialled_form(contact.number, self.center.site.region), on_answer=lambda: self._answered(attempt),
            on_fail=lambda why: self._not_reached(attempt, why),
            on_clear=lambda: self._cleared(attempt), call=call, screen=True,
            on_outcome=lambda outcome, cause: self._heard(attempt, outcome, cause),
            on_beep=lambda beeped: self._beep(attempt, beeped))
        if leg is None:
            call.event("call:dial_failed", number=contact.number, why=NO_LINE)
            self.center.end_call(call, Disposition.FAILED, "box")
            return None
        self.center.take_trunk(call, leg.line)
        call.set_state(CallState.DIALING)
        call.event("campaign:dial", campaign=run.campaign.id, contact=contact.id, number=contact.number,
                   attempt=attempts, line=call.line_name)
        return attempt

    def _answered(self, a: Attempt) -> None:
        now = self.svc.clock.time()
        a.call.answered_at = now
        a.call.update(answered_at=now)
        a.call.event("call:answered")
        a.call.set_state(CallState.IVR)
        if a.agent is not None:     # preview: the agent is on the line, waiting
            self.center.connect(a.call, a.agent)
            a.call.connected_at = now
            a.call.update(connected_at=now, agent_id=a.agent.id)

    def _heard(self, a: Attempt, outcome: Outcome, cause: str) -> None:
        a.outcome = outcome.value
        a.call.event("call:outcome", number=a.contact.number, outcome=outcome.value, cause=cause)
        if outcome == Outcome.FAX:
            self.center.end_call(a.call, Disposition.FAX, "box")
        elif a.call.state != CallState.IVR or a.agent is not None:
            return      # not answered (its on_fail follows), or already with the preview's agent
        elif outcome == Outcome.ANSWERED_MACHINE:
            # Wait for the greeting's beep (on_beep) to leave the message, or hang up on it.
            if not (a.campaign.prompt and a.campaign.prompt in self.svc.prompts):
                self.center.end_call(a.call, Disposition.COMPLETED, "box")
        elif a.campaign.mode == "progressive":
            self._to_queue(a)
        else:
            self._play_message(a)

    def _beep(self, a: Attempt, beeped: bool) -> None:
        a.call.event("call:machine_beep", heard=beeped)
        if a.call.state != CallState.IVR or a.agent is not None or a.outcome != Outcome.ANSWERED_MACHINE.value:
            return
        # After the beep (or none came: the greeting ended anyway) the message is recorded by the machine.
        a.left_message = True
        self.center.play(a.call, [a.campaign.prompt],
                         on_done=lambda: self.center.end_call(a.call, Disposition.COMPLETED, "box"))

    def _play_message(self, a: Attempt) -> None:
        a.plays += 1
        self.center.play(a.call, [a.campaign.prompt], on_done=lambda: self._wait_key(a))

    def _wait_key(self, a: Attempt) -> None:
        if a.call.state != CallState.IVR:
            return
        a.key_timer = self.svc.later(KEY_WAIT_S, self._no_key, a)

    def _no_key(self, a: Attempt) -> None:
        a.key_timer = None
        if a.call.state != CallState.IVR:
            return
        if a.plays < MESSAGE_PLAYS:
            self._play_message(a)
        else:
            self.center.end_call(a.call, Disposition.COMPLETED, "box")

    def on_digit(self, call: Call, digit: str) -> bool:
        """A key the called party pressed on a message call; True if it was one."""
        a = self.by_call.get(call.id)
        if a is None or a.agent is not None or call.state != CallState.IVR or a.campaign.mode == "progressive":
            return False
        c = a.campaign
        if digit not in (c.confirm_key, c.agent_key, *c.survey_keys) or not digit:
            return True
        if a.key_timer is not None:
            a.key_timer.cancel()
            a.key_timer = None
        self.center.stop_playing(call)
        a.result = digit
        call.event("campaign:key", campaign=c.id, contact=a.contact.id, key=digit)
        if digit in c.survey_keys:
            self.svc.records.insert("survey_answers", {"id": self.svc.new_id(), "call_id": call.id,
                                                       "survey": c.id, "question": c.name, "answer": digit,
                                                       "at": self.svc.clock.time()})
        if digit == c.agent_key:
            self._to_queue(a)
        else:
            self.center.end_call(call, Disposition.COMPLETED, "box")
        return True

    def _to_queue(self, a: Attempt) -> None:
        """The person answering waits for an agent of the campaign's queue, as a caller does."""
        if not self.center.enqueue(a.call, a.campaign.queue):
            self.center.end_call(a.call, Disposition.OVERFLOW, "box")

    def _not_reached(self, a: Attempt, why: str) -> None:
        self.center.end_call(a.call, not_reached(why), "box")

    def _cleared(self, a: Attempt) -> None:
        self.center.end_call(a.call, Disposition.ANSWERED if a.call.agent else Disposition.COMPLETED, "caller")

    def _observe(self, event: str, data: dict) -> None:
        if event.startswith("agent:") and isinstance(data.get("agent"), Agent):
            self._agent_changed(data["agent"])
            return
        if event != "call:ended":
            return
        a = self.by_call.pop(data["call"].id, None)
        if a is None:
            return
        if a.key_timer is not None:
            a.key_timer.cancel()
        run = self.running.get(a.campaign.id)
        if run is not None:
            run.attempts.pop(a.call.id, None)
        self._settle(a, data["call"])
        if run is not None:
            self._forget_if_idle(run)
        # Read again soon: the campaign may be finished now, or its line free for the next contact.
        self._want()

    def _settle(self, a: Attempt, call: Call) -> None:
        """The contact after its attempt: done, retried later, or failed (max_attempts reached)."""
        outcome = a.outcome
        if call.disposition == Disposition.FAX:
            outcome = Outcome.FAX.value
        reached = outcome in REACHED or (outcome == Outcome.ANSWERED_MACHINE.value and a.left_message)
        c = a.campaign
        # The agent who talked to them, for the campaign's results by agent.
        agent = {"agent_id": call.agent.id} if call.agent is not None else {}
        if reached:
            self._write(a.contact, "done", outcome=outcome, result=a.result, **agent)
        elif outcome in c.retry and a.contact.attempts < c.max_attempts:
            self._write(a.contact, "pending", outcome=outcome, next_at=self.svc.clock.time() + c.retry[outcome])
        else:
            self._write(a.contact, "failed", outcome=outcome)

    # --- preview ------------------------------------------------------------------------------
    def _preview_agent(self, run: Running) -> Agent | None:
        q = self.center.acd.queues[run.campaign.queue]
        for agent in self.center.acd.agents.values():
            if (agent.state == AgentState.READY and agent.level(q.cfg.skill) >= q.cfg.min_level
                    and agent.line.reachable()):
                return agent
        return None

    def _offer_preview(self, run: Running, agent: Agent, contact: Contact) -> None:
        """The agent sees the card (state not ready, reason `preview`, so no caller rings them) and
        dials or skips it (agent.preview_dial / agent.preview_skip)."""
        run.previews[agent.id] = contact
        agent.set_state(AgentState.NOT_READY, "preview")
        self._write(contact, "preview", agent_id=agent.id)
        self.svc.emit("campaign:preview", agent=agent.id, campaign=run.campaign.id, contact=contact.id,
                      number=contact.number, name=contact.name, data=contact.data)

    def _preview_of(self, agent_id: str, contact_id: str) -> tuple[Agent, Running, Contact]:
        agent = self.center.acd.agent(agent_id)
        for run in self.running.values():
            c = run.previews.get(agent.id)
            if c is not None and c.id == contact_id:
                return agent, run, c
        raise DialerError(f"agent {agent.id} has no contact {contact_id} in preview")

    def _release_preview(self, agent: Agent) -> None:
        if agent.state == AgentState.NOT_READY and agent.reason == "preview":
            agent.set_state(AgentState.READY)
            self.center.acd.dispatch()

    def _drop_previews(self, run: Running) -> None:
        """The campaign paused or stopped: its contacts shown are pending again, their agents free."""
        for agent_id in list(run.previews):
            self._drop_preview(run, self.center.acd.agents[agent_id])

    def _drop_preview(self, run: Running, agent: Agent) -> None:
        contact = run.previews.pop(agent.id)
        if agent.id in run.ringing:
            run.ringing.discard(agent.id)
            self._cancel_ring(agent)
            self.center.acd.unring(agent)
        else:
            self._release_preview(agent)
        self._write(contact, "pending", result=None)

    def _agent_changed(self, agent: Agent) -> None:
        """An agent left their preview some other way (not ready for a break, logged out, a line
        alarm): the contact goes back for someone else."""
        for run in self.running.values():
            if agent.id in run.previews and agent.id not in run.ringing and agent.reason != "preview":
                self._drop_preview(run, agent)

    # --- records and events -------------------------------------------------------------------
    def _write(self, contact: Contact, state: str, **changes: object) -> None:
        now = self.svc.clock.time()
        self.written[contact.id] = now
        self.svc.records.update("campaign_contacts", contact.id, {"state": state, "updated_at": now, **changes})
        run = self.running.get(contact.campaign_id)
        if run is not None:
            self._publish(run)

    def _set_state(self, campaign_id: str, state: str, **changes: object) -> None:
        self.svc.records.update("campaigns", campaign_id, {"state": state, "updated_at": self.svc.clock.time(),
                                                            **changes})
        self._want()
        run = self.running.get(campaign_id)
        if run is not None:
            self._publish(run)

    def _publish(self, run: Running) -> None:
        self.svc.emit("campaign:changed", campaign=run.campaign.id, state=run.state,
                      lines=len(run.attempts), counts=run.counts)

    def _want(self) -> None:
        if self.reader is not None:
            self.reader.want(frozenset(cid for cid, r in self.running.items() if r.state == "running"))

    def _run(self, campaign_id: str, row: dict | None = None) -> Running:
        run = self.running.get(campaign_id)
        if run is None:
            state = f" (it is {row['state']})" if row is not None else ""
            raise DialerError(f"campaign {campaign_id} is not running or paused on this box{state}")
        return run

    def _forget_if_idle(self, run: Running) -> None:
        if run.state == "stopped" and not run.attempts and self.running.get(run.campaign.id) is run:
            del self.running[run.campaign.id]
            self._want()

    def _status_of(self, run: Running) -> dict:
        return _figures(run.campaign.id, run.state, run.counts, lines=len(run.attempts), due=len(run.due),
                        previews=len(run.previews))

    def status(self) -> list[dict]:
        return [self._status_of(r) for r in self.running.values()]



def _figures(campaign_id: str, state: str, counts: dict, lines: int = 0, due: int = 0, previews: int = 0) -> dict:
    """A campaign's status: its state, calls in progress, contacts handed to the loop and in preview,
    and (as last read) the contacts by state and last outcome and when the next one is due."""
    return {"id": campaign_id, "state": state, "lines": lines, "due": due, "previews": previews,
            "counts": counts.get("states", {}), "outcomes": counts.get("outcomes", {}),
            "next_due": counts.get("next_due")}
