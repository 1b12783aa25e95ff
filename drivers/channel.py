"""The channel interface every driver presents to the engine: audio per tick, events in, actions out."""
from __future__ import annotations

import abc
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from dsp.tones import TonePlan

RATE = 8000
# docs/architecture.md §2: one tick is 20 ms of audio at 8 kHz.
TICK_SAMPLES = 160
TICK_SECONDS = TICK_SAMPLES / RATE


class ChannelError(Exception):
    """A driver action that cannot be carried out on a channel."""


class ChannelKind(str, enum.Enum):
    TRUNK = "trunk"      # a line to the PSTN: analog line, E1 timeslot, simulated trunk
    STATION = "station"  # an agent's phone: station port or simulated handset


class EventKind(str, enum.Enum):
    RING = "ring"            # a ring burst began on a trunk (or an idle station rings back: never);
                             # data: off_hook=True when the line is off hook onto the caller already
                             # (glare): no more rings will come, answer now
    CALLER_ID = "callerid"   # data: number, name, when, absence (decoded by the driver or the box)
    ANSWER = "answer"        # the far end answered our dial, or a ringing station went off-hook
    OFFHOOK = "offhook"      # an idle station went off-hook by itself (the agent wants to dial)
    CLEAR = "clear"          # far-end clear: caller hung up, station on-hook, loop current dropped;
                             # data: reason; glare=True when an incoming call took a line being
                             # dialled (its RING follows)
    ALARM = "alarm"          # data: active (bool), reason; an alarmed channel is out of service
    DIGIT = "digit"          # data: digit; out-of-band digit from hardware, a cross-check only
    PROGRESS = "progress"    # data: tone; call progress reported by hardware while dialling


@dataclass(frozen=True)
class ChannelSpec:
    """What a driver says about one of its channels before the board numbers them."""
    name: str
    kind: ChannelKind
    device: str = ""


@dataclass(frozen=True)
class ChannelInfo:
    index: int
    name: str
    kind: ChannelKind
    driver: str
    device: str


@dataclass(frozen=True)
class ChannelEvent:
    channel: int
    kind: EventKind
    data: dict = field(default_factory=dict)


@dataclass
class LineTest:
    """A line test under way; its driver fills `result` from its own tick work, never blocking the loop."""
    seconds: float
    result: dict | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def finish(self, dial_tone: bool | None, level_dbm0: float | None, detail: str) -> None:
        """The outcome, once: dial_tone None means the test could not be carried out (detail says why)."""
        if self.result is None:
            self.result = {"dial_tone": dial_tone, "level_dbm0": level_dbm0, "detail": detail}


class Driver(abc.ABC):
    """One piece of hardware (or its simulator) owning a contiguous range of the board's channels.

    Channel numbers passed to and returned by a driver are local (0..n-1); the board adds the offset.
    `exchange` must not block longer than one tick; a driver whose hardware paces the box (an ALSA
    card) blocks in it until its period is complete, and the board then runs on a free-running clock.

    `test_line(channel, seconds, plan)` takes an idle line off-hook and listens for the dial tone of
    `plan` (the site's TonePlan), judged by dsp.dialtone.DialToneListener on the line's audio. It
    returns a `LineTest` at once and finishes it later from `exchange` (a test lasts seconds; the loop
    must not wait). The result is one shape for every driver:
        {"dial_tone": bool | None,      # None: the test could not be carried out
         "level_dbm0": float | None,    # what the line carried while listening, if measured
         "detail": str}                 # for the technician, naming the line
    A driver with no line test raises ChannelError, as for a line that is busy or not testable.

    `status()["lines"]`, when a driver reports per-line figures, lists one dict per channel in channel
    order; its "device", "state" and "counters" ("resets", "overruns") reach the technician.
    """

    name = "driver"
    # Rings to let pass before answering, so that caller ID sent after a ring has arrived.
    answer_rings = 1

    @abc.abstractmethod
    def specs(self) -> list[ChannelSpec]:
        ...

    def start(self) -> None:  # noqa: B027 - a hook: a driver with nothing to open keeps it empty
        """Open the hardware; a device that is missing puts its channels in alarm, never raises."""

    @abc.abstractmethod
    def exchange(self, tx: np.ndarray, rx: np.ndarray) -> list[ChannelEvent]:
        """Send one tick of audio `tx` (n, 160) int16, fill `rx` (n, 160) and return events."""
        ...

    @abc.abstractmethod
    def answer(self, channel: int) -> None:
        ...

    @abc.abstractmethod
    def hangup(self, channel: int) -> None:
        ...

    @abc.abstractmethod
    def dial(self, channel: int, number: str) -> None:
        """Seize a trunk and dial `number`, or ring a station (number ignored)."""
        ...

    def test_line(self, channel: int, seconds: float, plan: TonePlan) -> LineTest:
        """Start a line test (see the class docstring); this driver has none."""
        raise ChannelError(f"{self.name}: {self.specs()[channel].name} has no line test on this driver")

    def status(self) -> dict:
        return {"driver": self.name}

    def close(self) -> None:  # noqa: B027 - a hook: a driver with nothing to release keeps it empty
        """Release the hardware."""


