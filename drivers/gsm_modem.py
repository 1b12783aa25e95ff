"""A GSM/4G modem for texts (3GPP TS 27.007 / 27.005, PDU mode): open and set up, SIM, registration,
signal and operator, send a text (its parts), and read what arrived (texts and delivery reports).
Blocking, on the modem's own thread; the store and the outbox are firmware/callcenter/sms.py's."""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

import serial

from . import serial_ports, sms_pdu
from .gsm_at import AtChannel, AtError, PortLost, Unsolicited
from .sms_pdu import Deliver, PduError, StatusReport

log = logging.getLogger(__name__)

# TS 27.007 §7.2 (+CREG) and §10.1.22 (+CEREG) <stat>.
REGISTRATION = {0: "not_registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming",
                6: "home", 7: "roaming"}     # 6, 7: registered for SMS only (home, roaming)
REGISTERED = ("home", "roaming")
# TS 27.007 §8.3 +CPIN <code>: READY, or the code the SIM waits for; §9.2.1 +CME ERROR 10: no SIM.
NO_SIM_ERRORS = ("10", "SIM not inserted", "13", "SIM failure")
# TS 27.005 §3.4.1 +CNMI: <mode> 2 (buffer codes while the link is busy), <mt> 1 (stored: +CMTI <mem>,<index>),
# <bm> 0, <ds> 1 (a status report as +CDS with its PDU), <bfr> 0.
CNMI = "AT+CNMI=2,1,0,1,0"
# TS 27.005 §3.2.2: texts and status reports kept on the SIM ("SM") for all three memories.
CPMS = 'AT+CPMS="SM","SM","SM"'


class GsmError(Exception):
    """The modem cannot send now (no SIM, PIN, no network, refused) or its port is gone; names the port."""


@dataclass
class ModemStatus:
    """What the technician page shows."""
    port: str
    connected: bool = False
    sim: str = "unknown"             # ready | absent | "SIM PIN" ... (TS 27.007 §8.3)
    registration: str = "unknown"    # REGISTRATION's values
    signal_dbm: int | None = None
    signal_ber: int | None = None
    operator: str = ""
    model: str = ""
    error: str = ""
    garbage_lines: int = 0

    @property
    def can_send(self) -> bool:
        return self.connected and self.sim == "ready" and self.registration in REGISTERED

    def as_dict(self) -> dict:
        return {**asdict(self), "can_send": self.can_send}


def csq_dbm(rssi: int) -> int | None:
    """TS 27.007 §8.5 +CSQ <rssi>: 0 is -113 dBm or less, 1 is -111, 2-30 are -109 to -53 in 2 dB steps,
    31 is -51 or more, 99 not known."""
    if rssi == 99 or not 0 <= rssi <= 31:
        return None
    return -113 + 2 * rssi


def _value(lines: list[str], prefix: str) -> str | None:
    for line in lines:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return None


