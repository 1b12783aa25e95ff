"""Caller ID (CLIP/CND): Bell 202 and V.23 FSK or DTMF bursts, GR-30 / EN 300 659 messages, both ways."""

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dsp import blocks, dtmf, tonegen
from dsp.callerid_message import CallerIdMessage, parse_dtmf, parse_message
from dsp.levels import RATE, dbm0_to_amplitude

BAUD = 1200
SAMPLES_PER_BIT = RATE / BAUD

# docs/standards.md §4.1: (mark "1", space "0") in Hz. Bell 202 per Telcordia GR-30 (spandsp preset "Bell202",
# Asterisk CALLERID_MARK/SPACE); V.23 mode 2 per ETSI EN 300 659 (spandsp "V23 ch 1", Asterisk 1300/2100).
MODEMS = {"bell202": (1200.0, 2200.0), "v23": (1300.0, 2100.0)}
# Both modems put mark below and space above 1700 Hz, so one discriminator threshold decodes either;
# the mark frequency measured on the preamble tells them apart (1200 vs 1300 Hz, split at 1250). A
# run counts as marks only if its median frequency is within 100 Hz of one of them: YDN 069 asks
# +-1 % (+-12 Hz, §4.1), and silence or noise read by the discriminator is far outside.
CENTRE_HZ = 1700.0
MARK_SPLIT_HZ = 1250.0
MARK_BAND_HZ = (1100.0, 1400.0)

# §4.2 framing: channel seizure of 300 alternating bits, then 180 mark bits (80 off-hook), async 8N1
# LSB first; spandsp appends 5 mark bits after the last stop bit (postamble_ones_len).
POSTAMBLE_BITS = 5
# A message starts at the first start bit after a run of marks. spandsp restarts acquisition after
# more than 10 marks; we ask for 40, half the shortest specified mark (80 bits off-hook, §4.2), so a
# burst of speech or noise that merely looks like 1200 Hz for a few ms never opens a message.
MARK_MIN_BITS = 40
# Marks allowed between two characters of one message before it counts as cut short (restart rule
# of spandsp adsi_rx_put_bit, §4.2: more than 10 marks begin a new acquisition).
GAP_MAX_BITS = 10

# Burst detection per 20 ms frame (one tick), judged on the frame's first 10 ms with DFT bins 100 Hz
# apart. Level: spandsp's Bell 202 preset receives down to -30 dBm0 (§4.1); we open 10 dB lower for
# line loss. Spectrum: an FSK burst keeps >= 0.9 of its power in 1000-2400 Hz (both modems; checked
# in tests/dsp/test_callerid.py), white noise 0.35, speech frames 0.8 at most (espeak-ng speech).
FRAME = blocks.FRAME
HALF = blocks.HALF
CARRIER_MIN_DBM0 = -40.0
FSK_BAND_HZ = (1000.0, 2400.0)
FSK_BAND_MIN = 0.8
# DTMF caller ID opens with 'A', 'B' or 'D' (§4.4): column tone 1633 Hz, row tone 697-941 Hz (Q.23,
# §1.1). The pair must hold 0.8 of the power (spandsp's DTMF receiver asks -0.85 dB, §2), and the
# weaker tone its share at the 8 dB twist limit (Q.24 via §1.2). While a burst is held open, frames
# with 0.8 of their power in the DTMF band 650-1700 Hz count as part of it.
DTMF_ROW_BAND_HZ = (650.0, 1000.0)
DTMF_A_COLUMN_HZ = (1575.0, 1725.0)
DTMF_BAND_HZ = (650.0, 1700.0)
DTMF_PAIR_MIN = 0.8
DTMF_TONE_MIN = DTMF_PAIR_MIN / (1.0 + 10.0 ** (8.0 / 10.0))
# A burst opens on its third FSK frame in a row (60 ms; the preamble alone lasts 400 ms) or its
# second DTMF-marker frame (40 ms, the DTMF minimum of §1.2): speech gives single frames, rarely
# pairs [measured on espeak-ng speech, firmware/tools/bench_dsp.py]. The capture keeps the frames before.
FSK_OPEN_FRAMES = 3
DTMF_OPEN_FRAMES = 2
PREROLL_FRAMES = 3
# A burst closes after 0.3 s without signal: longer than the 55 ms DTMF pause (spandsp, §1.1) and
# the inter-character marks of FSK; it is cut at 3.2 s, the longest MDMF (300 + 180 + 258 x 10 bits
# = 2.55 s) with margin.
CLOSE_FRAMES = 15
MAX_CAPTURE_FRAMES = 160

