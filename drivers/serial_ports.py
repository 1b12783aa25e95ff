"""Serial ports: listing with USB identity, finding a line's modem again, and probing what answers on a port."""
from __future__ import annotations

import enum
import errno
import os
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import serial
from serial.tools import list_ports

from . import modem_quirks
from .modem_quirks import ModemModel
from .v253 import FINAL, LineKind, V253Error, VoiceCodec, choose_codec, parse_line, parse_vsm_list

# udev 60-persistent-serial.rules (docs/standards.md §12.3): stable names per modem and per USB socket.
BY_ID = Path("/dev/serial/by-id")
BY_PATH = Path("/dev/serial/by-path")
# CDC-ACM ignores the rate; on a real UART 8-bit voice at 8 kHz needs >= 80 000 bit/s (mgetty, §1.2).
BAUD = 115200
# A write the modem does not take within this long means it is wedged (pyserial write_timeout).
WRITE_TIMEOUT_S = 2.0
PROBE_TIMEOUT_S = 1.0

# docs/standards.md §12.2: what an unplugged or unusable port raises (termios.error is no OSError).
PORT_ERRORS = (serial.SerialException, OSError, termios.error)


class SerialPortError(Exception):
    """A port cannot be opened or probed; the message names the port."""


@dataclass(frozen=True)
class PortInfo:
    device: str
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    location: str | None = None
    description: str = ""
    by_id: str | None = None
    by_path: str | None = None

    @property
    def usb(self) -> str | None:
        return f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else None

    @property
    def stable(self) -> str:
        """The name that finds this modem again after a replug: by-id, else by-path, else the device."""
        return self.by_id or self.by_path or self.device


def _links(directory: Path) -> dict[str, str]:
    """realpath -> link for the udev symlinks in `directory`."""
    try:
        return {os.path.realpath(p): str(p) for p in sorted(directory.iterdir())}
    except OSError:
        return {}


def list_serial_ports() -> list[PortInfo]:
    """Every serial port pyserial finds (ttyS/USB/ACM/AMA..., docs/standards.md §12.3), with its udev names."""
    by_id, by_path = _links(BY_ID), _links(BY_PATH)
    out = []
    for p in sorted(list_ports.comports(include_links=False), key=lambda p: p.device):
        real = os.path.realpath(p.device)
        out.append(PortInfo(p.device, p.vid, p.pid, p.serial_number, p.location, p.description or "",
                            by_id.get(real), by_path.get(real)))
    return out


def port_info(path: str) -> PortInfo:
    """What is known of the port behind `path` (any path: a pty gets no USB identity)."""
    real = os.path.realpath(path)
    for info in list_serial_ports():
        if os.path.realpath(info.device) == real:
            return info
    return PortInfo(path)


def known_modems(table: dict[str, ModemModel] | None = None) -> list[tuple[PortInfo, ModemModel]]:
    """Ports whose USB id is in the modem table, in stable-name order."""
    found = []
    for info in list_serial_ports():
        model = modem_quirks.by_usb(info.vid, info.pid, table)
        if model is not None:
            found.append((info, model))
    return sorted(found, key=lambda f: f[0].stable)


@dataclass(frozen=True)
class Identity:
    """What makes a modem the same modem after an unplug (docs/standards.md §12.3)."""
    serial_number: str | None = None
    by_id: str | None = None
    location: str | None = None

    def matches(self, info: PortInfo) -> bool:
        if self.serial_number:
            return info.serial_number == self.serial_number
        if self.by_id:
            return info.by_id == self.by_id
        return bool(self.location) and info.location == self.location

    def __bool__(self) -> bool:
        return bool(self.serial_number or self.by_id or self.location)


def identity_of(info: PortInfo) -> Identity:
    return Identity(info.serial_number, info.by_id, info.location)


def find_again(identity: Identity) -> str | None:
    """The device the modem with `identity` is on now, if it is plugged in."""
    for info in list_serial_ports():
        if identity.matches(info):
            return info.device
    return None