class GsmModem:
    """One modem on one port. `opener` opens the port (serial_ports.open_port: exclusive, raw)."""

    def __init__(self, port: str, opener: Callable[[str], serial.Serial] = serial_ports.open_port):
        self.port_name, self.opener = port, opener
        self.status = ModemStatus(port)
        self._serial: serial.Serial | None = None
        self.at: AtChannel | None = None
        self._set_up = False             # PDU mode and message routing set (needs a ready SIM)

    @property
    def open(self) -> bool:
        return self.at is not None

    def connect(self) -> ModemStatus:
        """Open the port and set the modem up for PDU-mode texts; the status says what is missing."""
        self.close()
        try:
            self._serial = self.opener(self.port_name)
        except serial_ports.PORT_ERRORS as exc:
            self.status = ModemStatus(self.port_name, error=f"cannot open {self.port_name}: {exc}")
            raise GsmError(self.status.error) from None
        self.at = AtChannel(self._serial, self.port_name)
        try:
            # V.250 E0: no echo; TS 27.007 §9.1 +CMEE=1: numeric +CME ERROR codes.
            for cmd in ("ATE0", "AT+CMEE=1"):
                self.at.command(cmd)
            self.status.connected = True
            self.refresh()
        except AtError as exc:
            self._lost(exc)
            raise GsmError(str(exc)) from None
        return self.status

    def refresh(self) -> ModemStatus:
        """Ask the SIM state, registration, signal and operator again."""
        at = self._need()
        status = ModemStatus(self.port_name, connected=True, model=self.status.model)
        try:
            if not status.model:
                status.model = " ".join(at.command("AT+CGMM"))[:60]
            try:
                pin = _value(at.command("AT+CPIN?"), "+CPIN:") or ""
                status.sim = "ready" if pin == "READY" else pin
            except PortLost:
                raise
            except AtError as exc:
                status.sim = "absent" if exc.code in NO_SIM_ERRORS else f"error {exc.code}"
            if status.sim == "ready":
                if not self._set_up:
                    # TS 27.005 §3.2.3 +CMGF=0: PDU mode; then where texts go and how they are told. Once
                    # the SIM is ready: a SIM put in (or unlocked) later is taken up at the next refresh.
                    for cmd in ("AT+CMGF=0", CPMS, CNMI):
                        at.command(cmd)
                    self._set_up = True
                status.registration = self._registration(at)
                csq = _value(at.command("AT+CSQ"), "+CSQ:")
                if csq and re.fullmatch(r"\d+,\d+", csq):
                    rssi, ber = (int(v) for v in csq.split(","))
                    status.signal_dbm, status.signal_ber = csq_dbm(rssi), None if ber == 99 else ber
                # TS 27.007 §7.3 +COPS?: <mode>[,<format>,<oper>[,<AcT>]]
                cops = _value(at.command("AT+COPS?"), "+COPS:") or ""
                parts = cops.split(",")
                status.operator = parts[2].strip('"') if len(parts) >= 3 else ""
        except PortLost as exc:
            self._lost(exc)
            raise GsmError(str(exc)) from None
        except AtError as exc:
            status.error = str(exc)
        status.garbage_lines = at.garbage
        self.status = status
        return status

    def _registration(self, at: AtChannel) -> str:
        """The better of circuit-switched (+CREG) and EPS (+CEREG) registration: a 4G-only modem texts
        over LTE and may report +CREG as not registered."""
        found = "not_registered"
        for cmd, prefix in (("AT+CREG?", "+CREG:"), ("AT+CEREG?", "+CEREG:")):
            try:
                value = _value(at.command(cmd), prefix)
            except PortLost:
                raise
            except AtError:
                continue                                  # a 2G modem has no +CEREG
            fields = (value or "").split(",")
            if len(fields) >= 2 and fields[1].strip().isdigit():
                state = REGISTRATION.get(int(fields[1]), "unknown")
                if state in REGISTERED:
                    return state
                found = state if found == "not_registered" else found
        return found

    def send(self, number: str, text: str, reference: int) -> list[int]:
        """Send `text` to `number` as its parts with the concatenation reference `reference`; the TP-MR of
        each part. GsmError before any part went; AtError(unknown) if the port went while a part was
        with the network (the caller must not send it again blindly); PduError for a bad number or text."""
        parts = sms_pdu.encode_submit(number, text, reference)
        if not self.status.can_send:
            raise GsmError(f"modem {self.port_name}: cannot send (SIM {self.status.sim}, network "
                           f"{self.status.registration})")
        at = self._need()
        refs: list[int] = []
        for part in parts:
            try:
                refs.append(at.send_pdu(part.length, part.pdu))
            except AtError as exc:
                if isinstance(exc, PortLost):
                    self._lost(exc)
                if refs or exc.unknown:
                    # Some part went (or may have): the text as a whole is not to be resent blindly.
                    raise AtError(f"{exc} (after {len(refs)} of {len(parts)} parts)", exc.code, unknown=True) from None
                raise
        return refs

    def incoming(self, wait: float = 0.0) -> tuple[list[Deliver], list[StatusReport]]:
        """Texts and status reports that arrived: +CMT/+CDS with their PDU, and +CMTI read with +CMGR and
        deleted with +CMGD once read (TS 27.005 §3.4.3, §3.5.4), so the SIM never fills."""
        at = self._need()
        texts: list[Deliver] = []
        reports: list[StatusReport] = []
        try:
            for code in at.poll(wait):
                self._take(code, texts, reports)
        except PortLost as exc:
            self._lost(exc)
            raise GsmError(str(exc)) from None
        return texts, reports

    def read_stored(self) -> tuple[list[Deliver], list[StatusReport]]:
        """Every text kept on the SIM (those that came while the box was off), read and deleted."""
        at = self._need()
        texts: list[Deliver] = []
        reports: list[StatusReport] = []
        try:
            # TS 27.005 §4.1 +CMGL=4: all messages, PDU mode; "+CMGL: <index>,<stat>,,<length>" then the PDU.
            lines = at.command("AT+CMGL=4", timeout=20.0)
            for header, pdu in zip(lines[::2], lines[1::2]):
                index = header.split(":", 1)[1].split(",")[0].strip()
                self._decoded(pdu, texts, reports)
                at.command(f"AT+CMGD={index}")
        except PortLost as exc:
            self._lost(exc)
            raise GsmError(str(exc)) from None
        except AtError as exc:
            log.warning("modem %s: stored texts not read: %s", self.port_name, exc)
        return texts, reports

    def _take(self, code: Unsolicited, texts: list[Deliver], reports: list[StatusReport]) -> None:
        at = self._need()
        if code.pdu:
            self._decoded(code.pdu, texts, reports)
            # TS 27.005 §3.4.4: with +CSMS=0 (phase 2) no +CNMA is needed; the modem acknowledges itself.
            return
        if code.line.startswith(("+CMTI:", "+CDSI:")):
            index = code.line.rsplit(",", 1)[-1].strip()
            if not index.isdigit():
                return
            try:
                lines = at.command(f"AT+CMGR={index}")
                if len(lines) >= 2:
                    self._decoded(lines[1], texts, reports)
                at.command(f"AT+CMGD={index}")
            except PortLost:
                raise
            except AtError as exc:
                log.warning("modem %s: message %s not read: %s", self.port_name, index, exc)

    def _decoded(self, pdu: str, texts: list[Deliver], reports: list[StatusReport]) -> None:
        try:
            found = sms_pdu.decode(pdu)
        except PduError as exc:
            log.warning("modem %s: a PDU that does not decode: %s", self.port_name, exc)
            return
        (texts if isinstance(found, Deliver) else reports).append(found)  # type: ignore[arg-type]

    def _need(self) -> AtChannel:
        if self.at is None:
            raise GsmError(f"modem {self.port_name}: not connected")
        return self.at

    def _lost(self, exc: Exception) -> None:
        log.warning("%s", exc)
        self.close()
        self.status = ModemStatus(self.port_name, error=str(exc))

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except serial_ports.PORT_ERRORS:
                pass
        self._serial, self.at = None, None
        self._set_up = False
        self.status.connected = False


__all__ = ["GsmError", "GsmModem", "ModemStatus", "REGISTERED", "csq_dbm"]
