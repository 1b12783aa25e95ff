"""ALSA PCM audio for lines (pyalsaaudio 0.11): multi-channel 8 kHz capture and playback in 160-frame periods."""
# A line board or E1 card whose audio is an ALSA device carries every line in one interleaved PCM; the
# board profile maps lines to its channels. Signalling travels elsewhere (the card's control port), so
# this driver carries audio only. Its blocking period read paces the box (profile clock "hardware").

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from dsp import g711

from .channel import TICK_SAMPLES, ChannelError, ChannelEvent, ChannelKind, ChannelSpec, Driver, EventKind

log = logging.getLogger(__name__)

RATE = 8000
PERIOD = TICK_SAMPLES
# Four periods of buffer (80 ms): the experiment's setting in docs/standards.md §13.2.
PERIODS = 4
# Playback starts with two periods of silence queued, so one late tick does not underrun.
PREFILL_PERIODS = 2
# docs/standards.md §13.1: overrun on read / underrun on write come back as -EPIPE.
EPIPE = -32
RECONNECT_MIN_S, RECONNECT_MAX_S = 1.0, 30.0
# An xrun storm is a period lost every tick: the first xrun is logged at once, then at most one line
# this often with the count, so the log stays readable and within its size (firmware/core/logfiles.py).
XRUN_LOG_S = 60.0
FORMATS = ("S16_LE", "MU_LAW", "A_LAW")


class _Pcm(Protocol):
    """What is used of an alsaaudio.PCM (or a test's stand-in)."""

    def read(self) -> tuple[int, bytes]: ...
    def write(self, data: bytes) -> int: ...
    def info(self) -> dict[str, object]: ...
    def drop(self) -> None: ...
    def close(self) -> None: ...


class AlsaError(Exception):
    """An ALSA PCM cannot be opened as asked or failed; the message names the device."""


def _alsaaudio():
    import alsaaudio
    return alsaaudio


def _decode(fmt: str, data: bytes) -> np.ndarray:
    if fmt == "MU_LAW":
        return g711.ulaw_decode(np.frombuffer(data, np.uint8))
    if fmt == "A_LAW":
        return g711.alaw_decode(np.frombuffer(data, np.uint8))
    return np.frombuffer(data, "<i2").astype(np.int16)


def _encode(fmt: str, samples: np.ndarray) -> bytes:
    if fmt == "MU_LAW":
        return g711.ulaw_encode(samples).tobytes()
    if fmt == "A_LAW":
        return g711.alaw_encode(samples).tobytes()
    return samples.astype("<i2").tobytes()


