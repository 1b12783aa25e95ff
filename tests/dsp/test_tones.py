"""Call-progress tones: each plan's tones from synthesised signals, cadence discrimination, plan files."""

import numpy as np
import pytest

from dsp import tones
from dsp.levels import RATE
from dsp.tonegen import cadence, tone, to_int16
from firmware.config.tone_plans import load_plan

PLANS = ("cn", "na", "etsi")
FRAME = tones.FRAME
CN = load_plan("cn")


@pytest.fixture
def rng():
    return np.random.default_rng(3380)


def run(x, plan="cn", sizes=None, channels=1):
    det = tones.CallProgressDetector(channels, load_plan(plan))
    x = np.atleast_2d(to_int16(x) if x.dtype != np.int16 else x)
    x = np.repeat(x, channels, axis=0) if x.shape[0] != channels else x
    events = []
    i = 0
    for n in sizes if sizes is not None else [FRAME] * (x.shape[1] // FRAME):
        events += det.process(x[:, i:i + n])
        i += n
    events += det.process(x[:, i:])
    return [(e.tone, e.start) for e in events] if channels == 1 else events


def synth(spec, level=-13.0, repeats=4):
    """Samples of a plan tone: its segments played `repeats` times (a continuous tone for 4 s)."""
    if spec.min_s is not None:
        return tone(sorted(spec.segments[0][0]), level, 4 * RATE)
    parts = [tone(sorted(f), level, int(round(s * RATE))) if f else np.zeros(int(round(s * RATE)))
             for f, s in spec.segments * repeats]
    return np.concatenate(parts)


def cases():
    return [(p, t.name) for p in PLANS for t in load_plan(p).tones]


@pytest.mark.parametrize("plan, name", cases())
def test_each_tone_of_each_plan_is_recognised(plan, name, rng):
    spec = next(t for t in load_plan(plan).tones if t.name == name)
    lead = int(rng.integers(RATE // 2, RATE))
    x = np.concatenate([np.zeros(lead), synth(spec), np.zeros(RATE)])
    events = run(x, plan)
    assert [e[0] for e in events] == [name]
    # Frame resolution: the reported start is within one 20 ms frame of the tone's first sample.
    assert abs(events[0][1] - lead) <= FRAME


@pytest.mark.parametrize("plan, name", cases())
def test_any_block_size_gives_the_same_events(plan, name, rng):
    spec = next(t for t in load_plan(plan).tones if t.name == name)
    x = np.concatenate([np.zeros(3333), synth(spec, repeats=3), np.zeros(6 * RATE)])
    sizes = rng.integers(1, 2000, x.size // 500)
    assert run(x, plan, sizes) == run(x, plan) == run(x, plan, [x.size])


def test_cn_cadence_tells_busy_congestion_and_ringback_apart():
    # docs/standards.md §3.1: all at 450 Hz; busy 0.35/0.35, congestion 0.7/0.7, ringback 1/4.
    lead = np.zeros(RATE // 2)
    for pattern, expected in (([(0.35, 0.35)], "busy"), ([(0.7, 0.7)], "congestion"),
                              ([(1.0, 4.0)], "ringback")):
        events = run(np.concatenate([lead, cadence([450], -10, pattern, 11.0)]))
        assert [e[0] for e in events] == [expected]


def test_na_busy_and_reorder_differ_by_cadence_and_dial_by_frequency():
    # §3.2: busy 480+620 0.5/0.5, reorder 0.25/0.25, dial 350+440, ringback 440+480 2/4.
    lead = np.zeros(RATE // 2)
    busy = np.concatenate([lead, cadence([480, 620], -24, [(0.5, 0.5)], 3.0)])
    reorder = np.concatenate([lead, cadence([480, 620], -24, [(0.25, 0.25)], 2.0)])
    assert [e[0] for e in run(busy, "na")] == ["busy"]
    assert [e[0] for e in run(reorder, "na")] == ["congestion"]
    assert [e[0] for e in run(np.concatenate([lead, tone([350, 440], -13, RATE)]), "na")] == ["dial"]
    # A 440 + 480 Hz pair is ringback, never dial tone, however long it lasts.
    assert [e[0] for e in run(np.concatenate([lead, tone([440, 480], -19, 3 * RATE)]), "na")] == []


def test_cn_dial_tone_needs_longer_than_a_ringback_burst():
    lead = np.zeros(RATE // 2)
    assert run(np.concatenate([lead, tone([450], -10, int(1.1 * RATE)), np.zeros(RATE)])) == []
    assert [e[0] for e in run(np.concatenate([lead, tone([450], -10, int(1.3 * RATE))]))] == ["dial"]


@pytest.mark.parametrize("freq", [425.0, 440.0, 460.0, 475.0])
@pytest.mark.parametrize("level", [-7.0, -13.0, -30.0])
def test_cn_accepts_450_hz_plus_minus_25_at_any_working_level(freq, level):
    # §3.1: 450 +- 25 Hz, -10 +- 3 dBm0, and down to far below for long lines.
    x = np.concatenate([np.zeros(RATE // 2), cadence([freq], level, [(0.35, 0.35)], 3.0)])
    assert [e[0] for e in run(x)] == ["busy"]


def test_below_the_level_floor_is_silence():
    # spandsp super_tone_rx: frames under -42 dBm0 are not tones (§3.4).
    x = cadence([450], -48, [(0.35, 0.35)], 6.0)
    assert run(x) == [("silence", 0)]


def test_cadence_out_of_tolerance_is_not_busy():
    # Asterisk BUSY_PERCENT 10 (§3.4): 0.5 s bursts are neither busy (0.35) nor congestion (0.7).
    assert run(np.concatenate([np.zeros(RATE // 2), cadence([450], -10, [(0.5, 0.5)], 6.0)])) == []


def test_silence_is_reported_after_silence_s():
    plan = CN
    assert plan.silence_s == 5.0
    n = int(plan.silence_s * RATE)
    assert run(np.zeros(n - FRAME)) == []
    assert run(np.zeros(n)) == [("silence", 0)]
    # After a tone the silence starts where the tone stopped, and is reported once.
    x = np.concatenate([tone([450], -10, RATE // 3), np.zeros(3 * n)])
    assert run(x) == [("silence", -(-(RATE // 3) // FRAME) * FRAME)]


def test_ringback_pause_is_not_silence():
    events = run(np.concatenate([np.zeros(RATE // 2), cadence([450], -10, [(1.0, 4.0)], 20.0)]))
    assert [e[0] for e in events] == ["ringback"]


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("gain", [0.3, 1.0, 3.0])
def test_speech_never_gives_a_tone(speech, plan, gain):
    assert run(np.tile(speech * gain, 2), plan) == []


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("sigma", [300.0, 3000.0, 30000.0])
def test_noise_never_gives_a_tone(plan, sigma, rng):
    assert run(rng.normal(0, sigma, 20 * RATE), plan) == []


def test_dc_offset_and_clipped_tone_are_handled():
    # A DC offset is not a tone (the frame energy is taken without it); a tone clipped at full scale
    # is still the tone.
    assert run(np.full(3 * RATE, 12000.0)) == []
    busy = np.concatenate([np.zeros(RATE // 2), cadence([450], 6.0, [(0.35, 0.35)], 4.0)])
    assert [e[0] for e in run(busy * 3.0)] == ["busy"]
    assert [e[0] for e in run(busy * 0.1 + 8000.0)] == ["busy"]


def test_channels_are_independent_and_reset_forgets_history():
    busy = to_int16(np.concatenate([np.zeros(RATE // 2), cadence([450], -10, [(0.35, 0.35)], 4.0)]))
    x = np.zeros((3, busy.size), np.int16)
    x[1] = busy
    events = run(x, channels=3)
    assert [(e.channel, e.tone) for e in events] == [(1, "busy")]
    det = tones.CallProgressDetector(1, CN)
    det.process(busy[None, :RATE])
    det.reset(0)
    # Only 3 of busy's 4 confirming segments remain after the reset point.
    assert det.process(busy[None, RATE:RATE + int(1.3 * RATE)]) == []


@pytest.mark.parametrize("block, match", [
    (np.zeros((2, 160), np.float32), "int16"),
    (np.zeros((2, 2, 160), np.int16), "ndim"),
    (np.zeros((1, 160), np.int16), "2 channels"),
])
def test_rejects_bad_blocks(block, match):
    with pytest.raises(ValueError, match=match):
        tones.CallProgressDetector(2, CN).process(block)


# ------------------------------------------------------------------------------------ plans

def test_plan_from_dict_names_the_source_key_and_reason():
    # The bundled files are read in tests/firmware/test_tone_plans.py; here the parsed data is checked.
    with pytest.raises(tones.TonePlanError, match=r"site.toml: tolerance: expected a number in \[0.0, 0.5\]"):
        tones.plan_from_dict({"tolerance": 0.9, "frequency_tolerance_hz": 25.0, "silence_s": 5.0,
                              "tone": [{"name": "dial", "freqs": [450.0], "min_s": 1.2}]}, "/x/site.toml")


def test_detector_refuses_what_is_not_a_plan():
    # dsp reads no files: a plan name is refused like any other non-plan (firmware/config reads them).
    for not_a_plan in (42, "cn", "mars"):
        with pytest.raises(ValueError, match="expected a TonePlan"):
            tones.CallProgressDetector(1, not_a_plan)


def test_equal_plans_share_their_probes():
    assert tones.probes(load_plan("cn")) is tones.probes(CN)


def test_public_api_takes_the_plan_it_is_given():
    # CallProgressDetector(channels, plan): the plan is a TonePlan the caller read (the box's default,
    # cn, is chosen by firmware/config, not by dsp); no plan, no detector.
    CallProgressDetector = tones.CallProgressDetector
    assert CallProgressDetector(2, plan=CN).plan is CN
    assert CallProgressDetector(1, plan=load_plan("na")).plan.name == "na"
    with pytest.raises(TypeError):
        CallProgressDetector(2)  # type: ignore[call-arg]
