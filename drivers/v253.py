"""ITU-T V.253 voice modem protocol: result lines, +VSM lists, caller ID lines, DLE shielding both ways."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import numpy as np

from dsp import g711

DLE, ETX, SUB, CAN, NUL = 0x10, 0x03, 0x1A, 0x18, 0x00
_DLE_B = bytes([DLE])

# Host -> modem control sequences (docs/standards.md §11.3).
END_TX = bytes([DLE, ETX])                   # end of transmit data, modem answers OK (IS_101 stop_play)
ABORT_TX = bytes([DLE, CAN, DLE, ETX])       # clear the transmit buffer and end (IS_101 intr_play)


class V253Error(ValueError):
    """A modem answer that cannot be used: an unparseable +VSM list, no usable codec."""


# --- result lines ---------------------------------------------------------------------------------
class LineKind(str, enum.Enum):
    OK = "ok"
    ERROR = "error"
    CONNECT = "connect"
    VCON = "vcon"                # V.253 voice connection (also #VCON, VOICE: mgetty analyze.c)
    RING = "ring"                # value: distinctive variant ("", "1".."5", "A".."E")
    NO_CARRIER = "no_carrier"
    BUSY = "busy"
    NO_DIALTONE = "no_dialtone"
    NO_ANSWER = "no_answer"
    RINGING = "ringing"          # ringback while dialling
    CALLER_ID = "callerid"       # key: DATE TIME NMBR NAME MESG ERRM NDID; value: the field
    CADENCE = "cadence"          # DRON/DROF distinctive ring, CPON/CPOF, CWON/CWOF (key, value)
    IGNORED = "ignored"          # lines mgetty analyze.c ignores: ASTB, SITT, Z...
    TEXT = "text"                # anything else: the answer to ATI, +VSM=? ... or an unexpected line


# Results that end a command (mgetty command.c / analyze.c).
FINAL = frozenset({LineKind.OK, LineKind.ERROR, LineKind.CONNECT, LineKind.VCON, LineKind.NO_CARRIER,
                   LineKind.BUSY, LineKind.NO_DIALTONE, LineKind.NO_ANSWER})


@dataclass(frozen=True)
class Line:
    kind: LineKind
    text: str
    key: str = ""
    value: str = ""


_RESULTS = {
    "OK": LineKind.OK, "ERROR": LineKind.ERROR, "CONNECT": LineKind.CONNECT,
    "VCON": LineKind.VCON, "#VCON": LineKind.VCON, "VOICE": LineKind.VCON,
    "NO CARRIER": LineKind.NO_CARRIER, "BUSY": LineKind.BUSY,
    "NO DIALTONE": LineKind.NO_DIALTONE, "NO DIAL TONE": LineKind.NO_DIALTONE,
    "NO ANSWER": LineKind.NO_ANSWER, "RINGING": LineKind.RINGING,
}
# RING, RING1..RING5 (V.253 distinctive ring) and RINGA..RINGE (mgetty analyze.c).
_RING = re.compile(r"^RING ?([1-5A-E]?)$")
# IS-101 +VCID=1 formatted report: "TAG = value", spaces optional on either side (docs/standards.md §11.4,
# mgetty cnd.c matches both). DDN_NMBR and NDID name the called number.
_CID_TAG = re.compile(r"^(DATE|TIME|NMBR|NAME|MESG|ERRM|DDN_NMBR|NDID)\s*=\s?(.*)$")
# Other vendor forms mgetty cnd.c parses (docs/standards.md §11.4).
_CID_VENDOR = (
    (re.compile(r"^CALLER NUMBER:\s*(.*)$"), "NMBR"),     # ZyXEL 1496
    (re.compile(r"^CALLER NAME:\s*(.*)$"), "NAME"),       # ZyXEL 1496
    (re.compile(r"^FM:\s*(.*)$"), "NMBR"),                # ZyXEL 2864
    (re.compile(r"^CallerID:\s*(.*)$"), "NMBR"),
    (re.compile(r"^RING;\s*(.+)$"), "NMBR"),              # ELSA: the number on the RING line
)
# 3GPP 27.007 §7.18: +CLIP: "<number>",<type>[,<subaddr>,<satype>,<alpha>,<CLI validity>].
_CLIP = re.compile(r'^\+CLIP:\s*"([^"]*)"\s*(?:,\s*(\d+))?(?:,\s*"?([^",]*)"?)?(?:,\s*(\d+))?'
                   r'(?:,\s*"([^"]*)")?(?:,\s*(\d+))?')
_CADENCE = re.compile(r"^(DRON|DROF|CPON|CPOF|CWON|CWOF)\s*=\s*(\d+)$")
_IGNORED = re.compile(r"^(ASTB|SITT|Z\b)")
# mgetty cnd.c: quotes and non-printables in caller ID values become spaces.
_UNPRINTABLE = re.compile(r'[^\x20-\x7e]|"')


def _clean(value: str) -> str:
    return _UNPRINTABLE.sub(" ", value).strip()


def parse_line(text: str) -> Line:
    """One line from the modem (without CR/LF) classified; never raises."""
    s = text.strip()
    kind = _RESULTS.get(s)
    if kind is not None:
        return Line(kind, s)
    m = _RING.match(s)
    if m:
        return Line(LineKind.RING, s, value=m.group(1))
    m = _CID_TAG.match(s)
    if m:
        return Line(LineKind.CALLER_ID, s, m.group(1), _clean(m.group(2)))
    for pattern, key in _CID_VENDOR:
        m = pattern.match(s)
        if m:
            return Line(LineKind.CALLER_ID, s, key, _clean(m.group(1)))
    m = _CLIP.match(s)
    if m:
        # CLI validity: 0 valid, 1 withheld by the caller, 2 not available (27.007 §7.18).
        validity = m.group(6)
        if validity in ("1", "2"):
            return Line(LineKind.CALLER_ID, s, "NMBR", "P" if validity == "1" else "O")
        return Line(LineKind.CALLER_ID, s, "NMBR", _clean(m.group(1)))
    m = _CADENCE.match(s)
    if m:
        return Line(LineKind.CADENCE, s, m.group(1), m.group(2))
    if _IGNORED.match(s):
        return Line(LineKind.IGNORED, s)
    return Line(LineKind.TEXT, s)


# --- caller ID --------------------------------------------------------------------------------------
# IS-101 (docs/standards.md §11.4): NMBR/NAME "P" = private, "O" = out of area / unavailable, as GR-30's
# absence codes (the same letters dsp/callerid reports).
ABSENCE = ("P", "O")


class CallerIdReport:
    """Caller ID fields gathered from the report lines that follow a RING."""

    def __init__(self):
        self.fields: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self.fields)

    def add(self, line: Line) -> None:
        self.fields[line.key] = line.value

    def event_data(self) -> dict:
        """{number, name, when (MMDDHHMM), absence, name_absence, called}, as dsp/callerid reports them."""
        f = self.fields
        number, name = f.get("NMBR", ""), f.get("NAME", "")
        absence = number if number in ABSENCE else None
        name_absence = name if name in ABSENCE else None
        if "ERRM" in f:
            absence = absence or "O"
        date, time = f.get("DATE", ""), f.get("TIME", "")
        when = date + time if re.fullmatch(r"\d{4}", date) and re.fullmatch(r"\d{4}", time) else None
        return {"number": None if absence or not number else number,
                "name": None if name_absence or not name else name,
                "when": when, "absence": absence, "name_absence": name_absence,
                "called": f.get("NDID") or f.get("DDN_NMBR") or None}


# --- +VSM: voice compression methods ---------------------------------------------------------------
class Codec(str, enum.Enum):
    ULAW = "ulaw"
    ALAW = "alaw"
    S16LE = "s16le"
    U8 = "u8"
    S8 = "s8"

    @property
    def width(self) -> int:
        return 2 if self is Codec.S16LE else 1


# The box's preference: G.711 keeps 13-14 bits of range in one byte per sample (dsp/g711); 16-bit
# linear doubles the byte rate and the DLE doubling; 8-bit linear keeps 8 bits.
PREFERENCE = (Codec.ULAW, Codec.ALAW, Codec.S16LE, Codec.U8, Codec.S8)
RATE = 8000


@dataclass(frozen=True)
class VoiceCodec:
    cml: int
    name: str
    bits: int
    rates: tuple[int, ...]       # rates listed; a range "a-b" is kept as its two ends
    ranges: bool = False

    @property
    def codec(self) -> Codec | None:
        """The sample format by name, as mgetty V253_querry_compressions maps them (docs/standards.md §11.2)."""
        name = self.name.upper()
        if name in ("ULAW", "G.711U", "G711U"):
            return Codec.ULAW
        if name in ("ALAW", "G.711A", "G711A"):
            return Codec.ALAW
        if name == "SIGNED PCM":
            return {8: Codec.S8, 16: Codec.S16LE}.get(self.bits)
        if name in ("UNSIGNED PCM", "8-BIT LINEAR") and self.bits == 8:
            return Codec.U8
        if name in ("LINEAR", "16-BIT LINEAR") and self.bits == 16:
            return Codec.S16LE
        return None

    @classmethod
    def known(cls, cml: int, codec: Codec, rate: int = 8000) -> "VoiceCodec":
        """An entry for a +VSM id known from the modem table rather than from AT+VSM=?."""
        name, bits = {Codec.ULAW: ("ULAW", 8), Codec.ALAW: ("ALAW", 8), Codec.S16LE: ("LINEAR", 16),
                      Codec.U8: ("UNSIGNED PCM", 8), Codec.S8: ("SIGNED PCM", 8)}[codec]
        return cls(cml, name, bits, (rate,))

    def supports(self, rate: int) -> bool:
        if self.ranges:
            return self.rates[0] <= rate <= self.rates[-1]
        return rate in self.rates


# <cml>,"<name>",<bits>,<tm>,(<rates>),(<scs>),(<sel>)  (V.253 +VSM=?, docs/standards.md §11.1); the rate list
# may be a parenthesised list, a range, or a bare number.
_VSM = re.compile(r'^\s*(\d+)\s*,\s*"([^"]*)"\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\([^)]*\)|[\d-]+)')


def _rates(field: str) -> tuple[tuple[int, ...], bool]:
    body = field.strip("()").strip()
    if not body:
        return (), False
    if "-" in body and "," not in body:
        lo, hi = body.split("-", 1)
        return (int(lo), int(hi)), True
    return tuple(int(r) for r in body.split(",") if r.strip()), False


def parse_vsm_line(text: str) -> VoiceCodec:
    m = _VSM.match(text)
    if not m:
        raise V253Error(f"not a +VSM=? entry: {text!r}")
    try:
        rates, ranges = _rates(m.group(5))
    except ValueError:
        # A garbled rate list ("(8000-)", "(8000,a)": line noise) is not an entry, not a crash.
        raise V253Error(f"not a +VSM=? entry: {text!r}") from None
    return VoiceCodec(int(m.group(1)), m.group(2).strip(), int(m.group(3)), rates, ranges)


def parse_vsm_list(lines: list[str]) -> list[VoiceCodec]:
    """The answer to AT+VSM=? (lines before OK); lines that are not entries are left out."""
    out = []
    for text in lines:
        try:
            out.append(parse_vsm_line(text))
        except V253Error:
            continue
    return out


def choose_codec(codecs: list[VoiceCodec], rate: int = RATE,
                 preference: tuple[Codec, ...] = PREFERENCE) -> VoiceCodec:
    """The best codec the box can decode at `rate`, chosen by name, never by vendor number."""
    usable = {c.codec: c for c in reversed(codecs) if c.codec is not None and c.supports(rate)}
    for codec in preference:
        if codec in usable:
            return usable[codec]
    names = ", ".join(f'{c.cml} "{c.name}"' for c in codecs) or "none"
    raise V253Error(f"no codec the box decodes at {rate} Hz among: {names}")


def decode_audio(codec: Codec, data: bytes) -> np.ndarray:
    """Modem voice bytes -> int16 samples (len(data) must be a multiple of the sample width)."""
    raw = np.frombuffer(data, np.uint8)
    if codec is Codec.ULAW:
        return g711.ulaw_decode(raw)
    if codec is Codec.ALAW:
        return g711.alaw_decode(raw)
    if codec is Codec.U8:
        # 8-bit linear is unsigned, silence 0x80 (docs/standards.md §11.2, callattendant).
        return ((raw.astype(np.int16) - 128) << 8).astype(np.int16)
    if codec is Codec.S8:
        return (raw.view(np.int8).astype(np.int16) << 8).astype(np.int16)
    return np.frombuffer(data, "<i2").astype(np.int16)


def encode_audio(codec: Codec, samples: np.ndarray) -> bytes:
    """int16 samples -> modem voice bytes."""
    x = np.asarray(samples, np.int16)
    if codec is Codec.ULAW:
        return g711.ulaw_encode(x).tobytes()
    if codec is Codec.ALAW:
        return g711.alaw_encode(x).tobytes()
    if codec is Codec.U8:
        return ((x >> 8) + 128).astype(np.uint8).tobytes()
    if codec is Codec.S8:
        return (x >> 8).astype(np.int8).tobytes()
    return x.astype("<i2").tobytes()


# --- DLE shielding ---------------------------------------------------------------------------------
# Modem -> host shielded codes (docs/standards.md §11.3, mgetty IS_101_handle_dle, USR/ZyXEL/Si2493 manuals).
DCE_EVENTS = {
    "b": "busy", "K": "busy",
    "d": "dialtone", "i": "dialtone",
    "s": "silence",               # no voice at start, then silence longer than +VSD: presumed hang-up
    "q": "quiet",                 # voice, then silence longer than +VSD: presumed end of message
    "c": "fax_calling", "m": "fax_calling",
    "e": "data_calling", "f": "data_calling",
    "a": "answer_tone",
    "R": "ring", "r": "ringback",
    "h": "handset_onhook", "H": "handset_offhook", "p": "handset_onhook", "P": "handset_offhook",
    "l": "loop_drop", "L": "polarity_reversal",
    "J": "sit", "$": "bong", "w": "call_waiting", "t": "tdd",
    "v": "voice", "V": "voice",
    "o": "rx_overrun", "u": "tx_underrun", "T": "timing_mark",
    "E": "invalid_format", "Y": "lost_data",
    "Q": "xon", "S": "xoff",
    "/": "dtmf_start", "~": "dtmf_end",
}
DTMF_DIGITS = "0123456789*#ABCD"
# Host -> modem codes (docs/standards.md §11.3) as the modem (the emulator) reads them.
DTE_COMMANDS = {
    "!": "end_rx",        # IS_101 stop_rec: the modem answers <DLE><ETX> then OK
    "^": "end_duplex",    # V253modem.c: ends +VTR (Conexant: also ends +VRX)
    "\x18": "clear_tx",   # <DLE><CAN>
    "p": "pause", "r": "resume", "u": "volume_up", "d": "volume_down",
    "\x00": "nop",        # refreshes the inactivity timer (ZyXEL)
}


@dataclass(frozen=True)
class DleEvent:
    code: str
    name: str            # "dtmf" for digits, "end" for <ETX>, "unknown" for codes not in the table
    payload: bytes = b""  # the text of a complex event packet <DLE>X ... <DLE>.


# A complex event report carries caller ID lines (DATE, TIME, NMBR, NAME: under 200 bytes); a "packet"
# five times that is a <DLE>X made by noise, with no <DLE>. to come.
MAX_PACKET = 1024


class DleDecoder:
    """Streaming decoder of a DLE-shielded byte stream: data bytes and shielded codes, in order.

    Survives reads split anywhere, also between <DLE> and its code (docs/standards.md §11.3).
    <DLE><DLE> is one data 0x10, <DLE><SUB> two of them; codes in `ends` stop the stream and the
    bytes after them are handed back untouched (command-state text).
    """

    def __init__(self, table: dict[str, str] | None = None, ends: frozenset[str] = frozenset({"\x03"}),
                 shielding: bool = True):
        self.table = DCE_EVENTS if table is None else table
        self.ends = ends
        # DTMF shielding (<DLE>/ ... <DLE>~): IS-101 repeats the digit; only the first report counts.
        self.shielding = shielding
        self._dle = False
        self._in_dtmf = False
        self._dtmf_seen = False
        self._packet: bytearray | None = None

    def reset(self) -> None:
        self._dle = self._in_dtmf = self._dtmf_seen = False
        self._packet = None

    def _keep(self, data: bytes, out: bytearray, events: list[DleEvent]) -> None:
        """Data bytes into the open event packet, else out. A packet past MAX_PACKET was none: its
        bytes go back to the data, so the call's audio goes on, and <DLE>X is reported unknown."""
        if self._packet is None:
            out += data
            return
        self._packet += data
        if len(self._packet) > MAX_PACKET:
            out += self._packet
            self._packet = None
            events.append(DleEvent("X", "unknown"))

    def feed(self, data: bytes) -> tuple[bytes, list[DleEvent], bytes | None]:
        """-> (data bytes, events, rest): `rest` is None while the stream goes on, else the bytes
        after an ending code (possibly empty)."""
        out = bytearray()
        events: list[DleEvent] = []
        i, n = 0, len(data)
        while i < n:
            if not self._dle:
                j = data.find(_DLE_B, i)
                end = n if j < 0 else j
                self._keep(data[i:end], out, events)
                if j < 0:
                    break
                self._dle = True
                i = j + 1
                continue
            self._dle = False
            b = data[i]
            i += 1
            code = chr(b)
            if b == DLE:
                self._keep(b"\x10", out, events)
            elif b == SUB:
                self._keep(b"\x10\x10", out, events)
            elif code in self.ends:
                events.append(DleEvent(code, "end"))
                self.reset()
                return bytes(out), events, data[i:]
            elif code == "X" and self.table is DCE_EVENTS:
                # Si2493 complex event report: <DLE>X <text> <DLE>. (docs/standards.md §11.3, ⚠ vendor).
                self._packet = bytearray()
            elif code == "." and self._packet is not None:
                events.append(DleEvent("X", "packet", bytes(self._packet)))
                self._packet = None
            elif code in DTMF_DIGITS and self.table is DCE_EVENTS:
                if self._in_dtmf and self._dtmf_seen:
                    continue
                self._dtmf_seen = self._in_dtmf
                events.append(DleEvent(code, "dtmf"))
            elif self.shielding and code == "/" and self.table is DCE_EVENTS:
                self._in_dtmf, self._dtmf_seen = True, False
            elif self.shielding and code == "~" and self.table is DCE_EVENTS:
                self._in_dtmf = self._dtmf_seen = False
            else:
                events.append(DleEvent(code, self.table.get(code, "unknown")))
        return bytes(out), events, None


def shield(data: bytes) -> bytes:
    """Host -> modem voice data: every 0x10 doubled (IS_101_play_file, docs/standards.md §11.3)."""
    return data.replace(_DLE_B, b"\x10\x10")


def dle(code: str) -> bytes:
    """One shielded code, <DLE><code>."""
    return _DLE_B + code.encode("latin-1")