# DTMF caller ID (§4.4): start markers, terminators, and spandsp's 10 s message timeout.
DTMF_START = frozenset("ABD")
DTMF_END = frozenset("C#")
DTMF_TIMEOUT = 10 * RATE
# spandsp DTMF generator defaults (§1.1): -10 dBm0 per tone, 50 ms on, 55 ms off.
DTMF_LEVEL_DBM0 = -10.0
DTMF_ON_S = 0.05
DTMF_OFF_S = 0.055

# Discriminator front end: a band-pass over both modems' tones and their 600 Hz keying sidebands, a
# 3rd-order Butterworth (maximally flat in the band) designed through the bilinear transform.
BANDPASS_ORDER = 3
BANDPASS_HZ = (800.0, 2600.0)


def _gate_basis() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    # DFT bins of each half frame (100 Hz apart) as cos / -sin column pairs, and a matrix that sums
    # their powers per band (FSK, DTMF row, DTMF 'A' column, DTMF, and row + column), scaled so a
    # band's share of the half frame's energy comes out (Parseval: a bin's |X|^2 counts twice out of
    # HALF * energy).
    bands = (FSK_BAND_HZ, DTMF_ROW_BAND_HZ, DTMF_A_COLUMN_HZ, DTMF_BAND_HZ)
    step = RATE / HALF
    bins = np.arange(int(np.ceil(min(b[0] for b in bands) / step)), int(max(b[1] for b in bands) / step) + 1)
    n = np.arange(HALF)
    basis = np.ones((HALF, bins.size, 2), np.float32)
    basis[..., 0] = np.cos(2.0 * np.pi * np.outer(n, bins) / HALF)
    basis[..., 1] = -np.sin(2.0 * np.pi * np.outer(n, bins) / HALF)
    member = np.array([(bins * step >= lo) & (bins * step <= hi) for lo, hi in bands], np.float32).T
    member = np.hstack((member, member[:, 1:2] + member[:, 2:3]))
    return basis.reshape(HALF, -1), np.repeat(member, 2, axis=0) * np.float32(2.0 / HALF)


GATE_BASIS, _GATE_BANDS = _gate_basis()
# Share of the half frame's energy each band must hold (the columns of _GATE_BANDS).
_GATE_SHARES = np.array([FSK_BAND_MIN, DTMF_TONE_MIN, DTMF_TONE_MIN, DTMF_PAIR_MIN, DTMF_PAIR_MIN],
                        np.float32)
# Each band's power over its share: at least the half frame's energy where the band holds its share.
_GATE_TESTS = _GATE_BANDS / _GATE_SHARES
_GATE = blocks.Analyser(GATE_BASIS)
_MIN_ENERGY = HALF * dbm0_to_amplitude(CARRIER_MIN_DBM0) ** 2 / 2.0


@dataclasses.dataclass
class _Capture:
    """A burst being captured on one channel."""

    first: int  # its first sample, on the channel's stream
    frames: list[npt.NDArray[np.number]]
    quiet: int = 0  # frames in a row without signal


@dataclasses.dataclass(frozen=True)
class CallerIdEvent:
    channel: int
    message: CallerIdMessage


# ---------------------------------------------------------------- FSK physical layer

def _check_standard(standard: str, what: str) -> None:
    if standard not in MODEMS:
        raise ValueError(f"{what}: expected standard 'bell202' or 'v23', got {standard!r}")


