"""Rate conversion to 8 kHz: tone frequency and level kept, out-of-band tones stopped (G.712 band)."""

import numpy as np
import pytest

from dsp.levels import RATE, rms_dbm0
from dsp.resample import to_8k

RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000)


def sine(freq, rate, seconds=1.0, amplitude=10000.0):
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


def peak_hz(x):
    """Frequency of the strongest component, by a zero-padded Hann-windowed FFT (0.125 Hz bins)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), 8 * RATE * 8))
    return np.argmax(spectrum) * RATE / (8 * RATE * 8)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("freq", [300.0, 1004.0, 3000.0])
def test_tone_keeps_its_frequency_and_level(rate, freq):
    y = to_8k(sine(freq, rate), rate)
    assert y.dtype == np.float64
    assert y.size == RATE
    middle = y[RATE // 8:-RATE // 8]  # away from the filter's start and end transients
    assert peak_hz(middle) == pytest.approx(freq, abs=0.2)
    assert rms_dbm0(middle) == pytest.approx(rms_dbm0(sine(freq, rate)), abs=0.05)


@pytest.mark.parametrize("rate, freq", [(16000, 5000.0), (16000, 7000.0), (22050, 5000.0), (44100, 6000.0),
                                        (48000, 4600.0), (48000, 12000.0)])
def test_out_of_band_tone_is_stopped(rate, freq):
    # Everything above 4600 Hz would fold into the 300-3400 Hz band: at least 40 dB down (60 designed).
    y = to_8k(sine(freq, rate), rate)[RATE // 8:-RATE // 8]
    assert rms_dbm0(y) - rms_dbm0(sine(freq, rate)) < -40.0


def test_channels_on_the_first_axis_time_on_the_last():
    x = np.stack([sine(500.0, 16000), sine(1500.0, 16000), np.zeros(16000)])
    y = to_8k(x, 16000)
    assert y.shape == (3, RATE)
    assert np.allclose(y[0], to_8k(x[0], 16000))
    assert peak_hz(y[1, 1000:-1000]) == pytest.approx(1500.0, abs=0.2)
    assert not y[2].any()


def test_int16_input_and_integer_valued_float_rate():
    x = sine(1000.0, 16000).astype(np.int16)
    assert np.allclose(to_8k(x, 16000.0), to_8k(x.astype(np.float64), 16000))


def test_8k_is_passed_through_as_float64():
    x = np.arange(10, dtype=np.int16)
    assert np.array_equal(to_8k(x, 8000), x.astype(np.float64))


@pytest.mark.parametrize("samples, rate, match", [
    (np.zeros(10), 0, "positive integer"),
    (np.zeros(10), 44100.5, "positive integer"),
    (np.zeros(10), "16k", "positive integer"),
    (np.zeros((2, 2, 2)), 16000, "1-D or"),
    (np.array(["a"]), 16000, "numbers"),
])
def test_rejects_bad_arguments(samples, rate, match):
    with pytest.raises(ValueError, match=match):
        to_8k(samples, rate)
