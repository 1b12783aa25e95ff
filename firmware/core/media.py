"""The tick's media plan: prompt playback per channel and one mixing step for every bridge."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from drivers.channel import TICK_SAMPLES
from dsp.mix import mix


@dataclass
class _Player:
    samples: np.ndarray
    pos: int
    loop: bool
    on_done: Callable[[], None] | None


class MediaPlan:
    """What each channel hears this tick: a prompt, the mix of its bridge legs, or silence.

    Bridges are kept as flat (dst, src, gain) arrays rebuilt only when a bridge changes, so the
    per-tick mixing cost is one vectorised call whatever the number of calls.
    """

    def __init__(self, channels: int):
        self.channels = channels
        self._players: dict[int, _Player] = {}
        self._legs: dict[tuple[int, int], float] = {}
        self._arrays = (np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0, np.float32))
        self._dirty = False
        self._done: list[tuple[int, Callable[[], None]]] = []

    # --- prompts --------------------------------------------------------------------------------
    def play(self, channel: int, samples: np.ndarray, loop: bool = False,
             on_done: Callable[[], None] | None = None) -> None:
        """Start `samples` on `channel`, replacing whatever played there (its on_done is not run)."""
        self._players[channel] = _Player(samples, 0, loop, on_done)

    def stop(self, channel: int) -> bool:
        """Stop the prompt on `channel`; True if one was playing."""
        return self._players.pop(channel, None) is not None

    def playing(self, channel: int) -> bool:
        return channel in self._players

    # --- bridges --------------------------------------------------------------------------------
    def connect(self, dst: int, src: int, gain: float = 1.0) -> None:
        """`dst` hears `src` at `gain` (linear)."""
        self._legs[(dst, src)] = gain
        self._dirty = True

    def disconnect(self, channel: int) -> None:
        """Remove every leg into or out of `channel`."""
        for leg in [leg for leg in self._legs if channel in leg]:
            del self._legs[leg]
        self._dirty = True

    def bridge(self, a: int, b: int) -> None:
        self.connect(a, b)
        self.connect(b, a)

    # --- the tick -------------------------------------------------------------------------------
    def render(self, rx: np.ndarray) -> np.ndarray:
        """The transmit frame for this tick, given the received frame."""
        if self._dirty:
            legs = list(self._legs.items())
            self._arrays = (np.array([d for (d, _), _ in legs], np.intp),
                            np.array([s for (_, s), _ in legs], np.intp),
                            np.array([g for _, g in legs], np.float32))
            self._dirty = False
        dst, src, gain = self._arrays
        tx = mix(rx, dst, src, gain, self.channels)
        for ch, p in list(self._players.items()):
            end = p.pos + TICK_SAMPLES
            chunk = p.samples[p.pos:end]
            tx[ch, :chunk.size] = chunk
            tx[ch, chunk.size:] = 0
            if end < p.samples.size:
                p.pos = end
            elif p.loop:
                p.pos = 0
            else:
                del self._players[ch]
                if p.on_done:
                    self._done.append((ch, p.on_done))
        return tx

    def finished(self) -> list[tuple[int, Callable[[], None]]]:
        """(channel, callback) of prompts that ended this tick, for the engine to run after rendering."""
        done, self._done = self._done, []
        return done

    def status(self) -> dict:
        return {"playing": len(self._players), "legs": len(self._legs)}