def fsk_burst(message_bytes: bytes, standard: str = "bell202", level_dbm0: float = -13.5, seizure_bits: int = 300,
              mark_bits: int = 180) -> npt.NDArray[np.float64]:
    """Phase-continuous FSK samples (float64, 8 kHz) of seizure, marks, 8N1 characters and postamble."""
    _check_standard(standard, "fsk_burst")
    if int(seizure_bits) < 0 or int(mark_bits) < 0:
        raise ValueError("fsk_burst: expected seizure_bits >= 0 and mark_bits >= 0")
    data = np.frombuffer(bytes(message_bytes), dtype=np.uint8)
    chars = np.unpackbits(data[:, None], axis=1, bitorder="little")
    framed = np.hstack((np.zeros((data.size, 1), np.uint8), chars, np.ones((data.size, 1), np.uint8)))
    bits = np.concatenate((
        np.arange(int(seizure_bits)) % 2,  # §4.2 channel seizure 0101...
        np.ones(int(mark_bits), np.int64),
        framed.ravel(),
        np.ones(POSTAMBLE_BITS, np.int64),
    ))
    n = int(np.ceil(bits.size * SAMPLES_PER_BIT))
    mark, space = MODEMS[standard]
    freq = np.where(bits[np.arange(n) * BAUD // RATE] == 1, mark, space)
    phase = 2.0 * np.pi * np.cumsum(freq) / RATE
    return dbm0_to_amplitude(level_dbm0) * np.sin(phase - phase[0])


def _carrier(analysis: blocks.Analysis) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per-frame flags (fsk, dtmf_start, dtmf_like), each (channels, frames), of an Analysis.

    Judged on each frame's first half: bursts last far longer than 10 ms, and the halved work is
    what lets every idle or talking channel carry the gate."""
    energy = analysis.half_ac_energy
    z = analysis.product(GATE_BASIS, "CallerIdReceiver").reshape(-1, GATE_BASIS.shape[1])
    # Shares of the AC energy (a DC offset is not a carrier); a quiet frame passes no test.
    floor = np.where(energy >= _MIN_ENERGY, energy, np.inf).reshape(-1, 1)
    held = (np.square(z) @ _GATE_TESTS >= floor).reshape(*energy.shape, _GATE_SHARES.size)
    return held[..., 0], held[..., 1] & held[..., 2] & held[..., 4], held[..., 3]


def bandpass_power(freqs: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """|H(f)|^2 of the discriminator's band-pass at `freqs` Hz: the band-pass prototype's
    1 / (1 + u^2N) at the bilinear transform's warped frequency, the response of the filter that
    scipy.signal.butter(BANDPASS_ORDER, BANDPASS_HZ, "bandpass", fs=RATE) designs."""
    lo, hi = (2.0 * RATE * np.tan(np.pi * f / RATE) for f in BANDPASS_HZ)
    w = 2.0 * RATE * np.tan(np.pi * np.abs(np.asarray(freqs, dtype=np.float64)) / RATE)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        u = (w * w - lo * hi) / (w * (hi - lo))
        power = 1.0 / (1.0 + u ** (2 * BANDPASS_ORDER))
    return np.nan_to_num(power)   # 0 at DC and at half the sample rate, where u is infinite


def _discriminate(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Instantaneous frequency (Hz) of the band-passed signal, lightly smoothed; len(x) samples."""
    # The band-pass run forward and backward (zero phase, so edges are not delayed) and the Hilbert
    # transform as one spectrum: |H|^2 on the positive frequencies, doubled, none on the negative
    # ones gives the analytic signal of the filtered stretch. Zero-padded to twice its length so the
    # filter's tails do not wrap around; the stretch carries a frame of margin either side for them.
    size = 2 * x.size
    half = np.fft.rfft(x, size) * (2.0 * bandpass_power(np.fft.rfftfreq(size, 1.0 / RATE)))
    z = np.fft.ifft(np.concatenate((half, np.zeros(size - half.size))))[:x.size]
    freq = np.angle(z[1:] * np.conj(z[:-1])) * (RATE / (2.0 * np.pi))
    freq = np.concatenate((freq[:1], freq))
    return np.convolve(freq, np.ones(3) / 3.0, mode="same")


class _Bits:
    """UART reading of one demodulated stretch: soft value > 0 is mark."""

    def __init__(self, freq: npt.NDArray[np.float64]):
        self.freq = freq
        self.soft = CENTRE_HZ - freq
        mark = self.soft > 0
        self.falls = np.flatnonzero(mark[:-1] & ~mark[1:]) + 1
        rises = np.flatnonzero(~mark[:-1] & mark[1:]) + 1
        # Length of the mark run that ends at each falling edge.
        prev = np.searchsorted(rises, self.falls, side="right") - 1
        run_start = np.where(prev >= 0, rises[np.maximum(prev, 0)], 0)
        self.run = self.falls - run_start

    def edge(self, i: int) -> float:
        # Sub-sample position of the zero crossing just before sample i.
        a, b = self.soft[i - 1], self.soft[i]
        return i - 1 + a / (a - b)

    def sample(self, edge: float, count: int) -> npt.NDArray[np.float64] | None:
        idx = np.rint(edge + (np.arange(count) + 0.5) * SAMPLES_PER_BIT).astype(np.int64)
        return None if idx[-1] >= self.soft.size else self.soft[idx]

    def next_fall(self, at: float) -> int | None:
        k = np.searchsorted(self.falls, int(np.ceil(at)))
        return None if k >= self.falls.size else int(self.falls[k])

    def byte(self, edge: float) -> tuple[int, bool] | None:
        """(value, ok) of the character whose start bit begins at `edge`; None past the end."""
        v = self.sample(edge, 10)
        if v is None:
            return None
        value = int(np.dot(v[1:9] > 0, 1 << np.arange(8)))
        return value, bool(v[0] < 0 and v[9] > 0)

    def standard_before(self, fall: int) -> str | None:
        """'bell202' or 'v23' from the frequency of the marks before `fall`; None if they are not marks."""
        median = np.median(self.freq[fall - self.run[np.searchsorted(self.falls, fall)]:fall])
        if not MARK_BAND_HZ[0] <= median <= MARK_BAND_HZ[1]:
            return None
        return "bell202" if median < MARK_SPLIT_HZ else "v23"


def _read_message(bits: _Bits, fall: int) -> tuple[list[int], bool, int]:
    """(bytes read, complete, end sample) of the message whose first start bit falls at `fall`."""
    data: list[int] = []
    edge = bits.edge(fall)
    while True:
        got = bits.byte(edge)
        if got is None or not got[1]:
            return data, False, int(edge)
        data.append(got[0])
        if len(data) >= 2 and len(data) == data[1] + 3:
            return data, True, int(edge + 10 * SAMPLES_PER_BIT)
        nxt = bits.next_fall(edge + 9.5 * SAMPLES_PER_BIT)
        if nxt is None or nxt - (edge + 10 * SAMPLES_PER_BIT) > GAP_MAX_BITS * SAMPLES_PER_BIT:
            return data, False, int(edge + 10 * SAMPLES_PER_BIT)
        edge = bits.edge(nxt)


def _fsk_messages(x: npt.NDArray[np.float64], offset: int) -> list[CallerIdMessage]:
    """Messages in one carrier stretch `x` (float64) that starts at sample `offset`."""
    bits = _Bits(_discriminate(x))
    out = []
    cursor = 0
    candidates = bits.falls[bits.run >= MARK_MIN_BITS * SAMPLES_PER_BIT]
    for fall in candidates:
        if fall < cursor:
            continue
        standard = bits.standard_before(fall)
        if standard is None:
            continue
        # spandsp checks the start bit at mid-bit: a click inside the marks is a false start, skip it.
        while fall is not None:
            v = bits.sample(bits.edge(fall), 1)
            if v is None or v[0] < 0:
                break
            fall = bits.next_fall(fall + 1)
        if fall is None or bits.sample(bits.edge(fall), 1) is None:
            continue
        data, complete, cursor = _read_message(bits, fall)
        start = int(offset + bits.edge(fall))
        if complete:
            msg = parse_message(bytes(data), standard, start)
            if msg is not None:
                out.append(msg)
        else:
            out.append(CallerIdMessage(standard, False, start=start))
    return out


def _stretches(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, end) frame ranges of runs of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], flags, [False])).astype(np.int8)))
    return list(zip(edges[0::2], edges[1::2]))


