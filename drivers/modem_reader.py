"""A voice modem's input: result lines in command state; audio and shielded events in voice data state."""

from __future__ import annotations

import enum
from collections.abc import Callable

from . import v253

# A line longer than this in command state is noise, not a modem answer.
MAX_LINE = 256


class Stream(str, enum.Enum):
    NONE = "none"              # command state
    DUPLEX = "duplex"          # AT+VTR
    RX = "rx"                  # AT+VRX: modem -> box
    TX = "tx"                  # AT+VTX: box -> modem


class ModemReader:
    """Splits what a modem sends into its parts and hands each to the line: a result line, a <DLE>
    event, received audio (as bytes), a line too long to be an answer. Knows which stream is up."""

    def __init__(self, on_line: Callable[[str], None], on_dle: Callable[[v253.DleEvent], None],
                 on_audio: Callable[[bytes], None], on_long_line: Callable[[], None]):
        self._on_line, self._on_dle, self._on_audio, self._on_long_line = on_line, on_dle, on_audio, on_long_line
        self.stream = Stream.NONE
        self.stopping = False       # a command ending the stream was sent: audio from now on is dropped
        self._carry = b""
        self._line = bytearray()
        self._line_dle = False
        self._dle = v253.DleDecoder()

    def reset(self) -> None:
        """Back to command state with nothing half read (a new port, a modem reset)."""
        self.stream = Stream.NONE
        self.stopping = False
        self._carry = b""
        self._line.clear()
        self._line_dle = False
        self._dle.reset()

    def start_stream(self, stream: Stream) -> None:
        """CONNECT came: the modem is in voice data state."""
        self.stream = stream
        self._dle.reset()

    def stop_sent(self) -> None:
        """A command that ends the stream went out."""
        self.stopping = self.stream != Stream.NONE
        self._carry = b""

    def feed(self, data: bytes) -> bytes:
        """Take bytes up to a change of state; returns the bytes after it (b"" once all are taken)."""
        return self._feed_lines(data) if self.stream == Stream.NONE else self._feed_stream(data)

    def _feed_stream(self, data: bytes) -> bytes:
        """Voice data state: audio and shielded events; returns the bytes after the stream's end."""
        audio, events, rest = self._dle.feed(data)
        if self.stopping and rest is None:
            # Some modems end a stream with OK and no <DLE><ETX> (Conexant <DLE>^, docs/standards.md §11.6).
            self._carry = (self._carry + data)[-4096:]
            k = self._carry.find(b"\r\nOK\r")
            if k >= 0:
                rest = self._carry[k:]
        for ev in events:
            if ev.name != "end":
                self._on_dle(ev)
        if audio and not self.stopping and self.stream in (Stream.RX, Stream.DUPLEX):
            self._on_audio(audio)
        if rest is None:
            return b""
        self.stream, self.stopping, self._carry = Stream.NONE, False, b""
        self._dle.reset()
        return rest

    def _feed_lines(self, data: bytes) -> bytes:
        """Command state: result lines, and <DLE> events seen between them (mgetty read.c)."""
        i, n = 0, len(data)
        while i < n:
            b = data[i]
            i += 1
            if self._line_dle:
                self._line_dle = False
                code = chr(b)
                self._on_dle(v253.DleEvent(code, v253.DCE_EVENTS.get(code, "unknown")
                                           if code not in v253.DTMF_DIGITS else "dtmf"))
            elif b == v253.DLE:
                self._line_dle = True
            elif b in (0x0D, 0x0A):
                raw = bytes(self._line)
                self._line.clear()
                if raw.strip():
                    self._on_line(raw.decode("ascii", "replace"))
                    if self.stream != Stream.NONE:
                        return data[i:]
            elif len(self._line) < MAX_LINE:
                self._line.append(b)
            else:
                self._on_long_line()
                self._line.clear()
        return b""
