"""An E1 card's control port emulated on a pseudo-terminal (docs/e1-card.md): the real driver talks to it
through pyserial, and a far end (a test, the simulated exchange) sets the line's CAS bits and defects."""
# The card side of drivers/e1_proto.py: it answers commands, debounces received CAS as the card's
# firmware would, reports raw defects, runs the host keep-alive (fail-safe blocking and RAI) and counts
# line errors. Faults: garbage bytes, silence (a wedged card), unplug and replug (the stable link is
# re-pointed, as udev's by-id), a reboot under the host. Audio is not here: the card's timeslots are
# an ALSA PCM (drivers/alsa_pcm.py), emulated apart.

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import e1_proto as proto
from .e1_proto import BLOCKED, VOICE_TIMESLOTS, E1ProtocolError, Message
from .pty_device import PtyDevice

log = logging.getLogger(__name__)

MODEL = "E1-USB-EMU"
FIRMWARE = "1.0"
DEFAULT_DEBOUNCE_MS = 20
# The fail-safe is off until the host sets it (docs/e1-card.md §2 FAILSAFE).
DEFAULT_FAILSAFE_S = 0
COUNTERS_EVERY_S = 1.0


class E1EmulatorError(Exception):
    """The emulator cannot run as asked."""


class E1CardEmulator(PtyDevice):
    """One emulated card on one pseudo-terminal; public methods are safe from any thread.

    `on_transmit(ts, abcd)` is called (on the emulator's thread, under its lock) whenever what the
    card transmits on a voice timeslot changes: the far end's view of the box's line signalling."""

    DIR_PREFIX = "branchline-e1-"
    # A short poll: the tick debounces received CAS (DEBOUNCE, 20 ms by default).
    POLL_S = 0.002

    def __init__(self, serial_number: str = "E1EMU0001", link_dir: str | Path | None = None,
                 on_transmit: Callable[[int, str], None] | None = None, seed: int = 0):
        super().__init__(serial_number, link_dir)
        self.on_transmit = on_transmit
        self._rng = np.random.default_rng(seed)
        self.transcript: list[tuple[str, str]] = []
        self.faults = {"garbage": 0, "unplugs": 0, "reboots": 0, "bad_lines": 0}
        self._muted = False
        # The line as the far end drives it: what arrives on each voice timeslot, and its defects.
        self._line_cas = dict.fromkeys(VOICE_TIMESLOTS, BLOCKED)
        self._line_since = dict.fromkeys(VOICE_TIMESLOTS, 0.0)
        self.defects: frozenset[str] = frozenset()
        self._glitches: dict[int, tuple[str, float]] = {}     # ts -> (the value to return to, when)
        self._power_on()

    # --- lifecycle --------------------------------------------------------------------------------
    @property
    def link(self) -> str:
        """The stable name the driver opens, like /dev/serial/by-id/usb-<vendor>_<model>_<serial>-if00."""
        if self.link_dir is None:
            raise E1EmulatorError("E1 emulator: no link before start() chose its directory")
        return str(self.link_dir / f"usb-Emulated_{MODEL}_{self.serial_number}-if02")

    def _thread_name(self) -> str:
        return f"e1-emulator-{self.serial_number}"

    def _plugged(self) -> None:
        # A card plugged in has just powered up: no partial line from the host yet, and its BOOT event.
        self._in = proto.LineSplitter()
        self._event("BOOT", fw=FIRMWARE)

    def _unplugging(self) -> None:
        self.faults["unplugs"] += 1

    def _power_on(self) -> None:
        """The card's state after power-on: blocked on every timeslot, no fail-safe, defaults."""
        self.config = {"framing": "cas", "crc4": "off", "code": "hdb3", "clock": "line"}
        self.tx = dict.fromkeys(VOICE_TIMESLOTS, BLOCKED)     # what the host asked to transmit
        self.rx = dict(self._line_cas)      # the debounced received values
        self.debounce_ms = DEFAULT_DEBOUNCE_MS
        self.failsafe_abcd, self.failsafe_s = BLOCKED, DEFAULT_FAILSAFE_S
        self.failsafe = False
        self.rai = "auto"
        self.loop = "off"
        self.counters = dict.fromkeys(proto.COUNTERS, 0)
        self._counters_moved = False
        self._counters_at = 0.0
        self._seq = 0
        self._host_at = time.monotonic()
        self._t0 = time.monotonic()
        self._sent_line: dict[int, str] = {}

    # --- the far end and the line -----------------------------------------------------------------
    def far_cas(self, ts: int, abcd: str) -> None:
        """The far end starts sending `abcd` on timeslot `ts`; the card reports it once debounced."""
        proto.check_timeslot(ts)
        proto.check_abcd(abcd)
        with self._lock:
            if self._line_cas[ts] != abcd:
                self._line_cas[ts] = abcd
                self._line_since[ts] = time.monotonic()
        self._wake()

    def far_glitch(self, ts: int, abcd: str, seconds: float) -> None:
        """`abcd` on timeslot `ts` for `seconds` only, then the value before it again."""
        with self._lock:
            old = self._line_cas[ts]
            self.far_cas(ts, abcd)
            self._glitches[ts] = (old, time.monotonic() + seconds)
        self._wake()

    def set_defects(self, defects: set[str] | frozenset[str]) -> None:
        """The line's raw defects now (LOS, LOF, LMFA, AIS, RAI)."""
        unknown = set(defects) - set(proto.DEFECTS)
        if unknown:
            raise E1EmulatorError(f"E1 emulator: unknown defects {sorted(unknown)}")
        with self._lock:
            if frozenset(defects) != self.defects:
                self.defects = frozenset(defects)
                self._event("DEFECT", proto.render_defects(self.defects))
        self._wake()

    def line_errors(self, **counts: int) -> None:
        """Count line errors (bpv=, crc=, ebit=, fas=, slips=)."""
        with self._lock:
            for k, v in counts.items():
                if k not in self.counters:
                    raise E1EmulatorError(f"E1 emulator: no counter {k!r}")
                self.counters[k] = (self.counters[k] + v) % 2**32
            self._counters_moved = True

    def transmitting(self, ts: int) -> str:
        """What the card sends on timeslot `ts` now (the fail-safe value while in fail-safe)."""
        with self._lock:
            return self._on_line(ts)

    def sending_rai(self) -> bool:
        with self._lock:
            red_or_blue = bool(self.defects & {"LOS", "LOF", "LMFA", "AIS"})
            return self.failsafe or self.rai == "on" or (self.rai == "auto" and red_or_blue)

    # --- faults -----------------------------------------------------------------------------------
    def inject_garbage(self, n: int = 48) -> None:
        """Noise on the serial link: random bytes, then a newline."""
        junk = bytes(b for b in self._rng.integers(0, 0x100, size=n, dtype=np.uint8).tobytes() if b != 0x0A)
        with self._lock:
            self.faults["garbage"] += 1
            self._write(junk + b"\n")

    def mute(self, on: bool = True) -> None:
        """Stop answering (a wedged card), or start again."""
        with self._lock:
            self._muted = on

    def reboot(self) -> None:
        """The card restarts under the host: defaults again, and a BOOT event."""
        with self._lock:
            self.faults["reboots"] += 1
            self._power_on()
            self._event("BOOT", fw=FIRMWARE)
            self._notify_all()

    def commands(self) -> list[str]:
        with self._lock:
            return [text for who, text in self.transcript if who == "host"]

    def status(self) -> dict:
        with self._lock:
            return {"path": self.path, "link": self.link, "failsafe": self.failsafe, "loop": self.loop,
                    "defects": sorted(self.defects), **self.faults}

    # --- the emulator's thread --------------------------------------------------------------------
    def _from_host(self, data: bytes) -> None:
        for line in self._in.feed(data):
            self._host_line(line)

    def _write_lost(self, exc: OSError) -> None:
        log.debug("E1 emulator %s: write lost: %s", self.serial_number, exc)

    def _send(self, data: bytes) -> None:
        if not self._muted:
            self.transcript.append(("card", data.decode("ascii", "replace").rstrip("\n")))
            self._write(data)

    def _event(self, name: str, *args: str, **values: str) -> None:
        self._send(proto.event(self._seq, name, *args, **values))
        self._seq = (self._seq + 1) % proto.SEQ_MOD

    def _ms(self, now: float) -> int:
        return int((now - self._t0) * 1000) % 2**32

    def _tick(self, now: float) -> None:
        if self._master is None:
            return
        for ts, (old, until) in list(self._glitches.items()):
            if now >= until:
                del self._glitches[ts]
                self._line_cas[ts], self._line_since[ts] = old, now
        for ts in VOICE_TIMESLOTS:
            value = self._line_cas[ts]
            if value != self.rx[ts] and now - self._line_since[ts] >= self.debounce_ms / 1000:
                self.rx[ts] = value
                self._event("RX", str(ts), value, str(self._ms(self._line_since[ts] + self.debounce_ms / 1000)))
        if (self.failsafe_s and not self.failsafe and not self._muted
                and now - self._host_at >= self.failsafe_s):
            self.failsafe = True
            self._event("FAILSAFE", "on")
            self._notify_all()
        if self._counters_moved and now - self._counters_at >= COUNTERS_EVERY_S:
            self._counters_moved = False
            self._counters_at = now
            self._event("COUNTERS", **{k: str(v) for k, v in self.counters.items()})

    def _on_line(self, ts: int) -> str:
        return self.failsafe_abcd if self.failsafe else self.tx[ts]

    def _notify_all(self) -> None:
        for ts in VOICE_TIMESLOTS:
            self._notify(ts)

    def _notify(self, ts: int) -> None:
        value = self._on_line(ts)
        if self._sent_line.get(ts) != value:
            self._sent_line[ts] = value
            if self.on_transmit is not None:
                self.on_transmit(ts, value)

    # --- commands ---------------------------------------------------------------------------------
    def _host_line(self, line: bytes | None) -> None:
        if line is None:
            self.faults["bad_lines"] += 1
            return
        try:
            msg = proto.parse(proto.unframe(line))
        except E1ProtocolError:
            self.faults["bad_lines"] += 1
            return
        if msg.kind != proto.Kind.COMMAND:
            self.faults["bad_lines"] += 1
            return
        self.transcript.append(("host", proto.render(msg)))
        if self._muted:
            return
        self._host_at = time.monotonic()
        if self.failsafe:
            self.failsafe = False
            self._event("FAILSAFE", "off")
            self._notify_all()
        try:
            values = self._command(msg)
        except E1ProtocolError as exc:
            self._send(proto.answer(msg.number, False, _reason(exc)))
            return
        self._send(proto.answer(msg.number, True, **values))

    def _command(self, msg: Message) -> dict[str, str]:
        verb, args = msg.word, msg.args
        if verb == "HELLO":
            return {"model": MODEL, "fw": FIRMWARE, "serial": self.serial_number, "seq": str(self._seq)}
        if verb == "PING":
            return {}
        if verb == "CONFIG":
            for k, v in msg.values.items():
                if v not in proto.CONFIG_KEYS.get(k, ()):
                    raise E1ProtocolError(f"bad-args {k}={v}")
            if args:
                raise E1ProtocolError("bad-args")
            self.config.update(msg.values)
            return dict(self.config)
        if verb == "CAS":
            if len(args) != 2 or not args[0].isdigit():
                raise E1ProtocolError("bad-args")
            ts = int(args[0])
            if ts not in VOICE_TIMESLOTS:
                raise E1ProtocolError("not-voice-timeslot")
            self.tx[ts] = _abcd(args[1])
            self._notify(ts)
            return {}
        if verb == "CASALL":
            if len(args) != 1:
                raise E1ProtocolError("bad-args")
            try:
                values = proto.unpack_cas(args[0])
            except E1ProtocolError as exc:
                raise E1ProtocolError("forbidden-0000" if "0000" in str(exc) else "bad-args") from None
            self.tx = dict(zip(VOICE_TIMESLOTS, values))
            self._notify_all()
            return {}
        if verb == "DEBOUNCE":
            lo, hi = proto.DEBOUNCE_MS_RANGE
            if len(args) != 1 or not args[0].isdigit() or not lo <= int(args[0]) <= hi:
                raise E1ProtocolError("bad-args")
            self.debounce_ms = int(args[0])
            return {"ms": args[0]}
        if verb == "FAILSAFE":
            lo, hi = proto.FAILSAFE_S_RANGE
            if len(args) != 2 or not args[1].isdigit() or not lo <= int(args[1]) <= hi:
                raise E1ProtocolError("bad-args")
            self.failsafe_abcd, self.failsafe_s = _abcd(args[0]), int(args[1])
            return {}
        if verb == "RAI":
            if args not in (("auto",), ("on",), ("off",)):
                raise E1ProtocolError("bad-args")
            self.rai = args[0]
            return {}
        if verb == "LOOP":
            if len(args) != 1 or args[0] not in proto.LOOPS:
                raise E1ProtocolError("bad-args")
            self.loop = args[0]
            return {}
        if verb == "COUNTERS":
            if args not in ((), ("reset",)):
                raise E1ProtocolError("bad-args")
            out = {k: str(v) for k, v in self.counters.items()}
            if args:
                self.counters = dict.fromkeys(proto.COUNTERS, 0)
            return out
        if verb == "STATE":
            return {"rx": proto.pack_cas([self.rx[ts] for ts in VOICE_TIMESLOTS]),
                    "tx": proto.pack_cas([self.tx[ts] for ts in VOICE_TIMESLOTS]),
                    "defects": proto.render_defects(self.defects), "failsafe": "on" if self.failsafe else "off",
                    "loop": self.loop, "seq": str(self._seq)}
        raise E1ProtocolError("unknown-verb")


def _abcd(value: str) -> str:
    try:
        return proto.check_abcd(value)
    except E1ProtocolError as exc:
        raise E1ProtocolError("forbidden-0000" if value == "0000" else "bad-args") from exc


def _reason(exc: E1ProtocolError) -> str:
    return str(exc).split(" ")[0] or "bad-args"
