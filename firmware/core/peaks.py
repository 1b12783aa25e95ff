"""Waveform peaks of a recording: per channel, the lowest and highest sample of each stretch of audio,
so a page draws the waveform without fetching or decoding the WAV (docs/architecture.md §19).

The engine's recorder computes them with numpy when a file is finished (`firmware/core/recorder.py`);
the web process, which carries no numpy, computes them here with the standard library for a recording
that has none (older, restored, recovered after a crash). Both write the same bytes to `<name>.peaks`
beside the WAV, replaced atomically, so a power cut leaves no half file.
"""
from __future__ import annotations

import math
import struct
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

from firmware.core.files import FileWriteError, write_atomic

SUFFIX = ".peaks"
# 10 ms a peak (80 samples at 8 kHz): finer than a pixel of a full-width waveform of any call over a
# few seconds, and the resolution a seek by click can use. Longer calls get longer stretches so the
# file stays small: at most MAX_PEAKS a channel (12 kB for a stereo call of any length).
MIN_SAMPLES_PER_PEAK = 80
MAX_PEAKS = 6000
_MAGIC = b"BLPK"
_VERSION = 1
# magic, version, channels, sample rate, samples per peak, frames, peaks per channel.
_HEADER = struct.Struct("<4sBBHIII")
# Frames read at a time by the stdlib computation: a whole number of peaks, about 256 kB of stereo.
_READ_FRAMES = 65536


class PeaksError(Exception):
    """A recording's peaks cannot be computed or read; the message names the file."""


@dataclass(frozen=True)
class Peaks:
    """mins[c][i], maxs[c][i]: channel c's lowest and highest sample in stretch i, scaled to -128..127
    (the 16-bit sample shifted right by 8, an arithmetic shift: floor, as numpy's `>>`)."""
    rate: int
    samples_per_peak: int
    frames: int
    mins: tuple[bytes, ...]
    maxs: tuple[bytes, ...]

    @property
    def channels(self) -> int:
        return len(self.mins)

    def to_bytes(self) -> bytes:
        count = len(self.mins[0]) if self.mins else 0
        head = _HEADER.pack(_MAGIC, _VERSION, self.channels, self.rate, self.samples_per_peak, self.frames, count)
        return head + b"".join(lo + hi for lo, hi in zip(self.mins, self.maxs))

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "peaks") -> Peaks:
        if len(data) < _HEADER.size:
            raise PeaksError(f"{name}: {len(data)} bytes, shorter than its header")
        magic, version, channels, rate, spp, frames, count = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION or spp < 1:
            raise PeaksError(f"{name}: not a peaks file of version {_VERSION}")
        if len(data) != _HEADER.size + 2 * channels * count or count != peak_count(frames, spp):
            raise PeaksError(f"{name}: {len(data)} bytes do not hold {channels} channels of {count} peaks")
        mins, maxs = [], []
        at = _HEADER.size
        for _ in range(channels):
            mins.append(data[at:at + count])
            maxs.append(data[at + count:at + 2 * count])
            at += 2 * count
        return cls(rate, spp, frames, tuple(mins), tuple(maxs))

    def as_json(self) -> dict:
        """What `GET /api/v1/recordings/{id}/peaks` answers: signed values, -128..127 per channel."""
        return {"rate": self.rate, "frames": self.frames, "samples_per_peak": self.samples_per_peak,
                "seconds_per_peak": self.samples_per_peak / self.rate,
                "channels": [{"min": list(array("b", lo)), "max": list(array("b", hi))}
                             for lo, hi in zip(self.mins, self.maxs)]}


def samples_per_peak(frames: int) -> int:
    return max(MIN_SAMPLES_PER_PEAK, math.ceil(frames / MAX_PEAKS))


def peak_count(frames: int, spp: int) -> int:
    return math.ceil(frames / spp)


def sidecar(wav: Path) -> Path:
    return wav.with_suffix(SUFFIX)


def compute(wav: Path) -> Peaks:
    """The peaks of a 16-bit PCM WAV with the standard library alone (the web process: no numpy).

    Reads a whole number of stretches at a time, so memory stays small whatever the call's length;
    each stretch's extremes are the builtin min and max of an array slice, which run in C."""
    import wave  # on first use, not at the web process's start (docs/architecture.md "Memory")

    try:
        with wave.open(str(wav), "rb") as w:
            channels, width, frames, rate = w.getnchannels(), w.getsampwidth(), w.getnframes(), w.getframerate()
            if width != 2:
                raise PeaksError(f"{wav}: {8 * width}-bit samples; the box records 16-bit")
            spp = samples_per_peak(frames)
            step = spp * max(1, _READ_FRAMES // spp)
            mins = [array("b") for _ in range(channels)]
            maxs = [array("b") for _ in range(channels)]
            done = 0
            while done < frames:
                raw = w.readframes(min(step, frames - done))
                if not raw:
                    break
                samples = array("h")
                samples.frombytes(raw[:len(raw) // (2 * channels) * 2 * channels])
                if sys.byteorder == "big":
                    samples.byteswap()   # WAV is little-endian
                done += len(samples) // channels
                for c in range(channels):
                    one = samples[c::channels]
                    for i in range(0, len(one), spp):
                        stretch = one[i:i + spp]
                        mins[c].append(min(stretch) >> 8)
                        maxs[c].append(max(stretch) >> 8)
    except (OSError, EOFError, wave.Error) as exc:
        raise PeaksError(f"{wav}: not a readable WAV: {exc}") from None
    return Peaks(rate, spp, done, tuple(m.tobytes() for m in mins), tuple(m.tobytes() for m in maxs))


def read(wav: Path) -> Peaks | None:
    """The peaks kept beside `wav`, or None if there are none (or a file not of this version)."""
    path = sidecar(wav)
    try:
        return Peaks.from_bytes(path.read_bytes(), str(path))
    except (FileNotFoundError, PeaksError):
        return None


def write(wav: Path, peaks: Peaks) -> None:
    """Keep `peaks` beside `wav` (temporary file, fsync, rename: a power cut leaves none or all)."""
    try:
        write_atomic(sidecar(wav), peaks.to_bytes(), keep_previous=False)
    except FileWriteError as exc:
        raise PeaksError(str(exc)) from None
