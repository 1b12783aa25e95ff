"""V.253 voice modems over pyserial: the Driver over a board's modems, one analog line per modem."""
# The driver's modules, each with one job: modem_port (the serial port's thread, finding and reopening
# the device), modem_reader (result lines, audio and shielded events out of the modem's bytes),
# modem_chat (AT command scripts stepped by the tick), jitter_buffer (received audio played out
# evenly), modem_line (one line's state machine, calls and audio) and this one (the lines as a Driver,
# emulated modems started for "emulator:<modem>" ports).

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import serial

from dsp.tones import TonePlan

from . import modem_quirks
from .channel import (
    TICK_SAMPLES,
    ChannelError,
    ChannelEvent,
    ChannelSpec,
    Driver,
    LineTest,
)
from .modem_line import LineConfig, ModemLine
from .modem_quirks import ModemModel

if TYPE_CHECKING:
    from .modem_emulator import ModemEmulator

__all__ = ["LineConfig", "VoiceModemDriver", "VoiceModemError"]


class VoiceModemError(Exception):
    """A voice modem line cannot be set up as configured; the message names the line or device."""


class VoiceModemDriver(Driver):
    """Voice modems, one per line; lines named in the board profile, found by path, by USB id or emulated."""

    name = "voice_modem"

    def __init__(self, lines: list[LineConfig], table: dict[str, ModemModel] | None = None,
                 port_factory: Callable[..., serial.Serial] = serial.Serial,
                 clock: Callable[[], float] = time.monotonic, emulated_tones: TonePlan | None = None):
        """`emulated_tones`: the tone plan of the network the emulated lines (port "emulator:<modem>")
        belong to: the dial tone they carry off-hook (None: no tone)."""
        if not lines:
            raise VoiceModemError("voice_modem: a driver needs at least one line")
        names = [c.name for c in lines]
        if len(set(names)) != len(names):
            raise VoiceModemError(f"voice_modem: line names repeat: {names}")
        self.table = table or modem_quirks.known()
        self.configs = lines
        for c in lines:
            if c.port.startswith("emulator:") and c.port.split(":", 1)[1] not in self.table:
                raise VoiceModemError(f"voice_modem: {c.name}: no modem {c.port.split(':', 1)[1]!r} "
                                      f"in the modem table ({', '.join(self.table)})")
        self._clock = clock
        self._claimed: set[str] = set()
        self.lines = [ModemLine(i, c, self.table, port_factory, clock, self._claimed)
                      for i, c in enumerate(lines)]
        self.emulators: dict[int, ModemEmulator] = {}
        self._emulated_tones = emulated_tones
        self._emu_dir: str | None = None

    def specs(self) -> list[ChannelSpec]:
        return [ChannelSpec(c.name, c.kind, c.port) for c in self.configs]

    def start(self) -> None:
        emulated = [(i, c) for i, c in enumerate(self.configs) if c.port.startswith("emulator:")]
        if emulated:
            from .modem_emulator import ModemEmulator
            self._emu_dir = tempfile.mkdtemp(prefix="branchline-modems-")
            for i, c in emulated:
                model = c.port.split(":", 1)[1]
                emu = ModemEmulator(self.table[model], serial_number=f"EMU{i + 1:04d}",
                                    link_dir=self._emu_dir, tones=self._emulated_tones)
                emu.start()
                self.emulators[i] = emu
                self.lines[i].cfg = LineConfig(c.name, emu.link, c.kind, c.number)
        # Every line's first attempt is now; a missing device is an alarm on the first tick.
        now = self._clock()
        for line in self.lines:
            line.poll(now, np.zeros(TICK_SAMPLES, np.int16), np.zeros(TICK_SAMPLES, np.int16))

    def exchange(self, tx: npt.NDArray[np.int16], rx: npt.NDArray[np.int16]) -> list[ChannelEvent]:
        now = self._clock()
        events: list[ChannelEvent] = []
        for i, line in enumerate(self.lines):
            line.poll(now, tx[i], rx[i])
            if line.events:
                events.extend(line.events)
                line.events = []
        return events

    def _line(self, channel: int) -> ModemLine:
        if not 0 <= channel < len(self.lines):
            raise ChannelError(f"voice_modem: no line {channel} ({len(self.lines)} lines)")
        return self.lines[channel]

    def answer(self, channel: int) -> None:
        self._line(channel).answer()

    def hangup(self, channel: int) -> None:
        self._line(channel).hangup()

    def dial(self, channel: int, number: str) -> None:
        self._line(channel).dial(number)

    def test_line(self, channel: int, seconds: float, plan: TonePlan) -> LineTest:
        """Line test: off-hook, listen `seconds` for `plan`'s dial tone; the LineTest and status() report
        it, and a line without it is an alarm."""
        if not 0.5 <= seconds <= 60.0:
            raise ChannelError(f"voice_modem: line test of {seconds} s: use 0.5-60 s")
        return self._line(channel).test_line(seconds, plan)

    def status(self) -> dict[str, Any]:
        return {"driver": self.name, "lines": [line.status() for line in self.lines]}

    def close(self) -> None:
        for line in self.lines:
            line.close()
        for emu in self.emulators.values():
            emu.stop()
        if self._emu_dir is not None:
            shutil.rmtree(self._emu_dir, ignore_errors=True)
            self._emu_dir = None
