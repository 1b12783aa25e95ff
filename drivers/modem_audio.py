"""A voice modem line's audio: received bytes decoded into the jitter buffer, the box's audio held back
until a stream can take it, the half-duplex turn by voice activity, and digits regenerated into it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from dsp import tonegen
from dsp.energy import HANG_S, THRESHOLD_DBM0
from dsp.levels import dbm0_to_amplitude

from . import v253
from .channel import TICK_SECONDS
from .jitter_buffer import JitterBuffer
from .modem_reader import Stream

# Audio the box sends before the voice stream is up (answer, direction switch) waits this long.
TX_BACKLOG_TICKS = 25
# Half duplex turns to transmit when the box's audio is voice (dsp/energy: P.56 threshold) and back
# to receive after the P.56 hangover plus one tick of silence.
VOICE_PEAK = dbm0_to_amplitude(THRESHOLD_DBM0)
HANGOVER_TICKS = round(HANG_S / TICK_SECONDS) + 1
# Half duplex: a digit the modem reports while the box transmits is regenerated into the receive
# audio (ITU-T Q.24 minimum 40 ms; 80 ms at the sim's -10 dBm0) so the box's own detector, the one
# source of digits, hears it.
REGEN_ON_S, REGEN_OFF_S, REGEN_DBM0 = 0.08, 0.06, -10.0


class LineAudio:
    """The audio state of one modem line; the line decides when a stream is up and which way it runs."""

    def __init__(self) -> None:
        self.jitter = JitterBuffer()
        self.dropped_tx = 0
        self._backlog: deque[bytes] = deque(maxlen=TX_BACKLOG_TICKS)
        self._quiet_ticks = 0
        self._regen = np.zeros(0, np.int16)
        self._odd = b""                        # a 16-bit sample's first byte, until its second comes

    def reset(self) -> None:
        """Nothing held, nothing half received (a new port, a modem reset)."""
        self._odd = b""
        self.jitter.reset()
        self._backlog.clear()
        self._regen = np.zeros(0, np.int16)

    def stream_started(self, stream: Stream, write: Callable[[bytes], None]) -> None:
        """A stream came up: receiving starts afresh; audio held for it goes out if it transmits."""
        self._odd = b""
        self.jitter.reset()
        if stream in (Stream.DUPLEX, Stream.TX) and self._backlog:
            write(b"".join(self._backlog))
        self._backlog.clear()

    def decode(self, codec: v253.Codec, data: bytes) -> npt.NDArray[np.int16]:
        """The samples in received bytes; a 16-bit sample split between reads waits for its second byte."""
        if codec.width == 2:
            data = self._odd + data
            cut = len(data) - len(data) % 2
            data, self._odd = data[:cut], data[cut:]
        return v253.decode_audio(codec, data)

    def regenerate(self, digit: str) -> None:
        tone = tonegen.dtmf_string(digit, REGEN_ON_S, REGEN_OFF_S, REGEN_DBM0)
        self._regen = np.concatenate([self._regen, tonegen.to_int16(tone)])

    def receive(self, rx: npt.NDArray[np.int16], playing: bool) -> None:
        """One tick into `rx`: the jitter buffer's if a receiving stream is `playing`, else silence;
        regenerated digits over it."""
        if playing:
            self.jitter.pop(rx)
        else:
            rx[:] = 0
        if self._regen.size:
            k = min(self._regen.size, rx.size)
            rx[:k] = self._regen[:k]
            self._regen = self._regen[k:]

    def hold(self, frame: bytes) -> None:
        """Keep a frame until a stream can take it; the oldest goes when the backlog is full."""
        if len(self._backlog) == self._backlog.maxlen:
            self.dropped_tx += 1
        self._backlog.append(frame)

    def drop_held(self) -> None:
        self._backlog.clear()

    @staticmethod
    def loud(tx: npt.NDArray[np.int16]) -> bool:
        """The box's tick is voice (P.56 threshold)."""
        return int(np.abs(tx.astype(np.int32)).max(initial=0)) >= VOICE_PEAK

    def quiet_long_enough(self, tx: npt.NDArray[np.int16]) -> bool:
        """While transmitting: the box has been silent for the hangover, so the line may turn back."""
        self._quiet_ticks = 0 if self.loud(tx) else self._quiet_ticks + 1
        return self._quiet_ticks >= HANGOVER_TICKS

    def turned_to_transmit(self) -> None:
        self._quiet_ticks = 0
