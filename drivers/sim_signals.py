"""What the simulated exchange puts on a line besides people's voices: caller ID and call-progress tones.

The box decodes these with its own detectors, exactly as it would on a real line; nothing here is
handed to the engine as a ready-made event.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp import callerid, callerid_message, tonegen
from dsp.tones import TonePlan

from .channel import RATE

# How a line delivers caller ID (docs/standards.md §4):
#   event   - decoded by the line card and reported out of band (a modem's AT+VCID)
#   bell202 - Bell 202 FSK between the first and second ring (GR-30; China)
#   v23     - V.23 FSK before the first ring, announced by a DT-AS alerting tone (ETSI EN 300 659-1)
#   dtmf    - 'A<number>C' in DTMF before the first ring (ETSI ES 200 778 style)
CALLER_ID_SCHEMES = ("event", "bell202", "v23", "dtmf")
# Schemes sent before the first ring; bell202 is sent after it.
BEFORE_RING = ("v23", "dtmf")
# After the first ring ends the exchange waits at least 500 ms before the burst, and leaves at least
# 200 ms after it before the next ring (Lantiq TAPI after EN 300 659-1 V1.3.1, docs/standards.md §4.2).
AFTER_RING_GAP_S = 0.5
BEFORE_RING_GAP_S = 0.2
# DT-AS: 2130 + 2750 Hz for 88-110 ms after at least 100 ms of silence (spandsp adsi.h, §4.2);
# spandsp sends 110 ms at -13 dBm0 per tone.
DTAS_HZ = (2130.0, 2750.0)
DTAS_S = 0.11
DTAS_DBM0 = -13.0
DTAS_LEAD_S = 0.1
DTAS_GAP_S = 0.1
# Call-progress tones at China's ringback level, -10 dBm0 (docs/standards.md §3.1).
PROGRESS_DBM0 = -10.0
# T.30 calling tone at spandsp's generator level (docs/standards.md §5).
CNG_HZ, CNG_ON_S, CNG_OFF_S, CNG_DBM0 = 1100.0, 0.5, 3.0, -11.0


@dataclass(frozen=True)
class Loop:
    """A sound the exchange repeats until told otherwise: `period` samples, read round from `start_tick`
    (the buffer holds one tick more than the period, so a tick never wraps inside a read)."""
    samples: np.ndarray
    period: int
    start_tick: int

    def read(self, tick: int, n: int) -> np.ndarray:
        offset = ((tick - self.start_tick) * n) % self.period
        return self.samples[offset:offset + n]


def make_loop(period_samples: np.ndarray, start_tick: int, tick_samples: int) -> Loop:
    period = period_samples.size
    reps = 1 + -(-tick_samples // period)
    return Loop(np.tile(period_samples.astype(np.float32), reps), period, start_tick)


def steady_tone(freqs, level_dbm0: float, start_tick: int, tick_samples: int) -> Loop:
    # One second of whole-hertz tones repeats exactly, so reading it round keeps the phase.
    return make_loop(tonegen.tone(np.round(freqs), level_dbm0, RATE), start_tick, tick_samples)


def progress_tone(plan: TonePlan, name: str, start_tick: int, tick_samples: int) -> Loop:
    """One cadence period of the plan's tone `name` ('busy', 'ringback', 'sit' ...), looped."""
    spec = next(t for t in plan.tones if t.name == name)
    if not spec.confirm:  # continuous
        return steady_tone(sorted(spec.segments[0][0]), PROGRESS_DBM0, start_tick, tick_samples)
    parts = [tonegen.tone(list(freqs), PROGRESS_DBM0, int(round(seconds * RATE))) if freqs
             else np.zeros(int(round(seconds * RATE))) for freqs, seconds in spec.segments]
    return make_loop(np.concatenate(parts), start_tick, tick_samples)


