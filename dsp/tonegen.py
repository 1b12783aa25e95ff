"""Test and signalling tone synthesis (sines, cadences, DTMF) at levels in dBm0."""

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from dsp.levels import RATE, dbm0_to_amplitude

# ITU-T Q.23: DTMF low (row) and high (column) group frequencies and the row-major keypad.
DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")

_DTMF_POS = {key: (r, c) for r, row in enumerate(DTMF_KEYS) for c, key in enumerate(row)}


def _samples(seconds: float, rate: float) -> int:
    return int(round(seconds * rate))


def tone(freqs: npt.ArrayLike, levels_dbm0: npt.ArrayLike, n_samples: int, rate: float = RATE,
         phase: npt.ArrayLike = 0.0) -> npt.NDArray[np.float64]:
    """Sum of sines at `freqs` (Hz), each at its level in dBm0 and starting phase in radians (scalars
    broadcast); float64 (n_samples,)."""
    freqs = np.atleast_1d(np.asarray(freqs, dtype=np.float64))
    if freqs.ndim != 1:
        raise ValueError(f"tone: expected a frequency or a 1-D sequence of them, got shape {freqs.shape}")
    try:
        amps = np.broadcast_to(dbm0_to_amplitude(levels_dbm0), freqs.shape)
        phases = np.broadcast_to(np.asarray(phase, dtype=np.float64), freqs.shape)
    except ValueError:
        raise ValueError(
            f"tone: expected one level and phase per frequency ({freqs.size}) or a scalar") from None
    n_samples = int(n_samples)
    if n_samples < 0:
        raise ValueError(f"tone: expected n_samples >= 0, got {n_samples}")
    if rate <= 0:
        raise ValueError(f"tone: expected a positive rate, got {rate}")
    t = np.arange(n_samples, dtype=np.float64) / rate
    return amps @ np.sin(2.0 * np.pi * freqs[:, None] * t + phases[:, None])


def cadence(freqs: npt.ArrayLike, levels_dbm0: npt.ArrayLike, pattern_s: npt.ArrayLike, total_s: float,
            rate: float = RATE) -> npt.NDArray[np.float64]:
    """Tone switched on/off by `pattern_s`, (on_s, off_s) pairs repeated until `total_s`; float64."""
    flat = np.asarray(pattern_s, dtype=np.float64).ravel()
    if flat.size == 0 or flat.size % 2 or np.any(flat < 0) or flat.sum() <= 0:
        raise ValueError(f"cadence: expected (on_s, off_s) pairs with a positive period, got {pattern_s!r}")
    n_total = _samples(total_s, rate)
    edges = np.cumsum(np.round(flat * rate).astype(np.int64))
    period = int(edges[-1])
    # Sample position inside the period decides on/off: on while inside an even-numbered segment.
    pos = np.arange(n_total) % period
    gate = np.searchsorted(edges, pos, side="right") % 2 == 0
    return tone(freqs, levels_dbm0, n_total, rate) * gate


def _dtmf_freqs(digit: str) -> tuple[float, float]:
    try:
        r, c = _DTMF_POS[str(digit).upper()]
    except KeyError:
        raise ValueError(f"dtmf: expected one of 0-9 * # A-D, got {digit!r}") from None
    return DTMF_LOW[r], DTMF_HIGH[c]


def dtmf_digit(digit: str, on_s: float = 0.05, level_dbm0: float = -10.0, twist_db: float = 0.0,
               rate: float = RATE, freq_offset: tuple[float, float] = (0.0, 0.0)) -> npt.NDArray[np.float64]:
    """One DTMF tone pair of `on_s` seconds: low tone at `level_dbm0`, high tone `twist_db` above it,
    each off its Q.23 frequency by the relative `freq_offset` (low, high); float64."""
    low, high = _dtmf_freqs(digit)
    freqs = (low * (1.0 + freq_offset[0]), high * (1.0 + freq_offset[1]))
    return tone(freqs, (level_dbm0, level_dbm0 + twist_db), _samples(on_s, rate), rate)


def dtmf_string(digits: Iterable[str], on_s: float = 0.05, off_s: float = 0.05, level_dbm0: float = -10.0,
                twist_db: float = 0.0, rate: float = RATE) -> npt.NDArray[np.float64]:
    """DTMF digits, each `on_s` of tone followed by `off_s` of silence; float64."""
    gap = np.zeros(_samples(off_s, rate))
    parts = []
    for d in digits:
        parts += [dtmf_digit(d, on_s, level_dbm0, twist_db, rate), gap]
    return np.concatenate(parts) if parts else np.zeros(0)


def to_int16(x: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Round to int16 with saturation (clip at the rails, never wrap around)."""
    return np.clip(np.rint(np.asarray(x, dtype=np.float64)), -32768, 32767).astype(np.int16)
