"""The MFC-R2 receiver's per-tick decisions in C (dsp/mfr2_kernel.c); dsp.mfr2.R2Receiver is its only user."""

from typing import TypeVar

import numpy as np
import numpy.typing as npt

_Event = TypeVar("_Event")

def constants(*, sub_samples: int, window_subs: int, lag_subs: int, hits_to_operate: int, misses_to_release: int,
              weights: npt.NDArray[np.float64], turn: npt.NDArray[np.complex64],
              signal_of_pair: npt.NDArray[np.int8], cos_tol: float, level_power: float, twist: float,
              third: float, share: float, fill: float, gate_level: float, gate_share: float) -> bytes: ...

def receive(history: npt.NDArray[np.float32], timing: npt.NDArray[np.void], correlations: npt.NDArray[np.float32],
            samples: npt.NDArray[np.float32], constants: bytes, first: int, event: type[_Event], /) -> list[_Event]: ...
