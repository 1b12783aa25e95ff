"""Fixtures for the DSP tests: real speech (espeak-ng or the ALSA test sounds) at 8 kHz."""

import glob
import os
import shutil
import subprocess
import wave

# One BLAS thread, as the engine runs (firmware/__init__.py): the detectors' small matrix products
# only lose to OpenBLAS's thread pool on a 2-core box. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest

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
