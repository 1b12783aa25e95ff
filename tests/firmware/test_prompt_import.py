"""Prompt recordings made into the box's format (README, "IVR flows"): any common WAV becomes 8 kHz
mono 16-bit with its sound kept, its active level measured as ITU-T P.56 does, and silent or clipped
recordings refused."""
from __future__ import annotations

import json
import wave

import numpy as np
import pytest
from scipy.io import wavfile

from dsp.levels import DBM0_AMPLITUDE, active_level_dbm0
from firmware.core.files import previous_of
from firmware.core.prompts import read_wav
from firmware.tools.prompt_import import PromptImportError, import_prompt, main


def speech_like(rate, seconds=4.0, dbm0=-19.0, hz=1000.0):
    """A tone at `dbm0` (as an 8 kHz int16 prompt would carry it) on for 0.5 s, off for 0.5 s:
    active half the time, as speech is; as floats with 1.0 = int16 full scale."""
    t = np.arange(int(rate * seconds)) / rate
    on = (t % 1.0) < 0.5
    return DBM0_AMPLITUDE * 10 ** (dbm0 / 20) / 32768.0 * np.sin(2 * np.pi * hz * t) * on


def dominant_hz(pcm):
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    return np.fft.rfftfreq(pcm.size, 1 / 8000)[np.argmax(spectrum)]


@pytest.mark.parametrize("rate, channels, dtype", [(44100, 2, np.int16), (16000, 1, np.int16),
                                                   (48000, 1, np.float32), (22050, 2, np.uint8),
                                                   (8000, 1, np.int32)])