def caller_id_burst(scheme: str, number: str | None, name: str | None, corrupt: bool = False) -> np.ndarray:
    """The samples (float32, 8 kHz) the exchange sends for one call's caller ID.

    No number gives the absence reason 'P' (private); a name outside printable ASCII cannot be sent
    in the message and is left out. `corrupt` flips a bit of the message, as a noisy line would, so
    its checksum fails."""
    if scheme == "dtmf":
        return callerid.dtmf_callerid(number).astype(np.float32) if number else np.zeros(0, np.float32)
    sendable = name if name and name.isascii() and name.isprintable() else None
    message = bytearray(callerid_message.encode_mdmf(number=number or None, absence=None if number else "P",
                                             name=sendable))
    if corrupt:
        message[len(message) // 2] ^= 0x04
    burst = callerid.fsk_burst(bytes(message), standard=scheme)
    if scheme == "v23":
        lead, gap = np.zeros(int(DTAS_LEAD_S * RATE)), np.zeros(int(DTAS_GAP_S * RATE))
        burst = np.concatenate([lead, tonegen.tone(list(DTAS_HZ), DTAS_DBM0, int(DTAS_S * RATE)), gap, burst])
    return burst.astype(np.float32)


def fax_calling_tone(start_tick: int, tick_samples: int) -> Loop:
    """T.30 CNG: 1100 Hz, 0.5 s on, 3 s off."""
    on = tonegen.tone(CNG_HZ, CNG_DBM0, int(CNG_ON_S * RATE))
    return make_loop(np.concatenate([on, np.zeros(int(CNG_OFF_S * RATE))]), start_tick, tick_samples)


# --- what answers a number the box dials (docs/architecture.md §20) -------------------------------
# A talker's voiced sound: a glottal pulse train (pitch gliding around F0_HZ) through two formant
# resonances, so its power spreads over many harmonics as speech does (a test tone would read as a
# beep or a plan tone). At the nominal active speech level (VOICE_DBM0 of drivers/sim.py).
F0_HZ = (110.0, 220.0)
FORMANTS_HZ = ((700.0, 1200.0), (300.0, 2300.0), (500.0, 1700.0))
SPEECH_DBM0 = -20.0
# Answering machines end their greeting with a beep: 1000 Hz for 0.5 s is the common one.
BEEP_HZ, BEEP_S, BEEP_DBM0 = 1000.0, 0.5, -12.0
# T.30 CED: 2100 Hz for 2.6-4 s, then 75 ms before the V.21 flags; V.21 channel 2 at 300 bit/s.
CED_HZ, CED_S, CED_DBM0 = 2100.0, 3.3, -11.0
CED_GAP_S = 0.075
V21_MARK_HZ, V21_SPACE_HZ, V21_BAUD, V21_DBM0 = 1650.0, 1850.0, 300, -11.0
FLAG_BITS = (0, 1, 1, 1, 1, 1, 1, 0)   # 0x7E, least significant bit first


def _resonate(x: np.ndarray, hz: float, bandwidth: float) -> np.ndarray:
    """A two-pole resonance at `hz` (a formant) applied to `x`: its impulse response r^n sin((n+1) w) /
    sin w, cut where it has decayed below 1e-6 (numpy only: the engine runs without scipy)."""
    r, w = np.exp(-np.pi * bandwidth / RATE), 2.0 * np.pi * hz / RATE
    n = np.arange(int(np.log(1e-6) / np.log(r)) + 1)
    return np.convolve(x, r ** n * np.sin((n + 1) * w) / np.sin(w))[:x.size]


def speech(words: list[tuple[float, float]], seed: int = 0) -> np.ndarray:
    """Speech-like sound (float32, 8 kHz): (seconds of a word, seconds of silence after it) each."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, (on, off) in enumerate(words):
        n = int(on * RATE)
        f0 = rng.uniform(*F0_HZ) * np.linspace(1.0, rng.uniform(0.8, 1.2), n)
        phase = np.cumsum(f0 / RATE)
        pulses = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
        f1, f2 = FORMANTS_HZ[k % len(FORMANTS_HZ)]
        voiced = _resonate(pulses, f1, 90.0) + 0.5 * _resonate(pulses, f2, 120.0)
        envelope = np.sin(np.pi * np.arange(n) / n) ** 0.5
        voiced *= envelope
        rms = np.sqrt(np.mean(np.square(voiced))) or 1.0
        parts += [voiced / rms * dbm0_rms(SPEECH_DBM0), np.zeros(int(off * RATE))]
    return np.concatenate(parts).astype(np.float32)


def dbm0_rms(level_dbm0: float) -> float:
    """The rms of a sine at `level_dbm0`."""
    return float(np.sqrt(0.5) * tonegen.tone(1000.0, level_dbm0, RATE).max())


def beep() -> np.ndarray:
    """An answering machine's beep."""
    return tonegen.tone(BEEP_HZ, BEEP_DBM0, int(BEEP_S * RATE)).astype(np.float32)


def v21_flags(seconds: float) -> np.ndarray:
    """HDLC flags on V.21 channel 2 for `seconds`, phase-continuous FSK."""
    per_bit = RATE / V21_BAUD
    n = int(seconds * RATE)
    bits = np.array(FLAG_BITS * (int(seconds * V21_BAUD) // 8 + 1))
    hz = np.where(bits[(np.arange(n) / per_bit).astype(int)] == 1, V21_MARK_HZ, V21_SPACE_HZ)
    return (np.sin(2.0 * np.pi * np.cumsum(hz) / RATE) * np.sqrt(2.0) * dbm0_rms(V21_DBM0)).astype(np.float32)


def fax_answer() -> np.ndarray:
    """A called fax machine: CED, the gap, then a second of flags (its DIS's preamble), then silence."""
    ced = tonegen.tone(CED_HZ, CED_DBM0, int(CED_S * RATE)).astype(np.float32)
    return np.concatenate([ced, np.zeros(int(CED_GAP_S * RATE), np.float32), v21_flags(1.0)])
