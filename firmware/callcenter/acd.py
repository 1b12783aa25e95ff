"""Automatic call distribution: agents and skills, queues, and matching waiting callers to agents."""
from __future__ import annotations

import enum
import logging
from functools import partial
from typing import TYPE_CHECKING, Callable, Iterable, Protocol

from drivers.channel import ChannelKind

from firmware.callcenter.agent_lines import LINE_DOWN, PhoneLine, StationLine
from firmware.callcenter.calls import Call, CallState, Disposition
from firmware.callcenter.settings import AgentConfig, QueueConfig
from firmware.core.application import Services

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter
    from firmware.core.timers import Timer

log = logging.getLogger(__name__)

# Handle time assumed for a queue before it has seen a call; replaced as calls complete.
INITIAL_AHT_S = 120.0
# Weight of the newest call in the handle-time average (an EWMA over roughly the last ten calls).
AHT_WEIGHT = 0.1
# Why an agent's phone was given up when it rang out (the ring timer, not the network, said so).
NO_ANSWER = "no answer"


class AcdError(Exception):
    """A command names an unknown agent or queue, or does not fit the agent's state."""


class AgentState(str, enum.Enum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RINGING = "ringing"
    TALKING = "talking"
    WRAPUP = "wrapup"
    NOT_READY = "not_ready"


BUSY = (AgentState.RINGING, AgentState.TALKING)
# An agent removed or moved by new settings keeps their line through these: the call and its wrap-up.
SETTLING = (*BUSY, AgentState.WRAPUP)


class Agent:
    def __init__(self, svc: Services, center: "CallCenter", acd: "Acd", cfg: AgentConfig, station: int | None,
                 order: int, now: float):
        """`station`: the agent's station channel, or None to dial them at `cfg.phone`."""
        self.svc, self.acd = svc, acd
        self.id, self.name, self.skills = cfg.id, cfg.name, dict(cfg.skills)
        self.line: StationLine | PhoneLine
        if station is not None:
            self.line = StationLine(svc, station)
        elif cfg.phone is not None:
            self.line = PhoneLine(svc, center, self, cfg.phone)
        else:
            raise AcdError(f"agent {cfg.id} has neither a station nor a phone number")
        self.order = order                 # position in the roster, for round robin
        self.state = AgentState.LOGGED_OUT
        self.reason: str | None = None
        self.since = now
        self.idle_since = now              # longest-idle routing: when the agent last became free
        self.call: Call | None = None
        self.on_answer: Callable[[Agent], None] | None = None   # what picking up the ringing phone does
        self.on_missed: Callable[[Agent, str], None] | None = None   # ... and the line failing to reach them
        self.talk_started: float | None = None
        self.wrapup_until: float | None = None   # when the wrap-up time runs out, while in wrap-up
        self.last_call_id: str | None = None     # for a wrap-up code given after the call
        self.last_call_queue: str | None = None  # its queue, whose wrap-up codes it takes
        self.calls = 0
        self.talk_s = 0.0
        self._timer: Timer | None = None
        # Site settings changed while the agent was rung or on a call: applied when the call is done.
        self.retiring = False                    # removed from the settings: logged out, then gone
        self.moved_to: AgentConfig | None = None     # reached at another station or number

    def reach(self) -> tuple[str | None, str | None]:
        """(station name, phone number): how the box reaches the agent now."""
        if isinstance(self.line, StationLine):
            return self.line.name, None
        return None, self.line.number

    def wait(self, seconds: float, fn: Callable[["Agent"], None]) -> None:
        """Start the agent's timer (wrap-up): `fn(agent)` when it runs out."""
        self._timer = self.svc.later(seconds, fn, self)

    def cancel_timer(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None

    @property
    def talking_since(self) -> float:
        """When the agent's call began (set on talking)."""
        if self.talk_started is None:
            raise AcdError(f"agent {self.id} has had no call")
        return self.talk_started

    def level(self, skill: str) -> int:
        return self.skills.get(skill, 0)

    def set_state(self, state: AgentState, reason: str | None = None) -> None:
        now = self.svc.clock.time()
        if state == self.state and reason == self.reason:
            return
        log.debug("agent %s: %s -> %s%s", self.id, self.state.value, state.value, f" ({reason})" if reason else "")
        old = self.state
        self.state, self.reason, self.since = state, reason, now
        if state != AgentState.WRAPUP:
            self.wrapup_until = None
        if state == AgentState.READY:
            self.idle_since = now
        if state == AgentState.TALKING:
            self.talk_started = now
        # Not the time: a restarted clock (a Pi has no RTC; a replayed scenario) repeats times.
        self.svc.records.insert("agent_states", {"id": f"{self.id}-{self.svc.new_id()}",
                                                 "agent_id": self.id, "state": state.value,
                                                 "reason": reason, "at": now})
        self.svc.emit(f"agent:{state.value}", agent=self, previous=old.value, reason=reason)
        if (self.retiring or self.moved_to is not None) and state not in SETTLING:
            # Done with the call the settings were changed under: removed or moved now, on the next
            # tick, outside whatever handler changed the state.
            self.svc.later(0.0, self.acd.settle, self)

    def status(self) -> dict:
        return {"id": self.id, "name": self.name, "state": self.state.value, "reason": self.reason,
                "since": self.since, **self.line.status(),
                "skills": self.skills, "queues": [q.name for q in self.acd.queues.values()
                                                  if self.level(q.cfg.skill) >= q.cfg.min_level],
                "call_id": self.call.id if self.call else None,
                "number": self.call.number if self.call else None, "calls": self.calls,
                "held": self.call is not None and self.call.hold_started is not None,
                "wrapup_until": self.wrapup_until,
                "talk_s": round(self.talk_s, 1)}


class QueueEntry(Protocol):
    """A place in a queue: a caller waiting on the line, or a callback request waiting in a caller's
    place. Matching treats them alike; what an offer does is the entry's own (`offered`)."""
    id: str
    priority: int                  # VIP level: higher is served first
    dedicated: str | None          # the agent waited for first, for dedicated_wait seconds
    ringing: list["Agent"]         # agents rung for it now
    # The queue matched it with these free agents (the strategy's choice): ring them for the caller,
    # or ring one agent before dialling the callback's number.
    offered: Callable[["Queue", list["Agent"]], None]

    @property
    def waiting_since(self) -> float:
        """When it took its place in the queue: its order among entries of its priority."""


class Queue:
    def __init__(self, cfg: QueueConfig):
        self.cfg = cfg
        self.name = cfg.name
        # Removed from the site settings while callers waited in it: it takes no new caller, serves
        # those it holds on its last settings, and goes once it is empty (Acd.reconfigure).
        self.draining = False
        self.waiting: list[QueueEntry] = []     # in order of service: VIP level first, then time of entry
        self.offered = self.answered = self.abandoned = self.timeouts = self.answered_in_sl = 0
        self.short_abandoned = 0          # abandoned within the site's short-abandon threshold
        self.answered_wait_s = 0.0        # the waits of the callers answered: their sum over `answered` is the ASA
        self.aht = INITIAL_AHT_S
        self.rr_next = 0                  # round robin: roster position to start from

    def insert(self, call: QueueEntry, front: bool = False) -> None:
        """Place the caller by priority; `front` puts them first among callers of their priority."""
        key = (-call.priority, call.waiting_since)
        for i, other in enumerate(self.waiting):
            okey = (-other.priority, other.waiting_since)
            if (okey[0] > key[0]) or (okey[0] == key[0] and (front or okey[1] > key[1])):
                self.waiting.insert(i, call)
                return
        self.waiting.append(call)

    def position(self, call: QueueEntry) -> int:
        return self.waiting.index(call) + 1


def _longest_idle(agents: list[Agent], q: Queue) -> list[Agent]:
    return [min(agents, key=lambda a: (a.idle_since, a.order))]


def _round_robin(agents: list[Agent], q: Queue) -> list[Agent]:
    return [min(agents, key=lambda a: ((a.order - q.rr_next) % 10**6, a.order))]


def _ring_all(agents: list[Agent], q: Queue) -> list[Agent]:
    return sorted(agents, key=lambda a: a.order)


def _fewest_calls(agents: list[Agent], q: Queue) -> list[Agent]:
    return [min(agents, key=lambda a: (a.calls, a.idle_since, a.order))]


def _least_talk(agents: list[Agent], q: Queue) -> list[Agent]:
    return [min(agents, key=lambda a: (a.talk_s, a.idle_since, a.order))]


def _skill_first(agents: list[Agent], q: Queue) -> list[Agent]:
    return [min(agents, key=lambda a: (-a.level(q.cfg.skill), a.idle_since, a.order))]


# Strategy name -> the agents to ring, from the eligible ready ones (docs/standards.md §20.1).
STRATEGIES: dict[str, Callable[[list[Agent], Queue], list[Agent]]] = {
    "longest_idle": _longest_idle, "round_robin": _round_robin, "ring_all": _ring_all,
    "fewest_calls": _fewest_calls, "least_talk": _least_talk, "skill_first": _skill_first,
}


class Acd:
    """Queues and agents; `dispatch()` offers waiting callers to free agents by each queue's strategy."""

    def __init__(self, svc: Services, center: "CallCenter", queues: list[QueueConfig], agents: list[AgentConfig]):
        self.svc, self.center = svc, center
        self.queues = {q.name: Queue(q) for q in queues}
        now = svc.clock.time()
        self.agents: dict[str, Agent] = {}
        for order, cfg in enumerate(agents):
            self.agents[cfg.id] = Agent(svc, center, self, cfg, self._station(cfg), order, now)
        # Channel -> the agent on it: every station agent's port, and a remote agent's trunk while
        # they are rung or on a call (their line keeps this up to date).
        self.by_channel = {a.line.channel: a for a in self.agents.values() if a.line.channel is not None}
        # Queues removed by a reload, once drained: a call they connected still wraps up on their settings.
        self.retired: dict[str, Queue] = {}

    # --- new settings while the box runs -------------------------------------------------------------
    def reconfigure(self, queues: list[QueueConfig], agents: list[AgentConfig]) -> None:
        """Swap in new queue and agent settings at once, dropping no call (site.reload).

        A caller already waiting keeps the timers their queue started with (max wait, ring
        timeout); the next offer and the next caller use the new settings. A queue removed while
        callers wait in it drains: it takes no new caller and goes once empty. An agent removed or
        moved to another station or number while rung or on a call keeps their line until the call
        is done, then is logged out (removed) or moved. AcdError, and nothing changed, if a station
        the settings give to one agent still carries another agent's call.
        """
        channels = self.check_agents(agents)
        new_queues = {q.name: q for q in queues}
        for name, qcfg in new_queues.items():
            q = self.queues.get(name) or self.retired.pop(name, None) or Queue(qcfg)
            self.queues[name] = q
            q.cfg, q.draining = qcfg, False
        for name, q in self.queues.items():
            q.draining = name not in new_queues
        now = self.svc.clock.time()
        roster: dict[str, Agent] = {}
        for order, cfg in enumerate(agents):
            agent = self.agents.get(cfg.id)
            if agent is None:
                agent = Agent(self.svc, self.center, self, cfg, channels[cfg.id], order, now)
            else:
                agent.name, agent.skills, agent.order, agent.retiring = cfg.name, dict(cfg.skills), order, False
                agent.moved_to = cfg if (cfg.station, cfg.phone) != agent.reach() else None
            roster[cfg.id] = agent
        gone = [a for a in self.agents.values() if a.id not in roster]
        for agent in gone:
            agent.retiring, agent.moved_to = True, None
            roster[agent.id] = agent
        self.agents = roster
        for agent in list(roster.values()):
            self.settle(agent)
        self._rebind()
        self.dispatch()

    def check_agents(self, agents: list[AgentConfig]) -> dict[str, int | None]:
        """Each agent's station channel; AcdError if a station is not on the board or still carries
        another agent's call."""
        channels = {cfg.id: self._station(cfg) for cfg in agents}
        for cfg in agents:
            channel = channels[cfg.id]
            holder = self.by_channel.get(channel) if channel is not None else None
            if holder is not None and holder.id != cfg.id and holder.state in SETTLING:
                raise AcdError(f"station {cfg.station} still carries agent {holder.id}'s call; agent {cfg.id} "
                               "can take it once that call is over")
        return channels

    def settle(self, agent: Agent) -> None:
        """Apply what the settings changed for an agent no longer rung, on a call or wrapping up:
        log them out and remove them, or move them to their new station or number."""
        if agent.state in SETTLING or self.agents.get(agent.id) is not agent:
            return
        if not agent.retiring and agent.moved_to is None:
            return
        if agent.retiring:
            if agent.state != AgentState.LOGGED_OUT:
                agent.cancel_timer()
                agent.set_state(AgentState.LOGGED_OUT, "removed from the settings")
            del self.agents[agent.id]
        elif agent.moved_to is not None:
            cfg, agent.moved_to = agent.moved_to, None
            station = self._station(cfg)
            agent.line = (StationLine(self.svc, station) if station is not None
                          else PhoneLine(self.svc, self.center, agent, cfg.phone or ""))
        self._rebind()
        self.dispatch()

    def _rebind(self) -> None:
        """Channel -> agent anew from every agent's line (stations, and remote agents' trunks in use)."""
        self.by_channel = {a.line.channel: a for a in self.agents.values() if a.line.channel is not None}

    def _prune(self) -> None:
        """A draining queue goes once no caller or callback request waits in it."""
        for name, q in list(self.queues.items()):
            if q.draining and not q.waiting:
                self.retired[name] = self.queues.pop(name)
                log.info("queue %s removed: its last caller has left it", name)

    def settings_of(self, name: str) -> QueueConfig | None:
        """A queue's settings by name, also those of a queue removed by a reload."""
        q = self._queue_of(name)
        return q.cfg if q is not None else None

    def _queue_of(self, name: str) -> Queue | None:
        """A queue by name, also one removed by a reload (for the calls it connected)."""
        return self.queues.get(name) or self.retired.get(name)

    def _station(self, cfg: AgentConfig) -> int | None:
        """The channel of the agent's station; None for a remote agent."""
        if cfg.station is None:
            return None
        stations = {c.name: c.index for c in self.svc.lines.by_kind(ChannelKind.STATION)}
        if cfg.station not in stations:
            raise AcdError(f"{cfg.origin or 'agent ' + cfg.id}: no station named {cfg.station!r} on this board "
                           f"(stations: {', '.join(stations) or 'none'}; an agent reached over a trunk "
                           "gives phone = \"<number>\" instead)")
        return stations[cfg.station]

    def bind_channel(self, channel: int, agent: Agent) -> None:
        """A remote agent's trunk carries them now (rung or on a call)."""
        self.by_channel[channel] = agent

    def unbind_channel(self, channel: int) -> None:
        self.by_channel.pop(channel, None)

    # --- lookups ------------------------------------------------------------------------------
    def agent(self, agent_id: str) -> Agent:
        try:
            return self.agents[str(agent_id)]
        except KeyError:
            raise AcdError(f"unknown agent {agent_id!r}") from None

    def queue(self, name: str) -> Queue:
        try:
            return self.queues[name]
        except KeyError:
            raise AcdError(f"unknown queue {name!r}") from None

    def min_level(self, q: Queue, call: QueueEntry, now: float) -> int:
        """The skill level this caller needs now: escalation widens the pool as the wait grows."""
        level = q.cfg.min_level
        for after, step in q.cfg.escalate:
            if now - call.waiting_since >= after:
                level = step
        return level

    def estimated_wait(self, q: Queue, position: int) -> float:
        """Expected wait of the caller at `position`.

        The staffed agents free up one every AHT/N seconds on average (AHT: the queue's average
        handle time, talk + wrap-up, an EWMA; N: agents logged in with the skill). The caller needs
        as many departures as callers ahead of them, plus one; the first comes after half an
        interval on average, as agents are midway through their calls when the caller arrives.
        """
        staffed = [a for a in self.agents.values()
                   if a.state != AgentState.LOGGED_OUT and a.level(q.cfg.skill) >= q.cfg.min_level]
        needed = position - sum(a.state == AgentState.READY for a in staffed)
        if needed <= 0:
            return 0.0
        return (needed - 0.5) * q.aht / max(1, len(staffed))

    # --- callers ------------------------------------------------------------------------------
    def enqueue(self, call: Call, queue_name: str, on_exit: Callable[[str], None] | None = None) -> bool:
        """Put the caller in a queue. False (and on_exit('full')) when the queue is at its limit."""
        q = self.queue(queue_name)
        now = self.svc.clock.time()
        if q.draining:
            call.event("queue:closed", queue=q.name)
            if on_exit:
                on_exit("full")
            return False
        if q.cfg.max_waiting and len(q.waiting) >= q.cfg.max_waiting:
            call.event("queue:full", queue=q.name, waiting=len(q.waiting))
            if on_exit:
                on_exit("full")
            return False
        q.offered += 1
        call.queue, call.queued_at, call.on_queue_exit = q.name, now, on_exit
        customer = call.customer
        call.priority = customer.vip if customer else 0
        call.dedicated = customer.agent_id if customer and customer.agent_id in self.agents else None
        call.update(queue=q.name, queued_at=now, priority=call.priority)
        call.offered = partial(self._offer, call)
        q.insert(call)
        position = call.queue_position = q.position(call)
        call.event("queue:enter", queue=q.name, position=position, priority=call.priority)
        call.set_state(CallState.QUEUED, queue=q.name, position=position)
        call.timers = [self.svc.later(q.cfg.max_wait, self._max_wait, call)]
        # Re-run matching when a step of escalation or the dedicated agent's grace period passes.
        for after in sorted({a for a, _ in q.cfg.escalate} | ({q.cfg.dedicated_wait} if call.dedicated else set())):
            call.timers.append(self.svc.later(after, self.dispatch))
        if q.cfg.announce_every:
            call.timers.append(self.svc.later(q.cfg.announce_every, self._announce, call))
        self.center.hold_music(call)
        self.dispatch()
        return True

    def requeue(self, call: Call, queue_name: str) -> None:
        """Back into a queue, first among callers of the same priority: a transferred caller, one
        whose transfer failed, or one whose agent's line went down."""
        q = self.queue(queue_name)
        now = self.svc.clock.time()
        call.agent, call.queue, call.queued_at, call.connected_at = None, q.name, now, None
        call.update(queue=q.name, queued_at=now)
        q.offered += 1
        call.offered = partial(self._offer, call)
        q.insert(call, front=True)
        call.queue_position = q.position(call)
        call.event("queue:enter", queue=q.name, position=call.queue_position, priority=call.priority, requeued=True)
        call.set_state(CallState.QUEUED, queue=q.name, position=call.queue_position)
        call.timers = [self.svc.later(q.cfg.max_wait, self._max_wait, call)]
        if call.conversation is None:
            self.center.hold_music(call)
        self.dispatch()

    def _announce(self, call: Call) -> None:
        q = self.queues.get(call.queue) if call.queue else None
        if q is None or call.state != CallState.QUEUED or call not in q.waiting:
            return
        position = q.position(call)
        wait = self.estimated_wait(q, position)
        call.event("queue:announce", position=position, estimated_wait=round(wait, 1))
        self.center.announce(call, position, wait)
        call.timers.append(self.svc.later(q.cfg.announce_every, self._announce, call))

    def leave(self, call: Call) -> None:
        """The caller left the queue (hung up, timed out, pressed a key): stop their timers and ringing."""
        q = self.queues.get(call.queue) if call.queue else None
        if q and call in q.waiting:
            q.waiting.remove(call)
            self._prune()
        for timer in call.timers:
            timer.cancel()
        call.timers = []
        if call.ringing:
            self._stop_ringing(call)
            self.dispatch()

    def exit_with(self, call: Call, outcome: str) -> None:
        """Take the caller out of the queue and hand them back to their flow (key, timeout)."""
        self.leave(call)
        call.set_state(CallState.IVR, outcome=outcome)
        callback = call.on_queue_exit
        call.on_queue_exit = None
        if callback:
            callback(outcome)

    def abandoned(self, call: Call) -> None:
        q = self._queue_of(call.queue) if call.queue else None
        if q is not None:
            q.abandoned += 1
            wait = self.svc.clock.time() - call.waiting_since
            q.short_abandoned += wait <= self.center.short_abandon_s
            call.event("queue:abandon", queue=call.queue, position=q.position(call) if call in q.waiting else 0,
                       wait=round(wait, 2))

    def _max_wait(self, call: Call) -> None:
        if call.state not in (CallState.QUEUED, CallState.RINGING_AGENT):
            return
        q = self.queues[call.queue_name]
        q.timeouts += 1
        call.event("queue:timeout", queue=call.queue, position=q.position(call) if call in q.waiting else 1,
                   wait=round(self.svc.clock.time() - call.waiting_since, 2))
        if call.on_queue_exit:
            self.exit_with(call, "timeout")
        else:
            self.leave(call)
            self.center.end_call(call, Disposition.TIMEOUT, "box")

    # --- matching -----------------------------------------------------------------------------
    def dispatch(self) -> None:
        """Offer waiting callers, best first (priority, then time of entry, across every queue), to
        the ready agents each may have; a caller nobody may take yet does not hold up the others."""
        self._prune()
        now = self.svc.clock.time()
        ready = self._ringable(self.agents.values())
        if not ready:
            return
        waiting = sorted(((q, c) for q in self.queues.values() for c in q.waiting if not c.ringing),
                         key=lambda qc: (-qc[1].priority, qc[1].waiting_since))
        for q, call in waiting:
            eligible = self._eligible(q, call, ready, now)
            if not eligible:
                continue
            chosen = STRATEGIES[q.cfg.strategy](eligible, q)
            call.offered(q, chosen)
            ready = self._ringable(ready)
            if not ready:
                return

    @staticmethod
    def _ringable(agents: Iterable[Agent]) -> list[Agent]:
        # An agent whose station is in alarm, or a remote agent while no trunk is free, cannot be rung
        # now, whatever their state says.
        # One the settings removed or moved is rung no more on the line they are leaving.
        return [a for a in agents if a.state == AgentState.READY and a.line.reachable()
                and not a.retiring and a.moved_to is None]

    def _eligible(self, q: Queue, call: QueueEntry, ready: list[Agent], now: float) -> list[Agent]:
        if call.dedicated and now - call.waiting_since < q.cfg.dedicated_wait:
            dedicated = self.agents[call.dedicated]
            # The caller's own agent is waited for, while they are working; anyone else is not offered.
            if dedicated.state != AgentState.LOGGED_OUT:
                return [dedicated] if dedicated in ready else []
        level = self.min_level(q, call, now)
        return [a for a in ready if a.level(q.cfg.skill) >= level]

    def _offer(self, call: Call, q: Queue, agents: list[Agent]) -> None:
        """Ring the agents chosen for a caller waiting on the line."""
        rung = [a for a in agents if self.ring(a, call, self.offer_answered, partial(self._missed, call))]
        if not rung:
            return
        call.ringing = rung
        call.ring_started = self.svc.clock.time()
        call.set_state(CallState.RINGING_AGENT, agents=[a.id for a in rung])
        if q.cfg.strategy == "round_robin":
            q.rr_next = agents[0].order + 1
        call.ring_timer = self.svc.later(q.cfg.ring_timeout, self._ring_timeout, call)

    def ring(self, agent: Agent, call: Call | None, on_answer: Callable[[Agent], None],
             on_missed: Callable[[Agent, str], None]) -> bool:
        """Ring the agent's phone for `call`; False, and nothing changed, if they cannot be rung now
        (a remote agent while no trunk is free).

        `call` is None for a callback, dialled once the agent answers. `on_answer(agent)` runs when
        they pick up, `on_missed(agent, why)` when their line reports it cannot reach them (busy,
        unobtainable, line down); ringing out is the caller's own timer's business.
        """
        if not agent.line.ring():
            return False
        agent.call, agent.on_answer, agent.on_missed = call, on_answer, on_missed
        agent.set_state(AgentState.RINGING)
        if call is not None:
            call.event("agent:ring", agent=agent.id)
        return True

    def picked_up(self, agent: Agent) -> None:
        """The agent's ringing phone was picked up (a station went off hook, a dialled number answered)."""
        if agent.state == AgentState.RINGING and agent.on_answer is not None:
            on_answer = agent.on_answer
            agent.on_answer = agent.on_missed = None
            on_answer(agent)

    def missed(self, agent: Agent, why: str) -> None:
        """The agent's line could not reach them (busy, unobtainable, no answer, line down)."""
        if agent.state == AgentState.RINGING and agent.on_missed is not None:
            on_missed = agent.on_missed
            agent.on_answer = agent.on_missed = None
            on_missed(agent, why)

    def unring(self, agent: Agent) -> None:
        """Stop the agent's phone ringing; they are free again."""
        self._hang_up(agent)
        if agent.state == AgentState.RINGING:
            agent.set_state(AgentState.READY)

    def not_reached(self, agent: Agent, why: str) -> None:
        """Free an agent whose ringing phone was not picked up. One who lets it ring out, or whose
        number is busy or unobtainable, is made not ready, as app_queue's autopause does; a line that
        failed under the ring is no fault of theirs."""
        self._hang_up(agent)
        if why == LINE_DOWN:
            agent.set_state(AgentState.READY)
        else:
            agent.set_state(AgentState.NOT_READY, NO_ANSWER)

    @staticmethod
    def _hang_up(agent: Agent) -> None:
        agent.line.drop()
        agent.call = agent.on_answer = agent.on_missed = None

    def _stop_ringing(self, call: Call, keep: Agent | None = None) -> None:
        """Stop every phone ringing for the call but `keep`'s; those agents are free again."""
        if call.ring_timer:
            call.ring_timer.cancel()
            call.ring_timer = None
        for agent in call.ringing:
            if agent is not keep:
                self.unring(agent)
        call.ringing = []

    def _ring_timeout(self, call: Call) -> None:
        if call.state != CallState.RINGING_AGENT:
            return
        call.ring_timer = None
        for agent in list(call.ringing):
            self._missed(call, agent, NO_ANSWER)

    def _missed(self, call: Call, agent: Agent, why: str) -> None:
        """`agent` did not take the offer of `call`; once nobody rings for it, it is offered anew."""
        if agent not in call.ringing:
            return
        call.ringing.remove(agent)
        # The network's reason, where it gave one (busy, unobtainable ...); a ring-out says nothing more.
        reason = {} if why == NO_ANSWER else {"why": why}
        call.event("agent:noanswer", agent=agent.id,
                   ring_ms=int(1000 * (self.svc.clock.time() - call.ring_since)), **reason)
        self.not_reached(agent, why)
        if call.ringing:
            return
        self._stop_ringing(call)
        call.set_state(CallState.QUEUED, queue=call.queue)
        self.dispatch()

    def offer_answered(self, agent: Agent) -> None:
        """A queue caller's offer was picked up."""
        call = agent.call
        if call is None or agent not in call.ringing:
            return
        self._stop_ringing(call, keep=agent)
        now = self.svc.clock.time()
        q = self.queues[call.queue_name]
        q.waiting.remove(call)
        self._prune()
        q.answered += 1
        wait = now - call.waiting_since
        q.answered_wait_s += wait
        if wait <= self.center.service_level_s:
            q.answered_in_sl += 1
        agent.calls += 1
        agent.set_state(AgentState.TALKING)
        for timer in call.timers:
            timer.cancel()
        call.timers = []
        call.agent = agent
        call.connected_at = now
        call.update(agent_id=agent.id, connected_at=now, wait=round(wait, 3))
        call.event("queue:connect", queue=q.name, agent=agent.id, wait=round(wait, 2),
                   ring_s=round(now - call.ring_since, 2))
        self.center.connect(call, agent)

    def call_ended(self, call: Call) -> None:
        """The call is over: its agent goes to wrap-up, then ready."""
        if call.ringing:
            self._stop_ringing(call)
        if call.agent is not None:
            self.release(call.agent, call)
        self.dispatch()

    def drop(self, agent: Agent, call: Call) -> None:
        """The box takes the agent off `call` (a transfer, an intercept): their line is hung up, then wrap-up."""
        agent.line.drop()
        self.release(agent, call)

    def release(self, agent: Agent, call: Call) -> None:
        """The agent is done with `call` (hung up, transferred it away): wrap-up, then ready."""
        if agent.state == AgentState.RINGING:
            self.unring(agent)
            return
        if agent.state != AgentState.TALKING:
            return
        talk = self.svc.clock.time() - agent.talking_since
        agent.talk_s += talk
        agent.last_call_id = call.id
        agent.last_call_queue = call.queue
        q = self._queue_of(call.queue) if call.queue else None
        wrapup = q.cfg.wrapup if q else 0.0
        if q is not None:
            q.aht += AHT_WEIGHT * (talk + wrapup - q.aht)
        agent.call = None
        agent.wrapup_until = self.svc.clock.time() + wrapup
        agent.set_state(AgentState.WRAPUP)
        agent.wait(wrapup, self._wrapup_done)

    def _wrapup_done(self, agent: Agent) -> None:
        if agent.state == AgentState.WRAPUP:
            agent.set_state(AgentState.READY)
            self.dispatch()

    # --- agent commands -----------------------------------------------------------------------
    def cmd_login(self, agent_id: str) -> dict:
        agent = self.agent(agent_id)
        if agent.state == AgentState.LOGGED_OUT:
            agent.set_state(AgentState.NOT_READY, "login")
        return agent.status()

    def cmd_ready(self, agent_id: str) -> dict:
        agent = self.agent(agent_id)
        if agent.state == AgentState.LOGGED_OUT:
            raise AcdError(f"agent {agent.id} is not logged in")
        if agent.state in (AgentState.NOT_READY, AgentState.WRAPUP):
            agent.cancel_timer()
            agent.set_state(AgentState.READY)
            self.dispatch()
        return agent.status()

    def cmd_not_ready(self, agent_id: str, reason: str = "break") -> dict:
        agent = self.agent(agent_id)
        if agent.state == AgentState.LOGGED_OUT:
            raise AcdError(f"agent {agent.id} is not logged in")
        if agent.state in BUSY:
            raise AcdError(f"agent {agent.id} is on a call; hang up first")
        agent.cancel_timer()
        agent.set_state(AgentState.NOT_READY, reason or "break")
        return agent.status()

    def cmd_logout(self, agent_id: str) -> dict:
        agent = self.agent(agent_id)
        if agent.state in BUSY:
            raise AcdError(f"agent {agent.id} is on a call; hang up first")
        agent.cancel_timer()
        agent.set_state(AgentState.LOGGED_OUT)
        return agent.status()

    def log_out_all(self, reason: str) -> None:
        """The box stops: every agent's state log ends here (their login time, their occupancy)."""
        for agent in self.agents.values():
            if agent.state != AgentState.LOGGED_OUT:
                agent.cancel_timer()
                agent.set_state(AgentState.LOGGED_OUT, reason)

    def cmd_hangup(self, agent_id: str) -> dict:
        agent = self.agent(agent_id)
        if agent.call is None or agent.state != AgentState.TALKING:
            raise AcdError(f"agent {agent.id} has no call to hang up")
        self.center.end_call(agent.call, Disposition.ANSWERED, "agent")
        return agent.status()

    def queue_status(self, q: Queue, now: float) -> dict:
        """A queue's callers, agents and figures since the start, as the dashboard shows them."""
        members = [a for a in self.agents.values() if a.level(q.cfg.skill) >= q.cfg.min_level]
        return {
            "name": q.name, "strategy": q.cfg.strategy, "skill": q.cfg.skill, "waiting": len(q.waiting),
            "draining": q.draining,
            "longest_wait_s": round(max((now - c.waiting_since for c in q.waiting), default=0.0), 1),
            "agents_logged_in": sum(a.state != AgentState.LOGGED_OUT for a in members),
            "agents_ready": sum(a.state == AgentState.READY for a in members),
            "agents_busy": sum(a.state in (*BUSY, AgentState.WRAPUP) for a in members),
            "offered": q.offered, "answered": q.answered, "abandoned": q.abandoned, "timeouts": q.timeouts,
            "short_abandoned": q.short_abandoned,
            # docs/kpi.md: answered within the target / (offered - short abandons), as the reports count it.
            "service_level": round(q.answered_in_sl / counted, 4) if (counted := q.offered - q.short_abandoned)
            else None,
            "asa_s": round(q.answered_wait_s / q.answered, 1) if q.answered else None,
            "aht_s": round(q.aht, 1),
            "estimated_wait_s": round(self.estimated_wait(q, len(q.waiting) + 1), 1)}

    def status(self) -> dict:
        now = self.svc.clock.time()
        queues = [self.queue_status(q, now) for q in self.queues.values()]
        return {"queues": queues, "agents": [{**a.status(), "leaving": a.retiring} for a in self.agents.values()]}
