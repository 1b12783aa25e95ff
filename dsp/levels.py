"""Signal level convention shared by the DSP modules: dBm0 <-> int16 amplitude and rms."""

from typing import overload

import numpy as np
import numpy.typing as npt

RATE = 8000

# spandsp src/spandsp/telephony.h DBM0_MAX_SINE_POWER: a full-scale int16 sine is +3.14 dBm0
# (the A-law value; µ-law differs by 0.03 dB), so 0 dBm0 is a sine of peak 32767 * 10**(-3.14/20).
FULL_SCALE = 32767.0
MAX_SINE_DBM0 = 3.14
DBM0_AMPLITUDE = FULL_SCALE * 10.0 ** (-MAX_SINE_DBM0 / 20.0)


@overload
def dbm0_to_amplitude(dbm0: float) -> float: ...
@overload
def dbm0_to_amplitude(dbm0: npt.ArrayLike) -> float | npt.NDArray[np.float64]: ...
def dbm0_to_amplitude(dbm0: npt.ArrayLike) -> float | npt.NDArray[np.float64]:
    """Peak amplitude (int16 units) of a sine at `dbm0`; scalar or array in, same out."""
    out = DBM0_AMPLITUDE * 10.0 ** (np.asarray(dbm0, dtype=np.float64) / 20.0)
    return float(out) if out.ndim == 0 else out


@overload
def amplitude_to_dbm0(a: float) -> float: ...
@overload
def amplitude_to_dbm0(a: npt.ArrayLike) -> float | npt.NDArray[np.float64]: ...
def amplitude_to_dbm0(a: npt.ArrayLike) -> float | npt.NDArray[np.float64]:
    """Level in dBm0 of a sine of peak amplitude `a` (int16 units); 0 gives -inf."""
    magnitude = np.abs(np.asarray(a, dtype=np.float64))
    with np.errstate(divide="ignore"):
        out = 20.0 * np.log10(magnitude / DBM0_AMPLITUDE)
    return float(out) if out.ndim == 0 else out


def rms_dbm0(x: npt.ArrayLike, axis: int = -1) -> float | npt.NDArray[np.float64]:
    """Level in dBm0 of signal `x` along `axis` (time), by power: a sine of peak A has rms A/sqrt(2)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[axis] == 0:
        raise ValueError("rms_dbm0: expected at least one sample on the time axis")
    rms = np.sqrt(np.mean(x * x, axis=axis))
    return amplitude_to_dbm0(rms * np.sqrt(2.0))


# ITU-T G.100.1 §3: 0 dBov is the level of a full-scale square wave (rms = full scale), so a
# full-scale sine is -3.01 dBov; with the sine at +3.14 dBm0, dBm0 = dBov + 6.15.
DBOV_TO_DBM0 = MAX_SINE_DBM0 + 10.0 * np.log10(2.0)
# ITU-T P.56 method B: speech is active above a threshold M = 15.9 dB under the active level.
ACTIVE_MARGIN_DB = 15.9
# P.56 measures an envelope with a 0.03 s time constant; 20 ms frames (one tick) are the box's grain.
ACTIVE_FRAME = RATE // 50


def active_level_dbm0(x: npt.ArrayLike) -> tuple[float, float]:
    """(active level in dBm0, share of 20 ms frames active) of 8 kHz mono `x`, after ITU-T P.56
    method B: the mean power of the frames within ACTIVE_MARGIN_DB of that mean, iterated to its
    fixed point. (-inf, 0.0) for digital silence."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size // ACTIVE_FRAME
    if n == 0:
        raise ValueError(f"active_level_dbm0: expected at least {ACTIVE_FRAME} samples, got {x.size}")
    power = np.mean(np.square(x[: n * ACTIVE_FRAME].reshape(n, ACTIVE_FRAME)), axis=1)
    if not np.any(power > 0.0):
        return float("-inf"), 0.0
    level = float(np.mean(power[power > 0.0]))
    active = power > 0.0
    for _ in range(50):   # converges in a handful of rounds: each one only drops or adds quiet frames
        active = power >= level * 10.0 ** (-ACTIVE_MARGIN_DB / 10.0)
        new = float(np.mean(power[active]))
        if abs(new - level) <= level * 1e-9:
            break
        level = new
    sine_power = DBM0_AMPLITUDE ** 2 / 2.0   # 0 dBm0
    return 10.0 * float(np.log10(level / sine_power)), float(np.mean(active))


def clipped_runs(x: npt.ArrayLike, full_scale: float, run: int = 3) -> npt.NDArray[np.intp]:
    """Start indices (along the last axis, any channel) of runs of at least `run` samples in a row
    at or beyond +-`full_scale`: the mark a clipped recording leaves (3 in a row is Audacity's
    "Find Clipping" default; one full-scale sample is a peak, not clipping)."""
    x = np.atleast_2d(np.asarray(x))
    starts: set[int] = set()
    for samples in x:   # a row at a time, compared as stored: no float copy of a long recording
        row = (samples >= full_scale) | (samples <= -full_scale)
        edges = np.diff(np.concatenate(([0], row.astype(np.int8), [0])))
        begin, end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        starts.update(int(b) for b in begin[end - begin >= run])
    return np.array(sorted(starts), dtype=np.intp)
