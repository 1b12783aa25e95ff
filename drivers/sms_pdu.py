"""SMS transfer-layer PDUs (3GPP TS 23.040) as PDU-mode AT commands carry them (TS 27.005 §3.1): text in,
hex PDUs out (SMS-SUBMIT, concatenated when long, with a status report asked for); hex in, an SMS-DELIVER
or SMS-STATUS-REPORT out. Pure: no I/O.

Written here rather than taken from PyPI: of the PDU libraries there, `messaging` (python-messaging) is
GPL-2 and had its last release in 2021, `python-gsmmodem` is LGPL-3 with its last release in 2013, and
`gsm0338` is the alphabet alone, without septet packing, headers or status reports. What the box needs is
about 300 lines, each field with its clause, tested against the published PDUs and by round trips."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# TS 23.038 §6.2.1: the GSM 7-bit default alphabet, by code; 0x1B is the escape to the extension table.
GSM7_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
# TS 23.038 §6.2.1.1: the extension table's characters (each sent as ESC and its code, two septets).
GSM7_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E,
                  "|": 0x40, "€": 0x65}
ESC = 0x1B
_BASIC_CODE = {ch: code for code, ch in enumerate(GSM7_BASIC) if code != ESC}
_EXTENSION_CHAR = {code: ch for ch, code in GSM7_EXTENSION.items()}

# TS 23.040 §9.2.3.16: TP-UDL counts septets (7-bit) or octets; the user data is at most 140 octets,
# 160 septets. With the concatenation header (6 octets: UDHL + IEI 00 + length 3 + ref, count, seq,
# §9.2.3.24.1) a part holds 134 octets: 153 septets (7 header septets with the fill bit) or 67 UCS-2
# characters.
MAX_OCTETS = 140
MAX_SEPTETS = 160
UDH_CONCAT_LEN = 6
PART_SEPTETS = (MAX_OCTETS - UDH_CONCAT_LEN) * 8 // 7
PART_UCS2 = (MAX_OCTETS - UDH_CONCAT_LEN) // 2
MAX_UCS2 = MAX_OCTETS // 2
# §9.2.3.24.1: the 8-bit reference numbers parts 1 to 255; a text longer than that is not a text.
MAX_PARTS = 255
# TS 23.038 §4: data coding scheme, general group: 0x00 default alphabet, 0x08 UCS-2.
DCS_GSM7, DCS_UCS2 = 0x00, 0x08
# TS 23.040 §9.1.2.5: type of address; international (TON 1) or unknown (TON 0), ISDN plan (NPI 1).
TOA_INTERNATIONAL, TOA_UNKNOWN = 0x91, 0x81
# TS 23.040 §9.2.3.12.1: relative validity period 0xA7 = 24 hours ((167 - 143) x 30 min + 12 h).
VALIDITY_24H = 0xA7
MAX_ADDRESS_DIGITS = 20


class PduError(ValueError):
    """A PDU that does not parse, or a text or number that cannot be encoded."""


@dataclass(frozen=True)
class SubmitPart:
    """One SMS-SUBMIT: the hex PDU for AT+CMGS (with a zero-length SMSC address: the SIM's is used) and
    its TPDU length in octets, which AT+CMGS takes (TS 27.005 §3.5.1: the length without the SMSC part)."""
    pdu: str
    length: int
    seq: int
    count: int


@dataclass(frozen=True)
class Deliver:
    """An SMS-DELIVER (§9.2.2.1): one part of an incoming text."""
    sender: str
    text: str
    timestamp: dt.datetime
    concat: tuple[int, int, int] | None = None      # (reference, count, seq)
    smsc: str = ""


@dataclass(frozen=True)
class StatusReport:
    """An SMS-STATUS-REPORT (§9.2.2.3): what became of the submitted message with TP-MR `reference`."""
    reference: int
    recipient: str
    status: int
    discharged: dt.datetime | None = None
    smsc: str = ""

    @property
    def delivered(self) -> bool:
        # §9.2.3.15: 0x00-0x1F the transaction completed (0x00 received by the SME).
        return self.status < 0x20

    @property
    def final(self) -> bool:
        # §9.2.3.15: 0x20-0x3F the SC still tries; 0x40 and above it gave up (permanent or temporary).
        return not 0x20 <= self.status < 0x40


@dataclass
class _Reader:
    data: bytes
    at: int = 0
    pdu: str = field(default="")

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise PduError(f"PDU {self.pdu[:60]}: ends early (wanted {n} octets at {self.at})")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def octet(self) -> int:
        return self.take(1)[0]


# --- the default alphabet ------------------------------------------------------------------------------
def gsm7_septets(text: str) -> list[int] | None:
    """The septets of `text` in the default alphabet with its extension table, or None if a character
    is in neither (then the text goes as UCS-2)."""
    out: list[int] = []
    for ch in text:
        code = _BASIC_CODE.get(ch)
        if code is not None:
            out.append(code)
        elif ch in GSM7_EXTENSION:
            out += [ESC, GSM7_EXTENSION[ch]]
        else:
            return None
    return out


def septets_to_text(septets: list[int]) -> str:
    out, escaped = [], False
    for s in septets:
        if escaped:
            # §6.2.1.1: an escape followed by a code with no extension character shows the basic one.
            out.append(_EXTENSION_CHAR.get(s, GSM7_BASIC[s] if s != ESC else " "))
            escaped = False
        elif s == ESC:
            escaped = True
        else:
            out.append(GSM7_BASIC[s])
    return "".join(out)


def pack_septets(septets: list[int], fill_bits: int = 0) -> bytes:
    """TS 23.038 §6.1.2.1.1: septets packed least significant bit first, after `fill_bits` zero bits."""
    value, bits = 0, fill_bits
    for i, s in enumerate(septets):
        value |= s << (fill_bits + 7 * i)
        bits += 7
    return value.to_bytes((bits + 7) // 8, "little") if septets else b""


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    value = int.from_bytes(data, "little")
    if count and fill_bits + 7 * count > 8 * len(data):
        raise PduError(f"user data holds {8 * len(data)} bits, not {count} septets")
    return [(value >> (fill_bits + 7 * i)) & 0x7F for i in range(count)]


# --- addresses and time stamps ------------------------------------------------------------------------
def _semi_octets(digits: str) -> bytes:
    padded = digits + ("F" if len(digits) % 2 else "")
    return bytes.fromhex("".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2)))


_SEMI_OCTET_SIGNS = str.maketrans("ABC", "*#a")


def _digits(data: bytes, count: int) -> str:
    text = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in data)[:count]
    # §9.1.2.3: semi-octets A-C are *, # and a; F is the filler.
    return text.translate(_SEMI_OCTET_SIGNS)


def encode_address(number: str) -> bytes:
    """TP-DA (§9.1.2.5): digit count, type of address, semi-octets; "+" makes it international."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not digits or len(digits) > MAX_ADDRESS_DIGITS or not digits.isdigit() or not digits.isascii():
        raise PduError(f"number {number!r}: 1 to {MAX_ADDRESS_DIGITS} digits, with an optional leading +")
    toa = TOA_INTERNATIONAL if international else TOA_UNKNOWN
    return bytes([len(digits), toa]) + _semi_octets(digits)


def _read_address(r: _Reader) -> str:
    count, toa = r.octet(), r.octet()
    raw = r.take((count + 1) // 2)
    if toa & 0x70 == 0x50:
        # §9.1.2.5: alphanumeric (TON 5): `count` is in semi-octets of packed default-alphabet text.
        return septets_to_text(unpack_septets(raw, count * 4 // 7))
    digits = _digits(raw, count)
    return ("+" if toa & 0x70 == 0x10 else "") + digits


def _read_smsc(r: _Reader) -> str:
    """The SMSC part before the TPDU in what +CMGR and +CMT give (TS 27.005 §3.1 <pdu>): its octet count
    (0: none), the type of address, the semi-octets."""
    length = r.octet()
    if length == 0:
        return ""
    raw = r.take(length)
    digits = _digits(raw[1:], 2 * (length - 1)).rstrip("F")
    return ("+" if raw[0] & 0x70 == 0x10 else "") + digits


def _read_timestamp(r: _Reader) -> dt.datetime:
    """TP-SCTS (§9.2.3.11): year, month, day, hour, minute, second in swapped semi-octets, then the zone
    in quarter hours with its sign in bit 3 of the first semi-octet."""
    raw = r.take(7)
    fields = [int(f"{b & 0x0F}{b >> 4}") if (b & 0x0F) < 10 and (b >> 4) < 10 else -1 for b in raw[:6]]
    zone_octet = raw[6]
    quarters = (zone_octet & 0x07) * 10 + (zone_octet >> 4)
    sign = -1 if zone_octet & 0x08 else 1
    try:
        return dt.datetime(2000 + fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
                           tzinfo=dt.timezone(dt.timedelta(minutes=15 * quarters * sign)))
    except ValueError:
        raise PduError(f"time stamp {raw.hex()} is not a date") from None


# --- SMS-SUBMIT -------------------------------------------------------------------------------------------
def split_text(text: str) -> tuple[int, list[list[int] | str]]:
    """(DCS, the parts): septet lists in the default alphabet if every character has a code, else UCS-2
    strings. A long text is cut so that no escape pair (§6.2.1.1) or UTF-16 surrogate pair is split."""
    septets = gsm7_septets(text)
    if septets is not None:
        if len(septets) <= MAX_SEPTETS:
            return DCS_GSM7, [septets]
        parts: list[list[int]] = [[]]
        i = 0
        while i < len(septets):
            unit = septets[i:i + 2] if septets[i] == ESC else septets[i:i + 1]
            if len(parts[-1]) + len(unit) > PART_SEPTETS:
                parts.append([])
            parts[-1] += unit
            i += len(unit)
        return DCS_GSM7, list(parts)
    units = text.encode("utf-16-be")
    if len(units) <= 2 * MAX_UCS2:
        return DCS_UCS2, [text]
    chunks: list[str] = [""]
    for ch in text:
        if len((chunks[-1] + ch).encode("utf-16-be")) > 2 * PART_UCS2:
            chunks.append("")
        chunks[-1] += ch
    return DCS_UCS2, list(chunks)


def encode_submit(number: str, text: str, reference: int = 0, status_report: bool = True,
                  validity: int = VALIDITY_24H) -> list[SubmitPart]:
    """The SMS-SUBMIT PDUs (§9.2.2.2) of `text` to `number`: one, or concatenated parts with the 8-bit
    reference `reference` (§9.2.3.24.1); each asks for a status report (TP-SRR, §9.2.3.5)."""
    if not text:
        raise PduError("an empty text")
    address = encode_address(number)
    dcs, parts = split_text(text)
    count = len(parts)
    if count > MAX_PARTS:
        raise PduError(f"a text of {count} parts; at most {MAX_PARTS}")
    out = []
    for seq, part in enumerate(parts, 1):
        udh = _concat_header(reference, count, seq) if count > 1 else b""
        udl, ud = _encode_user_data(part, udh)
        # First octet: TP-MTI 01 SUBMIT (§9.2.3.1), TP-VPF 10 relative (§9.2.3.3), TP-SRR, TP-UDHI (§9.2.3.23).
        first = 0x01 | 0x10 | (0x20 if status_report else 0) | (0x40 if udh else 0)
        # TP-MR 0: the modem (or the MS) sets the message reference (TS 27.005 §3.5.1 returns it).
        tpdu = bytes([first, 0x00]) + address + bytes([0x00, dcs, validity, udl]) + ud
        out.append(SubmitPart(("00" + tpdu.hex()).upper(), len(tpdu), seq, count))
    return out


def _concat_header(reference: int, count: int, seq: int) -> bytes:
    """§9.2.3.24.1: UDHL 5, IEI 00 (concatenation, 8-bit reference), IEDL 3, reference, count, sequence."""
    return bytes([5, 0x00, 3, reference & 0xFF, count, seq])


def _encode_user_data(part: list[int] | str, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) of one part: septets of the default alphabet, or a UCS-2 string."""
    if isinstance(part, list):
        # §9.2.3.24: the header is followed by fill bits up to a septet boundary, counted in TP-UDL.
        fill = (7 - (len(udh) * 8) % 7) % 7 if udh else 0
        return (len(udh) * 8 + fill) // 7 + len(part), udh + pack_septets(part, fill)
    ud = udh + part.encode("utf-16-be")
    return len(ud), ud


def _timestamp(moment: dt.datetime) -> bytes:
    offset = moment.utcoffset() or dt.timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    digits = "".join(f"{v:02d}" for v in (moment.year % 100, moment.month, moment.day, moment.hour, moment.minute,
                                          moment.second))
    zone = ((quarters % 10) << 4) | (quarters // 10) | (0x08 if offset < dt.timedelta(0) else 0)
    return _semi_octets(digits) + bytes([zone])


def encode_deliver(sender: str, text: str, timestamp: dt.datetime, reference: int = 0,
                   smsc: str = "") -> list[str]:
    """The SMS-DELIVER PDUs (§9.2.2.1) a network sends for `text` from `sender`, with the SMSC part
    first as +CMGR gives them: what the modem emulator and the tests play."""
    dcs, parts = split_text(text)
    out = []
    for seq, part in enumerate(parts, 1):
        udh = _concat_header(reference, len(parts), seq) if len(parts) > 1 else b""
        udl, ud = _encode_user_data(part, udh)
        # TP-MTI 00 DELIVER, TP-MMS 1 (§9.2.3.2: no more messages waiting), TP-UDHI.
        first = 0x04 | (0x40 if udh else 0)
        tpdu = bytes([first]) + encode_address(sender) + bytes([0x00, dcs]) + _timestamp(timestamp) + bytes([udl]) + ud
        out.append((_smsc(smsc) + tpdu).hex().upper())
    return out


def encode_status_report(reference: int, recipient: str, status: int, submitted: dt.datetime,
                         discharged: dt.datetime, smsc: str = "") -> str:
    """The SMS-STATUS-REPORT PDU (§9.2.2.3) of the message with TP-MR `reference`, SMSC part first."""
    tpdu = bytes([0x02, reference & 0xFF]) + encode_address(recipient) + _timestamp(submitted) + \
        _timestamp(discharged) + bytes([status])
    return (_smsc(smsc) + tpdu).hex().upper()


def _smsc(number: str) -> bytes:
    if not number:
        return b"\x00"
    address = encode_address(number)
    return bytes([len(address) - 1]) + address[1:]


# --- incoming PDUs ---------------------------------------------------------------------------------------
def _user_data(r: _Reader, first: int, dcs: int) -> tuple[str, tuple[int, int, int] | None]:
    udl = r.octet()
    ud = r.data[r.at:]
    concat = None
    header_len = 0
    if first & 0x40:                       # TP-UDHI
        if not ud:
            raise PduError("a user-data header flagged but no user data")
        header_len = ud[0] + 1
        header = ud[1:header_len]
        runs_past = PduError(f"PDU {r.pdu[:60]}: the user-data header runs past the user data")
        if len(header) < header_len - 1:
            raise runs_past
        i = 0
        while i + 2 <= len(header):
            iei, length = header[i], header[i + 1]
            value = header[i + 2:i + 2 + length]
            if len(value) < length:
                raise runs_past
            if iei == 0x00 and length == 3:              # §9.2.3.24.1, 8-bit reference
                concat = (value[0], value[1], value[2])
            elif iei == 0x08 and length == 4:            # §9.2.3.24.8, 16-bit reference
                concat = ((value[0] << 8) | value[1], value[2], value[3])
            i += 2 + length
        # §9.2.3.24.1: a part count of 0, or a part number of 0 or past the count, and the receiver
        # ignores the element (the text is taken as one whole message).
        if concat is not None and not 1 <= concat[2] <= concat[1]:
            concat = None
    alphabet = (dcs >> 2) & 0x03 if dcs & 0xC0 == 0x00 else (2 if dcs & 0xF0 == 0xE0 else 0)
    if dcs & 0xF0 == 0xF0:                 # §4: group 1111, bit 2 chooses 8-bit data
        alphabet = 1 if dcs & 0x04 else 0
    if alphabet == 0:
        if not header_len:
            return septets_to_text(unpack_septets(ud, udl)), concat
        fill = (7 - (header_len * 8) % 7) % 7
        header_septets = (header_len * 8 + fill) // 7
        return septets_to_text(unpack_septets(ud[header_len:], udl - header_septets, fill)), concat
    body = ud[header_len:udl]
    if alphabet == 2:
        return body.decode("utf-16-be", "replace"), concat
    return body.decode("latin-1"), concat


def decode(pdu_hex: str, with_smsc: bool = True) -> Deliver | StatusReport:
    """An incoming PDU as +CMGR, +CMT or +CDS gives it (TS 27.005 §3.1: the SMSC part first, unless the
    modem leaves it out: `with_smsc` False)."""
    text = pdu_hex.strip()
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise PduError(f"PDU {text[:60]!r} is not hex") from None
    r = _Reader(data, pdu=text)
    smsc = _read_smsc(r) if with_smsc else ""
    first = r.octet()
    kind = first & 0x03
    if kind == 0x00:                       # §9.2.3.1: SMS-DELIVER
        sender = _read_address(r)
        r.octet()                          # TP-PID
        dcs = r.octet()
        stamp = _read_timestamp(r)
        body, concat = _user_data(r, first, dcs)
        return Deliver(sender, body, stamp, concat, smsc)
    if kind == 0x02:                       # SMS-STATUS-REPORT
        reference = r.octet()
        recipient = _read_address(r)
        _read_timestamp(r)                 # TP-SCTS of the submitted message
        discharged = _read_timestamp(r)    # TP-DT (§9.2.3.13)
        status = r.octet()                 # TP-ST (§9.2.3.15)
        return StatusReport(reference, recipient, status, discharged, smsc)
    raise PduError(f"PDU {text[:60]}: message type {kind} is not a DELIVER or STATUS-REPORT")


def decode_submit(pdu_hex: str) -> tuple[str, str, tuple[int, int, int] | None, bool]:
    """(number, text, concat, status report asked) of an SMS-SUBMIT as encode_submit writes it (with a
    zero-length SMSC part): what a network, or the modem emulator, reads."""
    r = _Reader(bytes.fromhex(pdu_hex), pdu=pdu_hex)
    _read_smsc(r)
    first = r.octet()
    if first & 0x03 != 0x01:
        raise PduError(f"PDU {pdu_hex[:60]}: not an SMS-SUBMIT")
    r.octet()                              # TP-MR
    number = _read_address(r)
    r.octet()                              # TP-PID
    dcs = r.octet()
    vpf = (first >> 3) & 0x03
    r.take({0: 0, 2: 1}.get(vpf, 7))       # §9.2.3.3: none, relative (1 octet), or 7 octets
    body, concat = _user_data(r, first, dcs)
    return number, body, concat, bool(first & 0x20)


__all__ = ["Deliver", "PduError", "StatusReport", "SubmitPart", "decode", "decode_submit", "encode_address",
           "encode_deliver", "encode_status_report", "encode_submit", "gsm7_septets", "pack_septets",
           "septets_to_text", "split_text", "unpack_septets"]
