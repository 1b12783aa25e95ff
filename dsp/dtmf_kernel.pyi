"""dsp/dtmf_kernel.c: the DTMF receiver's windows, tests and digit timing (dsp.dtmf.DtmfDetector)."""

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

# A report of track(): (channel, label = 1 + the digit, start estimate), in window then channel order.
Report = tuple[int, int, int]
# What detect() makes of a key press: an `event` with the fields channel, digit and start.
Event = TypeVar("Event")


def constants(*, sub: int, win_subs: int, peak_share: float, level_power: float, cos_tol: Sequence[float],
              twist_min: float, twist_max: float, tone_share: float, edge_ratio: float,
              unfilled_at: Sequence[float], hits_to_report: int, misses_to_drop: int,
              misses_to_end: int) -> bytes: ...


def detect(state: npt.NDArray[np.void], phasors: npt.NDArray[np.float32], samples: npt.NDArray[np.float32],
           constants: bytes, first: int, event: type[Event], digits: tuple[str, ...], /) -> list[Event]: ...


def track(state: npt.NDArray[np.void], labels: npt.NDArray[np.int64], ests: npt.NDArray[np.int64],
          constants: bytes, /) -> list[Report]: ...
