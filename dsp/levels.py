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