def test_a_recording_becomes_8_khz_mono_16_bit_with_its_level_and_pitch(tmp_path, rate, channels, dtype):
    x = speech_like(rate)
    if dtype == np.int16:
        data = np.round(x * 32767).astype(np.int16)
    elif dtype == np.int32:
        data = np.round(x * 2 ** 31).astype(np.int32)
    elif dtype == np.uint8:
        data = np.round(x * 127 + 128).astype(np.uint8)
    else:
        data = x.astype(np.float32)
    src = tmp_path / "in.wav"
    wavfile.write(src, rate, np.stack([data] * channels, axis=1) if channels == 2 else data)
    report = import_prompt(src, tmp_path / "prompts", "promo")
    with wave.open(str(tmp_path / "prompts" / "promo.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    pcm = read_wav(tmp_path / "prompts" / "promo.wav")
    assert abs(pcm.size - 32000) <= 1
    assert abs(dominant_hz(pcm) - 1000.0) < 2.0
    # 8-bit audio has 48 dB of range: its quantising noise lifts the level a little.
    tolerance = 0.6 if dtype == np.uint8 else 0.2
    assert abs(report["active_dbm0"] - (-19.0)) < tolerance and abs(report["activity"] - 0.5) < 0.05
    assert report["active_dbov"] == pytest.approx(report["active_dbm0"] - 6.15, abs=0.06)
    assert report["advice"] is None and report["seconds"] == pytest.approx(4.0, abs=0.001)
    assert report["source"].startswith(f"{rate} Hz")


def test_a_24_bit_recording_is_read_at_its_full_scale(tmp_path):
    # What a DAW exports by default; scipy returns it in the top bits of int32.
    x = np.round(speech_like(48000) * 2 ** 23).astype(np.int32)
    src = tmp_path / "in24.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(48000)
        w.writeframes(b"".join(int(v).to_bytes(3, "little", signed=True) for v in x))
    report = import_prompt(src, tmp_path / "prompts", "promo")
    assert report["source"] == "48000 Hz 24-bit mono"
    assert abs(report["active_dbm0"] + 19.0) < 0.2


def test_active_level_ignores_the_pauses():
    loud = np.round(speech_like(8000, dbm0=-10.0) * 32768).astype(np.int16)
    level, activity = active_level_dbm0(np.concatenate([loud, np.zeros(32000, np.int16)]))
    assert abs(level - (-10.0)) < 0.1 and abs(activity - 0.25) < 0.03


def test_silence_and_hiss_are_refused(tmp_path):
    src = tmp_path / "quiet.wav"
    rng = np.random.default_rng(1)
    # Hiss of rms 100 is -44 dBm0 at 16 kHz, -47 dBm0 once the 8 kHz band keeps half its power.
    wavfile.write(src, 16000, np.round(rng.normal(0, 100, 32000)).astype(np.int16))
    with pytest.raises(PromptImportError, match=r"silent: its loudest 20 ms is at -4[5-9]\.[0-9] dBm0"):
        import_prompt(src, tmp_path / "prompts", "quiet")
    wavfile.write(src, 16000, np.zeros(32000, np.int16))
    with pytest.raises(PromptImportError, match="silent"):
        import_prompt(src, tmp_path / "prompts", "quiet")
    assert not (tmp_path / "prompts" / "quiet.wav").exists()


def test_a_clipped_recording_is_refused_and_says_where(tmp_path):
    x = np.round(speech_like(44100, dbm0=-10.0) * 32767).astype(np.int16)
    x[44100 + 100: 44100 + 110] = 32767     # ten samples stuck at full scale at 1.0 s
    src = tmp_path / "hot.wav"
    wavfile.write(src, 44100, x)
    with pytest.raises(PromptImportError, match=r"clipped in 1 place \(at 1.00 s\)"):
        import_prompt(src, tmp_path / "prompts", "hot")


def test_a_single_full_scale_peak_is_not_clipping(tmp_path):
    x = np.round(speech_like(16000) * 32767).astype(np.int16)
    x[5000] = 32767
    src = tmp_path / "peak.wav"
    wavfile.write(src, 16000, x)
    assert import_prompt(src, tmp_path / "prompts", "peak")["name"] == "peak"


def test_a_quiet_prompt_is_taken_with_advice(tmp_path):
    src = tmp_path / "soft.wav"
    wavfile.write(src, 16000, np.round(speech_like(16000, dbm0=-31.0) * 32767).astype(np.int16))
    report = import_prompt(src, tmp_path / "prompts", "soft")
    assert report["advice"] == "quiet" and abs(report["active_dbm0"] + 31.0) < 0.3


def test_replacing_a_prompt_keeps_the_previous_recording(tmp_path):
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    wavfile.write(first, 8000, np.round(speech_like(8000, seconds=1.0) * 32767).astype(np.int16))
    wavfile.write(second, 8000, np.round(speech_like(8000, seconds=2.0) * 32767).astype(np.int16))
    import_prompt(first, tmp_path / "prompts", "welcome")
    import_prompt(second, tmp_path / "prompts", "welcome")
    assert read_wav(tmp_path / "prompts" / "welcome.wav").size == 16000
    assert read_wav(previous_of(tmp_path / "prompts" / "welcome.wav")).size == 8000
    assert sorted(p.name for p in (tmp_path / "prompts").iterdir()) == ["welcome.wav", "welcome.wav.prev"]


@pytest.mark.parametrize("content, name, message", [
    (b"not a wav at all", "x", "not a WAV file"),
    (None, "Bad Name", "prompt name 'Bad Name'"),
    (None, "../escape", "prompt name '../escape'"),
])
def test_the_command_answers_json_and_refuses_with_status_2(tmp_path, capsys, content, name, message):
    src = tmp_path / "in.wav"
    if content is None:
        wavfile.write(src, 8000, np.round(speech_like(8000, seconds=1.0) * 32767).astype(np.int16))
    else:
        src.write_bytes(content)
    assert main([str(src), str(tmp_path / "prompts"), name]) == 2
    assert message in json.loads(capsys.readouterr().out)["error"]


def test_the_command_prints_its_report(tmp_path, capsys):
    src = tmp_path / "in.wav"
    wavfile.write(src, 16000, np.round(speech_like(16000, seconds=1.0) * 32767).astype(np.int16))
    assert main([str(src), str(tmp_path / "prompts"), "promo"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["name"] == "promo" and report["format"] == "8000 Hz 16-bit mono"
