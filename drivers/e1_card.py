"""The host's side of an E1 card's control port (docs/e1-card.md): configure, keep alive, resynchronise, reopen."""
# Resilient as the modem driver is (docs/standards.md §12.2): one reader thread per port
# (drivers/modem_port.PortIO) hands bytes to the loop; everything else runs in `poll()` on the loop's
# clock, never a sleep. A port error (unplug), a card that stops answering, or one that restarts
# under the host takes the span down; the port is reopened with a bounded back-off and the whole
# set-up runs again. Garbage lines are counted and dropped.

from __future__ import annotations

import enum
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import serial

from . import e1_proto as proto
from . import serial_ports
from .e1_proto import BLOCKED, VOICE_TIMESLOTS, E1ProtocolError, Kind, Message
from .modem_port import PortIO

log = logging.getLogger(__name__)

PORT_ERRORS = serial_ports.PORT_ERRORS
# docs/e1-card.md §6: a PING each second the link is otherwise idle; a command unanswered this long
# means the card is wedged.
PING_S = 1.0
ANSWER_TIMEOUT_S = 2.0
# Bounded reconnect, as the modem's port (drivers/modem_port.py): 1 s doubling to 30 s.
RECONNECT_MIN_S, RECONNECT_MAX_S = 1.0, 30.0


class E1CardError(Exception):
    """A card's control port cannot be used as asked; the message names the device."""


class LinkState(str, enum.Enum):
    OFFLINE = "offline"   # no port, or lost: reopening with back-off
    SETUP = "setup"       # opened, configuring; not yet resynchronised
    UP = "up"             # configured, the received CAS and defects known


@dataclass(frozen=True)
class SpanConfig:
    """The line configuration a span profile gives (docs/e1-card.md §2 CONFIG, DEBOUNCE, FAILSAFE)."""
    framing: str = "cas"
    crc4: bool = False
    code: str = "hdb3"
    clock: str = "line"
    debounce_ms: int = 20
    failsafe_s: int = 3
    failsafe_abcd: str = BLOCKED

    def __post_init__(self) -> None:
        for key, value in (("framing", self.framing), ("code", self.code), ("clock", self.clock)):
            if value not in proto.CONFIG_KEYS[key]:
                raise E1CardError(f"E1 span: {key} {value!r} is not one of {', '.join(proto.CONFIG_KEYS[key])}")
        lo, hi = proto.DEBOUNCE_MS_RANGE
        if not lo <= self.debounce_ms <= hi:
            raise E1CardError(f"E1 span: debounce_ms {self.debounce_ms} is outside {lo}-{hi}")
        lo, hi = proto.FAILSAFE_S_RANGE
        if not lo <= self.failsafe_s <= hi:
            raise E1CardError(f"E1 span: failsafe_s {self.failsafe_s} is outside {lo}-{hi}")
        try:
            proto.check_abcd(self.failsafe_abcd)
        except E1ProtocolError as exc:
            raise E1CardError(f"E1 span: failsafe_abcd: {exc}") from None


class CardEventKind(str, enum.Enum):
    LINK = "link"          # value: "up" | "down"; reason
    CAS = "cas"            # ts, value: the debounced ABCD received
    DEFECTS = "defects"    # defects: the raw set now
    FAILSAFE = "failsafe"  # value: "on" | "off" (the card blocked the span by itself)


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    ts: int = 0
    value: str = ""
    reason: str = ""
    defects: frozenset[str] = frozenset()


@dataclass
class _Pending:
    tag: int
    verb: str
    sent_at: float


