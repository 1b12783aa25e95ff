"""A fax machine's V.21 HDLC flags on a line that answered a number the box dialled (ITU-T T.30, V.21).

A called fax machine sends CED (dsp/faxtone.py) and then, or some machines at once, its DIS preceded
by a second of HDLC flags (T.30's preamble: 1 s +- 15 % of flags) on V.21 channel 2: FSK at
300 bit/s, mark (1) 1650 Hz, space (0) 1850 Hz (V.21 §2). A flag 0x7E is six marks between two spaces,
so repeated flags give a line held on mark three quarters of the time and changing frequency twice
every 8 bits (26.7 ms). Per 20 ms frame the detector mixes the line down from 1750 Hz, takes the
instantaneous frequency's sign (mark below, space above) and counts mark samples and changes; the
flags are reported once FLAG_FRAMES frames in a row are held in the band and, together, have the
flags' share of mark and rate of changes. Speech and music spread their power far wider than the
band (BAND_SHARE), and a steady tone has no changes.

Only channels armed by start() are analysed, for LISTEN_S after the answer.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

from dsp import blocks
from dsp.faxtone import FaxToneEvent
from dsp.levels import RATE, dbm0_to_amplitude

FRAME = blocks.FRAME
MARK_HZ, SPACE_HZ = 1650.0, 1850.0
BIT_S = 1.0 / 300.0
CENTRE_HZ = (MARK_HZ + SPACE_HZ) / 2.0
# A moving average of 2 ms: its nulls every 500 Hz remove the mixing image at 3500 Hz, and it passes
# the +-100 Hz of the two tones with under 1 dB of loss.
_SMOOTH = 16
# Share of the frame's power that the band around the tones must hold.
BAND_SHARE = 0.7
# 200 ms of flags (7.5 flags): well inside T.30's 1 s preamble.
FLAG_FRAMES = 10
# Mark share of repeated flags is 6/8; the changes are 2 per flag (8 bits), about 1.3 in the 137
# samples a frame leaves after the average and the lag.
# Measured on clean flags: 0.70-0.73 of mark and 2.0-2.6 changes a frame (the 1 ms lag and the 2 ms
# average blur each change, and a few count twice), so the windows sit around those figures.
MARK_SHARE = (0.6, 0.85)
CHANGES_PER_FRAME = (1.0, 3.0)
# T.30: CED lasts 2.6-4 s and the flags follow it after 75 ms; 10 s also leaves room for the silent
# delay a called machine may keep before its CED.
LISTEN_S = 10.0
# spandsp's V.21 receiver carrier-on threshold is about -45 dBm0; a few dB above that here.
LEVEL_MIN_DBM0 = -43.0
_MIN_ENERGY = FRAME * dbm0_to_amplitude(LEVEL_MIN_DBM0) ** 2 / 2.0
_MIX = np.exp(-2j * np.pi * CENTRE_HZ * np.arange(FRAME) / RATE).astype(np.complex64)
# The frequency's sign from the phase turned over 1 ms (8 samples): a tone 100 Hz off the centre turns
# 0.63 rad in that time, well clear of the wobble the leftover mixing image adds (about 0.2 rad).
_LAG = 8
# Samples a frame's frequency is read at, after the average and the lag.
_SENSED = FRAME - _SMOOTH + 1 - _LAG
_ONES = np.ones(FRAME, np.float32)


class V21FlagDetector(blocks.FramedDetector[FaxToneEvent]):
    """V.21 channel 2 HDLC flags on the channels armed by start(); events are FaxToneEvent 'v21'."""

    def __init__(self, channels: int):
        self._framer = blocks.Framer(channels, FRAME, "V21FlagDetector")
        self._analyser = blocks.Analyser()
        c = self._framer.channels
        self._frame = 0
        self._until = np.full(c, -1, np.int64)   # the frame armed channels listen up to
        self._run = np.zeros(c, np.int64)        # in-band frames in a row
        self._marks = np.zeros(c, np.int64)      # over the run: mark samples and changes
        self._changes = np.zeros(c, np.int64)

    def start(self, channel: int) -> None:
        """Listen to `channel` for LISTEN_S from its next frame (a dialled number answered)."""
        ch = blocks.check_channel(channel, self.channels, "V21FlagDetector.start")
        self._until[ch] = self._frame + int(LISTEN_S * RATE / FRAME)
        self._run[ch] = self._marks[ch] = self._changes[ch] = 0

    def reset(self, channel: int) -> None:
        ch = blocks.check_channel(channel, self.channels, "V21FlagDetector.reset")
        self._until[ch] = -1

    def _detect(self, analysis: blocks.Analysis) -> list[FaxToneEvent]:
        frames = analysis.x.reshape(self.channels, -1, FRAME)
        events: list[FaxToneEvent] = []
        for f in range(frames.shape[1]):
            armed = (self._until >= self._frame).nonzero()[0]
            if armed.size:
                events += self._step(armed, frames[armed, f], analysis.ac_energy[armed, f])
            self._frame += 1
        return events

    def _step(self, chans: npt.NDArray[np.int64], x: npt.NDArray[np.float32],
              energy: npt.NDArray[np.float32]) -> list[FaxToneEvent]:
        # Only frames loud enough are looked at; a quiet frame breaks a run.
        loud = energy >= _MIN_ENERGY
        held = np.zeros(chans.size, bool)
        marks = np.zeros(chans.size, np.int64)
        changes = np.zeros(chans.size, np.int64)
        rows = loud.nonzero()[0]
        if rows.size:
            y = x[rows]
            base = (y - (y @ _ONES)[:, None] / FRAME) * _MIX
            # The band's signal: the mixed-down samples averaged over 2 ms, every row at once (running sums).
            run = np.cumsum(base, axis=1)
            band = np.concatenate([run[:, _SMOOTH - 1:_SMOOTH], run[:, _SMOOTH:] - run[:, :-_SMOOTH]], axis=1)
            band /= _SMOOTH
            share = 2.0 * (np.square(band.real) + np.square(band.imag)).mean(axis=1) * FRAME / energy[rows]
            mark = np.angle(band[:, _LAG:] * np.conj(band[:, :-_LAG])) < 0.0
            held[rows] = share >= BAND_SHARE
            marks[rows] = np.count_nonzero(mark, axis=1)
            changes[rows] = np.count_nonzero(mark[:, 1:] != mark[:, :-1], axis=1)
        self._run[chans] = np.where(held, self._run[chans] + 1, 0)
        self._marks[chans] = np.where(held, self._marks[chans] + marks, 0)
        self._changes[chans] = np.where(held, self._changes[chans] + changes, 0)
        events = []
        for ch in chans[self._run[chans] >= FLAG_FRAMES].tolist():
            n = int(self._run[ch])
            share_marked = self._marks[ch] / (n * _SENSED)
            per_frame = self._changes[ch] / n
            if (MARK_SHARE[0] <= share_marked <= MARK_SHARE[1]
                    and CHANGES_PER_FRAME[0] <= per_frame <= CHANGES_PER_FRAME[1]):
                events.append(FaxToneEvent(int(ch), "v21", (self._frame + 1 - n) * FRAME))
                self._until[ch] = -1
        return events

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels, "listening": [int(c) for c in np.flatnonzero(self._until >= self._frame)]}
