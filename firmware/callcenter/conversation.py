"""Who hears whom on a connected call: caller, agent, a third party, a supervisor; and its legs."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Mode(str, enum.Enum):
    TALK = "talk"              # caller and agent
    HOLD = "hold"              # caller hears music; the agent hears nothing
    CONSULT = "consult"        # caller on hold; agent and third party talk (attended transfer)
    CONFERENCE = "conference"  # caller, agent and third party all hear each other


class Listen(str, enum.Enum):
    MONITOR = "monitor"  # the supervisor hears the call; nobody hears the supervisor
    WHISPER = "whisper"  # ... and only the agent hears the supervisor (coaching)
    BARGE = "barge"      # ... and everyone hears the supervisor


@dataclass
class Conversation:
    caller: int                      # channels
    agent: int | None
    third: int | None = None
    mode: Mode = Mode.TALK
    supervisor: int | None = None
    listen: Listen = Listen.MONITOR

    def channels(self) -> list[int]:
        return [c for c in (self.caller, self.agent, self.third, self.supervisor) if c is not None]

    def caller_on_hold(self) -> bool:
        return self.mode in (Mode.HOLD, Mode.CONSULT)

    def legs(self) -> list[tuple[int, int]]:
        """(listener, talker) pairs for the mixing step."""
        parties: list[int | None] = []    # the parties in one conversation with each other
        if self.mode == Mode.TALK:
            parties = [self.caller, self.agent]
        elif self.mode == Mode.CONSULT:
            parties = [self.agent, self.third]
        elif self.mode == Mode.CONFERENCE:
            parties = [self.caller, self.agent, self.third]
        talking = [c for c in parties if c is not None]
        legs = [(a, b) for a in talking for b in talking if a != b]
        sup = self.supervisor
        if sup is not None:
            heard: list[int | None] = [*talking] or [self.agent]
            legs += [(sup, c) for c in heard if c is not None]
            if self.listen == Listen.WHISPER and self.agent is not None:
                legs.append((self.agent, sup))
            elif self.listen == Listen.BARGE:
                legs += [(c, sup) for c in heard if c is not None]
        return legs