class E1Card:
    """One card's control port, driven from the tick loop by `poll()`."""

    def __init__(self, port: str, config: SpanConfig | None = None,
                 factory: Callable[..., serial.Serial] = serial.Serial,
                 clock: Callable[[], float] = time.monotonic):
        self.port = port
        self.config = config or SpanConfig()
        self._factory, self._clock = factory, clock
        self.state = LinkState.OFFLINE
        self.io: PortIO | None = None
        self.tx = dict.fromkeys(VOICE_TIMESLOTS, BLOCKED)   # what the host wants transmitted
        self.rx = dict.fromkeys(VOICE_TIMESLOTS, BLOCKED)   # the debounced values the card reported
        self.defects: frozenset[str] = frozenset()
        self.line_counters = dict.fromkeys(proto.COUNTERS, 0)
        self.counters = {"reconnects": 0, "garbage": 0, "errors": 0, "resyncs": 0, "reboots": 0,
                         "failsafes": 0}
        self.card: dict[str, str] = {}
        self.reason = "not started"
        self.failsafe = False
        self._events: list[CardEvent] = []
        self._splitter = proto.LineSplitter()
        self._pending: deque[_Pending] = deque()
        self._tag = 0
        self._seq: int | None = None
        self._last_sent = 0.0
        self._retry_at = 0.0
        self._backoff = RECONNECT_MIN_S
        self._last_error = ""

    # --- naming -----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The device as messages name it: ttyACM0, pts/3, serial/by-id/usb-..."""
        return self.port[5:] if self.port.startswith("/dev/") else os.path.basename(self.port)

    def _set_state(self, state: LinkState, why: str) -> None:
        if state != self.state:
            log.info("E1 card %s: %s -> %s (%s)", self.name, self.state.value, state.value, why)
            self.state = state
        self.reason = why

    # --- the loop's side --------------------------------------------------------------------------
    def start(self) -> None:
        """Open the port at the next poll (a missing card is reported there, never raised)."""
        self._retry_at = self._clock()

    def poll(self) -> list[CardEvent]:
        """Move the link on: read what came, time out, keep alive, reopen. Returns what changed."""
        now = self._clock()
        if self.io is None:
            if now >= self._retry_at:
                self._open(now)
        if self.io is not None:
            self._drain(now)
        if self.io is not None and self._pending and now - self._pending[0].sent_at >= ANSWER_TIMEOUT_S:
            p = self._pending[0]
            self._lose(f"E1 card {self.name}: no answer to {p.verb} in {ANSWER_TIMEOUT_S:.0f} s", now)
        if self.io is not None and not self._pending and now - self._last_sent >= PING_S:
            self._command("PING")
        events, self._events = self._events, []
        return events

    def set_cas(self, ts: int, abcd: str) -> None:
        """Transmit `abcd` on timeslot `ts` (now if the link is up, else once it is set up again)."""
        proto.check_timeslot(ts)
        try:
            proto.check_abcd(abcd)
        except E1ProtocolError as exc:
            raise E1CardError(f"E1 card {self.name}: TS{ts}: {exc}") from None
        if self.tx[ts] == abcd:
            return
        self.tx[ts] = abcd
        if self.io is not None and self.state != LinkState.OFFLINE:
            self._command("CAS", str(ts), abcd)

    def set_rai(self, mode: str) -> None:
        if mode not in ("auto", "on", "off"):
            raise E1CardError(f"E1 card {self.name}: RAI {mode!r} is not auto, on or off")
        self._command("RAI", mode)

    def loopback(self, mode: str) -> None:
        if mode not in proto.LOOPS:
            raise E1CardError(f"E1 card {self.name}: loopback {mode!r} is not one of {', '.join(proto.LOOPS)}")
        self._command("LOOP", mode)

    def status(self) -> dict:
        return {"port": self.port, "link": self.state.value, "reason": self.reason, "card": dict(self.card),
                "defects": sorted(self.defects), "failsafe": self.failsafe,
                "line_counters": dict(self.line_counters), "counters": dict(self.counters)}

    def close(self) -> None:
        if self.io is not None:
            self.io.close(linger=0.2)
            self.io = None
        self._set_state(LinkState.OFFLINE, "closed")

    # --- the port ---------------------------------------------------------------------------------
    def _open(self, now: float) -> None:
        if not os.path.exists(self.port):
            self._failed(f"E1 card {self.name}: not found", now)
            return
        try:
            port = serial_ports.open_port(self.port, self._factory)
        except PORT_ERRORS as exc:
            why = ("busy: another program holds it (exclusive lock refused)" if serial_ports.is_busy(exc)
                   else str(exc))
            self._failed(f"E1 card {self.name}: {why}", now)
            return
        self.io = PortIO(port, self.name)
        self.io.start()
        self._splitter.reset()
        self._pending.clear()
        self._seq = None
        self._backoff = RECONNECT_MIN_S
        self._last_error = ""
        self._set_state(LinkState.SETUP, f"opened {self.port}")
        self._setup()

    def _setup(self) -> None:
        """docs/e1-card.md §6: the whole configuration, what the host transmits, then the card's state."""
        c = self.config
        self._command("HELLO")
        self._command("CONFIG", framing=c.framing, crc4="on" if c.crc4 else "off", code=c.code, clock=c.clock)
        self._command("DEBOUNCE", str(c.debounce_ms))
        self._command("FAILSAFE", c.failsafe_abcd, str(c.failsafe_s))
        self._command("CASALL", proto.pack_cas([self.tx[ts] for ts in VOICE_TIMESLOTS]))
        self._command("STATE")

    def _failed(self, reason: str, now: float) -> None:
        if reason != self._last_error:
            log.warning("%s; retrying every %.0f-%.0f s", reason, RECONNECT_MIN_S, RECONNECT_MAX_S)
            self._last_error = reason
        self._down(reason)
        self._retry_at = now + self._backoff
        self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)

    def _down(self, reason: str) -> None:
        was = self.state
        self._set_state(LinkState.OFFLINE, reason)
        if was != LinkState.OFFLINE or not any(e.kind == CardEventKind.LINK for e in self._events):
            self._events.append(CardEvent(CardEventKind.LINK, value="down", reason=reason))

    def _lose(self, reason: str, now: float) -> None:
        """The port failed or the card went silent: close it, the span is down, reopen later."""
        log.error("%s", reason)
        if self.io is not None:
            self.io.close(linger=0.0)
            self.io = None
        self.counters["reconnects"] += 1
        self._pending.clear()
        self._failed(reason, now)

    def _command(self, verb: str, *args: str, **values: str) -> None:
        if self.io is None:
            return
        self._tag = self._tag % proto.TAG_MAX + 1
        self.io.write(proto.command(self._tag, verb, *args, **values))
        now = self._clock()
        self._pending.append(_Pending(self._tag, verb, now))
        self._last_sent = now

    # --- what the card says -----------------------------------------------------------------------
    def _drain(self, now: float) -> None:
        assert self.io is not None
        while self.io is not None:
            try:
                item = self.io.inbox.get_nowait()
            except Exception:   # queue.Empty
                return
            if isinstance(item, BaseException):
                self._lose(f"E1 card {self.name}: port lost: {item}", now)
                return
            for line in self._splitter.feed(item):
                self._line(line, now)

    def _line(self, line: bytes | None, now: float) -> None:
        try:
            if line is None:
                raise E1ProtocolError("overlong line")
            msg = proto.parse(proto.unframe(line))
        except E1ProtocolError as exc:
            if line:   # an empty line between garbage is no news
                self.counters["garbage"] += 1
                log.debug("E1 card %s: dropped %r: %s", self.name, line[:60], exc)
            return
        if msg.kind == Kind.ANSWER:
            self._answer(msg, now)
        elif msg.kind == Kind.EVENT:
            self._event(msg, now)
        else:
            self.counters["garbage"] += 1

    def _answer(self, msg: Message, now: float) -> None:
        # Answers come in order; one whose tag is not the oldest pending belongs to a lost exchange.
        while self._pending and self._pending[0].tag != msg.number:
            self._pending.popleft()
        if not self._pending:
            self.counters["garbage"] += 1
            return
        p = self._pending.popleft()
        if not msg.ok:
            self.counters["errors"] += 1
            log.error("E1 card %s: %s refused: %s", self.name, p.verb, " ".join(msg.args))
            return
        try:
            if p.verb == "HELLO":
                self.card = {k: msg.values.get(k, "") for k in ("model", "fw", "serial")}
                self._seq = int(msg.values["seq"])
            elif p.verb == "STATE":
                self._state(msg)
            elif p.verb == "COUNTERS":
                self.line_counters = proto.parse_counters(msg.values)
        except (KeyError, ValueError) as exc:   # E1ProtocolError is a ValueError
            self.counters["errors"] += 1
            log.error("E1 card %s: answer to %s unusable: %s", self.name, p.verb, exc)

    def _state(self, msg: Message) -> None:
        rx = proto.unpack_cas(msg.values["rx"])
        defects = proto.parse_defects((msg.values["defects"],))
        self._seq = int(msg.values["seq"])
        for ts, value in zip(VOICE_TIMESLOTS, rx):
            self._rx(ts, value, force=self.state != LinkState.UP)
        self._set_defects(defects, force=self.state != LinkState.UP)
        self._set_failsafe(msg.values.get("failsafe") == "on")
        if self.state != LinkState.UP:
            self._set_state(LinkState.UP, "configured")
            self._events.append(CardEvent(CardEventKind.LINK, value="up"))

    def _event(self, msg: Message, now: float) -> None:
        if msg.word == "BOOT":
            # The card restarted under the host: its configuration and CAS are the defaults.
            self.counters["reboots"] += 1
            log.warning("E1 card %s: restarted (fw %s); configuring it again", self.name, msg.values.get("fw"))
            self._seq = (msg.number + 1) % proto.SEQ_MOD
            self._pending.clear()
            self._set_state(LinkState.SETUP, "card restarted")
            self._events.append(CardEvent(CardEventKind.LINK, value="down", reason=f"E1 card {self.name} restarted"))
            self._setup()
            return
        if self._seq is not None and msg.number != self._seq:
            self.counters["resyncs"] += 1
            log.warning("E1 card %s: events %d-%d lost; reading its state", self.name, self._seq, msg.number - 1)
            self._command("STATE")
        self._seq = (msg.number + 1) % proto.SEQ_MOD
        try:
            if msg.word == "RX":
                ts, value = int(msg.args[0]), proto.check_abcd(msg.args[1])
                proto.check_timeslot(ts)
                self._rx(ts, value)
            elif msg.word == "DEFECT":
                self._set_defects(proto.parse_defects(msg.args))
            elif msg.word == "FAILSAFE":
                self._set_failsafe(msg.args == ("on",))
                if msg.args == ("off",):
                    self._command("CASALL", proto.pack_cas([self.tx[ts] for ts in VOICE_TIMESLOTS]))
            elif msg.word == "COUNTERS":
                self.line_counters = proto.parse_counters(msg.values)
            else:
                self.counters["garbage"] += 1
        except (IndexError, ValueError) as exc:
            self.counters["errors"] += 1
            log.error("E1 card %s: event %s unusable: %s", self.name, msg.word, exc)

    def _rx(self, ts: int, value: str, force: bool = False) -> None:
        if force or self.rx[ts] != value:
            self.rx[ts] = value
            self._events.append(CardEvent(CardEventKind.CAS, ts=ts, value=value))

    def _set_defects(self, defects: frozenset[str], force: bool = False) -> None:
        if force or defects != self.defects:
            self.defects = defects
            self._events.append(CardEvent(CardEventKind.DEFECTS, defects=defects))

    def _set_failsafe(self, on: bool) -> None:
        if on != self.failsafe:
            self.failsafe = on
            if on:
                self.counters["failsafes"] += 1
                log.error("E1 card %s: the card blocked the span by itself (host keep-alive ran out)", self.name)
            self._events.append(CardEvent(CardEventKind.FAILSAFE, value="on" if on else "off"))
