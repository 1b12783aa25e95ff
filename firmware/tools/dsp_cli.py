"""`branchline dsp ...` commands: offline runs of the DSP detectors over audio files."""

import argparse
import sys
import wave
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from dsp.dtmf import DtmfDetector
from dsp.levels import RATE
from dsp.tonegen import to_int16

BLOCK = 8000


class WavFormatError(Exception):
    """The file is not a PCM WAV this command can read."""


def _read_wav(path):
    """Return (rate, float64 array (channels, samples) on the int16 scale) from an 8/16/24/32-bit PCM WAV."""
    try:
        with wave.open(path, "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise WavFormatError(f"{path}: not a PCM WAV file ({exc}); expected 8/16/24/32-bit integer PCM") from None
    if width == 1:
        # WAV 8-bit PCM is unsigned with its zero at 128.
        data = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float64)
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        data = (((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)) >> 8) / 256.0
    elif width == 4:
        data = np.frombuffer(raw, "<i4") / 65536.0
    else:
        raise WavFormatError(f"{path}: {8 * width}-bit samples; expected 8/16/24/32-bit integer PCM")
    return rate, data.reshape(-1, channels).T


def main_dtmf(argv):
    """`branchline dsp dtmf FILE.wav`: print `<time s>\\t<channel>\\t<digit>` per key press, then a line
    with each channel's digit string (tab-separated). Exit 0, or 2 on a bad argument or file."""
    parser = argparse.ArgumentParser(prog="branchline dsp dtmf",
                                     description="Detect DTMF digits in a WAV file (any rate, any channels).")
    parser.add_argument("file", help="PCM WAV file, 8/16/24/32-bit integer samples")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        rate, audio = _read_wav(args.file)
    except OSError as exc:
        print(f"branchline dsp dtmf: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except WavFormatError as exc:
        print(f"branchline dsp dtmf: {exc}", file=sys.stderr)
        return 2
    if rate != RATE and audio.shape[1]:
        g = gcd(rate, RATE)
        audio = resample_poly(audio, RATE // g, rate // g, axis=-1)
    audio = to_int16(audio)
    detector = DtmfDetector(audio.shape[0])
    digits = [""] * audio.shape[0]
    for pos in range(0, audio.shape[1], BLOCK):
        for ev in detector.process(audio[:, pos:pos + BLOCK]):
            print(f"{ev.start / RATE:.3f}\t{ev.channel}\t{ev.digit}")
            digits[ev.channel] += ev.digit
    print("\t".join(digits))
    return 0
