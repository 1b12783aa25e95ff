"""How the box reaches an agent: the station port they sit at, or their own number dialled on a free trunk."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from firmware.core.application import Services

if TYPE_CHECKING:
    from firmware.callcenter.acd import Agent
    from firmware.callcenter.center import CallCenter
    from firmware.callcenter.legs import Leg

log = logging.getLogger(__name__)

# Why a ring did not reach the agent when the line under it failed: no fault of the agent's.
LINE_DOWN = "line alarm"


class AgentLineError(Exception):
    """A remote agent's line reported an event with no leg dialled to them."""


class StationLine:
    """A station port of the box, rung directly; its answer, clear and alarm arrive as station events."""

    def __init__(self, svc: Services, channel: int):
        self.svc, self.channel = svc, channel
        self.name = svc.lines.channels[channel].name

    def reachable(self) -> bool:
        return self.svc.alarm(self.channel) is None

    def ring(self) -> bool:
        self.svc.lines.dial(self.channel)
        return True

    def drop(self) -> None:
        self.svc.lines.hangup(self.channel)

    def status(self) -> dict:
        return {"station": self.name, "trunk": None}


class PhoneLine:
    """A remote agent's own number, dialled on whichever trunk is free when they are rung.

    The trunk is the agent's leg until they or the box hang up, then free for callers again; no trunk
    is held while the agent is idle. The leg's events (Legs.on_event) come back here and go on
    exactly as a station's answer, clear or alarm would.
    """

    def __init__(self, svc: Services, center: "CallCenter", agent: "Agent", number: str):
        self.svc, self.center, self.agent, self.number = svc, center, agent, number
        self.name = f"tel:{number}"
        self.leg: Leg | None = None

    @property
    def channel(self) -> int | None:
        return self.leg.channel if self.leg is not None else None

    def reachable(self) -> bool:
        return self.center.legs.idle_trunk() is not None

    def ring(self) -> bool:
        """Dial the agent; False when no trunk can be had now (they are offered a later call instead)."""
        self.leg = self.center.legs.seize(self.number, on_answer=self._answered, on_fail=self._failed,
                                          on_clear=self._cleared, on_lost=self._lost, on_moved=self._moved)
        if self.leg is None:
            return False
        self.center.acd.bind_channel(self.leg.line, self.agent)
        return True

    def drop(self) -> None:
        if self.leg is not None:
            self.center.legs.hangup(self.leg)
            self._forget()

    def status(self) -> dict:
        trunk = self.svc.lines.channels[self.leg.line].name if self.leg is not None else None
        return {"station": self.name, "trunk": trunk}

    def _dialled(self) -> "Leg":
        """The leg to the agent: the line's events come from it, so there is one while they arrive."""
        if self.leg is None:
            raise AgentLineError(f"agent {self.agent.id}'s line {self.name} has no leg dialled")
        return self.leg

    def _forget(self) -> None:
        self.center.acd.unbind_channel(self._dialled().line)
        self.leg = None

    def _moved(self, lost: int) -> None:
        """An incoming call took the trunk the agent was being dialled on: the dial went to another."""
        self.center.acd.unbind_channel(lost)
        self.center.acd.bind_channel(self._dialled().line, self.agent)

    def _answered(self) -> None:
        self.center.acd.picked_up(self.agent)

    def _failed(self, why: str) -> None:
        trunk = self.svc.lines.channels[self._dialled().line].name
        self._forget()
        log.warning("agent %s not reached at %s (dialled on %s): %s", self.agent.id, self.number, trunk, why)
        self.center.acd.missed(self.agent, why)

    def _cleared(self) -> None:
        self._forget()
        self.center.agent_hung_up(self.agent)

    def _lost(self, reason: str) -> None:
        self._forget()
        self.center.agent_line_lost(self.agent, reason)
