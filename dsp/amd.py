"""What answered a number the box dialled: a person, an answering machine (and its beep), or unsure;
and a fax machine's V.21 HDLC flags.

Answering-machine detection reads the cadence of the speech after the answer, the method of
Asterisk's app_amd (docs/standards.md §5.2): a person says a word or two ("喂?", "hello?") and waits
for an answer; a machine talks on (a long greeting of many words) or, more rarely, stays silent
at first. Per 20 ms frame a channel is voiced or silent (the VAD's threshold, dsp/energy.py); words
are voiced runs of at least MIN_WORD_S; the verdict comes from the first rule that holds:

  initial silence longer than INITIAL_SILENCE_S          -> machine (a machine's slow start)
  more than MAX_WORDS words                              -> machine (a greeting)
  voiced for longer than GREETING_S in all               -> machine
  silence of AFTER_GREETING_S after the first words      -> human (waiting for us to speak)
  nothing decided in TOTAL_S                             -> unsure

After `machine` the channel listens on for the beep after which a message is recorded: a pure tone
(BEEP_PURITY of the frame's power within a bin of its peak) between 400 and 2000 Hz lasting at least
BEEP_MIN_S, reported as it ends; `no_beep` if none comes in BEEP_WAIT_S.

All channels are analysed together; a channel costs nothing until `start()` arms it for one answer.
"""

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from dsp import blocks
from dsp.energy import THRESHOLD_DBM0
from dsp.levels import RATE, dbm0_to_amplitude

FRAME = blocks.FRAME
FRAME_S = FRAME / RATE
# Asterisk amd.conf's defaults (docs/standards.md §5.2), in seconds.
INITIAL_SILENCE_S = 2.5
GREETING_S = 1.5
AFTER_GREETING_S = 0.8
TOTAL_S = 5.0
MIN_WORD_S = 0.1
BETWEEN_WORDS_S = 0.05
# Asterisk's sample has 2 in later releases, 3 before; 3 lets "喂，你好，哪位?" be a person.
MAX_WORDS = 3
# A voiced frame: over the VAD's threshold (ITU-T P.56's margin under the nominal speech level).
_VOICE_ENERGY = FRAME * dbm0_to_amplitude(THRESHOLD_DBM0) ** 2 / 2.0
# The beep: voice-mail systems end their greeting with a pure tone, commonly 440-1000 Hz for 0.1-1 s
# (the range 400-2000 Hz and 100 ms are the limits the requirement gives, docs/standards.md §5.2).
BEEP_LOW_HZ, BEEP_HIGH_HZ = 400.0, 2000.0
BEEP_MIN_S = 0.1
# Share of the power of the last two frames (40 ms, Hann-windowed: 25 Hz bins, a tone's power within
# a bin of its peak) in the peak's three bins: a voice's harmonics lie 100-250 Hz apart, so even a
# vowel's strongest holds well under this; noise far less. The peak must also stay within a bin from
# frame to frame, where a voice's pitch glides.
BEEP_PURITY = 0.9
BEEP_WAIT_S = 30.0
_WIN = 2 * FRAME
# Windows wholly inside a tone of BEEP_MIN_S: (100 - 40) / 20 + 1 = 4 when they line up with it, 3 at
# worst; a 60 ms blip fills 2 at most.
_BEEP_WINDOWS = int(round((BEEP_MIN_S * RATE - _WIN) / FRAME))
_BIN_HZ = RATE / _WIN
_WINDOW = np.hanning(_WIN).astype(np.float32)
_BEEP_BINS = (int(np.ceil(BEEP_LOW_HZ / _BIN_HZ)), int(BEEP_HIGH_HZ / _BIN_HZ))

# Per-channel phase.
IDLE, LISTENING, BEEP = 0, 1, 2


def _frames(seconds: float) -> int:
    return int(round(seconds / FRAME_S))


@dataclasses.dataclass(frozen=True)
class AmdEvent:
    """`result` ('human', 'machine', 'unsure', 'beep' or 'no_beep') on `channel`, for `cause` (the rule
    that decided it), at sample `start` of the channel's stream (the frame that decided it)."""

    channel: int
    result: str
    cause: str
    start: int