def open_port(path: str, factory: Callable[..., serial.Serial] = serial.Serial) -> serial.Serial:
    """Open a modem port: raw, exclusive (an advisory flock, docs/standards.md §12.1), non-blocking reads."""
    return factory(port=path, baudrate=BAUD, timeout=0, write_timeout=WRITE_TIMEOUT_S, exclusive=True)


def is_busy(exc: BaseException) -> bool:
    """pyserial's exclusive lock refused (errno EAGAIN/EWOULDBLOCK) or the device is busy."""
    return getattr(exc, "errno", None) in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY) or \
        "exclusively lock" in str(exc)


def is_missing(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) in (errno.ENOENT, errno.ENODEV, errno.ENXIO)


# --- probing (synchronous: for `branchline detect`, never inside the tick loop) ---------------------
class Verdict(str, enum.Enum):
    VOICE = "voice modem"
    DATA = "data-only modem"
    NOT_MODEM = "not a modem"
    BUSY = "busy"
    MISSING = "missing"


@dataclass
class Probe:
    port: str
    verdict: Verdict
    detail: str = ""
    info: PortInfo | None = None
    model: ModemModel | None = None
    ati0: str = ""
    ati3: str = ""
    fclass: str = ""
    codecs: list[VoiceCodec] = field(default_factory=list)
    codec: VoiceCodec | None = None

    def summary(self) -> str:
        parts = [f"{self.port}: {self.verdict.value}"]
        if self.model is not None:
            parts.append(f"family {self.model.family} ({self.model.name})")
        if self.verdict == Verdict.VOICE and self.model is not None:   # _probe_open sets it with VOICE
            parts.append(f"+VIT unit {self.model.vit_units_s:g} s")
        if self.codec is not None and self.codec.codec is not None:   # choose_codec picks known ones
            parts.append(f'codec {self.codec.codec.value} (+VSM {self.codec.cml} "{self.codec.name}")')
        if self.info is not None and self.info.usb:
            parts.append(f"usb {self.info.usb}" + (f" serial {self.info.serial_number}"
                                                   if self.info.serial_number else ""))
        if self.info is not None and self.info.by_id:
            parts.append(f"by-id {self.info.by_id}")
        if self.ati0:
            parts.append(f"ATI0 {self.ati0!r}")
        if self.detail:
            parts.append(self.detail)
        return ", ".join(parts)


class _ProbeChat:
    """Command/answer exchange with timeouts over an open port, echo tolerated."""

    def __init__(self, port: serial.Serial, name: str, timeout: float):
        self.port, self.name, self.timeout = port, name, timeout
        self._buf = b""

    def command(self, cmd: str) -> tuple[LineKind | None, list[str]]:
        self.port.write(cmd.encode("ascii") + b"\r")
        deadline = time.monotonic() + self.timeout
        info: list[str] = []
        while time.monotonic() < deadline:
            self.port.timeout = min(0.05, max(0.0, deadline - time.monotonic()))
            self._buf += self.port.read(256)
            while True:
                cut = min((i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0), default=-1)
                if cut < 0:
                    break
                raw, self._buf = self._buf[:cut], self._buf[cut + 1:]
                text = raw.decode("ascii", "replace").strip()
                if not text or text == cmd:      # blank, or the echo before ATE0 took effect
                    continue
                line = parse_line(text)
                if line.kind in FINAL:
                    return line.kind, info
                info.append(text)
        return None, info


def _fclass_has_voice(answer: str) -> bool:
    # AT+FCLASS=? lists classes: "0,1,1.0,2,8" or with ranges "0-2,8" (V.250/V.253).
    for item in answer.replace("(", "").replace(")", "").split(","):
        item = item.strip()
        if item == "8" or ("-" in item and item.split("-")[0].isdigit() and item.split("-")[1].isdigit()
                           and int(item.split("-")[0]) <= 8 <= int(item.split("-")[1])):
            return True
    return False