class Board:
    """All drivers of a board profile behind one numbering of channels and one tick exchange."""

    def __init__(self, drivers: list[Driver], virtual: Driver | None = None):
        """`virtual`: a driver of lines that reach no real line or phone (the load test's callers and
        agents), numbered after every real channel so that adding it renumbers none of them."""
        self.drivers = [*drivers, virtual] if virtual is not None else list(drivers)
        self.virtual = virtual
        self.channels: list[ChannelInfo] = []
        self._ranges: list[tuple[int, int]] = []
        for driver in self.drivers:
            first = len(self.channels)
            for spec in driver.specs():
                self.channels.append(ChannelInfo(len(self.channels), spec.name, spec.kind,
                                                 driver.name, spec.device))
            self._ranges.append((first, len(self.channels)))
        n = len(self.channels)
        # Channels 0..live-1 are the box's real lines and stations; live..n-1 the virtual ones.
        self.live = self._ranges[-1][0] if virtual is not None else n
        # The virtual lines are exchanged only while a load test uses them (set_virtual): idle, they
        # cost the tick nothing and their rows of the received frame stay silent.
        self.virtual_active = False
        self._rx = np.zeros((n, TICK_SAMPLES), dtype=np.int16)
        self._owner = np.zeros(n, dtype=np.intp)
        for k, (lo, hi) in enumerate(self._ranges):
            self._owner[lo:hi] = k

    def __len__(self) -> int:
        return len(self.channels)

    @property
    def answer_rings(self) -> int:
        """The rings every driver needs to let pass before answering (see Driver.answer_rings)."""
        return max((d.answer_rings for d in self.drivers), default=1)

    def by_kind(self, kind: ChannelKind) -> list[ChannelInfo]:
        return [c for c in self.channels if c.kind == kind]

    def start(self) -> None:
        for driver in self.drivers:
            driver.start()

    def exchange(self, tx: np.ndarray) -> tuple[np.ndarray, list[ChannelEvent]]:
        """One tick: hand every driver its rows of `tx`, gather the received frame and events."""
        events: list[ChannelEvent] = []
        for driver, (lo, hi) in zip(self.drivers, self._ranges):
            if driver is self.virtual and not self.virtual_active:
                continue
            for ev in driver.exchange(tx[lo:hi], self._rx[lo:hi]):
                events.append(ChannelEvent(ev.channel + lo, ev.kind, ev.data))
        return self._rx, events

    def set_virtual(self, active: bool) -> None:
        """Exchange the virtual lines from the next tick on (a load test starts), or rest them."""
        self.virtual_active = active and self.virtual is not None
        if not self.virtual_active:
            self._rx[self.live:] = 0

    def locate(self, channel: int) -> tuple[Driver, int]:
        """The driver owning a board channel, and the channel's number on that driver."""
        if not 0 <= channel < len(self.channels):
            raise ChannelError(f"no channel {channel} on this board ({len(self.channels)} channels)")
        k = int(self._owner[channel])
        return self.drivers[k], channel - self._ranges[k][0]

    def answer(self, channel: int) -> None:
        driver, local = self.locate(channel)
        driver.answer(local)

    def hangup(self, channel: int) -> None:
        driver, local = self.locate(channel)
        driver.hangup(local)

    def dial(self, channel: int, number: str = "") -> None:
        driver, local = self.locate(channel)
        driver.dial(local, number)

    def test_line(self, channel: int, seconds: float, plan: TonePlan) -> LineTest:
        driver, local = self.locate(channel)
        return driver.test_line(local, seconds, plan)

    def status(self) -> dict:
        return {"channels": len(self.channels), "drivers": [d.status() for d in self.drivers]}

    def line_status(self) -> list[dict]:
        """Each channel's own figures from its driver's status()["lines"] ({} where a driver has none)."""
        out: list[dict] = []
        for driver, (lo, hi) in zip(self.drivers, self._ranges):
            lines = driver.status().get("lines")
            if not isinstance(lines, list) or len(lines) != hi - lo:
                lines = [{}] * (hi - lo)
            out.extend(lines)
        return out

    def close(self) -> None:
        for driver in self.drivers:
            driver.close()


