"""Caller ID messages (CLIP/CND): GR-30 / EN 300 659-3 bytes and the DTMF forms, encoded and parsed."""

import dataclasses
from collections.abc import Sequence
from typing import TypeGuard

# docs/standards.md §4.3 message types and MDMF parameter codes (GR-30 / EN 300 659-3).
SDMF = 0x04
MDMF = 0x80
NOT_CALLER_ID = frozenset((0x06, 0x82, 0x86, 0x89))  # MWI, AOC, SMS: well-formed, not ours to report
P_DATETIME = 0x01
P_NUMBER = 0x02
P_NUMBER_ABSENT = 0x04
P_NAME = 0x07
P_NAME_ABSENT = 0x08
ABSENCE = frozenset("OP")  # 'O' unavailable / out of area, 'P' private (§4.3)
NUMBER_CHARS = frozenset("0123456789*#")
SDMF_MAX_DIGITS = 10  # §4.3: SDMF number is at most 10 digits
# DTMF caller ID (§4.4) info codes and absence reasons.
DTMF_INFO = {"00": "O", "10": "P"}  # variant 1: B00 number not available, B10 restricted
# Variant 2: D1# restricted, D2# international, D3# unavailable.
DTMF_D_ABSENCE = {"1": "P", "2": "O", "3": "O"}


@dataclasses.dataclass(frozen=True)
class CallerIdMessage:
    """One caller ID message; when `valid` is False every field but `standard` and `start` is None."""

    standard: str  # 'bell202', 'v23' or 'dtmf'
    valid: bool
    number: str | None = None
    name: str | None = None
    when: str | None = None  # MMDDHHMM
    absence: str | None = None  # why the number is missing: 'O' unavailable, 'P' private
    name_absence: str | None = None
    start: int = 0  # sample index of the message's first start bit or digit


def _checksum(body: bytes) -> int:
    # §4.2: two's complement of the modulo-256 sum, so that all bytes including it sum to 0 mod 256.
    return (-sum(body)) & 0xFF


def _check_when(when: object) -> TypeGuard[str]:
    if not (isinstance(when, str) and len(when) == 8 and when.isascii() and when.isdigit()):
        return False
    month, day, hour, minute = (int(when[i:i + 2]) for i in range(0, 8, 2))
    return 1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59


def _check_number(number: object, max_len: int) -> bool:
    return isinstance(number, str) and 0 < len(number) <= max_len and set(number) <= NUMBER_CHARS


def _check_name(name: object) -> bool:
    return isinstance(name, str) and 0 < len(name) and all(0x20 <= ord(c) <= 0x7E for c in name)


def _one_of(number: str | None, absence: str | None, what: str) -> None:
    if (number is None) == (absence is None):
        raise ValueError(f"{what}: expected exactly one of number or absence ('O' or 'P')")
    if absence is not None and absence not in ABSENCE:
        raise ValueError(f"{what}: expected absence 'O' or 'P', got {absence!r}")


def _frame_message(kind: int, body: bytes, what: str) -> bytes:
    if len(body) > 255:
        raise ValueError(f"{what}: message body is {len(body)} bytes, expected at most 255")
    head = bytes((kind, len(body))) + body
    return head + bytes((_checksum(head),))


def encode_sdmf(number: str | None = None, when: str | None = None, absence: str | None = None) -> bytes:
    """GR-30 SDMF (0x04) bytes: MMDDHHMM, then the number or 'O'/'P', then the checksum."""
    _one_of(number, absence, "encode_sdmf")
    if not _check_when(when):
        raise ValueError(f"encode_sdmf: expected when='MMDDHHMM' (SDMF always carries it), got {when!r}")
    if number is not None and not (_check_number(number, SDMF_MAX_DIGITS) and number.isdigit()):
        raise ValueError(f"encode_sdmf: expected 1-{SDMF_MAX_DIGITS} digits, got {number!r}")
    tail = number if number is not None else absence
    assert tail is not None, "_one_of leaves exactly one of number and absence"
    return _frame_message(SDMF, (when + tail).encode("ascii"), "encode_sdmf")


