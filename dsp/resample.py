"""Rate conversion of prompts and recordings to the 8 kHz internal rate (polyphase FIR)."""

import functools
import math

import numpy as np
import numpy.typing as npt
from scipy import signal

from dsp.levels import RATE

# ITU-T G.712 telephone channel: pass up to 3400 Hz of the 4000 Hz Nyquist band (0.85 of the lower
# Nyquist rate of the two); what would fold back into that band (above 4600 Hz for 8 kHz out) is
# stopped by at least 60 dB, 20 dB beyond the -40 dB the out-of-band test asks, so ripple has room.
PASS_FRACTION = 3400.0 / 4000.0
STOP_DB = 60.0


@functools.lru_cache(maxsize=16)
def _filter(up: int, down: int) -> npt.NDArray[np.float64]:
    # The filter runs at rate * up = RATE * down, with its cutoff at the lower Nyquist frequency and a
    # transition band from PASS_FRACTION below it to as far above; kaiserord sizes it for STOP_DB.
    fs = RATE * down
    nyquist = min(RATE, RATE * down / up) / 2.0
    taps, beta = signal.kaiserord(STOP_DB, 2.0 * (1.0 - PASS_FRACTION) * nyquist / (fs / 2.0))
    taps += 1 - taps % 2  # odd length: integer group delay, so resample_poly keeps the alignment
    return signal.firwin(taps, nyquist, window=("kaiser", beta), fs=fs)


def to_8k(samples: npt.ArrayLike, rate: float) -> npt.NDArray[np.float64]:
    """`samples` (1-D, or (channels, n) with time last) at `rate` Hz resampled to 8000 Hz; float64."""
    x = np.asarray(samples)
    numeric = np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    if x.ndim not in (1, 2) or not numeric:
        raise ValueError(
            f"to_8k: expected a 1-D or (channels, n) array of numbers, got {x.dtype} ndim {x.ndim}")
    number = isinstance(rate, (int, float, np.integer, np.floating)) and not isinstance(rate, bool)
    if not number or rate != int(rate) or rate <= 0:
        raise ValueError(f"to_8k: expected a positive integer sample rate in Hz, got {rate!r}")
    rate = int(rate)
    x = x.astype(np.float64)
    if rate == RATE:
        return x
    g = math.gcd(rate, RATE)
    up, down = RATE // g, rate // g
    return signal.resample_poly(x, up, down, axis=-1, window=_filter(up, down))
