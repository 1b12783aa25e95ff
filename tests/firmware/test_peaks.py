"""Waveform peaks: computed once by the recorder (numpy) or later by the web process (standard library),
the same bytes either way, and true to the audio: a tone in one channel only is silence in the other."""
import numpy as np
import pytest

from drivers.channel import RATE
from firmware.core import peaks
from firmware.core.recorder import Recorder, peaks_of, wav_header


def write_wav(path, audio: np.ndarray) -> None:
    """A WAV as the recorder writes it: (channels, n) int16, interleaved."""
    raw = np.ascontiguousarray(audio.T).astype("<i2").tobytes()
    path.write_bytes(wav_header(len(raw), audio.shape[0]) + raw)


def tone_left(seconds: float, amplitude: int = 12000, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    left = (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return np.stack([left, np.zeros_like(left)])


def test_a_tone_in_the_left_channel_only_peaks_left_and_is_flat_right(tmp_path):
    wav = tmp_path / "call.wav"
    write_wav(wav, tone_left(2.0))
    p = peaks.compute(wav)
    assert p.channels == 2 and p.frames == 2 * RATE
    assert p.samples_per_peak == 80   # 100 peaks a second: 10 ms each
    lo, hi = np.frombuffer(p.mins[0], np.int8), np.frombuffer(p.maxs[0], np.int8)
    assert len(lo) == 200
    # 12000 / 256 = 46.9: a 1 kHz tone has a whole cycle in every 10 ms, so every stretch reaches both crests.
    assert lo.max() <= -45 and hi.min() >= 45 and hi.max() == 46 and lo.min() == -47
    assert set(p.mins[1]) == {0} and set(p.maxs[1]) == {0}


def test_a_long_call_has_at_most_the_fixed_number_of_peaks(tmp_path):
    wav = tmp_path / "long.wav"
    frames = 600 * RATE + 123   # ten minutes and a bit: a last, short stretch
    write_wav(wav, np.zeros((2, frames), np.int16))
    p = peaks.compute(wav)
    assert len(p.mins[0]) == peaks.peak_count(frames, p.samples_per_peak) <= peaks.MAX_PEAKS
    assert p.samples_per_peak * (len(p.mins[0]) - 1) < frames <= p.samples_per_peak * len(p.mins[0])


@pytest.mark.parametrize("seconds", [0.0, 0.013, 1.0, 61.7])
def test_what_the_web_computes_is_what_the_recorder_computed(tmp_path, seconds):
    rng = np.random.default_rng(int(seconds * 1000))
    audio = rng.integers(-32768, 32767, (2, int(seconds * RATE)), dtype=np.int16, endpoint=True)
    wav = tmp_path / "r.wav"
    write_wav(wav, audio)
    engine = peaks_of(wav, 2, audio.shape[1])
    web = peaks.compute(wav)
    assert engine == web
    assert peaks.Peaks.from_bytes(web.to_bytes()) == web
    if audio.shape[1]:
        # The extremes of the first stretch are the audio's own, shifted to 8 bits.
        first = audio[:, :web.samples_per_peak]
        assert np.frombuffer(web.mins[1], np.int8)[0] == first[1].min() >> 8
        assert np.frombuffer(web.maxs[0], np.int8)[0] == first[0].max() >> 8


def test_the_recorder_keeps_the_peaks_beside_the_finished_file(tmp_path):
    rec = Recorder(tmp_path)
    rec.start()
    try:
        rec.open("r1", "2026/01/02/call-1.wav")
        audio = tone_left(1.0)
        for i in range(0, audio.shape[1], 160):
            rec.frames(("r1",), audio[None, :, i:i + 160])
        rec.close("r1")
    finally:
        rec.stop()
    wav = tmp_path / "2026/01/02/call-1.wav"
    kept = peaks.read(wav)
    assert kept is not None and kept == peaks.compute(wav)
    assert rec.finished()[0].path == wav


def test_a_damaged_peaks_file_counts_as_none(tmp_path):
    wav = tmp_path / "r.wav"
    write_wav(wav, tone_left(0.5))
    peaks.write(wav, peaks.compute(wav))
    data = peaks.sidecar(wav).read_bytes()
    peaks.sidecar(wav).write_bytes(data[:-3])
    assert peaks.read(wav) is None
    with pytest.raises(peaks.PeaksError):
        peaks.compute(tmp_path / "missing.wav")
