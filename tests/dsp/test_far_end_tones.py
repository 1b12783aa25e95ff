"""Disconnect supervision's side of the call-progress detector: a busy or congestion tone reported again
for every further whole period (`repeat`), and never so reported on speech, music or the box's own
prompts, even while they play for minutes (docs/standards.md §3.5)."""
import glob
import wave
from pathlib import Path

import numpy as np
import pytest

from dsp import tones
from dsp.levels import RATE
from dsp.resample import to_8k
from dsp.tonegen import to_int16
from firmware.config.tone_plans import load_plan

from test_tones import synth

PLANS = ("cn", "na", "etsi")
FRAME = tones.FRAME
# The count the box waits for by default ([box] hangup_tone_cycles).
SUPERVISION_CYCLES = 3
PROMPTS = Path(__file__).resolve().parents[2] / "board" / "prompts"


def heard(x, plan, channels=None):
    """Every ToneEvent of a repeating detector over int16-scale samples x (channels, n)."""
    x = np.atleast_2d(x)
    det = tones.CallProgressDetector(x.shape[0], load_plan(plan), repeat=True)
    x = to_int16(x)
    events = []
    for i in range(0, x.shape[1] - FRAME + 1, FRAME):
        events += det.process(x[:, i:i + FRAME])
    return events


def stacked(clips):
    """Clips of different lengths as the channels of one array, zero-padded."""
    out = np.zeros((len(clips), max(c.size for c in clips)))
    for i, c in enumerate(clips):
        out[i, :c.size] = c
    return out


def prompts():
    clips = []
    for path in sorted(glob.glob(str(PROMPTS / "*" / "*.wav"))):
        with wave.open(path) as w:
            a = np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, w.getnchannels())[:, 0]
            clips.append(to_8k(a, w.getframerate()).astype(np.float64))
    return clips


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("name", ["busy", "congestion"])
def test_a_held_tone_is_reported_again_for_every_further_period(plan, name):
    spec = next(t for t in load_plan(plan).tones if t.name == name)
    x = np.concatenate([np.zeros(RATE // 2), synth(spec, repeats=8)])
    events = [e for e in heard(x, plan) if e.tone == name]
    cycles = [e.cycles for e in events]
    first = spec.confirm // len(spec.segments)
    # Eight periods played: reported at the plan's confirming count, then once a period to the 7th or 8th.
    assert cycles == list(range(first, first + len(cycles))) and cycles[-1] >= 7
    # Without `repeat`, the detector reports the tone once (dialling out needs no more).
    once = tones.CallProgressDetector(1, load_plan(plan))
    y = to_int16(x[None, :])
    out = []
    for i in range(0, y.shape[1] - FRAME + 1, FRAME):
        out += once.process(y[:, i:i + FRAME])
    assert [e.tone for e in out if e.tone == name] == [name]


@pytest.mark.parametrize("plan", PLANS)
def test_speech_music_and_the_boxs_prompts_never_read_as_a_far_end_hang_up(plan, talkoff_speech, talkoff_music):
    # Every clip, and each looped to a minute or more (music on hold plays for as long as a caller waits).
    clips = [np.tile(c, 1 + int(60 * RATE // c.size)) for c in prompts() if c.size > RATE] + talkoff_speech
    clips += talkoff_music
    clear = [e for e in heard(stacked(clips), plan) if e.tone in ("busy", "congestion")]
    assert not [e for e in clear if e.cycles >= SUPERVISION_CYCLES], clear


@pytest.mark.parametrize("erl_db", [6.0, 12.0])
def test_busy_is_heard_under_the_echo_of_the_boxs_own_prompt(erl_db):
    # On a 2-wire line the box's prompt comes back through the hybrid, at least 6 dB down (ITU-T G.168
    # takes 6 dB as the worst echo return loss of a network hybrid); the far end's exchange plays busy
    # (China: -10 dBm0) under it, and the supervision count is still reached.
    spec = next(t for t in load_plan("cn").tones if t.name == "busy")
    busy = np.concatenate([np.zeros(RATE // 2), synth(spec, level=-10.0, repeats=8)])
    prompt = np.concatenate(prompts()[:40])
    echo = np.resize(prompt, busy.size) * 10.0 ** (-erl_db / 20.0)
    events = [e for e in heard(busy + echo, "cn") if e.tone == "busy"]
    assert events and max(e.cycles for e in events) >= SUPERVISION_CYCLES