class LineView:
    """The channels lo..hi-1 of a board, lent to one application: numbered as on the board, the only
    ones it sees (`channels`, `by_kind`) and the only ones it may answer, hang up, dial or test.

    The live call center gets the real lines and the load test's call center the virtual ones, so
    neither can seize the other's lines: a load test never dials out on a real trunk, and a real
    callback never on a virtual one. `len()` is one past the last channel, so arrays indexed by
    channel number fit."""

    def __init__(self, board: Board, lo: int, hi: int):
        if not 0 <= lo <= hi <= len(board):
            raise ChannelError(f"no channels {lo}-{hi - 1} on this board ({len(board)} channels)")
        self.board, self.lo, self.hi = board, lo, hi
        self.channels = _Channels(board.channels, lo, hi)

    def __len__(self) -> int:
        return self.hi

    def __contains__(self, channel: object) -> bool:
        return isinstance(channel, int) and self.lo <= channel < self.hi

    @property
    def answer_rings(self) -> int:
        return self.board.answer_rings

    def by_kind(self, kind: ChannelKind) -> list[ChannelInfo]:
        return [c for c in self.channels if c.kind == kind]

    def _own(self, channel: int) -> int:
        if channel not in self:
            raise ChannelError(f"channel {channel} is not one of this view's ({self.lo}-{self.hi - 1})")
        return channel

    def answer(self, channel: int) -> None:
        self.board.answer(self._own(channel))

    def hangup(self, channel: int) -> None:
        self.board.hangup(self._own(channel))

    def dial(self, channel: int, number: str = "") -> None:
        self.board.dial(self._own(channel), number)

    def test_line(self, channel: int, seconds: float, plan: TonePlan) -> LineTest:
        return self.board.test_line(self._own(channel), seconds, plan)


class _Channels:
    """ChannelInfo by board number for the channels lo..hi-1 only; iterating gives only those."""

    def __init__(self, channels: list[ChannelInfo], lo: int, hi: int):
        self._all, self.lo, self.hi = channels, lo, hi

    def __getitem__(self, channel: int) -> ChannelInfo:
        if not self.lo <= channel < self.hi:
            raise IndexError(f"channel {channel} is not one of this view's ({self.lo}-{self.hi - 1})")
        return self._all[channel]

    def __iter__(self) -> Iterator[ChannelInfo]:
        return iter(self._all[self.lo:self.hi])

    def __len__(self) -> int:
        return self.hi - self.lo