# ---------------------------------------------------------------- DTMF caller ID (§4.4)

def dtmf_callerid(number: str) -> npt.NDArray[np.float64]:
    """DTMF caller ID samples (float64) in the 'A<number>C' form (§4.4 variant 1)."""
    if not (isinstance(number, str) and number and number.isascii() and number.isdigit()):
        raise ValueError(f"dtmf_callerid: expected a string of digits, got {number!r}")
    return tonegen.dtmf_string("A" + number + "C", DTMF_ON_S, DTMF_OFF_S, DTMF_LEVEL_DBM0)


def _dtmf_messages(events: Sequence[dtmf.DtmfEvent]) -> list[CallerIdMessage]:
    out = []
    text = ""
    start = last = 0
    for ev in events:
        if text and ev.start - last > DTMF_TIMEOUT:
            out.append(CallerIdMessage("dtmf", False, start=start))
            text = ""
        if not text:
            if ev.digit in DTMF_START:
                text, start = ev.digit, ev.start
        else:
            text += ev.digit
            if ev.digit in DTMF_END:
                out.append(parse_dtmf(text, start))
                text = ""
        last = ev.start
    if text:
        out.append(CallerIdMessage("dtmf", False, start=start))
    return out


# ---------------------------------------------------------------- receivers

def _decode(x: npt.NDArray[np.float64]) -> list[CallerIdMessage]:
    """All messages in float64 samples `x`, by start."""
    fsk, start, _ = _carrier(_GATE.analyse(x[None, :x.size // FRAME * FRAME]))
    fsk, start = fsk[0], start[0]
    out = []
    for first, end in _stretches(fsk):
        # One frame either side: the burst's ragged ends share frames with silence.
        a = max(first - 1, 0) * FRAME
        b = min((end + 1) * FRAME, x.size)
        out += _fsk_messages(x[a:b], a)
    if start.any():
        events = dtmf.DtmfDetector(1).process(np.clip(np.rint(x), -32768, 32767).astype(np.int16)[None, :])
        out += _dtmf_messages(events)
    return sorted(out, key=lambda m: m.start)


def decode(samples: npt.NDArray[np.int16]) -> list[CallerIdMessage]:
    """Caller ID messages in a 1-D int16 array at 8 kHz (Bell 202, V.23 or DTMF, found automatically)."""
    if not isinstance(samples, np.ndarray) or samples.dtype != np.int16 or samples.ndim != 1:
        got = (f"{samples.dtype} ndim {samples.ndim}" if isinstance(samples, np.ndarray)
               else type(samples).__name__)
        raise ValueError(f"callerid.decode: expected a 1-D int16 array, got {got}")
    return _decode(samples.astype(np.float64))


class CallerIdReceiver:
    """Streaming caller ID for many channels: a level and spectrum gate opens a capture per channel,
    and a capture is decoded whole once the line falls quiet, so idle channels cost almost nothing."""

    def __init__(self, channels: int):
        self._framer = blocks.Framer(channels, FRAME, "CallerIdReceiver")
        self._ring = np.zeros((self._framer.channels, PREROLL_FRAMES, FRAME), np.int16)
        self._slot = 0
        self._fsk_run = np.zeros(self._framer.channels, np.int64)  # FSK-like frames in a row
        self._start_run = np.zeros(self._framer.channels, np.int64)  # DTMF-marker frames in a row
        self._counting = False  # any run above 0
        self._captures: dict[int, _Capture] = {}

    @property
    def channels(self) -> int:
        return self._framer.channels

    def reset(self, channel: int) -> None:
        """Forget any burst in progress on `channel`."""
        ch = blocks.check_channel(channel, self.channels, "CallerIdReceiver.reset")
        self._captures.pop(ch, None)
        self._fsk_run[ch] = 0
        self._start_run[ch] = 0

    def process(self, block: npt.NDArray[np.int16]) -> list[CallerIdEvent]:
        """Feed int16 (channels, n); returns a CallerIdEvent per message in each burst that ended."""
        frames, first = self._framer.frames(block)
        if not frames.shape[1]:
            return []
        return self._detect(_GATE.analyse(frames), first)

    def process_tick(self, analysis: blocks.Analysis) -> list[CallerIdEvent]:
        """Feed one tick analysed by the shared front end; returns the same events as process()."""
        blocks.check_analysis(analysis, self.channels, "CallerIdReceiver.process_tick")
        return self._detect(analysis, self._framer.tick())

    def _detect(self, analysis: blocks.Analysis, first: int) -> list[CallerIdEvent]:
        fsk, start, like = _carrier(analysis)
        frames = analysis.samples.reshape(self.channels, -1, FRAME)
        count = frames.shape[1]
        events: list[CallerIdEvent] = []
        # Without a run going and a frame flagged, no run grows and no burst opens: most ticks.
        idle = not self._counting and not np.count_nonzero(fsk | start)
        opening = np.zeros(fsk.shape, bool) if idle else self._openings(fsk, start)
        if not self._captures and (idle or not np.count_nonzero(opening)):
            for f in range(max(count - PREROLL_FRAMES, 0), count):
                self._push(frames[:, f])
            return events
        for f in range(count):
            for ch in opening[:, f].nonzero()[0].tolist():
                if ch not in self._captures:
                    older = self._ring[ch, (self._slot + np.arange(PREROLL_FRAMES)) % PREROLL_FRAMES]
                    self._captures[ch] = _Capture(first + (f - PREROLL_FRAMES) * FRAME, list(older))
            for ch in list(self._captures):
                capture = self._captures[ch]
                capture.quiet = 0 if fsk[ch, f] or like[ch, f] else capture.quiet + 1
                capture.frames.append(frames[ch, f].copy())
                if capture.quiet >= CLOSE_FRAMES or len(capture.frames) >= MAX_CAPTURE_FRAMES:
                    del self._captures[ch]
                    for msg in _decode(np.concatenate(capture.frames).astype(np.float64)):
                        msg = dataclasses.replace(msg, start=capture.first + msg.start)
                        events.append(CallerIdEvent(ch, msg))
            self._push(frames[:, f])
        return events

    def _openings(self, fsk: npt.NDArray[np.bool_], start: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """(channels, frames) bool: a burst opens there, by the runs of FSK and DTMF-marker frames."""
        opening = np.empty(fsk.shape, bool)
        for f in range(fsk.shape[1]):
            self._fsk_run = (self._fsk_run + 1) * fsk[:, f]
            self._start_run = (self._start_run + 1) * start[:, f]
            opening[:, f] = (self._fsk_run >= FSK_OPEN_FRAMES) | (self._start_run >= DTMF_OPEN_FRAMES)
        self._counting = bool(np.count_nonzero(self._fsk_run) + np.count_nonzero(self._start_run))
        return opening

    def _push(self, frame: npt.NDArray[np.number]) -> None:
        # The ring keeps the last PREROLL_FRAMES frames of every channel; _slot is the oldest.
        self._ring[:, self._slot] = frame
        self._slot = (self._slot + 1) % PREROLL_FRAMES

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels, "receiving": sorted(self._captures)}