class PcmPort:
    """One PCM direction opened with keyword arguments only and checked through `info()` (docs/standards.md §13.1)."""

    def __init__(self, direction: str, device: str, channels: int, fmt: str, module=None,
                 clock: Callable[[], float] = time.monotonic):
        if direction not in ("capture", "playback"):
            raise AlsaError(f"alsa {device}: direction {direction!r} is neither capture nor playback")
        if fmt not in FORMATS:
            raise AlsaError(f"alsa {device}: format {fmt!r} is not one of {', '.join(FORMATS)}")
        self.direction, self.device, self.channels, self.fmt = direction, device, channels, fmt
        self._aa = module
        self.pcm: _Pcm | None = None
        self.overruns = self.underruns = 0
        self._clock = clock
        self._xrun_log_at = float("-inf")
        self._xruns_unlogged = 0

    @property
    def alsaaudio(self):
        """The pyalsaaudio module this port uses (a stand-in in tests), imported on first use."""
        return self._aa or _alsaaudio()

    def open(self) -> None:
        aa = self.alsaaudio
        try:
            # docs/standards.md §13.1: the C keyword order differs from the docs, so keywords always.
            pcm = aa.PCM(type=aa.PCM_CAPTURE if self.direction == "capture" else aa.PCM_PLAYBACK,
                         mode=aa.PCM_NORMAL, device=self.device, rate=RATE, channels=self.channels,
                         format=getattr(aa, f"PCM_FORMAT_{self.fmt}"), periodsize=PERIOD, periods=PERIODS)
        except aa.ALSAAudioError as exc:
            raise AlsaError(f"alsa {self.device}: cannot open for {self.direction}: {exc}") from None
        # docs/standards.md §13.1: set-up errors are ignored by pyalsaaudio and values read back; a plugin may
        # also swap the format silently (route turns MU_LAW into S8, §13.2).
        info = pcm.info()
        want = {"rate": RATE, "channels": self.channels, "format_name": self.fmt, "period_size": PERIOD}
        wrong = [f"{k} {v} asked, got {info.get(k)}" for k, v in want.items() if info.get(k) != v]
        if wrong:
            pcm.close()
            raise AlsaError(f"alsa {self.device}: {self.direction} refused the set-up: {'; '.join(wrong)}")
        self.pcm = pcm
        if self.direction == "playback":
            silence = np.zeros(PERIOD * self.channels, np.int16)
            for _ in range(PREFILL_PERIODS):
                pcm.write(_encode(self.fmt, silence))

    def read(self) -> np.ndarray:
        """One period, (channels, 160) int16; an overrun is counted and read as silence."""
        n, data = self._open_pcm().read()
        out = np.zeros((self.channels, PERIOD), np.int16)
        if n == EPIPE:
            # docs/standards.md §13.1: pyalsaaudio 0.11 re-prepares the stream itself; the period is lost.
            self.overruns += 1
            self._xrun("overrun: a period of the lines' audio lost", self.overruns)
            return out
        if n > 0:
            frames = _decode(self.fmt, data).reshape(-1, self.channels)[:PERIOD]
            out[:, :frames.shape[0]] = frames.T
        return out

    def write(self, frames: np.ndarray) -> None:
        """One period, (channels, 160) int16, interleaved; an underrun is counted and the period resent."""
        data = _encode(self.fmt, np.ascontiguousarray(frames.T).ravel())
        pcm = self._open_pcm()
        if pcm.write(data) == EPIPE:
            # docs/standards.md §13.1: on underrun the data was not written; the stream is re-prepared.
            self.underruns += 1
            if pcm.write(data) == EPIPE:
                self.underruns += 1
            self._xrun("underrun: the period written again", self.underruns)

    def _xrun(self, what: str, total: int) -> None:
        """Log an xrun: the first at once, then at most one line every XRUN_LOG_S with those since."""
        self._xruns_unlogged += 1
        now = self._clock()
        if now < self._xrun_log_at:
            return
        log.warning("alsa %s: %s %s (%d since the last report, %d in all)", self.device, self.direction, what,
                    self._xruns_unlogged, total)
        self._xruns_unlogged = 0
        self._xrun_log_at = now + XRUN_LOG_S

    def _open_pcm(self) -> _Pcm:
        if self.pcm is None:
            raise AlsaError(f"alsa {self.device}: {self.direction} is not open")
        return self.pcm

    def close(self) -> None:
        if self.pcm is not None:
            pcm, self.pcm = self.pcm, None
            aa = self.alsaaudio
            try:
                if self.direction == "playback":
                    pcm.drop()       # a NORMAL-mode playback close would block until drained
                pcm.close()
            except aa.ALSAAudioError as exc:     # closing a device that failed must not raise
                log.debug("alsa %s: close: %s", self.device, exc)


@dataclass(frozen=True)
class AlsaLine:
    name: str
    slot: int                      # the PCM channel that carries this line
    kind: ChannelKind = ChannelKind.TRUNK


