"""Mixing matrix: bridges, conferences, supervisor whisper, saturation, gains measured on the output."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.levels import RATE, amplitude_to_dbm0, rms_dbm0
from dsp.mix import db_to_gain, mix
from dsp.tonegen import tone, to_int16

N = 160


def goertzel_dbm0(x, freq):
    """Level in dBm0 of the `freq` component of `x` (a whole number of cycles long), by a single DFT bin."""
    n = np.arange(x.size)
    return amplitude_to_dbm0(2.0 * np.abs(np.sum(x * np.exp(-2j * np.pi * freq * n / RATE))) / x.size)


def rows(*freqs, level=-10.0, n=RATE):
    return np.stack([to_int16(tone([f], level, n)) if f else np.zeros(n, np.int16) for f in freqs])


def test_bridge_swaps_two_parties():
    x = rows(400, 1000)
    out = mix(x, [0, 1], [1, 0], [1.0, 1.0], 2)
    assert np.array_equal(out, x[::-1])


def test_three_way_conference_hears_the_other_two():
    x = rows(400, 1000, 1600)
    dst = [0, 0, 1, 1, 2, 2]
    src = [1, 2, 0, 2, 0, 1]
    out = mix(x, dst, src, np.ones(6), 3)
    for ch, freq in enumerate((400, 1000, 1600)):
        assert goertzel_dbm0(out[ch], freq) < -80  # no echo of one's own voice
        for other in {400, 1000, 1600} - {freq}:
            assert goertzel_dbm0(out[ch], other) == pytest.approx(-10.0, abs=0.05)


def test_whisper_reaches_the_agent_and_never_the_caller():
    # Rows: 0 caller 400 Hz, 1 agent 1000 Hz, 2 supervisor 2200 Hz. Caller <-> agent bridged; the
    # supervisor hears both (monitor) and speaks to the agent only (whisper).
    x = rows(400, 1000, 2200)
    dst = [0, 1, 1, 2, 2]
    src = [1, 0, 2, 0, 1]
    out = mix(x, dst, src, np.ones(5), 3)
    assert goertzel_dbm0(out[0], 2200) < -80
    assert goertzel_dbm0(out[0], 1000) == pytest.approx(-10.0, abs=0.05)
    assert goertzel_dbm0(out[1], 2200) == pytest.approx(-10.0, abs=0.05)
    assert goertzel_dbm0(out[1], 400) == pytest.approx(-10.0, abs=0.05)
    assert goertzel_dbm0(out[2], 400) == pytest.approx(-10.0, abs=0.05)
    assert goertzel_dbm0(out[2], 1000) == pytest.approx(-10.0, abs=0.05)


def test_barge_adds_the_supervisor_to_both_sides():
    x = rows(400, 1000, 2200)
    out = mix(x, [0, 0, 1, 1], [1, 2, 0, 2], np.ones(4), 3)
    assert goertzel_dbm0(out[0], 2200) == pytest.approx(-10.0, abs=0.05)
    assert goertzel_dbm0(out[1], 2200) == pytest.approx(-10.0, abs=0.05)
    assert not out[2].any()  # nobody feeds the supervisor's output here: silence


@pytest.mark.parametrize("db", [-12.0, -6.0, 0.0, 3.0])
def test_gain_in_db_is_measured_on_the_output(db):
    x = rows(1000, level=-15.0)
    out = mix(x, [0], [0], [db_to_gain(db)], 1)
    assert rms_dbm0(out[0]) == pytest.approx(-15.0 + db, abs=0.02)


def test_db_to_gain():
    assert db_to_gain(0.0) == 1.0
    assert db_to_gain(-20.0) == pytest.approx(0.1)
    assert db_to_gain([6.0206, 20.0]) == pytest.approx([2.0, 10.0], rel=1e-4)


def test_full_scale_sums_saturate_instead_of_wrapping():
    x = np.array([[30000, -30000, 20000], [30000, -30000, -20000]], np.int16)
    out = mix(x, [0, 0], [0, 1], [1.0, 1.0], 1)
    assert out.tolist() == [[32767, -32768, 0]]
    loud = rows(1000, 1000, level=3.0)
    both = mix(loud, [0, 0], [0, 1], [1.0, 1.0], 1)
    assert both.max() == 32767 and both.min() == -32768


def test_outputs_nobody_feeds_are_silence_and_prompts_are_extra_rows():
    x = np.vstack([rows(400, 1000, n=N), np.full((1, N), 1234, np.int16)])
    out = mix(x, [2], [2], [1.0], 4)
    assert out.shape == (4, N) and out.dtype == np.int16
    assert np.array_equal(out[2], x[2])
    assert not out[[0, 1, 3]].any()
    assert mix(x, [], [], [], 4).tolist() == np.zeros((4, N), np.int16).tolist()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_property_equals_a_plain_loop(data):
    channels = data.draw(st.integers(1, 6))
    sources = data.draw(st.integers(1, 6))
    legs = data.draw(st.integers(0, 12))
    x = np.array(data.draw(st.lists(st.lists(st.integers(-32768, 32767), min_size=8, max_size=8),
                                    min_size=sources, max_size=sources)), np.int16)
    dst = np.array(data.draw(st.lists(st.integers(0, channels - 1), min_size=legs, max_size=legs)), np.int64)
    src = np.array(data.draw(st.lists(st.integers(0, sources - 1), min_size=legs, max_size=legs)), np.int64)
    gain = np.array(data.draw(st.lists(st.floats(-2, 2, width=32), min_size=legs, max_size=legs)), np.float32)
    ref = np.zeros((channels, 8))
    for d, s, g in zip(dst, src, gain):
        ref[d] += float(g) * x[s]
    ref = np.clip(np.rint(ref), -32768, 32767)
    out = mix(x, dst, src, gain, channels)
    assert np.abs(out.astype(np.int64) - ref).max(initial=0) <= 1


@pytest.mark.parametrize("args, match", [
    ((np.zeros((2, N)), [0], [0], [1.0], 2), "int16"),
    ((np.zeros(N, np.int16), [0], [0], [1.0], 2), "int16 inputs shaped"),
    ((np.zeros((2, N), np.int16), [0, 1], [0], [1.0], 2), "equal-length"),
    ((np.zeros((2, N), np.int16), [2], [0], [1.0], 2), "dst in 0..1"),
    ((np.zeros((2, N), np.int16), [0], [5], [1.0], 2), "src in 0..1"),
    ((np.zeros((2, N), np.int16), [0.5], [0], [1.0], 2), "integer"),
    ((np.zeros((2, N), np.int16), [0], [0], [np.nan], 2), "finite"),
    ((np.zeros((2, N), np.int16), [0], [0], [1.0], 0), "channel count"),
])
def test_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        mix(*args)


def test_large_boxes_take_the_sparse_path_with_the_same_result():
    # Past DENSE_MAX (output, source) pairs the legs are summed row by row; the result must not change.
    rng = np.random.default_rng(7)
    channels = 200
    x = rng.integers(-20000, 20000, (channels + 5, N)).astype(np.int16)
    dst = rng.integers(0, channels, 600)
    src = rng.integers(0, channels + 5, 600)
    gain = rng.uniform(-1.5, 1.5, 600).astype(np.float32)
    ref = np.zeros((channels, N))
    np.add.at(ref, dst, gain[:, None].astype(np.float64) * x[src])
    ref = np.clip(np.rint(ref), -32768, 32767)
    assert np.abs(mix(x, dst, src, gain, channels).astype(np.int64) - ref).max() <= 1