def encode_mdmf(number: str | None = None, name: str | None = None, when: str | None = None,
                absence: str | None = None, name_absence: str | None = None) -> bytes:
    """GR-30 / EN 300 659-3 MDMF (0x80) bytes: date/time, number or its absence, name or its absence."""
    params = []
    if when is not None:
        if not _check_when(when):
            raise ValueError(f"encode_mdmf: expected when='MMDDHHMM', got {when!r}")
        params.append((P_DATETIME, when))
    if number is not None and absence is not None:
        raise ValueError("encode_mdmf: expected a number or an absence reason, not both")
    if number is not None:
        if not _check_number(number, 255):
            raise ValueError(f"encode_mdmf: expected a number of digits, '*' or '#', got {number!r}")
        params.append((P_NUMBER, number))
    if absence is not None:
        if absence not in ABSENCE:
            raise ValueError(f"encode_mdmf: expected absence 'O' or 'P', got {absence!r}")
        params.append((P_NUMBER_ABSENT, absence))
    if name is not None and name_absence is not None:
        raise ValueError("encode_mdmf: expected a name or a name absence reason, not both")
    if name is not None:
        if not _check_name(name):
            raise ValueError(f"encode_mdmf: expected a name of printable ASCII, got {name!r}")
        params.append((P_NAME, name))
    if name_absence is not None:
        if name_absence not in ABSENCE:
            raise ValueError(f"encode_mdmf: expected name_absence 'O' or 'P', got {name_absence!r}")
        params.append((P_NAME_ABSENT, name_absence))
    if sum(2 + len(value) for _, value in params) > 255:
        raise ValueError("encode_mdmf: parameters exceed the 255-byte message body")
    body = b"".join(bytes((code, len(value))) + value.encode("ascii") for code, value in params)
    return _frame_message(MDMF, body, "encode_mdmf")


def _ascii(raw: bytes) -> str | None:
    return raw.decode("ascii") if all(0x20 <= b <= 0x7E for b in raw) else None


def _parse_sdmf(body: bytes) -> dict[str, str | None] | None:
    text = _ascii(body)
    if text is None or len(text) < 9 or not _check_when(text[:8]):
        return None
    rest = text[8:]
    if rest in ABSENCE:
        return {"when": text[:8], "absence": rest}
    if _check_number(rest, SDMF_MAX_DIGITS) and rest.isdigit():
        return {"when": text[:8], "number": rest}
    return None


def _parse_mdmf(body: bytes) -> dict[str, str | None] | None:
    fields: dict[str, str | None] = {}
    i = 0
    while i < len(body):
        if i + 2 > len(body) or i + 2 + body[i + 1] > len(body):
            return None
        code, value = body[i], body[i + 2:i + 2 + body[i + 1]]
        i += 2 + body[i + 1]
        text = _ascii(value)
        if code == P_DATETIME:
            key, ok = "when", text is not None and _check_when(text)
        elif code == P_NUMBER:
            key, ok = "number", text is not None and _check_number(text, 255)
        elif code == P_NUMBER_ABSENT:
            key, ok = "absence", text in ABSENCE
        elif code == P_NAME:
            # GR-30 names are printable ASCII; other bytes (a GB2312 name, say) drop the name only.
            if text is None or not _check_name(text):
                continue
            key, ok = "name", True
        elif code == P_NAME_ABSENT:
            key, ok = "name_absence", text in ABSENCE
        else:
            continue  # §4.3 lists more parameters (redirect, qualifier, call type ...): not ours
        if not ok or key in fields:
            return None
        fields[key] = text
    if ("number" in fields and "absence" in fields) or ("name" in fields and "name_absence" in fields):
        return None
    return fields


def parse_message(data: bytes | Sequence[int], standard: str, start: int = 0) -> CallerIdMessage | None:
    """CallerIdMessage from the bytes type, length, body, checksum; None for a non caller ID type."""
    if len(data) < 3 or len(data) != data[1] + 3 or sum(data) & 0xFF:
        return CallerIdMessage(standard, False, start=start)
    if data[0] in NOT_CALLER_ID:
        return None
    body = bytes(data[2:-1])
    fields = _parse_sdmf(body) if data[0] == SDMF else _parse_mdmf(body) if data[0] == MDMF else None
    if fields is None:
        return CallerIdMessage(standard, False, start=start)
    return CallerIdMessage(standard, True, start=start, **fields)


def parse_dtmf(text: str, start: int = 0) -> CallerIdMessage:
    """CallerIdMessage from DTMF caller ID text, its start marker (A, B or D) to its end (C or #)."""
    fields: dict[str, str] = {}
    key = None
    for ch in text[:-1]:
        if ch in "ABD":
            if ch in fields:
                return CallerIdMessage("dtmf", False, start=start)
            key = ch
            fields[key] = ""
        elif ch in "0123456789" and key is not None:     # not isdigit(): '²' and '٣' are no DTMF digit
            fields[key] += ch
        else:
            return CallerIdMessage("dtmf", False, start=start)
    number = absence = None
    if fields.get("A"):
        number = fields["A"]
    elif "A" in fields:
        return CallerIdMessage("dtmf", False, start=start)
    elif "D" in fields and text[-1] == "#" and fields["D"] in DTMF_D_ABSENCE:
        absence = DTMF_D_ABSENCE[fields["D"]]
    elif fields.get("D"):
        number = fields["D"]  # variant 3: D<number>C
    if "B" in fields:
        if fields["B"] not in DTMF_INFO or number is not None:
            return CallerIdMessage("dtmf", False, start=start)
        absence = DTMF_INFO[fields["B"]]
    if number is None and absence is None:
        return CallerIdMessage("dtmf", False, start=start)
    return CallerIdMessage("dtmf", True, number=number, absence=absence, start=start)
