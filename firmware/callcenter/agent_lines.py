"""How the box reaches an agent: the station port they sit at, or their own number dialled on a free trunk."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from firmware.callcenter.acd import Agent
    from firmware.core.engine import Engine
    from firmware.callcenter.operations import Leg

log = logging.getLogger(__name__)

# Why a ring did not reach the agent when the line under it failed: no fault of the agent's.
LINE_DOWN = "line alarm"


class StationLine:
    """A station port of the box, rung directly; its answer, clear and alarm arrive as station events."""

    def __init__(self, engine: "Engine", channel: int):
        self.engine, self.channel = engine, channel
        self.name = engine.board.channels[channel].name

    def reachable(self) -> bool:
        return self.channel not in self.engine.alarms

    def ring(self) -> bool:
        self.engine.board.dial(self.channel)
        return True

    def drop(self) -> None:
        self.engine.board.hangup(self.channel)

    def status(self) -> dict:
        return {"station": self.name, "trunk": None}


class PhoneLine:
    """A remote agent's own number, dialled on whichever trunk is free when they are rung.

    The trunk is the agent's leg until they or the box hang up, then free for callers again; no trunk
    is held while the agent is idle. The leg's events (Operations.leg_event) come back here and go on
    exactly as a station's answer, clear or alarm would.
    """

    def __init__(self, engine: "Engine", agent: "Agent", number: str):
        self.engine, self.agent, self.number = engine, agent, number
        self.name = f"tel:{number}"
        self.leg: Leg | None = None

    @property
    def channel(self) -> int | None:
        return self.leg.channel if self.leg is not None else None

    def reachable(self) -> bool:
        return self.engine.ops.idle_trunk() is not None

    def ring(self) -> bool:
        """Dial the agent; False when no trunk can be had now (they are offered a later call instead)."""
        self.leg = self.engine.ops.seize(self.number, on_answer=self._answered, on_fail=self._failed,
                                         on_clear=self._cleared, on_lost=self._lost, on_moved=self._moved)
        if self.leg is None:
            return False
        self.engine.acd.by_channel[self.leg.channel] = self.agent
        return True

    def drop(self) -> None:
        if self.leg is not None:
            self.engine.ops.hangup_leg(self.leg)
            self._forget()

    def status(self) -> dict:
        trunk = self.engine.board.channels[self.leg.channel].name if self.leg is not None else None
        return {"station": self.name, "trunk": trunk}

    def _forget(self) -> None:
        self.engine.acd.by_channel.pop(self.leg.channel, None)
        self.leg = None

    def _moved(self, lost: int) -> None:
        """An incoming call took the trunk the agent was being dialled on: the dial went to another."""
        self.engine.acd.by_channel.pop(lost, None)
        self.engine.acd.by_channel[self.leg.channel] = self.agent

    def _answered(self) -> None:
        self.engine.acd.picked_up(self.agent)

    def _failed(self, why: str) -> None:
        trunk = self.engine.board.channels[self.leg.channel].name
        self._forget()
        log.warning("agent %s not reached at %s (dialled on %s): %s", self.agent.id, self.number, trunk, why)
        self.engine.acd.missed(self.agent, why)

    def _cleared(self) -> None:
        self._forget()
        self.engine.agent_hung_up(self.agent)

    def _lost(self, reason: str) -> None:
        self._forget()
        self.engine.agent_line_lost(self.agent, reason)
