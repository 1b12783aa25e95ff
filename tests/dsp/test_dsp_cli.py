"""`branchline dsp dtmf FILE.wav`: digits printed from WAV files of any rate, width and channel count."""

import struct
import wave

import numpy as np
import pytest

from dsp.tonegen import dtmf_string, to_int16
from firmware.tools.dsp_cli import main_dtmf


def write_wav(path, channels, rate=8000, width=2):
    """Write float signals (int16 scale) as an integer PCM WAV of `width` bytes per sample."""
    n = max(len(c) for c in channels)
    x = np.zeros((len(channels), n))
    for i, c in enumerate(channels):
        x[i, :len(c)] = c
    pcm = np.ascontiguousarray(to_int16(x).T).astype(np.int32)
    if width == 1:
        raw = (pcm // 256 + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = pcm.astype("<i2").tobytes()
    elif width == 3:
        raw = (pcm.astype("<i4") * 256).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = (pcm.astype("<i4") * 65536).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)


def resampled(signal, rate):
    t = np.arange(int(len(signal) * rate / 8000)) * 8000 / rate
    return np.interp(t, np.arange(len(signal)), signal)


def test_mono_16_bit_8_khz_prints_each_digit_and_the_string(tmp_path, capsys):
    path = tmp_path / "mono.wav"
    write_wav(path, [np.concatenate([np.zeros(800), dtmf_string("1234#", 0.06, 0.06)])])
    assert main_dtmf([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "1234#"
    rows = [line.split("\t") for line in lines[:-1]]
    assert [r[2] for r in rows] == list("1234#") and {r[1] for r in rows} == {"0"}
    # Tone k starts at 0.1 s + k * 0.12 s.
    np.testing.assert_allclose([float(r[0]) for r in rows], 0.1 + 0.12 * np.arange(5), atol=0.006)
    assert all(len(r[0].split(".")[1]) == 3 for r in rows)


@pytest.mark.parametrize("rate, width", [(8000, 1), (16000, 3), (44100, 2), (48000, 4), (11025, 2)])
def test_any_rate_width_and_channel_count(tmp_path, capsys, rate, width):
    path = tmp_path / "multi.wav"
    left = dtmf_string("159D", 0.07, 0.07, level_dbm0=-6.0)
    right = np.concatenate([np.zeros(400), dtmf_string("*0#", 0.07, 0.07, level_dbm0=-6.0)])
    write_wav(path, [resampled(left, rate), resampled(right, rate), np.zeros(10)], rate, width)
    assert main_dtmf([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "159D\t*0#\t"
    assert sorted(line.split("\t")[1] for line in lines[:-1]) == ["0"] * 4 + ["1"] * 3


def test_float_wav_is_rejected_with_exit_code_2(tmp_path, capsys):
    # WAVE_FORMAT_IEEE_FLOAT (3): a RIFF header by hand, since the wave module writes only PCM.
    data = np.zeros(80, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)
    riff = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)
    path = tmp_path / "float.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    assert main_dtmf([str(path)]) == 2
    err = capsys.readouterr().err
    assert "float.wav" in err and "integer PCM" in err


def test_missing_or_garbage_file_exit_code_2(tmp_path, capsys):
    assert main_dtmf([str(tmp_path / "nope.wav")]) == 2
    (tmp_path / "junk.wav").write_bytes(b"not a wav file at all")
    assert main_dtmf([str(tmp_path / "junk.wav")]) == 2
    assert main_dtmf([]) == 2
    err = capsys.readouterr().err
    assert "nope.wav" in err and "junk.wav" in err