def probe(path: str, timeout: float = PROBE_TIMEOUT_S,
          factory: Callable[..., serial.Serial] = serial.Serial) -> Probe:
    """Ask what answers on `path`: a voice modem (and its family), a data-only modem, or nothing."""
    if timeout <= 0:
        raise SerialPortError(f"probe {path}: the answer timeout must be positive, got {timeout}")
    info = port_info(path)
    try:
        port = open_port(path, factory)
    except PORT_ERRORS as exc:
        if is_busy(exc):
            return Probe(path, Verdict.BUSY, "in use by another program (exclusive lock refused)", info)
        if is_missing(exc) or not os.path.exists(path):
            return Probe(path, Verdict.MISSING, str(exc), info)
        return Probe(path, Verdict.NOT_MODEM, f"cannot open: {exc}", info)
    try:
        return _probe_open(path, port, info, timeout)
    except PORT_ERRORS as exc:
        return Probe(path, Verdict.NOT_MODEM, f"port failed while probing: {exc}", info)
    finally:
        port.close()


def _probe_open(path: str, port: serial.Serial, info: PortInfo, timeout: float) -> Probe:
    chat = _ProbeChat(port, path, timeout)
    # A first AT may meet half a command left by someone else; V.250 modems answer the second.
    if chat.command("AT")[0] != LineKind.OK and chat.command("AT")[0] != LineKind.OK:
        return Probe(path, Verdict.NOT_MODEM, f"no OK to AT in {timeout:.1f} s", info)
    chat.command("ATE0")
    kind, ati0 = chat.command("ATI0")
    a0 = ati0[0] if kind == LineKind.OK and ati0 else ""
    kind, ati3 = chat.command("ATI3")
    a3 = " ".join(ati3) if kind == LineKind.OK else ""
    model = modem_quirks.by_usb(info.vid, info.pid) or modem_quirks.by_ati(a0, a3)
    kind, fclass = chat.command("AT+FCLASS=?")
    fc = ",".join(fclass) if kind == LineKind.OK else ""
    result = Probe(path, Verdict.DATA, "", info, model, a0, a3, fc)
    if not _fclass_has_voice(fc):
        result.detail = f"AT+FCLASS=? lists {fc or 'nothing'}: no class 8 (voice)"
        return result
    if chat.command("AT+FCLASS=8")[0] != LineKind.OK:
        result.detail = "AT+FCLASS=8 refused"
        return result
    result.verdict = Verdict.VOICE
    result.model = model or modem_quirks.generic()
    kind, lines = chat.command("AT+VSM=?")
    result.codecs = parse_vsm_list(lines) if kind == LineKind.OK else []
    try:
        result.codec = choose_codec(result.codecs)
    except V253Error as exc:
        result.detail = f"{exc}; the driver falls back to +VSM {result.model.fallback_cml}"
    chat.command("AT+FCLASS=0")
    return result


def all_ports() -> list[str]:
    return [info.device for info in list_serial_ports()]


def profile_text(probes: list[Probe], stations: int = 0) -> str:
    """A board profile for the voice modems found, each named by the path that finds it again after a
    replug; the last `stations` modems become agent legs (they dial the agent's own phone)."""
    voice = [p for p in probes if p.verdict == Verdict.VOICE]
    stations = min(stations, len(voice))
    trunks = len(voice) - stations
    out = ["# Board profile written by `branchline detect`. Each line is one voice modem, named by the",
           "# path that finds the same modem again after a replug (udev by-id, else by-path).",
           "[board]",
           f'description = "{trunks} trunk line(s) and {stations} agent leg(s) on USB voice modems"',
           'clock = "paced"',
           "",
           "[[driver]]",
           'type = "voice_modem"']
    for i, p in enumerate(voice):
        station = i >= trunks
        name = f"station{i - trunks + 1}" if station else f"line{i + 1}"
        family = f"{p.model.family}: {p.model.name}" if p.model else "voice modem"
        out += ["", "[[driver.line]]", f'name = "{name}"',
                f'port = "{p.info.stable if p.info else p.port}"   # {family}']
        if station:
            out += ['kind = "station"',
                    "# number = \"...\"   # required: the agent's phone number this line dials"]
    return "\n".join(out) + "\n"
