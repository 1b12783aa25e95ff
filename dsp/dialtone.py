"""Line test verdict: does a line taken off-hook carry its network's dial tone, and at what level."""
# A line is judged by the same call-progress detector the engine runs on every line, to the site's
# tone plan: a dial tone is the plan's "dial" tone, its frequencies (within the plan's tolerance) and
# its cadence (continuous: longer than any burst of the plan's other tones on those frequencies can
# last). Loudness alone is no verdict: a line stuck on busy or congestion tone, noise or a crossed
# line's speech is loud and still gives no dial tone.

import numpy as np
import numpy.typing as npt

from dsp import blocks
from dsp.levels import amplitude_to_dbm0
from dsp.tones import CONFIRM_FRAMES, FRAME, FRAME_S, CallProgressDetector, TonePlan, TonePlanError


def listening_s(plan: TonePlan) -> float:
    """The shortest listening in which TonePlan `plan`'s dial tone can be reported from its start.

    A segment begins only once CONFIRM_FRAMES frames agree; a continuous tone is reported after its
    min_s, a cadenced one when its `confirm`-th segment ends, at the longest its tolerance allows
    (one segment more, for the first one heard only in part)."""
    spec = next((t for t in plan.tones if t.name == "dial"), None)
    if spec is None:
        raise TonePlanError(f"{plan.source}: tone (dial): the plan has no dial tone to test a line for")
    if spec.min_s is not None:
        return spec.min_s + CONFIRM_FRAMES * FRAME_S
    steps = [seconds for _, seconds in spec.segments]
    cadence = sum(steps[k % len(steps)] for k in range(spec.confirm + 1))
    return cadence * (1.0 + spec.tolerance) + CONFIRM_FRAMES * FRAME_S


class DialToneListener:
    """One line's audio while it is tested: whether the plan's dial tone was heard, and the line's level.

    `plan`: the TonePlan of the line's network; TonePlanError if it has no dial tone."""

    def __init__(self, plan: TonePlan):
        if not isinstance(plan, TonePlan):
            raise ValueError(f"DialToneListener: expected a TonePlan, got {plan!r}")
        self.plan = plan
        self.seconds_needed = listening_s(plan)
        self._detector = CallProgressDetector(1, plan)
        self._framer = blocks.Framer(1, FRAME, "DialToneListener")
        self._energy = 0.0  # sum of squares of the whole frames heard
        self._samples = 0
        self.heard = False

    def feed(self, samples: npt.ArrayLike) -> None:
        """Audio the line carried next: int16, 1-D, any length."""
        block = np.asarray(samples).reshape(1, -1)
        events = self._detector.process(block)
        self.heard = self.heard or any(ev.tone == "dial" for ev in events)
        frames, _ = self._framer.frames(block)
        x = frames.astype(np.float64)
        self._energy += float(np.sum(x * x))
        self._samples += x.size

    @property
    def level_dbm0(self) -> float | None:
        """The line's level over the listening to 0.1 dB, by power (a 50 % busy cadence reads 3 dB under
        its tone); None before a whole frame, or with no signal at all."""
        if not self._energy:
            return None
        # A sine of peak A has rms A / sqrt(2) (dsp.levels.rms_dbm0).
        return round(float(amplitude_to_dbm0(np.sqrt(2.0 * self._energy / self._samples))), 1)