class AnsweringMachineDetector(blocks.FramedDetector[AmdEvent]):
    """Answering-machine detection on the channels armed by start(), vectorised over channels."""

    def __init__(self, channels: int):
        self._framer = blocks.Framer(channels, FRAME, "AnsweringMachineDetector")
        self._analyser = blocks.Analyser()
        c = self._framer.channels
        self._frame = 0
        self._phase = np.zeros(c, np.int8)
        self._age = np.zeros(c, np.int64)          # frames since start (or since the machine verdict)
        self._silence = np.zeros(c, np.int64)      # silent frames in a row
        self._voice = np.zeros(c, np.int64)        # voiced frames in a row
        self._voiced = np.zeros(c, np.int64)       # voiced frames in all
        self._words = np.zeros(c, np.int64)
        self._in_word = np.zeros(c, bool)
        self._spoken = np.zeros(c, bool)           # the greeting has begun
        self._tone = np.zeros(c, np.int64)         # pure frames in a row (the beep)
        self._tone_bin = np.zeros(c, np.int64)
        self._last = np.zeros((c, FRAME), np.float32)   # the frame before, for the beep's 40 ms window

    def start(self, channel: int) -> None:
        """Listen to `channel` from its next frame: the number dialled on it has just answered."""
        ch = blocks.check_channel(channel, self.channels, "AnsweringMachineDetector.start")
        self._phase[ch] = LISTENING
        for a in (self._age, self._silence, self._voice, self._voiced, self._words, self._tone):
            a[ch] = 0
        self._in_word[ch] = self._spoken[ch] = False

    def reset(self, channel: int) -> None:
        """Stop listening to `channel` (its call ended, or a new one began)."""
        ch = blocks.check_channel(channel, self.channels, "AnsweringMachineDetector.reset")
        self._phase[ch] = IDLE

    def _detect(self, analysis: blocks.Analysis) -> list[AmdEvent]:
        events: list[AmdEvent] = []
        if not np.count_nonzero(self._phase):
            self._frame += analysis.ac_energy.shape[1]
            return events
        voiced_all = analysis.ac_energy >= _VOICE_ENERGY
        frames = analysis.x.reshape(self.channels, -1, FRAME)
        for f in range(voiced_all.shape[1]):
            events += self._listen(voiced_all[:, f])
            watching = (self._phase == BEEP).nonzero()[0]
            if watching.size:
                events += self._beep(watching, frames[watching, f], analysis.ac_energy[watching, f])
            self._frame += 1
        return events

    def _listen(self, voiced: npt.NDArray[np.bool_]) -> list[AmdEvent]:
        on = self._phase == LISTENING
        if not np.count_nonzero(on):
            return []
        v = voiced & on
        s = ~voiced & on
        self._age += on
        self._voice = np.where(v, self._voice + 1, 0)
        self._silence = np.where(s, self._silence + 1, 0)
        self._voiced += v
        new_word = v & ~self._in_word & (self._voice >= _frames(MIN_WORD_S))
        self._words += new_word
        self._in_word = (self._in_word | new_word) & ~(self._silence >= max(1, _frames(BETWEEN_WORDS_S)))
        self._spoken |= new_word
        # The rules, first that holds wins (module docstring).
        rules = (
            ("machine", "initial_silence", on & ~self._spoken & (self._silence >= _frames(INITIAL_SILENCE_S))),
            ("machine", "max_words", new_word & (self._words > MAX_WORDS)),
            ("machine", "long_greeting", v & (self._voiced >= _frames(GREETING_S))),
            ("human", "after_greeting_silence", s & self._spoken & (self._silence >= _frames(AFTER_GREETING_S))),
            ("unsure", "too_long", on & (self._age >= _frames(TOTAL_S))),
        )
        events = []
        decided = np.zeros_like(on)
        for result, cause, hit in rules:
            hit = hit & ~decided
            decided |= hit
            events += [AmdEvent(int(ch), result, cause, self._frame * FRAME) for ch in hit.nonzero()[0]]
        if events:
            self._phase[decided] = IDLE
            machine = np.array([e.channel for e in events if e.result == "machine"], np.int64)
            self._phase[machine] = BEEP
            self._age[machine] = 0
            self._tone[machine] = 0
            self._last[machine] = 0.0
        return events

    def _beep(self, chans: npt.NDArray[np.int64], x: npt.NDArray[np.float32],
              energy: npt.NDArray[np.float32]) -> list[AmdEvent]:
        both = np.concatenate([self._last[chans], x], axis=1)
        self._last[chans] = x
        power = np.square(np.abs(np.fft.rfft((both - both.mean(axis=1, keepdims=True)) * _WINDOW, axis=1)))
        lo, hi = _BEEP_BINS
        peak = lo + np.argmax(power[:, lo:hi + 1], axis=1)
        rows = np.arange(chans.size)
        near = power[rows, peak - 1] + power[rows, peak] + power[rows, peak + 1]
        pure = (energy >= _VOICE_ENERGY) & (near >= BEEP_PURITY * power[:, 1:].sum(axis=1))
        steady = pure & ((self._tone[chans] == 0) | (np.abs(peak - self._tone_bin[chans]) <= 1))
        ended = ~steady & (self._tone[chans] >= _BEEP_WINDOWS)
        self._age[chans] += 1
        events = []
        for i in ended.nonzero()[0]:
            ch = int(chans[i])
            events.append(AmdEvent(ch, "beep", f"{self._tone_bin[ch] * _BIN_HZ:.0f} Hz", self._frame * FRAME))
            self._phase[ch] = IDLE
        self._tone_bin[chans] = np.where(steady & (self._tone[chans] == 0), peak, self._tone_bin[chans])
        self._tone[chans] = np.where(steady, self._tone[chans] + 1, 0)
        for ch in chans[(self._age[chans] >= _frames(BEEP_WAIT_S)) & (self._phase[chans] == BEEP)].tolist():
            events.append(AmdEvent(int(ch), "no_beep", "timeout", self._frame * FRAME))
            self._phase[ch] = IDLE
        return events

    def status(self) -> dict[str, Any]:
        return {"channels": self.channels, "listening": [int(c) for c in np.flatnonzero(self._phase)]}
