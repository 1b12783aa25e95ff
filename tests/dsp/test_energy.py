"""Level meter in dBm0 and voice activity (P.56 threshold and hangover) on tones, noise and speech."""

import numpy as np
import pytest

from dsp import energy
from dsp.energy import EnergyMeter, VoiceActivityDetector
from dsp.levels import RATE
from dsp.tonegen import tone, to_int16

FRAME = energy.FRAME


@pytest.fixture
def rng():
    return np.random.default_rng(56)


def vad(x, sizes=None, **kw):
    det = VoiceActivityDetector(1, **kw)
    x = to_int16(x)[None, :]
    events = []
    i = 0
    for n in sizes if sizes is not None else [FRAME] * (x.shape[1] // FRAME):
        events += det.process(x[:, i:i + n])
        i += n
    events += det.process(x[:, i:])
    return [(e.active, e.start) for e in events]


# ------------------------------------------------------------------------------------ meter

@pytest.mark.parametrize("level", [3.0, 0.0, -10.0, -35.0, -60.0])
def test_meter_reads_a_sine_at_its_level(level):
    # spandsp convention (docs/standards.md §0): full-scale sine = +3.14 dBm0.
    x = np.stack([to_int16(tone([1004], level, RATE)), to_int16(tone([1004], level - 10, RATE))])
    got = EnergyMeter(2).process(x)
    assert got == pytest.approx([level, level - 10], abs=0.05)


def test_meter_reads_noise_by_power_and_silence_as_minus_inf(rng):
    # White noise of rms r has the power of a sine of peak r * sqrt(2).
    sigma = 1000.0
    x = np.stack([to_int16(rng.normal(0, sigma, RATE)), np.zeros(RATE, np.int16)])
    got = EnergyMeter(2).process(x)
    expected = 20 * np.log10(sigma * np.sqrt(2) / (32767 * 10 ** (-3.14 / 20)))
    assert got[0] == pytest.approx(expected, abs=0.1)
    assert got[1] == -np.inf


def test_meter_rejects_bad_blocks():
    meter = EnergyMeter(2)
    for block, match in ((np.zeros((2, 160)), "int16"), (np.zeros((3, 160), np.int16), "2 channels"),
                         (np.zeros((2, 0), np.int16), "at least one")):
        with pytest.raises(ValueError, match=match):
            meter.process(block)


# ------------------------------------------------------------------------------------ voice activity

def test_talk_and_silence_transitions_with_their_starts():
    x = np.concatenate([np.zeros(RATE), tone([300, 800], -20, RATE), np.zeros(RATE)])
    events = vad(x)
    assert events == [(True, RATE), (False, 2 * RATE)]


def test_threshold_is_minus_35_dbm0_by_default():
    # ITU-T P.56: active above the active speech level (-19 dBm0, G.169) less 15.9 dB.
    assert vad(tone([500], -33, RATE)) != []
    assert vad(tone([500], -37, RATE)) == []
    assert vad(tone([500], -43, RATE), threshold_dbm0=-45.0) != []


def test_pauses_shorter_than_the_hangover_keep_talk_going():
    # ITU-T P.56 hangover 0.2 s: a 0.15 s pause is bridged, a 0.3 s pause is not.
    burst = tone([400], -20, RATE // 2)
    short = np.concatenate([burst, np.zeros(int(0.15 * RATE)), burst, np.zeros(RATE)])
    long = np.concatenate([burst, np.zeros(int(0.3 * RATE)), burst, np.zeros(RATE)])
    assert [a for a, _ in vad(short)] == [True, False]
    assert [a for a, _ in vad(long)] == [True, False, True, False]
    assert [a for a, _ in vad(long, hang_s=0.5)] == [True, False]


def test_a_click_is_not_talk():
    x = np.zeros(RATE)
    x[4000:4010] = 30000.0
    assert vad(x) == []


def test_dc_offset_is_not_talk():
    assert vad(np.full(RATE, 10000.0)) == []


def test_speech_is_talk_and_its_end_is_found(speech):
    x = np.concatenate([np.zeros(RATE), speech, np.zeros(2 * RATE)])
    events = vad(x)
    # espeak-ng starts each clip with a little silence of its own.
    assert events[0][0] is True and RATE <= events[0][1] <= RATE + 0.25 * RATE
    assert events[-1][0] is False
    assert events[-1][1] <= RATE + speech.size


def test_any_block_size_gives_the_same_events(speech, rng):
    x = np.concatenate([np.zeros(3000), speech[:5 * RATE], np.zeros(RATE)])
    expected = vad(x)
    assert vad(x, rng.integers(1, 900, x.size // 400)) == expected
    assert vad(x, [x.size]) == expected


def test_channels_are_independent_and_reset_is_silent():
    x = np.zeros((3, 2 * RATE), np.int16)
    x[1, RATE // 2:] = to_int16(tone([700], -20, 3 * RATE // 2))
    det = VoiceActivityDetector(3)
    events = []
    for i in range(0, x.shape[1], FRAME):
        events += det.process(x[:, i:i + FRAME])
    assert [(e.channel, e.active, e.start) for e in events] == [(1, True, RATE // 2)]
    det.reset(1)
    assert det.status()["active"] == []
    assert det.process(np.zeros((3, FRAME), np.int16)) == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(threshold_dbm0=10.0), "threshold_dbm0"),
    (dict(threshold_dbm0="loud"), "threshold_dbm0"),
    (dict(hang_s=-1.0), "hang_s"),
])
def test_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VoiceActivityDetector(1, **kwargs)


def test_rejects_bad_blocks():
    with pytest.raises(ValueError, match="int16"):
        VoiceActivityDetector(1).process(np.zeros((1, 160)))
