"""Tone synthesis and the dBm0 level convention: measured level, frequency, timing and saturation."""

import numpy as np
import pytest

from dsp.levels import RATE, amplitude_to_dbm0, dbm0_to_amplitude, rms_dbm0
from dsp.tonegen import (DTMF_HIGH, DTMF_KEYS, DTMF_LOW, cadence, dtmf_digit, dtmf_string,
                         to_int16, tone)


def component_level(x, freq):
    """Level in dBm0 of the sine at `freq` in `x` (least-squares projection)."""
    n = np.arange(x.size)
    basis = np.stack([np.cos(2 * np.pi * freq * n / RATE), np.sin(2 * np.pi * freq * n / RATE)], 1)
    coef = np.linalg.lstsq(basis, x, rcond=None)[0]
    return amplitude_to_dbm0(np.hypot(*coef))


def peak_frequency(x):
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), 16 * x.size))
    return np.argmax(spec) * RATE / (16 * x.size)


def test_level_convention_is_spandsp_full_scale_sine_at_3_14_dbm0():
    # spandsp telephony.h DBM0_MAX_SINE_POWER: a full-scale int16 sine is +3.14 dBm0 (docs/standards.md §0).
    assert dbm0_to_amplitude(3.14) == pytest.approx(32767.0)
    assert amplitude_to_dbm0(32767.0) == pytest.approx(3.14)
    assert dbm0_to_amplitude(0.0) == pytest.approx(32767.0 * 10 ** (-3.14 / 20))
    np.testing.assert_allclose(amplitude_to_dbm0(dbm0_to_amplitude(np.array([-40.0, 0.0]))), [-40.0, 0.0])
    full_scale = 32767.0 * np.sin(2 * np.pi * 1000.0 * np.arange(8000) / RATE)
    assert rms_dbm0(full_scale) == pytest.approx(3.14, abs=1e-6)


@pytest.mark.parametrize("level", [3.0, 0.0, -10.0, -36.0])
@pytest.mark.parametrize("freq", [350.0, 1004.0, 1633.0])
def test_tone_has_requested_level_and_frequency(level, freq):
    x = tone(freq, level, RATE)
    assert x.dtype == np.float64 and x.shape == (RATE,)
    assert rms_dbm0(x) == pytest.approx(level, abs=0.01)
    assert peak_frequency(x) == pytest.approx(freq, abs=0.5)


def test_tone_components_have_their_own_levels_and_scalar_broadcasts():
    x = tone((350.0, 440.0), (-13.0, -20.0), RATE)
    assert component_level(x, 350.0) == pytest.approx(-13.0, abs=0.01)
    assert component_level(x, 440.0) == pytest.approx(-20.0, abs=0.01)
    y = tone((480.0, 620.0), -24.0, RATE, phase=(0.0, 1.0))
    assert component_level(y, 620.0) == pytest.approx(-24.0, abs=0.01)
    with pytest.raises(ValueError, match="one level and phase per frequency"):
        tone((350.0, 440.0), (-13.0, -20.0, -3.0), 100)


def test_cadence_switches_on_and_off():
    # China busy tone 450 Hz 0.35 s on / 0.35 s off (docs/standards.md §3.1).
    x = cadence(450.0, -10.0, (0.35, 0.35), 1.4)
    assert x.size == int(1.4 * RATE)
    on = np.abs(x) > 0
    blocks = on.reshape(4, -1)
    assert blocks[0].mean() > 0.99 and not blocks[1].any() and blocks[2].mean() > 0.99 and not blocks[3].any()
    y = cadence(450.0, -10.0, [(0.1, 0.1), (0.2, 0.2)], 0.6)
    assert np.abs(y[:800]).max() > 0 and not y[800:1600].any() and np.abs(y[1600:3200]).max() > 0
    assert not y[3200:4800].any()
    with pytest.raises(ValueError, match="on_s, off_s"):
        cadence(450.0, -10.0, (0.35,), 1.0)


def test_dtmf_table_is_q23():
    # ITU-T Q.23: row and column frequencies, row-major keypad.
    assert DTMF_LOW == (697.0, 770.0, 852.0, 941.0)
    assert DTMF_HIGH == (1209.0, 1336.0, 1477.0, 1633.0)
    assert DTMF_KEYS == ("123A", "456B", "789C", "*0#D")


@pytest.mark.parametrize("digit", list("".join(DTMF_KEYS)) + ["a", "d"])
def test_dtmf_digit_holds_its_two_tones(digit):
    r, c = next((i, row.index(digit.upper())) for i, row in enumerate(DTMF_KEYS) if digit.upper() in row)
    x = dtmf_digit(digit, on_s=0.5, level_dbm0=-7.0, twist_db=-3.0)
    assert x.size == 4000
    assert component_level(x, DTMF_LOW[r]) == pytest.approx(-7.0, abs=0.05)
    assert component_level(x, DTMF_HIGH[c]) == pytest.approx(-10.0, abs=0.05)


def test_dtmf_digit_frequency_offset_is_relative_per_group():
    x = dtmf_digit("5", on_s=1.0, freq_offset=(0.015, -0.035))
    lo = x - tone(1336.0 * 0.965, -10.0, x.size)
    assert peak_frequency(lo) == pytest.approx(770.0 * 1.015, abs=0.5)
    assert component_level(x, 1336.0 * 0.965) == pytest.approx(-10.0, abs=0.05)


def test_dtmf_string_timing_and_bad_digit():
    x = dtmf_string("12#", on_s=0.04, off_s=0.06)
    assert x.size == 3 * 800
    assert not x[320:800].any() and np.abs(x[800:1120]).max() > 0
    with pytest.raises(ValueError, match="expected one of 0-9"):
        dtmf_digit("E")


def test_to_int16_rounds_and_saturates_without_wrapping():
    y = to_int16(np.array([0.4, 0.6, -0.6, 32767.4, 40000.0, -40000.0, -32768.6]))
    assert y.dtype == np.int16
    np.testing.assert_array_equal(y, [0, 1, -1, 32767, 32767, -32768, -32768])
    loud = to_int16(tone(1000.0, 10.0, 800))
    assert loud.max() == 32767 and loud.min() == -32768