class AlsaDriver(Driver):
    """Lines whose audio is channels of one ALSA capture PCM and one playback PCM."""

    name = "alsa"

    def __init__(self, capture: str, playback: str, channels: int, fmt: str, lines: list[AlsaLine],
                 module=None, clock: Callable[[], float] = time.monotonic):
        if not lines:
            raise AlsaError(f"alsa {capture}: a driver needs at least one line")
        slots = [ln.slot for ln in lines]
        if len(set(slots)) != len(slots) or not all(0 <= s < channels for s in slots):
            raise AlsaError(f"alsa {capture}: line slots {slots} must be distinct and within 0..{channels - 1}")
        self.lines = lines
        self.capture = PcmPort("capture", capture, channels, fmt, module, clock)
        self.playback = PcmPort("playback", playback, channels, fmt, module, clock)
        self._slots = np.array(slots, np.intp)
        self._out = np.zeros((channels, PERIOD), np.int16)
        self._clock = clock
        self._events: list[ChannelEvent] = []
        self.alarm: str | None = None
        self.reopens = 0
        self._retry_at = 0.0
        self._backoff = RECONNECT_MIN_S

    def specs(self) -> list[ChannelSpec]:
        return [ChannelSpec(ln.name, ln.kind, f"{self.capture.device}:{ln.slot}") for ln in self.lines]

    def start(self) -> None:
        self._open()

    def _open(self) -> None:
        try:
            self.capture.open()
            self.playback.open()
        except AlsaError as exc:
            self.capture.close()
            self.playback.close()
            self._fail(str(exc))
            return
        self._backoff = RECONNECT_MIN_S
        if self.alarm is not None:
            log.warning("alsa %s: back in service", self.capture.device)
            self.alarm = None
            self._events += [ChannelEvent(i, EventKind.ALARM, {"active": False, "reason": ""})
                             for i in range(len(self.lines))]

    def _fail(self, reason: str) -> None:
        """The whole PCM is out: every line on it in alarm, a reopen scheduled (never a sleep)."""
        if reason != self.alarm:
            log.error("%s", reason)
            self._events += [ChannelEvent(i, EventKind.ALARM, {"active": True, "reason": reason})
                             for i in range(len(self.lines))]
        self.alarm = reason
        self._retry_at = self._clock() + self._backoff
        self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)

    def exchange(self, tx: np.ndarray, rx: np.ndarray) -> list[ChannelEvent]:
        if self.capture.pcm is None:
            rx[:] = 0
            if self._clock() >= self._retry_at:
                self.reopens += 1
                self._open()
        else:
            aa = self.capture.alsaaudio
            try:
                frames = self.capture.read()
                rx[:] = frames[self._slots]
                self._out[self._slots] = tx
                self.playback.write(self._out)
            except aa.ALSAAudioError as exc:
                # A USB card pulled out reads as ENODEV (docs/standards.md §13.2 ⚠): the lines wait in alarm.
                self.capture.close()
                self.playback.close()
                rx[:] = 0
                self._fail(f"alsa {self.capture.device}: failed: {exc}")
        events, self._events = self._events, []
        return events

    def answer(self, channel: int) -> None:
        raise ChannelError(f"alsa: {self.lines[channel].name} carries audio only; answering is the line card's")

    def hangup(self, channel: int) -> None:
        """Nothing to release: the audio path has no hook state."""

    def dial(self, channel: int, number: str) -> None:
        raise ChannelError(f"alsa: {self.lines[channel].name} carries audio only; dialling is the line card's")

    def status(self) -> dict:
        state = "alarm" if self.alarm else "running"
        counters = {"calls": 0, "dtmf": 0, "resets": self.reopens,
                    "overruns": self.capture.overruns, "underruns": self.playback.underruns}
        return {"driver": self.name, "capture": self.capture.device, "playback": self.playback.device,
                "format": self.capture.fmt, "channels": self.capture.channels,
                "lines": [{"line": ln.name, "kind": ln.kind.value, "driver": self.name,
                           "device": f"{self.capture.device}:{ln.slot}", "state": state, "last_caller_id": None,
                           "alarm": self.alarm, "counters": counters} for ln in self.lines]}

    def close(self) -> None:
        self.capture.close()
        self.playback.close()
