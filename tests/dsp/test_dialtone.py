"""The line test's verdict: each plan's dial tone is heard at its standard frequencies and levels; a dead
line, and loud lines that carry no dial tone (busy, congestion, ringback, noise, speech), are not."""
import numpy as np
import pytest

from dsp import tonegen
from dsp.levels import dbm0_to_amplitude
from dsp.dialtone import DialToneListener, listening_s
from dsp.tones import TonePlanError, plan_from_dict
from firmware.config.tone_plans import load_plan

RATE = 8000
# A line test listens 3 s unless told otherwise (README: line.test(channel, seconds=3)).
LISTEN_S = 3.0

# Dial tones by docs/standards.md §3: China 450 +- 25 Hz at -10 +- 3 dBm0 (§3.1); North America
# 350 + 440 Hz at -13 dBm0 per tone (§3.2, spandsp); Europe 425 Hz (CEPT T/SF 20-15, §3.3), whose
# level the sources read do not give: China's -10 dBm0 here.
DIAL = {
    "cn": [([450.0], -10.0), ([450.0], -13.0), ([450.0], -7.0), ([425.0], -10.0), ([475.0], -10.0)],
    "na": [([350.0, 440.0], -13.0), ([350.0, 440.0], -16.0)],
    "etsi": [([425.0], -10.0), ([425.0], -13.0)],
}
# The same plans' other tones (§3.1-3.3), loud: (frequencies, dBm0 per tone, cadence on/off pairs).
OTHER_TONES = {
    "cn": {"busy": ([450.0], -10.0, [0.35, 0.35]), "congestion": ([450.0], -10.0, [0.7, 0.7]),
           "ringback": ([450.0], -10.0, [1.0, 4.0]),
           "unobtainable": ([450.0], -10.0, [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.4, 0.4])},
    "na": {"busy": ([480.0, 620.0], -10.0, [0.5, 0.5]), "reorder": ([480.0, 620.0], -10.0, [0.25, 0.25]),
           "ringback": ([440.0, 480.0], -10.0, [2.0, 4.0])},
    "etsi": {"busy": ([425.0], -10.0, [0.5, 0.5]), "congestion": ([425.0], -10.0, [0.25, 0.25]),
             "ringback": ([425.0], -10.0, [1.0, 4.0])},
}


def line(signal, seconds=LISTEN_S, noise_dbm0=-65.0, seed=0):
    """`signal` (a function of the sample count) on a line with white noise, int16."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    noise = rng.standard_normal(n) * dbm0_to_amplitude(noise_dbm0) * np.sqrt(0.5)
    return tonegen.to_int16(signal(n) + noise)


def judge(plan, samples, seed=0):
    """Feed `samples` in uneven pieces, as a modem's serial reads deliver them; (heard, level).
    `plan`: a TonePlan or a bundled plan's name."""
    listener = DialToneListener(load_plan(plan) if isinstance(plan, str) else plan)
    rng = np.random.default_rng(seed)
    cuts = np.cumsum(rng.integers(1, 400, size=samples.size))
    for piece in np.split(samples, cuts[cuts < samples.size]):
        listener.feed(piece)
    return listener.heard, listener.level_dbm0


@pytest.mark.parametrize("plan, freqs, level", [(p, f, lv) for p, tones in DIAL.items() for f, lv in tones])
def test_each_plans_dial_tone_is_heard_at_its_frequencies_and_levels(plan, freqs, level):
    heard, measured = judge(plan, line(lambda n: tonegen.tone(freqs, level, n)))
    assert heard
    together = 10.0 * np.log10(len(freqs)) + level      # tones of equal level add by power
    assert measured == pytest.approx(together, abs=0.3)


@pytest.mark.parametrize("plan", DIAL)
def test_the_shortest_listening_the_plan_allows_is_enough(plan):
    freqs, level = DIAL[plan][0]
    assert judge(plan, line(lambda n: tonegen.tone(freqs, level, n), seconds=listening_s(load_plan(plan))))[0]


@pytest.mark.parametrize("plan, tone", [(p, t) for p, tones in OTHER_TONES.items() for t in tones])
def test_a_line_loud_with_another_tone_of_the_plan_has_no_dial_tone(plan, tone):
    freqs, level, pattern = OTHER_TONES[plan][tone]
    for start in (0.0, 0.5 * sum(pattern)):      # the test may begin anywhere in the cadence
        def signal(n, start=start):
            return tonegen.cadence(freqs, level, pattern, start + n / RATE)[-n:]
        heard, measured = judge(plan, line(signal, seconds=10.0))
        assert not heard, (tone, start)
        assert measured is not None


@pytest.mark.parametrize("plan", DIAL)
def test_a_dead_line_and_another_networks_dial_tone_are_no_dial_tone(plan):
    assert judge(plan, line(lambda n: np.zeros(n))) == (False, pytest.approx(-65.0, abs=1.0))
    assert judge(plan, np.zeros(int(LISTEN_S * RATE), np.int16)) == (False, None)
    others = {"cn": ([350.0, 440.0], -13.0), "na": ([450.0], -10.0), "etsi": ([350.0, 440.0], -13.0)}
    freqs, level = others[plan]
    assert not judge(plan, line(lambda n: tonegen.tone(freqs, level, n)))[0]


@pytest.mark.parametrize("plan", DIAL)
def test_loud_noise_and_speech_are_no_dial_tone(plan, speech):
    heard, level = judge(plan, line(lambda n: np.zeros(n), noise_dbm0=-10.0))
    assert not heard and level == pytest.approx(-10.0, abs=0.5)
    talk = speech[:int(10 * RATE)]
    talk = talk * (dbm0_to_amplitude(-15.0) / np.sqrt(2.0) / np.sqrt(np.mean(talk ** 2)))
    assert not judge(plan, line(lambda n: talk[:n], seconds=talk.size / RATE))[0]


def test_a_cadenced_dial_tone_is_heard_once_its_cadence_is_confirmed():
    # A stuttered dial tone (North America's recall tone, §3.2: 0.1 s on / 0.1 s off) as a plan's only tone.
    plan = plan_from_dict({"tolerance": 0.1, "frequency_tolerance_hz": 0.0, "silence_s": 5.0, "tone": [
        {"name": "dial", "freqs": [350.0, 440.0], "cadence": [0.1, 0.1], "confirm": 4}]}, "stutter.toml")
    assert listening_s(plan) == pytest.approx(5 * 0.1 * 1.1 + 0.04)
    stutter = line(lambda n: tonegen.cadence([350.0, 440.0], -13.0, [0.1, 0.1], n / RATE), seconds=listening_s(plan))
    assert judge(plan, stutter)[0]


def test_a_plan_without_a_dial_tone_cannot_judge_a_line():
    plan = plan_from_dict({"tolerance": 0.1, "frequency_tolerance_hz": 0.0, "silence_s": 5.0, "tone": [
        {"name": "busy", "freqs": [480.0, 620.0], "cadence": [0.5, 0.5], "confirm": 4}]}, "nodial.toml")
    with pytest.raises(TonePlanError, match="nodial.toml: tone \\(dial\\): the plan has no dial tone"):
        DialToneListener(plan)
