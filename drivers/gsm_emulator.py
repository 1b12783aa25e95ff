"""A GSM modem and its network emulated on a pseudo-terminal (drivers/pty_device.py), for tests and the
simulated board: the real driver talks to it through pyserial. It speaks the TS 27.007 / 27.005 commands
the driver uses, keeps what was sent (decoded, as the network would), sends a status report for each part
that asked, and delivers incoming texts (+CMTI, read with +CMGR). Faults: no SIM, PIN required, no network,
send failure (+CMS ERROR), garbage lines, a send that never answers, and unplug mid-send."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from . import sms_pdu
from .pty_device import PtyDevice

log = logging.getLogger(__name__)

# TS 27.005 §3.2.5 +CMS ERROR 38: network out of order; 500: unknown error.
CMS_NETWORK_OUT_OF_ORDER = 38
# TS 27.007 §9.2.1 +CME ERROR 10: SIM not inserted.
CME_NO_SIM = 10


@dataclass
class SentText:
    """A part as the network received it."""
    number: str
    text: str
    concat: tuple[int, int, int] | None
    mr: int
    report: bool


class GsmEmulator(PtyDevice):
    """Faults are plain attributes, set from any thread: `sim` ("ready" | "absent" | "pin"),
    `registered` (bool), `fail_sends` (how many next parts get +CMS ERROR), `fail_after` (parts accepted
    before every later one gets +CMS ERROR), `hang_sends` (parts never
    answered), `unplug_on_send` (unplug once the next PDU is received), `garbage` (lines to say before the
    next answer), `report_status` (TP-ST of the status reports, None: none sent)."""

    DIR_PREFIX = "branchline-gsm-"

    def __init__(self, serial_number: str = "GSM0001", link_dir: str | Path | None = None,
                 own_number: str = "+8613900000000"):
        super().__init__(serial_number, link_dir)
        self.own_number = own_number
        self.sim = "ready"
        self.registered = True
        self.fail_sends = 0
        self.fail_after: int | None = None   # accept this many more parts, then refuse every later one
        self.hang_sends = 0
        self.unplug_on_send = False
        self.garbage: list[str] = []
        self.report_status: int | None = 0
        self.sent: list[SentText] = []
        self.commands: list[str] = []
        self._stored: dict[int, str] = {}
        self._mr = 0
        self._power_on()

    @property
    def link(self) -> str:
        assert self.link_dir is not None, "start() first"
        return str(self.link_dir / f"usb-Emulated_GSM_{self.serial_number}-if00")

    def _thread_name(self) -> str:
        return f"gsm-emulator-{self.serial_number}"

    def _power_on(self) -> None:
        self.echo = True
        self.pdu_mode = False
        self._buf = b""
        self._awaiting_pdu: int | None = None

    def _plugged(self) -> None:
        """The modem says nothing until spoken to."""

    def _unplugging(self) -> None:
        """Nothing outlives the port but what the network already has (`sent`) and the SIM's store."""

    def _write_lost(self, exc: OSError) -> None:
        log.debug("gsm emulator: write lost: %s", exc)

    def _tick(self, now: float) -> None:
        """The network acts only when spoken to or when a test delivers a text."""

    # --- what a test does --------------------------------------------------------------------------
    def deliver(self, sender: str, text: str, reference: int = 1) -> None:
        """A text arrives: stored on the SIM, told with +CMTI (TS 27.005 §3.4.1 <mt>=1)."""
        stamp = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        with self._lock:
            for pdu in sms_pdu.encode_deliver(sender, text, stamp, reference, smsc="+8613800100500"):
                index = max(self._stored, default=0) + 1
                self._stored[index] = pdu
                self._say(f'+CMTI: "SM",{index}')

    # --- the host's bytes --------------------------------------------------------------------------
    def _from_host(self, data: bytes) -> None:
        self._buf += data
        while True:
            if self._awaiting_pdu is not None:
                end = self._buf.find(b"\x1a")
                esc = self._buf.find(b"\x1b")
                if esc >= 0 and (end < 0 or esc < end):
                    self._buf, self._awaiting_pdu = self._buf[esc + 1:], None
                    continue
                if end < 0:
                    return
                pdu, self._buf = self._buf[:end].decode("ascii", "replace").strip(), self._buf[end + 1:]
                self._awaiting_pdu = None
                self._submit(pdu)
                continue
            cut = self._buf.find(b"\r")
            if cut < 0:
                return
            line, self._buf = self._buf[:cut].decode("ascii", "replace").strip(), self._buf[cut + 1:].lstrip(b"\n")
            if line:
                if self.echo:
                    self._write(line.encode() + b"\r")
                self.commands.append(line)
                self._command(line)

    def _say(self, *lines: str) -> None:
        for text in lines:
            self._write(b"\r\n" + text.encode() + b"\r\n")

    def _answer(self, *lines: str) -> None:
        if self.garbage:
            self._say(*self.garbage)
            self._write(b"\x00\xff\xfe garbage")
            self.garbage = []
        self._say(*lines)

    def _sim_error(self) -> str | None:
        if self.sim == "absent":
            return f"+CME ERROR: {CME_NO_SIM}"
        if self.sim == "pin":
            return "+CME ERROR: 11"          # TS 27.007 §9.2.1: SIM PIN required
        return None

    def _command(self, line: str) -> None:
        cmd = line.upper()
        if cmd in ("AT", "ATZ"):
            self._answer("OK")
        elif cmd == "ATE0":
            self.echo = False
            self._answer("OK")
        elif cmd.startswith(("AT+CMEE", "AT+CNMI", "AT+CPMS")):
            self._answer("OK")
        elif cmd == "AT+CGMM":
            self._answer("EMU-GSM 4G", "OK")
        elif cmd == "AT+CPIN?":
            # TS 27.007 §8.3: a SIM waiting for its PIN says so; a missing SIM is an error.
            if self.sim == "pin":
                self._answer("+CPIN: SIM PIN", "OK")
            elif self.sim == "absent":
                self._answer(f"+CME ERROR: {CME_NO_SIM}")
            else:
                self._answer("+CPIN: READY", "OK")
        elif cmd in ("AT+CREG?", "AT+CEREG?"):
            prefix = cmd[2:-1]
            self._answer(f"{prefix}: 0,{1 if self.registered else 2}", "OK")
        elif cmd == "AT+CSQ":
            self._answer(f"+CSQ: {20 if self.registered else 99},99", "OK")
        elif cmd == "AT+COPS?":
            self._answer('+COPS: 0,0,"CHINA MOBILE",7' if self.registered else "+COPS: 0", "OK")
        elif cmd.startswith("AT+CMGF="):
            self.pdu_mode = cmd.endswith("0")
            self._answer("OK")
        elif cmd.startswith("AT+CMGS="):
            error = self._sim_error()
            if error or not self.pdu_mode:
                self._answer(error or "ERROR")
            else:
                self._awaiting_pdu = int(cmd.split("=")[1])
                self._write(b"\r\n> ")
        elif cmd.startswith("AT+CMGR="):
            pdu = self._stored.get(int(cmd.split("=")[1] or 0))
            self._answer(*((f"+CMGR: 0,,{len(pdu) // 2 - 1 - int(pdu[:2], 16)}", pdu, "OK") if pdu
                           else ("+CMS ERROR: 321",)))
        elif cmd.startswith("AT+CMGD="):
            self._stored.pop(int(cmd.split("=")[1].split(",")[0] or 0), None)
            self._answer("OK")
        elif cmd == "AT+CMGL=4":
            lines = []
            for index, pdu in sorted(self._stored.items()):
                lines += [f"+CMGL: {index},0,,{len(pdu) // 2 - 1 - int(pdu[:2], 16)}", pdu]
            self._answer(*lines, "OK")
        else:
            self._answer("ERROR")

    def _submit(self, pdu: str) -> None:
        if self.unplug_on_send:
            # The network gets the part; the host never hears +CMGS (the cable came out).
            self.unplug_on_send = False
            self._accept(pdu)
            self._unplugging()
            self._unplug_fds()
            self._power_on()
            return
        if self.hang_sends:
            self.hang_sends -= 1
            self._accept(pdu)
            return
        refuse_now = self.fail_after is not None and self.fail_after <= 0
        if self.fail_after is not None:
            self.fail_after -= 1
        if self.fail_sends or refuse_now or not self.registered:
            self.fail_sends = max(0, self.fail_sends - 1)
            self._answer(f"+CMS ERROR: {CMS_NETWORK_OUT_OF_ORDER}")
            return
        mr = self._accept(pdu)
        self._answer(f"+CMGS: {mr}", "OK")
        sent = self.sent[-1]
        if sent.report and self.report_status is not None:
            stamp = dt.datetime(2026, 12, 7, 9, 31, tzinfo=dt.timezone(dt.timedelta(hours=8)))
            report = sms_pdu.encode_status_report(mr, sent.number, self.report_status, stamp, stamp,
                                                  smsc="+8613800100500")
            self._say(f"+CDS: {len(report) // 2 - 1 - int(report[:2], 16)}", report)

    def _accept(self, pdu: str) -> int:
        number, text, concat, report = sms_pdu.decode_submit(pdu)
        self._mr = (self._mr + 1) % 256
        self.sent.append(SentText(number, text, concat, self._mr, report))
        return self._mr

    def texts(self) -> list[tuple[str, str]]:
        """The texts the network has, parts joined: (number, text), in the order their last part came."""
        with self._lock:
            whole: list[tuple[str, str]] = []
            pending: dict[tuple[str, int], dict[int, str]] = {}
            for part in self.sent:
                if part.concat is None:
                    whole.append((part.number, part.text))
                    continue
                ref, count, seq = part.concat
                got = pending.setdefault((part.number, ref), {})
                got[seq] = part.text
                if len(got) == count:
                    whole.append((part.number, "".join(got[i] for i in sorted(got))))
                    del pending[(part.number, ref)]
            return whole


__all__ = ["GsmEmulator", "SentText"]
