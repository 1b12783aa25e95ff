"""What answered a dialled number: answering-machine detection by speech cadence (dsp/amd.py), the
machine's beep, and a fax machine's V.21 flags (dsp/v21.py), on the simulated network's called parties
(drivers/sim_signals.py) and on real speech and music, which must never give a beep or flags."""
import numpy as np
import pytest

from drivers import sim_signals as S
from dsp import amd
from dsp.amd import AnsweringMachineDetector
from dsp.levels import RATE
from dsp.tonegen import to_int16, tone
from dsp.v21 import V21FlagDetector

FRAME = amd.FRAME


def feed(det, x, start=True):
    """Events of `det` armed on every channel of x (channels, n), fed tick by tick."""
    x = to_int16(np.atleast_2d(x))
    if start:
        for ch in range(x.shape[0]):
            det.start(ch)
    events = []
    for i in range(0, x.shape[1] - FRAME + 1, FRAME):
        events += det.process(x[:, i:i + FRAME])
    return events


def noisy(x, seed=0):
    return x + np.random.default_rng(seed).normal(0.0, 3.0, x.size)


def silence(seconds):
    return np.zeros(int(seconds * RATE))


def verdicts(x):
    return [(e.result, e.cause) for e in feed(AnsweringMachineDetector(1), noisy(x))]


def test_a_person_says_a_word_and_waits():
    x = np.concatenate([silence(0.4), S.speech([(0.6, 3.0)])])
    assert verdicts(x) == [("human", "after_greeting_silence")]
    # A hello of two words ("喂，你好?") is a person too.
    assert verdicts(np.concatenate([silence(0.4), S.speech([(0.4, 0.2), (0.5, 3.0)])]))[0][0] == "human"


def test_a_machine_is_told_by_its_greeting():
    x = np.concatenate([silence(0.4), S.speech([(0.45, 0.15)] * 12)])
    (first, *_) = verdicts(x)
    assert first == ("machine", "max_words")
    # One long word: voiced past the greeting limit.
    assert verdicts(np.concatenate([silence(0.3), S.speech([(2.5, 1.0)])]))[0] == ("machine", "long_greeting")
    # Nothing said at all for 2.5 s: a machine slow to start.
    assert verdicts(silence(4.0))[0] == ("machine", "initial_silence")


def test_neither_in_time_is_unsure():
    # Clicks (shorter than a word) that keep breaking the silence: no rule holds within 5 s.
    click = np.concatenate([tone(800.0, -15.0, int(0.04 * RATE)), silence(0.5)])
    assert verdicts(np.tile(click, 14)) == [("unsure", "too_long")]


@pytest.mark.parametrize("hz, seconds", [(440.0, 0.3), (1000.0, 0.1), (1000.0, 1.0), (1900.0, 0.3)])
def test_the_beep_after_a_machines_greeting_is_reported_as_it_ends(hz, seconds):
    greeting = S.speech([(0.45, 0.15)] * 6)
    beep = tone(hz, -12.0, int(seconds * RATE))
    x = np.concatenate([silence(0.3), greeting, beep, silence(2.0)])
    events = feed(AnsweringMachineDetector(1), noisy(x))
    assert [e.result for e in events] == ["machine", "beep"]
    ends = (0.3 + greeting.size / RATE + seconds) * RATE
    assert abs(events[1].start - ends) <= 2 * FRAME
    assert abs(float(events[1].cause.split()[0]) - hz) <= 25.0


def test_a_blip_shorter_than_a_beep_is_not_one():
    x = np.concatenate([silence(3.0), tone(1000.0, -12.0, int(0.06 * RATE)), silence(amd.BEEP_WAIT_S)])
    assert [e.result for e in feed(AnsweringMachineDetector(1), noisy(x))] == ["machine", "no_beep"]


def test_speech_and_music_never_give_a_beep(talkoff_speech, talkoff_music):
    # Each clip heard as if a machine had just been recognised (3 s of silence first), 25 s at a time.
    chunks = []
    for clip in talkoff_speech + talkoff_music:
        for i in range(0, clip.size, 25 * RATE):
            chunks.append(np.concatenate([silence(3.0), clip[i:i + 25 * RATE]]))
    x = np.zeros((len(chunks), max(c.size for c in chunks)))
    for i, c in enumerate(chunks):
        x[i, :c.size] = c
    events = feed(AnsweringMachineDetector(x.shape[0]), x)
    assert not [e for e in events if e.result == "beep"]


def test_idle_channels_are_left_alone():
    det = AnsweringMachineDetector(4)
    x = np.zeros((4, 3 * RATE))
    x[2] = noisy(np.concatenate([silence(0.4), S.speech([(0.6, 3.0)])]))[:3 * RATE]
    det.start(2)
    events = feed(det, x, start=False)
    assert [(e.channel, e.result) for e in events] == [(2, "human")]
    det.reset(2)
    assert feed(det, x, start=False) == []


# ---------------------------------------------------------------- V.21 flags

def test_a_fax_machines_flags_are_heard():
    x = noisy(S.fax_answer())
    events = feed(V21FlagDetector(1), x)
    assert [e.tone for e in events] == ["v21"]
    flags_at = (S.CED_S + S.CED_GAP_S) * RATE
    assert flags_at - FRAME <= events[0].start <= flags_at + 0.3 * RATE


def test_flags_alone_are_heard_and_a_steady_tone_in_the_band_is_not():
    assert [e.tone for e in feed(V21FlagDetector(1), noisy(S.v21_flags(1.0)))] == ["v21"]
    assert feed(V21FlagDetector(1), noisy(tone(1750.0, -11.0, 2 * RATE))) == []
    assert feed(V21FlagDetector(1), noisy(tone(S.V21_MARK_HZ, -11.0, 2 * RATE))) == []


def test_speech_and_music_never_give_flags(talkoff_speech, talkoff_music):
    chunks = [clip[i:i + 9 * RATE] for clip in talkoff_speech + talkoff_music for i in range(0, clip.size, 9 * RATE)]
    x = np.zeros((len(chunks), 9 * RATE))
    for i, c in enumerate(chunks):
        x[i, :c.size] = c
    assert feed(V21FlagDetector(x.shape[0]), x) == []


def test_flags_are_listened_for_only_after_an_answer_and_not_for_ever():
    det = V21FlagDetector(2)
    x = np.zeros((2, 2 * RATE))
    x[:] = noisy(S.v21_flags(2.0))
    assert feed(det, x, start=False) == []        # neither channel armed
    det.start(1)
    assert [(e.channel, e.tone) for e in feed(det, x, start=False)] == [(1, "v21")]
    # Ten seconds after the answer (dsp/v21.py LISTEN_S) the line is no longer listened to.
    det.start(0)
    late = np.concatenate([silence(10.5), S.v21_flags(1.0)])
    assert feed(det, np.vstack([noisy(late), np.zeros(late.size)]), start=False) == []
