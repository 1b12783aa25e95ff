"""Fixtures for the DSP tests: real speech (espeak-ng or the ALSA test sounds) at 8 kHz, and the talk-off
corpus (speech and music) the tone receivers must stay silent on."""

import glob
import os
import shutil
import subprocess
import wave
from math import gcd

# One BLAS thread, as the engine runs (firmware/__init__.py): the detectors' small matrix products
# only lose to OpenBLAS's thread pool on a 2-core box. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from scipy.signal import resample_poly

from dsp.levels import RATE
from dsp.resample import to_8k

SPEECH_TEXT = {
    "en": "Thank you for calling. Please hold, an agent will be with you shortly. "
          "The quick brown fox jumps over the lazy dog. How can I help you today?",
    "cmn": "您好，欢迎致电客户服务中心。请按一号键查询账单，人工服务请按零号键。",
}


def _read_wav(path):
    with wave.open(str(path)) as w:
        a = np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, w.getnchannels())[:, 0]
        return to_8k(a, w.getframerate())


@pytest.fixture(scope="session")
def speech(tmp_path_factory):
    """About 20 s of speech as float64 samples at 8 kHz (int16 scale), English and Mandarin."""
    clips = []
    if shutil.which("espeak-ng"):
        out = tmp_path_factory.mktemp("speech")
        for voice, text in SPEECH_TEXT.items():
            path = out / f"{voice}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
            clips.append(_read_wav(path))
    else:
        clips = [_read_wav(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav"))]
    if not clips:
        pytest.skip("no speech available: install espeak-ng or alsa-utils")
    return np.concatenate(clips)


# ---------------------------------------------------------------- talk-off corpus

def _load_8k(path):
    with wave.open(path) as w:
        a = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)
        a = a.reshape(-1, w.getnchannels())[:, 0]
        g = gcd(w.getframerate(), RATE)
        return resample_poly(a, RATE // g, w.getframerate() // g)


SCRIPT_EN = (
    "Thank you for calling customer service. Your call is important to us. Please listen carefully, "
    "as our menu options have changed. For billing, press one. For technical support, press two. "
    "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. "
    "How much wood would a woodchuck chuck? Hello? Can you hear me now? Eeee, oooo, aaah, mmmm.")
SCRIPT_ZH = ("您好，欢迎致电客户服务中心。请按一号键查询账单，人工服务请按零号键。"
             "今天天气很好，我们一起去公园散步吧。感谢您的耐心等待，祝您生活愉快，再见。")


def _speech_corpus(tmp_path):
    # ALSA's recorded voices, then espeak-ng's English and Mandarin voices at three pitches.
    clips = [_load_8k(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav"))]
    if shutil.which("espeak-ng"):
        jobs = [(v, p, SCRIPT_EN) for v in ("en", "en+f2", "en+f4", "en-us", "en+m3") for p in (20, 60, 99)]
        jobs += [(v, p, SCRIPT_ZH) for v in ("cmn", "cmn+f3") for p in (30, 90)]
        for i, (voice, pitch, text) in enumerate(jobs):
            out = tmp_path / f"speech{i}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(out), text],
                           check=True, capture_output=True)
            clips.append(_load_8k(str(out)))
    if not clips:
        pytest.skip("no speech available: install espeak-ng or alsa-utils")
    return clips


def _music(rng, seconds, harmonics):
    """Chords of 3-5 equal-tempered notes (C3-C7) with `harmonics` partials, 0.1-0.6 s each."""
    out = np.zeros(int(seconds * RATE))
    t = 0
    while t < out.size:
        n = np.arange(int(rng.uniform(0.1, 0.6) * RATE))
        env = np.minimum(1.0, n / 80.0) * np.exp(-n / (0.7 * n.size))
        seg = np.zeros(n.size)
        for midi in rng.choice(np.arange(48, 97), int(rng.integers(3, 6)), replace=False):
            f = 440.0 * 2.0 ** ((midi - 69) / 12.0)
            for h in range(1, harmonics + 1):
                if f * h < 3800.0:
                    seg += np.sin(2 * np.pi * f * h * n / RATE + rng.uniform(0, 6.28)) / h
        end = min(out.size, t + n.size)
        out[t:end] = (seg * env)[:end - t]
        t = end
    return out / np.abs(out).max() * 16000.0


@pytest.fixture(scope="session")
def talkoff_speech(tmp_path_factory):
    """Speech clips (float64 at 8 kHz, int16 scale): ALSA's test voices and espeak-ng in English and
    Mandarin; the DTMF and MFC-R2 receivers' talk-off corpus."""
    return _speech_corpus(tmp_path_factory.mktemp("talkoff"))


@pytest.fixture(scope="session")
def talkoff_music():
    """Six minutes of chords (float64 at 8 kHz): two minutes each with 2, 4 and 6 partials."""
    rng = np.random.default_rng(20240601)
    return [_music(rng, 60.0, h) for h in (2, 4, 6) for _ in range(2)]
