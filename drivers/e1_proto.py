"""The E1 card's control protocol (docs/e1-card.md): framing with CRC-8, commands, answers, events."""
# A pure protocol module, as drivers/v253.py is for modems: lines in, parsed messages out, and the
# lines to send; no port, no clock. Both the host (drivers/e1_card.py) and the card's emulator
# (drivers/e1_emulator.py) use it.

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

# docs/e1-card.md §1: at most 200 bytes a line with its LF.
MAX_LINE = 200
# G.704: voice timeslots of a CAS E1; TS0 carries framing, TS16 the CAS multiframe.
VOICE_TIMESLOTS: tuple[int, ...] = tuple(range(1, 16)) + tuple(range(17, 32))
# DAHDI's idle bits for an unopened R2 channel: blocked towards the far end (docs/e1-card.md §3 BOOT).
BLOCKED = "1101"
DEFECTS = ("LOS", "LOF", "LMFA", "AIS", "RAI")
LOOPS = ("off", "local", "remote", "payload")
TAG_MAX = 9999
SEQ_MOD = 65536
DEBOUNCE_MS_RANGE = (2, 100)
FAILSAFE_S_RANGE = (1, 60)
COUNTERS = ("bpv", "crc", "ebit", "fas", "slips")
CONFIG_KEYS = {"framing": ("cas", "ccs"), "crc4": ("on", "off"), "code": ("hdb3", "ami"),
               "clock": ("line", "internal")}


class E1ProtocolError(ValueError):
    """A line that is not in the protocol; the message says why."""


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8 = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8, polynomial 0x07 (x^8+x^2+x+1, the ITU-T I.432.1 HEC polynomial), initial 0, not reflected."""
    crc = 0
    for b in data:
        crc = _CRC8[crc ^ b]
    return crc


def frame(body: str) -> bytes:
    """One line on the wire: the body, `*`, its CRC-8 in two hex digits, LF."""
    raw = body.encode("ascii")
    line = raw + b"*%02X\n" % crc8(raw)
    if len(line) > MAX_LINE:
        raise E1ProtocolError(f"line of {len(line)} bytes is over {MAX_LINE}: {body[:40]!r}...")
    return line


def unframe(line: bytes) -> str:
    """The body of one received line (without its LF); E1ProtocolError if it is not a valid line."""
    line = line.rstrip(b"\r")
    if len(line) + 1 > MAX_LINE:
        raise E1ProtocolError(f"line of {len(line) + 1} bytes is over {MAX_LINE}")
    if len(line) < 3 or line[-3:-2] != b"*":
        raise E1ProtocolError("no CRC")
    body, check = line[:-3], line[-2:]
    if any(c not in b"0123456789ABCDEF" for c in check):
        raise E1ProtocolError("CRC not upper-case hex")
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise E1ProtocolError("not ASCII") from None
    want = int(check, 16)
    if crc8(body) != want:
        raise E1ProtocolError(f"CRC {check.decode()} wrong, {crc8(body):02X} computed")
    if any(not 0x20 <= b < 0x7F for b in body):
        raise E1ProtocolError("control characters")
    return text


class LineSplitter:
    """Bytes from the port in, complete lines out; an overlong line is cut off and reported once."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | None]:
        """The complete lines in order; None stands for a line dropped for its length."""
        out: list[bytes | None] = []
        self._buf += data
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                if len(self._buf) >= MAX_LINE:
                    self._buf.clear()
                    if not self._discarding:
                        out.append(None)
                    self._discarding = True
                return out
            line = bytes(self._buf[:nl])
            del self._buf[:nl + 1]
            if self._discarding:
                self._discarding = False
                continue
            out.append(line)

    def reset(self) -> None:
        self._buf.clear()
        self._discarding = False


# --- values ---------------------------------------------------------------------------------------
_ABCD = re.compile(r"^[01]{4}$")


def check_abcd(value: str) -> str:
    """An ABCD value as sent, `0000` refused: it would imitate the TS16 multiframe alignment signal
    (ITU-T G.704 §5.1.3.2)."""
    if not _ABCD.match(value):
        raise E1ProtocolError(f"ABCD {value!r} is not four bits")
    if value == "0000":
        raise E1ProtocolError("ABCD 0000 is forbidden (it imitates the TS16 multiframe alignment)")
    return value


def check_timeslot(ts: int) -> int:
    if ts not in VOICE_TIMESLOTS:
        raise E1ProtocolError(f"timeslot {ts} is not a voice timeslot (1-15, 17-31)")
    return ts


