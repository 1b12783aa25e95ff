"""Automatic call distribution: agents and their states, queues, and matching callers to agents."""
from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING

from .calls import Call, CallState, Disposition
from .site import AgentConfig, QueueConfig

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)


class AcdError(Exception):
    """A command names an unknown agent or queue, or does not fit the agent's state."""


class AgentState(str, enum.Enum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RINGING = "ringing"
    TALKING = "talking"
    WRAPUP = "wrapup"
    NOT_READY = "not_ready"


class Agent:
    def __init__(self, engine: "Engine", cfg: AgentConfig, station: int, now: float):
        self.engine = engine
        self.id, self.name, self.station, self.queues = cfg.id, cfg.name, station, list(cfg.queues)
        self.state = AgentState.LOGGED_OUT
        self.reason: str | None = None
        self.since = now
        self.idle_since = now      # longest-idle routing: time the agent last became free
        self.call: Call | None = None
        self.calls = 0
        self.talk_s = 0.0
        self._log = 0
        self._timer = None

    def set_state(self, state: AgentState, reason: str | None = None) -> None:
        now = self.engine.clock.time()
        if state == self.state and reason == self.reason:
            return
        log.debug("agent %s: %s -> %s%s", self.id, self.state.value, state.value, f" ({reason})" if reason else "")
        self.state, self.reason, self.since = state, reason, now
        if state == AgentState.READY:
            self.idle_since = now
        self._log += 1
        self.engine.store.insert("agent_states", {"id": f"{self.id}-{int(now * 1000)}-{self._log}",
                                                  "agent_id": self.id, "state": state.value,
                                                  "reason": reason, "at": now})
        self.engine.emit(f"agent:{state.value}", agent=self)

    def status(self) -> dict:
        return {"id": self.id, "name": self.name, "state": self.state.value, "reason": self.reason,
                "since": self.since, "station": self.engine.board.channels[self.station].name,
                "queues": self.queues, "call_id": self.call.id if self.call else None,
                "number": self.call.number if self.call else None, "calls": self.calls,
                "talk_s": round(self.talk_s, 1)}


class Queue:
    def __init__(self, cfg: QueueConfig):
        self.cfg = cfg
        self.name = cfg.name
        self.waiting: list[Call] = []     # in order of service: the head is answered first
        self.offered = self.answered = self.abandoned = 0


class Acd:
    """Queues and agents; `dispatch()` offers waiting callers to free agents (longest idle first)."""

    def __init__(self, engine: "Engine", queues: list[QueueConfig], agents: list[AgentConfig]):
        self.engine = engine
        self.queues = {q.name: Queue(q) for q in queues}
        now = engine.clock.time()
        stations = {c.name: c.index for c in engine.board.channels}
        self.agents: dict[str, Agent] = {}
        for cfg in agents:
            if cfg.station not in stations:
                raise AcdError(f"agent {cfg.id}: no channel named {cfg.station!r} on this board")
            self.agents[cfg.id] = Agent(engine, cfg, stations[cfg.station], now)
        self.by_station = {a.station: a for a in self.agents.values()}

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

    # --- callers ------------------------------------------------------------------------------
    def enqueue(self, call: Call, queue_name: str, front: bool = False) -> None:
        q = self.queue(queue_name)
        now = self.engine.clock.time()
        if call.queued_at is None:
            q.offered += 1
            call.queue, call.queued_at = q.name, now
            call.update(queue=q.name, queued_at=now)
            call.event("queue:enter", queue=q.name, position=len(q.waiting) + 1)
            call.max_wait_timer = self.engine.later(q.cfg.max_wait, self._max_wait, call)
        if front:
            q.waiting.insert(0, call)
        else:
            q.waiting.append(call)
        call.set_state(CallState.QUEUED, queue=q.name)
        self.engine.hold_music(call)
        self.dispatch()

    def leave(self, call: Call) -> None:
        """The caller left the queue (hung up, timed out): take them out, stop ringing their agent."""
        q = self.queues.get(call.queue) if call.queue else None
        if q and call in q.waiting:
            q.waiting.remove(call)
        timer = getattr(call, "max_wait_timer", None)
        if timer:
            timer.cancel()
        agent = call.agent
        if agent and agent.state == AgentState.RINGING:
            self._stop_ringing(agent)
            agent.set_state(AgentState.READY)
            self.dispatch()

    def abandoned(self, call: Call) -> None:
        if call.queue:
            self.queues[call.queue].abandoned += 1
            call.event("queue:abandon", queue=call.queue, wait=round(self.engine.clock.time() - call.queued_at, 2))

    def _max_wait(self, call: Call) -> None:
        if call.state in (CallState.QUEUED, CallState.RINGING_AGENT):
            call.event("queue:timeout", queue=call.queue)
            self.leave(call)
            self.engine.end_call(call, Disposition.TIMEOUT, "box")

    # --- matching -----------------------------------------------------------------------------
    def dispatch(self) -> None:
        """Offer the longest-waiting callers to the longest-idle ready agents who serve their queue."""
        while True:
            best = None
            for q in self.queues.values():
                if q.waiting and (best is None or q.waiting[0].queued_at < best[1].queued_at):
                    if self._free_agent(q) is not None:
                        best = (q, q.waiting[0])
            if best is None:
                return
            q, call = best
            self._offer(q, call, self._free_agent(q))

    def _free_agent(self, q: Queue) -> Agent | None:
        ready = [a for a in self.agents.values() if a.state == AgentState.READY and q.name in a.queues]
        return min(ready, key=lambda a: a.idle_since) if ready else None

    def _offer(self, q: Queue, call: Call, agent: Agent) -> None:
        q.waiting.remove(call)
        agent.call, call.agent = call, agent
        agent.set_state(AgentState.RINGING)
        call.set_state(CallState.RINGING_AGENT, agent=agent.id)
        call.event("agent:ring", agent=agent.id)
        self.engine.board.dial(agent.station)
        agent._timer = self.engine.later(q.cfg.ring_timeout, self._ring_timeout, agent)

    def _stop_ringing(self, agent: Agent) -> None:
        if agent._timer:
            agent._timer.cancel()
        self.engine.board.hangup(agent.station)
        if agent.call:
            agent.call.agent = None
        agent.call = None

    def _ring_timeout(self, agent: Agent) -> None:
        call = agent.call
        if agent.state != AgentState.RINGING or call is None:
            return
        call.event("agent:noanswer", agent=agent.id)
        self._stop_ringing(agent)
        # An agent who lets the phone ring out is made not ready, as app_queue's autopause does.
        agent.set_state(AgentState.NOT_READY, "no answer")
        self.enqueue(call, call.queue, front=True)

    def station_answered(self, agent: Agent) -> None:
        call = agent.call
        if agent.state != AgentState.RINGING or call is None:
            return
        if agent._timer:
            agent._timer.cancel()
        now = self.engine.clock.time()
        q = self.queues[call.queue]
        q.answered += 1
        agent.calls += 1
        agent.set_state(AgentState.TALKING)
        call.max_wait_timer.cancel()
        call.connected_at = now
        call.update(agent_id=agent.id, connected_at=now, wait=round(now - call.queued_at, 3))
        call.event("queue:connect", queue=q.name, agent=agent.id, wait=round(now - call.queued_at, 2))
        self.engine.connect(call, agent)

    def call_ended(self, call: Call) -> None:
        """The call is over: its agent goes to wrap-up, then ready."""
        agent = call.agent
        if agent is None:
            return
        if agent.state == AgentState.TALKING and call.connected_at is not None:
            agent.talk_s += self.engine.clock.time() - call.connected_at
        if agent.state == AgentState.RINGING:
            self._stop_ringing(agent)
            agent.set_state(AgentState.READY)
        elif agent.state == AgentState.TALKING:
            agent.call = None
            wrapup = self.queues[call.queue].cfg.wrapup
            agent.set_state(AgentState.WRAPUP)
            agent._timer = self.engine.later(wrapup, self._wrapup_done, agent)
        self.dispatch()

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
            if agent._timer:
                agent._timer.cancel()
            agent.set_state(AgentState.READY)
            self.dispatch()
        return agent.status()

    def cmd_not_ready(self, agent_id: str, reason: str = "break") -> dict:
        agent = self.agent(agent_id)
        if agent.state == AgentState.LOGGED_OUT:
            raise AcdError(f"agent {agent.id} is not logged in")
        if agent.state in (AgentState.RINGING, AgentState.TALKING):
            raise AcdError(f"agent {agent.id} is on a call; hang up first")
        agent.set_state(AgentState.NOT_READY, reason or "break")
        return agent.status()

    def cmd_logout(self, agent_id: str) -> dict:
        agent = self.agent(agent_id)
        if agent.state in (AgentState.RINGING, AgentState.TALKING):
            raise AcdError(f"agent {agent.id} is on a call; hang up first")
        agent.set_state(AgentState.LOGGED_OUT)
        return agent.status()

    def cmd_hangup(self, agent_id: str) -> dict:
        agent = self.agent(agent_id)
        if agent.call is None or agent.state != AgentState.TALKING:
            raise AcdError(f"agent {agent.id} has no call to hang up")
        self.engine.end_call(agent.call, Disposition.ANSWERED, "agent")
        return agent.status()

    def status(self) -> dict:
        now = self.engine.clock.time()
        queues = []
        for q in self.queues.values():
            members = [a for a in self.agents.values() if q.name in a.queues]
            queues.append({
                "name": q.name, "strategy": q.cfg.strategy, "waiting": len(q.waiting),
                "longest_wait_s": round(now - q.waiting[0].queued_at, 1) if q.waiting else 0.0,
                "agents_logged_in": sum(a.state != AgentState.LOGGED_OUT for a in members),
                "agents_ready": sum(a.state == AgentState.READY for a in members),
                "agents_busy": sum(a.state in (AgentState.RINGING, AgentState.TALKING, AgentState.WRAPUP)
                                   for a in members),
                "offered": q.offered, "answered": q.answered, "abandoned": q.abandoned})
        return {"queues": queues, "agents": [a.status() for a in self.agents.values()]}
