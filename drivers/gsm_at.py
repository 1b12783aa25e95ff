"""A GSM modem's AT command channel (3GPP TS 27.007 / 27.005) over an open serial port: one command at a
time, its information lines and final result, the "> " prompt of +CMGS, and the unsolicited result codes
(+CMTI, +CMT, +CDS) set aside whenever they arrive. Blocking: it runs on the modem's own thread, never the
tick loop."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from .serial_ports import PORT_ERRORS

# TS 27.005 §3.5.1 / §4.3: +CMGS may take as long as the network does; modems document up to a minute.
SEND_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 5.0
# The prompt for the PDU of +CMGS: <CR><LF><greater_than><space> (TS 27.005 §3.5.1).
PROMPT = b"> "
CTRL_Z = b"\x1a"
ESC = b"\x1b"
# Unsolicited codes whose next line is a PDU (TS 27.005 §3.4.1 +CNMI <mt>=2 and <ds>=1).
URC_WITH_PDU = ("+CMT:", "+CDS:")
# Others set aside: a call's RING, indicator events, and the vendors' "^" codes (Huawei's ^RSSI, ^MODE).
# +CREG/+CEREG are not among them: the box leaves their unsolicited form off (<n>=0) and reads them.
URC = ("+CMTI:", "+CDSI:", "RING", "^", "+CIEV:")
FINAL_ERROR = re.compile(r"^\+(CME|CMS) ERROR:\s*(.+)$")


class AtError(Exception):
    """A command failed; `code` is the +CME/+CMS error (number or text) when the modem gave one;
    `unknown` when a PDU was written and no answer came, so whether the network has it is not known."""

    def __init__(self, message: str, code: str = "", unknown: bool = False):
        super().__init__(message)
        self.code, self.unknown = code, unknown


class PortLost(AtError):
    """The port went away (the modem was unplugged or reset)."""


@dataclass(frozen=True)
class Unsolicited:
    """An unsolicited result code and, for +CMT and +CDS, the PDU line after it."""
    line: str
    pdu: str = ""


class AtChannel:
    """Commands over `port` (a pyserial port opened with timeout 0 or small); `clock` is time.monotonic."""

    def __init__(self, port: serial.Serial, name: str, clock: Callable[[], float] = time.monotonic):
        self.port, self.name, self.clock = port, name, clock
        self._buf = b""
        self.unsolicited: list[Unsolicited] = []
        self._pdu_for: str | None = None
        # Lines that were neither an answer nor a known code: kept for the technician's log.
        self.garbage = 0

    def _read(self, deadline: float, after_send: bool = False) -> bool:
        """Read what is there (waiting up to 50 ms); False once `deadline` passed."""
        if self.clock() >= deadline:
            return False
        try:
            self.port.timeout = max(0.0, min(0.05, deadline - self.clock()))
            # One byte (waiting), then whatever else is there: an answer is taken as soon as it arrives.
            data = self.port.read(1)
            if data and self.port.in_waiting:
                data += self.port.read(self.port.in_waiting)
        except PORT_ERRORS as exc:
            raise PortLost(f"modem {self.name}: port lost ({exc})", unknown=after_send) from None
        self._buf += data
        return True

    def _lines(self):
        while True:
            cut = min((i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0), default=-1)
            if cut < 0:
                return
            raw, self._buf = self._buf[:cut], self._buf[cut + 1:]
            text = raw.decode("ascii", "replace").strip()
            if text:
                yield text

    def _sort(self, text: str) -> bool:
        """Set `text` aside if it is unsolicited (or the PDU after one); True if it was."""
        if self._pdu_for is not None:
            self.unsolicited.append(Unsolicited(self._pdu_for, text))
            self._pdu_for = None
            return True
        if text.startswith(URC_WITH_PDU):
            self._pdu_for = text
            return True
        if text.startswith(URC):
            self.unsolicited.append(Unsolicited(text))
            return True
        return False

    def poll(self, seconds: float = 0.0) -> list[Unsolicited]:
        """Codes that arrived while no command ran (read for up to `seconds`); taken from the channel."""
        deadline = self.clock() + seconds
        while True:
            for text in self._lines():
                if not self._sort(text):
                    self.garbage += 1
            if not self._read(deadline) or seconds == 0.0:
                break
        found, self.unsolicited = self.unsolicited, []
        return found

    def _write(self, data: bytes, after_send: bool = False) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except PORT_ERRORS as exc:
            raise PortLost(f"modem {self.name}: port lost ({exc})", unknown=after_send) from None

    def command(self, cmd: str, timeout: float = COMMAND_TIMEOUT_S) -> list[str]:
        """Send `cmd`; its information lines once it answers OK. AtError on ERROR, +CME/+CMS ERROR or no
        answer in `timeout` s."""
        self._write(cmd.encode("ascii") + b"\r")
        return self._answer(cmd, self.clock() + timeout)

    def _answer(self, cmd: str, deadline: float, after_send: bool = False) -> list[str]:
        info: list[str] = []
        while True:
            for text in self._lines():
                if text == cmd or self._sort(text):     # the echo before ATE0 took effect, or a code
                    continue
                if text == "OK":
                    return info
                if text == "ERROR":
                    raise AtError(f"modem {self.name}: {cmd} answered ERROR")
                error = FINAL_ERROR.match(text)
                if error:
                    raise AtError(f"modem {self.name}: {cmd} answered {text}", error.group(2).strip())
                info.append(text)
            if not self._read(deadline, after_send):
                raise AtError(f"modem {self.name}: no answer to {cmd} in time", unknown=after_send)

    def send_pdu(self, length: int, pdu: str) -> int:
        """AT+CMGS=<length>, the PDU at the prompt, Ctrl-Z; the TP-MR the modem answers (+CMGS: <mr>).
        AtError if it refused (+CMS ERROR: the network did not take it); `unknown` set if the port went, or
        no answer came, after the PDU was written."""
        cmd = f"AT+CMGS={length}"
        self._write(cmd.encode("ascii") + b"\r")
        deadline = self.clock() + COMMAND_TIMEOUT_S
        while True:
            at = self._buf.find(PROMPT)
            before, after = (self._buf[:at] + b"\r", self._buf[at + len(PROMPT):]) if at >= 0 else (self._buf, b"")
            self._buf = before
            for text in list(self._lines()):
                if text == cmd or self._sort(text):     # a status report may come just before the prompt
                    continue
                error = FINAL_ERROR.match(text)
                if text == "ERROR" or error:
                    raise AtError(f"modem {self.name}: {cmd} answered {text}", error.group(2) if error else "")
                self.garbage += 1
            if at >= 0:
                self._buf = after
                break
            if not self._read(deadline):
                # No prompt: ESC so the modem does not take later commands as the PDU (TS 27.005 §3.5.1).
                self._write(ESC)
                raise AtError(f"modem {self.name}: no prompt after {cmd}")
        self._write(pdu.encode("ascii") + CTRL_Z, after_send=True)
        info = self._answer(cmd, self.clock() + SEND_TIMEOUT_S, after_send=True)
        for text in info:
            if text.startswith("+CMGS:"):
                return int(text.split(":", 1)[1].split(",")[0])
        raise AtError(f"modem {self.name}: {cmd} answered OK without +CMGS")


__all__ = ["AtChannel", "AtError", "PortLost", "Unsolicited"]
