"""Shared per-tick front end: one analysis of the tick for every detector, and the set that runs them all."""

from typing import Any

import numpy as np
import numpy.typing as npt

from dsp import blocks, callerid, faxtone, tones
from dsp.amd import AmdEvent, AnsweringMachineDetector
from dsp.callerid import CallerIdEvent, CallerIdReceiver
from dsp.dtmf import DtmfDetector, DtmfEvent
from dsp.energy import EnergyMeter, VadEvent, VoiceActivityDetector
from dsp.faxtone import FaxToneDetector, FaxToneEvent
from dsp.tones import CallProgressDetector, ToneEvent, TonePlan
from dsp.v21 import V21FlagDetector

TICK = blocks.FRAME  # 20 ms at 8 kHz, the engine's tick

DetectorEvent = DtmfEvent | ToneEvent | CallerIdEvent | FaxToneEvent | VadEvent | AmdEvent


class TickAnalyser:
    """One tick of every channel in, the blocks.Analysis every per-tick detector reads out.

    The tick is converted to float once and correlated once with each detector's columns (5 ms
    sub-blocks: 1100 / 2100 Hz on their 2.5 ms halves; the frame: the tone plan's frequencies; the
    first half frame: the caller ID bins); energies and DC are taken once, when the first detector
    asks. One product per detector, not one per time scale: a slice of a stacked product is a strided
    array, and the detectors' arithmetic on it cost more than the matrix-product calls it saved
    (measured at 120 channels). The DTMF receiver correlates the samples itself, with columns that
    change from sub-block to sub-block (dsp.dtmf._BASES), straight into its own store.
    """

    def __init__(self, channels: int, plan: TonePlan):
        self.channels = blocks.check_channels(channels, "TickAnalyser")
        if not isinstance(plan, TonePlan):
            raise ValueError(f"TickAnalyser: expected a TonePlan (dsp.tones.plan_from_dict), got {plan!r}")
        self.plan = plan
        self._analyser = blocks.Analyser(faxtone.BASIS, tones.probes(plan).basis, callerid.GATE_BASIS)

    def analyse(self, block: npt.NDArray[np.int16]) -> blocks.Analysis:
        """blocks.Analysis of one tick: int16 (channels, TICK)."""
        blocks.check_block(block, self.channels, "TickAnalyser")
        if block.shape[1] != TICK:
            raise ValueError(
                f"TickAnalyser: expected one tick of {TICK} samples per channel, got {block.shape[1]}")
        return self._analyser.analyse(block)


class DetectorSet:
    """Every per-tick detector of the box on the shared front end: a tick in, all their events out.

    Gives the same events, detector by detector, as feeding each detector's process() the same
    ticks (call progress with `repeat`: answered lines are supervised by a tone's repeated periods);
    `levels` holds each channel's level in dBm0 over the last tick.
    """

    def __init__(self, channels: int, plan: TonePlan):
        self.analyser = TickAnalyser(channels, plan)
        c = self.analyser.channels
        self.dtmf = DtmfDetector(c)
        self.progress = CallProgressDetector(c, plan, repeat=True)
        self.callerid = CallerIdReceiver(c)
        self.fax = FaxToneDetector(c)
        self.meter = EnergyMeter(c)
        self.vad = VoiceActivityDetector(c)
        # What answered a number the box dialled: idle (and free) until screen() arms a channel.
        self.amd = AnsweringMachineDetector(c)
        self.v21 = V21FlagDetector(c)
        self._detectors = (self.dtmf, self.progress, self.callerid, self.fax, self.vad, self.amd, self.v21)

    @property
    def channels(self) -> int:
        return self.analyser.channels

    def retune(self, plan: TonePlan) -> None:
        """Listen for another network's call-progress tones from the next tick. Only the call-progress
        detector starts afresh (a tone being timed is timed anew); DTMF, caller ID, fax, levels and
        voice activity keep their state, as the shared analysis serves them by their own bases."""
        analyser = TickAnalyser(self.channels, plan)
        self.analyser = analyser
        self.progress = CallProgressDetector(self.channels, plan, repeat=True)
        self._detectors = (self.dtmf, self.progress, self.callerid, self.fax, self.vad, self.amd, self.v21)

    @property
    def levels(self) -> npt.NDArray[np.float64]:
        return self.meter.levels

    def process(self, block: npt.NDArray[np.int16]) -> list[DetectorEvent]:
        """Feed one tick, int16 (channels, TICK); returns the DtmfEvents, ToneEvents, CallerIdEvents,
        FaxToneEvents, VadEvents, AmdEvents and V.21 flags (FaxToneEvent 'v21') it completed, in that order."""
        analysis = self.analyser.analyse(block)
        self.meter.process_tick(analysis)
        events: list[DetectorEvent] = []
        for det in self._detectors:
            events += det.process_tick(analysis)
        return events

    def screen(self, channel: int) -> None:
        """A number dialled on `channel` has answered: listen for what answered it (a person, a
        machine and its beep, a fax machine's V.21 flags)."""
        channel = blocks.check_channel(channel, self.channels, "DetectorSet.screen")
        self.amd.start(channel)
        self.v21.start(channel)

    def reset(self, channel: int) -> None:
        """Forget `channel`'s state in every detector (a new call on the line); as each detector's
        reset(), DTMF starts then count from the reset, the others' from the set's creation."""
        channel = blocks.check_channel(channel, self.channels, "DetectorSet.reset")
        for det in self._detectors:
            det.reset(channel)

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels, "plan": self.analyser.plan.name,
                "receiving_callerid": self.callerid.status()["receiving"],
                "talking": self.vad.status()["active"]}
