"""Supervisors on agents' live calls: listening in (monitor, whisper, barge), taking a call over
(intercept), ending it, and setting an agent's state for them."""
from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Callable

from firmware.callcenter.acd import AcdError, Agent, AgentState
from firmware.callcenter.calls import Call, Disposition
from firmware.callcenter.conversation import Listen, Mode
from firmware.callcenter.legs import OpsError
from firmware.callcenter.transfers import talking
from firmware.callcenter.settings import SupervisorConfig
from firmware.core.application import Services

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter

log = logging.getLogger(__name__)


class SupervisorState(str, enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"
    LISTENING = "listening"
    TALKING = "talking"     # took the call over (intercept)


class Supervisor:
    def __init__(self, svc: Services, cfg: SupervisorConfig, station: int):
        self.svc = svc
        self.id, self.name, self.station = cfg.id, cfg.name, station
        self.state = SupervisorState.IDLE
        self.call: Call | None = None
        self.listen = Listen.MONITOR
        self.agent: Agent | None = None

    def set_state(self, state: SupervisorState, call: Call | None) -> None:
        """Change state and the call they are on (None: free again), and tell the observers."""
        if state == self.state and call is self.call:
            return
        log.debug("supervisor %s: %s -> %s", self.id, self.state.value, state.value)
        old, self.state, self.call = self.state, state, call
        if call is None:
            self.agent = None
        self.svc.emit(f"supervisor:{state.value}", supervisor=self, previous=old.value, call=call)

    def status(self) -> dict:
        return {"id": self.id, "name": self.name, "state": self.state.value,
                "call_id": self.call.id if self.call else None, "mode": self.listen.value,
                "agent": self.agent.id if self.agent else None}


class Supervisors:
    def __init__(self, svc: Services, center: "CallCenter", supervisors: list[SupervisorConfig]):
        self.svc, self.center = svc, center
        self.supervisors: dict[str, Supervisor] = {}
        self.by_station: dict[int, Supervisor] = {}
        self.reconfigure(supervisors)

    def reconfigure(self, supervisors: list[SupervisorConfig]) -> None:
        """New supervisor settings (site.reload). AcdError, and nothing changed, if it would remove
        or move a supervisor who is on a call: a call is never cut by a settings change, and a
        supervisor's listening leg has no later moment to move it to, as an agent's wrap-up is."""
        channels = self.check(supervisors)
        kept = {}
        for cfg in supervisors:
            sup = self.supervisors.get(cfg.id)
            if sup is None or sup.station != channels[cfg.station]:
                sup = Supervisor(self.svc, cfg, channels[cfg.station])
            sup.name = cfg.name
            kept[cfg.id] = sup
        self.supervisors = kept
        self.by_station = {s.station: s for s in self.supervisors.values()}

    def check(self, supervisors: list[SupervisorConfig]) -> dict[str, int]:
        """Channel by station name; AcdError if a station is not on the board, or the settings remove
        or move a supervisor on a call."""
        channels = {c.name: c.index for c in self.svc.lines.channels}
        for cfg in supervisors:
            if cfg.station not in channels:
                raise AcdError(f"supervisor {cfg.id}: no channel named {cfg.station!r} on this board")
        new = {cfg.id: cfg for cfg in supervisors}
        for sup in self.supervisors.values():
            same = new.get(sup.id)
            if sup.call is not None and (same is None or channels[same.station] != sup.station):
                raise AcdError(f"supervisor {sup.id} is on a call; remove or move them once it is over")
        return channels

    def commands(self) -> dict[str, Callable]:
        return {
            "supervisor.monitor": self.cmd_monitor, "supervisor.stop": self.cmd_stop,
            "supervisor.intercept": self.cmd_intercept, "supervisor.hangup": self.cmd_force_hangup,
            "supervisor.force_ready": lambda supervisor, agent: self._force(supervisor, agent, "ready"),
            "supervisor.force_not_ready": lambda supervisor, agent, reason="supervisor":
                self._force(supervisor, agent, "not_ready", reason),
            "supervisor.force_logout": lambda supervisor, agent: self._force(supervisor, agent, "logout"),
        }

    def _talking(self, agent_id: str) -> tuple[Agent, Call]:
        return talking(self.center, agent_id)

    def supervisor(self, sup_id: str) -> Supervisor:
        try:
            return self.supervisors[str(sup_id)]
        except KeyError:
            raise OpsError(f"unknown supervisor {sup_id!r}") from None

    def find(self, sup_id: str) -> Supervisor | None:
        return self.supervisors.get(sup_id)

    def cleared(self, channel: int) -> None:
        """A supervisor's station hung up."""
        sup = self.by_station.get(channel)
        if sup is not None and sup.call is not None:
            if sup.state == SupervisorState.TALKING:
                self.center.end_call(sup.call, Disposition.ANSWERED, "supervisor")
            else:
                self._leave(sup)

    def answered(self, channel: int) -> None:
        """A supervisor's station picked up: they join the call they asked to listen to."""
        sup = self.by_station.get(channel)
        if sup is None or sup.state != SupervisorState.RINGING or sup.call is None:
            return
        sup.set_state(SupervisorState.LISTENING, sup.call)
        conv = sup.call.talk
        conv.supervisor, conv.listen = sup.station, sup.listen
        sup.call.event("supervisor:join", supervisor=sup.id, mode=sup.listen.value)
        self.center.apply(sup.call)

    # --- commands -----------------------------------------------------------------------------
    def cmd_monitor(self, supervisor: str, agent: str, mode: str = "monitor") -> dict:
        sup = self.supervisor(supervisor)
        try:
            listen = Listen(mode)
        except ValueError:
            raise OpsError(f"mode must be monitor, whisper or barge, not {mode!r}") from None
        agent_obj, call = self._talking(agent)
        if sup.call is not None and sup.call is not call:
            raise OpsError(f"supervisor {sup.id} is already on call {sup.call.id}")
        if call.talk.supervisor is not None and sup.call is not call:
            raise OpsError(f"someone already listens to agent {agent_obj.id}")
        sup.listen, sup.agent = listen, agent_obj
        if sup.call is call and sup.state == SupervisorState.LISTENING:
            call.talk.listen = listen
            call.event("supervisor:mode", supervisor=sup.id, mode=listen.value)
            self.center.apply(call)
            return sup.status()
        sup.set_state(SupervisorState.RINGING, call)
        self.svc.lines.dial(sup.station)
        return sup.status()

    def cmd_stop(self, supervisor: str) -> dict:
        sup = self.supervisor(supervisor)
        if sup.call is None:
            raise OpsError(f"supervisor {sup.id} is not listening to any call")
        if sup.state == SupervisorState.TALKING:
            self.center.end_call(sup.call, Disposition.ANSWERED, "supervisor")
            return sup.status()
        self.svc.lines.hangup(sup.station)
        self._leave(sup)
        return sup.status()

    def _leave(self, sup: Supervisor) -> None:
        call = sup.call
        sup.set_state(SupervisorState.IDLE, None)
        if call is not None and call.conversation is not None and call.conversation.supervisor == sup.station:
            call.conversation.supervisor = None
            call.event("supervisor:leave", supervisor=sup.id)
            self.svc.media.disconnect(sup.station)
            self.center.apply(call)

    def cmd_intercept(self, supervisor: str, agent: str) -> dict:
        """The supervisor takes the call over; the agent drops out."""
        sup = self.supervisor(supervisor)
        agent_obj, call = self._talking(agent)
        if sup.call is not call or sup.state != SupervisorState.LISTENING:
            raise OpsError(f"supervisor {sup.id} must be listening to agent {agent_obj.id}'s call first")
        call.event("supervisor:intercept", supervisor=sup.id, agent=agent_obj.id)
        call.agent = None
        self.center.acd.drop(agent_obj, call)
        conv = call.talk
        conv.agent, conv.supervisor, conv.mode = sup.station, None, Mode.TALK
        sup.set_state(SupervisorState.TALKING, call)
        call.update(intercepted_by=sup.id)
        self.center.apply(call)
        return sup.status()

    def cmd_force_hangup(self, supervisor: str, agent: str) -> dict:
        self.supervisor(supervisor)
        agent_obj, call = self._talking(agent)
        call.event("supervisor:hangup", supervisor=supervisor, agent=agent_obj.id)
        self.center.end_call(call, Disposition.ANSWERED, "supervisor")
        return agent_obj.status()

    def _force(self, supervisor: str, agent: str, what: str, reason: str = "supervisor") -> dict:
        self.supervisor(supervisor)
        acd = self.center.acd
        agent_obj = acd.agent(agent)
        before = (agent_obj.state, agent_obj.reason)
        result = {"ready": lambda: acd.cmd_ready(agent), "logout": lambda: acd.cmd_logout(agent),
                  "not_ready": lambda: acd.cmd_not_ready(agent, reason)}[what]()
        if (agent_obj.state, agent_obj.reason) == before:
            return result      # already so, or on a call (ready leaves a call alone): nothing was forced
        # The state the supervisor set, not the agent's state now: made ready, they may already be
        # ringing with the next caller, and the log would say the supervisor forced that.
        forced = {"ready": AgentState.READY, "not_ready": AgentState.NOT_READY, "logout": AgentState.LOGGED_OUT}[what]
        self.svc.records.insert("agent_states", {
            "id": f"{agent}-forced-{self.svc.new_id()[:8]}", "agent_id": agent,
            "state": forced.value, "reason": f"forced by supervisor {supervisor}",
            "at": self.svc.clock.time()})
        return result

    # --- the call ends ------------------------------------------------------------------------
    def call_ending(self, call: Call) -> None:
        """Hang up the supervisor listening to the call."""
        for sup in self.supervisors.values():
            if sup.call is call:
                self.svc.lines.hangup(sup.station)
                sup.set_state(SupervisorState.IDLE, None)
                self.svc.media.disconnect(sup.station)

    def status(self) -> list[dict]:
        return [s.status() for s in self.supervisors.values()]