def pack_cas(values: list[str]) -> str:
    """30 ABCD values (timeslots 1-15, 17-31) as 30 hex digits, A the most significant bit."""
    if len(values) != len(VOICE_TIMESLOTS):
        raise E1ProtocolError(f"{len(values)} ABCD values for {len(VOICE_TIMESLOTS)} timeslots")
    return "".join("%X" % int(check_abcd(v), 2) for v in values)


def unpack_cas(text: str) -> list[str]:
    if len(text) != len(VOICE_TIMESLOTS) or not re.fullmatch(r"[0-9A-F]+", text):
        raise E1ProtocolError(f"CAS list {text!r} is not {len(VOICE_TIMESLOTS)} hex digits")
    return [check_abcd(format(int(c, 16), "04b")) for c in text]


# --- messages -------------------------------------------------------------------------------------
class Kind(str, enum.Enum):
    COMMAND = "command"   # host -> card: tag, verb, args
    ANSWER = "answer"     # card -> host: tag, ok, args / reason
    EVENT = "event"       # card -> host: seq, name, args


@dataclass(frozen=True)
class Message:
    kind: Kind
    number: int                  # the tag of a command or answer, the seq of an event
    word: str                    # the verb, "OK" / "ERR", or the event's name
    args: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict)   # k=v arguments

    @property
    def ok(self) -> bool:
        return self.kind == Kind.ANSWER and self.word == "OK"


def _split_values(args: list[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    plain, values = [], {}
    for a in args:
        if "=" in a:
            k, _, v = a.partition("=")
            values[k] = v
        else:
            plain.append(a)
    return tuple(plain), values


def parse(body: str) -> Message:
    """A framed line's body as a Message; E1ProtocolError if it is not in the grammar."""
    words = body.split(" ")
    if len(words) < 2 or "" in words:
        raise E1ProtocolError(f"not a message: {body!r}")
    if words[0] == "!":
        if len(words) < 3 or not words[1].isdigit() or int(words[1]) >= SEQ_MOD:
            raise E1ProtocolError(f"event without a sequence number: {body!r}")
        args, values = _split_values(words[3:])
        return Message(Kind.EVENT, int(words[1]), words[2], args, values)
    if not words[0].isdigit() or not 1 <= int(words[0]) <= TAG_MAX:
        raise E1ProtocolError(f"no tag: {body!r}")
    args, values = _split_values(words[2:])
    if words[1] in ("OK", "ERR"):
        return Message(Kind.ANSWER, int(words[0]), words[1], args, values)
    if not words[1].isupper():
        raise E1ProtocolError(f"no verb: {body!r}")
    return Message(Kind.COMMAND, int(words[0]), words[1], args, values)


def render(msg: Message) -> str:
    head = "!" if msg.kind == Kind.EVENT else ""
    parts = ([head, str(msg.number)] if head else [str(msg.number)]) + [msg.word, *msg.args]
    parts += [f"{k}={v}" for k, v in msg.values.items()]
    return " ".join(parts)


def command(tag: int, verb: str, *args: str, **values: str) -> bytes:
    return frame(render(Message(Kind.COMMAND, tag, verb, tuple(args), dict(values))))


def answer(tag: int, ok: bool, *args: str, **values: str) -> bytes:
    return frame(render(Message(Kind.ANSWER, tag, "OK" if ok else "ERR", tuple(args), dict(values))))


def event(seq: int, name: str, *args: str, **values: str) -> bytes:
    return frame(render(Message(Kind.EVENT, seq % SEQ_MOD, name, tuple(args), dict(values))))


def parse_defects(args: tuple[str, ...]) -> frozenset[str]:
    """`DEFECT LOS,AIS` / `DEFECT NONE` -> the set; unknown names refused."""
    if len(args) != 1:
        raise E1ProtocolError(f"DEFECT takes one list, not {args!r}")
    if args[0] == "NONE":
        return frozenset()
    names = frozenset(args[0].split(","))
    unknown = names - set(DEFECTS)
    if unknown:
        raise E1ProtocolError(f"unknown defects {sorted(unknown)}")
    return names


def render_defects(defects: frozenset[str] | set[str]) -> str:
    return ",".join(d for d in DEFECTS if d in defects) or "NONE"


def parse_counters(values: dict[str, str]) -> dict[str, int]:
    try:
        return {k: int(values[k]) for k in COUNTERS}
    except (KeyError, ValueError):
        raise E1ProtocolError(f"counters {values!r} are not {', '.join(COUNTERS)}") from None
