"""Test helpers: the box's E1 span driver back to back with the simulated exchange, on simulated time."""
import numpy as np

from drivers.channel import EventKind
from drivers.e1_exchange import SimExchange, Subscriber
from drivers.e1_span import E1SpanDriver
from firmware.config.r2_variants import load_variant

__all__ = ["Rig", "Subscriber"]


class Rig:
    """A span of 30 trunks on the simulated exchange; time moves only in `run` (20 ms a tick)."""

    def __init__(self, variant="china", dnis_digits=4, number_digits=8, ani="88886666"):
        self.variant = load_variant(variant)
        self.exchange = SimExchange(self.variant, number_digits=number_digits)
        self.now = self.exchange.audio.now
        self.driver = E1SpanDriver("span1", self.exchange.card, self.exchange.audio, self.variant,
                                   dnis_digits=dnis_digits, ani=ani, clock=self.now)
        self.tx = np.zeros((30, 160), np.int16)
        self.rx = np.zeros((30, 160), np.int16)
        self.events = []
        self.driver.start()
        self.run(0.1)

    def run(self, seconds=0.0, until=None, limit=120.0):
        """Exchange ticks for `seconds`, or until `until(events)` (at most `limit` s); -> the new events."""
        got = []
        end = self.now() + (seconds if until is None else limit)
        while self.now() < end - 1e-9:
            for e in self.driver.exchange(self.tx, self.rx):
                got.append(e)
            if until is not None and until(got):
                break
        self.events += got
        return got

    def state(self, ch):
        return self.driver.r2.chans[ch].state.value

    def far_state(self, ch):
        return self.exchange.r2.chans[ch].state.value


def kinds(events, channel=None):
    return [e.kind for e in events if channel is None or e.channel == channel]


def of(kind, channel=None):
    return lambda events: any(e.kind == kind and (channel is None or e.channel == channel) for e in events)


RING, CLEAR, ANSWER, ALARM, PROGRESS, CALLER_ID = (EventKind.RING, EventKind.CLEAR, EventKind.ANSWER,
                                                   EventKind.ALARM, EventKind.PROGRESS, EventKind.CALLER_ID)
