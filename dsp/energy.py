"""Per-channel signal level in dBm0 and voice activity (talk / silence transitions) for many channels."""

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from dsp import blocks
from dsp.levels import DBM0_AMPLITUDE, RATE, dbm0_to_amplitude

# Voice activity is decided per 20 ms frame (one tick) on the frame's AC power (a DC offset is not
# speech).
FRAME = blocks.FRAME
FRAME_S = FRAME / RATE
# ITU-T P.56 method B counts speech as active above a threshold 15.9 dB (margin M) under the active
# speech level; the nominal active speech level on the network is -19 dBm0 (ITU-T G.169 / G.115,
# quoted in RFC 7874 §4). Hence -19 - 15.9 = -35 dBm0.
THRESHOLD_DBM0 = -35.0
# ITU-T P.56 hangover time H = 0.2 s: speech stays active 0.2 s after the level drops.
HANG_S = 0.2
# Talk starts after two active frames in a row, the two-block confirmation spandsp and Asterisk
# (THRESH_TALK 2, docs/standards.md §3.4) use, so a click does not count as talk.
ONSET_FRAMES = 2


@dataclasses.dataclass(frozen=True)
class VadEvent:
    """Talk (`active` True) or silence began at sample `start` of `channel`'s stream."""

    channel: int
    active: bool
    start: int


class EnergyMeter:
    """Level of each channel's block in dBm0 (power, DC included); -inf for digital silence."""

    def __init__(self, channels: int):
        self.channels = blocks.check_channels(channels, "EnergyMeter")
        self.levels = np.full(self.channels, -np.inf)

    def process(self, block: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
        """Feed int16 (channels, n >= 1); returns float64 (channels,) levels in dBm0 of this block."""
        blocks.check_block(block, self.channels, "EnergyMeter")
        n = block.shape[1]
        if not n:
            raise ValueError("EnergyMeter: expected at least one sample per channel")
        return self._levels(np.square(block.astype(np.float32)) @ np.ones(n, np.float32), n)

    def process_tick(self, analysis: blocks.Analysis) -> npt.NDArray[np.float64]:
        """Levels of one tick analysed by the shared front end; the same as process() of that tick."""
        blocks.check_analysis(analysis, self.channels, "EnergyMeter.process_tick")
        if analysis.x.shape[1] != FRAME:
            raise ValueError(f"EnergyMeter.process_tick: expected an analysis of one {FRAME}-sample tick, "
                             f"got {analysis.x.shape[1]} samples")
        return self._levels(analysis.frame_energy[:, 0], FRAME)

    def _levels(self, energy: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.float64]:
        # Mean power p is that of a sine of peak sqrt(2 p) (as levels.rms_dbm0, in fewer steps).
        power = energy.astype(np.float64)
        levels = np.full(self.channels, -np.inf)
        np.log10(power * (2.0 / n / DBM0_AMPLITUDE ** 2), out=levels, where=power > 0.0)
        self.levels = 10.0 * levels
        return self.levels

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels,
                "levels_dbm0": [round(float(v), 1) if np.isfinite(v) else None for v in self.levels]}


class VoiceActivityDetector(blocks.FramedDetector[VadEvent]):
    """Talk / silence transitions per channel: events only when a channel changes state."""

    def __init__(self, channels: int, threshold_dbm0: float = THRESHOLD_DBM0, hang_s: float = HANG_S):
        self._framer = blocks.Framer(channels, FRAME, "VoiceActivityDetector")
        self._analyser = blocks.Analyser()
        if isinstance(threshold_dbm0, bool) or not isinstance(threshold_dbm0, (int, float)) or not (
                -90.0 <= threshold_dbm0 <= 3.14):
            raise ValueError(
                f"VoiceActivityDetector: expected threshold_dbm0 in [-90, 3.14], got {threshold_dbm0!r}")
        if isinstance(hang_s, bool) or not isinstance(hang_s, (int, float)) or not 0.0 <= hang_s <= 60.0:
            raise ValueError(f"VoiceActivityDetector: expected hang_s in [0, 60] seconds, got {hang_s!r}")
        self.threshold_dbm0 = float(threshold_dbm0)
        self.hang_s = float(hang_s)
        # Frame energy of a sine at the threshold (sum of squares over a frame).
        self._min_energy = FRAME * dbm0_to_amplitude(self.threshold_dbm0) ** 2 / 2.0
        self._hang_frames = max(int(np.ceil(self.hang_s / FRAME_S)), 1)
        c = self._framer.channels
        self._frame = 0
        self._active = np.zeros(c, bool)
        self._run = np.zeros(c, np.int64)  # frames in a row that disagree with the current state
        self._need = np.full(c, ONSET_FRAMES, np.int64)  # such frames it takes to change state

    def reset(self, channel: int) -> None:
        """Put `channel` back to silence without an event (its sample index keeps counting)."""
        ch = blocks.check_channel(channel, self.channels, "VoiceActivityDetector.reset")
        self._active[ch] = False
        self._run[ch] = 0
        self._need[ch] = ONSET_FRAMES

    def _detect(self, analysis: blocks.Analysis) -> list[VadEvent]:
        loud = analysis.ac_energy >= self._min_energy
        events: list[VadEvent] = []
        for f in range(loud.shape[1]):
            # Count frames that contradict the state; flip once enough of them come in a row.
            self._run = (self._run + 1) * (loud[:, f] != self._active)
            flip = (self._run >= self._need).nonzero()[0]
            if flip.size:
                active = ~self._active[flip]
                self._active[flip] = active
                self._need[flip] = np.where(active, self._hang_frames, ONSET_FRAMES)
                starts = (self._frame + 1 - self._run[flip]) * FRAME
                self._run[flip] = 0
                events += map(VadEvent, flip.tolist(), active.tolist(), starts.tolist())
            self._frame += 1
        return events

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels, "active": [int(c) for c in np.flatnonzero(self._active)]}
