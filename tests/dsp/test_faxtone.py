"""Fax / modem tones: CNG (T.30) and CED / ANS, ANS/, ANSam, ANSam/ (T.30, V.25, V.8), per docs/standards.md §5."""

import numpy as np
import pytest

from dsp.faxtone import FRAME, FaxToneDetector
from dsp.levels import RATE, dbm0_to_amplitude
from dsp.tonegen import cadence, tone, to_int16


@pytest.fixture
def rng():
    return np.random.default_rng(30)


def run(x, sizes=None):
    det = FaxToneDetector(1)
    x = to_int16(x)[None, :]
    events = []
    i = 0
    for n in sizes if sizes is not None else [FRAME] * (x.shape[1] // FRAME):
        events += det.process(x[:, i:i + n])
        i += n
    events += det.process(x[:, i:])
    return [(e.tone, e.start) for e in events]


def pad(*parts, lead=1234):
    return np.concatenate([np.zeros(lead), *parts, np.zeros(RATE // 2)])


def answer_tone(level=-12.0, seconds=3.3, reversals=False, am=False, freq=2100.0):
    """V.25 ANS (2100 Hz), with 180 degree reversals every 450 ms (ANS/), with V.8's 15 Hz 20 % AM (ANSam)."""
    n = np.arange(int(seconds * RATE))
    phase = np.pi * (n // int(0.45 * RATE) % 2) if reversals else 0.0
    envelope = 1.0 + 0.2 * np.sin(2 * np.pi * 15 * n / RATE) if am else 1.0
    return dbm0_to_amplitude(level) * envelope * np.sin(2 * np.pi * freq * n / RATE + phase)


def test_cng_each_burst_reported_at_its_start():
    # T.30: 1100 Hz, 0.5 s on / 3 s off; spandsp's generator sends -11 dBm0.
    events = run(pad(cadence([1100], -11, [(0.5, 3.0)], 8.0)))
    assert [e[0] for e in events] == ["cng"] * 3
    assert all(abs(start - (1234 + k * 28000)) <= FRAME for k, (_, start) in enumerate(events))


@pytest.mark.parametrize("kind", ["ans", "ans/", "ansam", "ansam/"])
def test_ced_and_answer_tone_variants(kind):
    x = answer_tone(reversals=kind.endswith("/"), am=kind.startswith("ansam"))
    events = run(pad(x))
    assert [e[0] for e in events] == ["ced"]
    assert abs(events[0][1] - 1234) <= FRAME


@pytest.mark.parametrize("offset", [-46.0, -20.0, 20.0, 46.0])
def test_cng_accepts_1100_plus_minus_38_plus_8_hz(offset):
    # §5: 1100 +- 38 Hz, spandsp's tests add 8 Hz.
    assert [e[0] for e in run(pad(cadence([1100 + offset], -11, [(0.5, 3.0)], 1.0)))] == ["cng"]


@pytest.mark.parametrize("offset", [-23.0, 23.0])
def test_ced_accepts_2100_plus_minus_15_plus_8_hz(offset):
    assert [e[0] for e in run(pad(answer_tone(freq=2100 + offset)))] == ["ced"]


@pytest.mark.parametrize("freq", [1000.0, 1300.0, 2225.0, 2000.0, 1800.0])
def test_other_tones_are_neither(freq):
    # 1300 Hz is the V.25 calling tone, 2225 Hz Bell ANS (§5): neither CNG nor CED.
    assert run(pad(cadence([freq], -11, [(0.5, 3.0)], 4.0))) == []
    assert run(pad(tone([freq], -11, 3 * RATE))) == []


@pytest.mark.parametrize("level, detected", [
    (-5.0, True), (-30.0, True), (-43.0, True), (-44.5, False), (-50.0, False)])
def test_level_floor_minus_43_dbm0(level, detected):
    # spandsp's tests: detect -5 ... -43 dBm0, not -44.
    assert bool(run(pad(cadence([1100], level, [(0.5, 3.0)], 1.0)))) is detected
    assert bool(run(pad(answer_tone(level=level)))) is detected


@pytest.mark.parametrize("on_s, detected", [
    (0.3, False), (0.45, True), (0.5, True), (0.55, True), (0.65, False), (2.0, False)])
def test_cng_burst_must_last_0_5_s_plus_minus_15_percent(on_s, detected):
    assert bool(run(pad(cadence([1100], -11, [(on_s, 3.0)], on_s + 0.1)))) is detected


def test_ced_reported_after_550_ms_and_not_before():
    assert run(pad(answer_tone(seconds=0.5))) == []
    assert [e[0] for e in run(pad(answer_tone(seconds=0.6)))] == ["ced"]


def test_any_block_size_gives_the_same_events(rng):
    x = pad(cadence([1100], -11, [(0.5, 3.0)], 4.0), np.zeros(3000), answer_tone(reversals=True, am=True))
    expected = run(x)
    assert [e[0] for e in expected] == ["cng", "cng", "ced"]
    assert run(x, rng.integers(1, 1500, x.size // 700)) == expected
    assert run(x, [x.size]) == expected


def test_speech_and_noise_give_nothing(speech, rng):
    for gain in (0.3, 1.0, 4.0):
        assert run(np.tile(speech * gain, 2)) == []
    for sigma in (100.0, 3000.0, 40000.0):
        assert run(rng.normal(0, sigma, 15 * RATE)) == []
    assert run(np.full(4 * RATE, 20000.0)) == []


def test_channels_are_independent():
    x = np.zeros((4, 5 * RATE), np.int16)
    cng = to_int16(cadence([1100], -11, [(0.5, 3.0)], 1.0))
    ced = to_int16(answer_tone())
    x[2, :cng.size] = cng
    x[3, :ced.size] = ced
    det = FaxToneDetector(4)
    events = []
    for i in range(0, x.shape[1], FRAME):
        events += det.process(x[:, i:i + FRAME])
    assert sorted((e.channel, e.tone, e.start) for e in events) == [(2, "cng", 0), (3, "ced", 0)]


@pytest.mark.parametrize("block, match", [
    (np.zeros((2, 160), np.int32), "int16"),
    (np.zeros(160, np.int16), "ndim"),
    (np.zeros((3, 160), np.int16), "2 channels"),
])
def test_rejects_bad_blocks(block, match):
    with pytest.raises(ValueError, match=match):
        FaxToneDetector(2).process(block)


def test_the_screen_only_skips_frames_the_exact_test_rejects(monkeypatch, rng):
    # The screen bounds the lag by the sub-block powers, the first and last counted at
    # faxtone._SCREEN_ENDS: sending every frame on to the exact test must change no hit, for tones
    # around the frequency limits and the purity limit (noise), DTMF-like pairs and gaps.
    from dsp import blocks, faxtone

    c, frames = 300, 20
    n = np.arange(frames * FRAME)
    x = np.zeros((c, n.size))
    for ch in range(c):
        amp = dbm0_to_amplitude(rng.uniform(-45.0, -5.0))
        freq = rng.choice(faxtone.FREQ_HZ) + rng.uniform(-80.0, 80.0)
        x[ch] = amp * np.sin(2 * np.pi * freq * n / RATE + rng.uniform(0.0, 2 * np.pi))
        if ch % 3 == 0:
            x[ch] += amp * np.sin(2 * np.pi * rng.choice([941.0, 1209.0, 1336.0]) * n / RATE)
        x[ch] += rng.normal(0.0, amp * 10 ** (-rng.uniform(0.0, 15.0) / 20), n.size)
        x[ch, :rng.integers(0, n.size)] = 0.0
    analysis = blocks.Analyser(faxtone.BASIS).analyse(to_int16(x).reshape(c, frames, FRAME))
    z, energy = analysis.product(faxtone.BASIS, "test"), analysis.ac_energy
    det = FaxToneDetector(c)
    screened = det._hits(z, energy)
    assert screened.any()
    # A screen every frame with any power near the tones passes (and no float32 overflow).
    monkeypatch.setattr(faxtone, "_SCREEN_SUM", np.full_like(faxtone._SCREEN_SUM, 1e20))
    np.testing.assert_array_equal(det._hits(z, energy), screened)
