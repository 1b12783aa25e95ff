"""`python -m firmware.tools.prompt_import`: a recording made anywhere (WAV of any common rate, sample
width and channel count) made into a prompt of the box: 8 kHz mono 16-bit, checked for silence and
clipping, its active level reported, written atomically among the box's own prompts.

The web process may not load numpy or scipy (its memory budget, docs/architecture.md §1), and the
engine's loop must not share its interpreter with a conversion, so the web runs this as a short
child process; the engine then takes the new prompt up with `prompts.reload`. It prints one JSON
object: the report, or {"error": ...} with exit status 2 for a recording refused.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import sys
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.io import wavfile

from dsp.energy import THRESHOLD_DBM0
from dsp.levels import ACTIVE_FRAME, DBOV_TO_DBM0, RATE, active_level_dbm0, clipped_runs, rms_dbm0
from dsp.resample import to_8k
from firmware.core.files import FileWriteError, write_atomic

# A prompt's name is its file name: what a flow's `prompts = [...]` names (the stock set's style).
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Below 8 kHz the telephone band (300-3400 Hz, ITU-T G.712) is not all there; 192 kHz is the
# highest rate recorders and sound cards offer.
MIN_RATE, MAX_RATE = RATE, 192_000
# Long enough for music on hold, which loops (the stock one is 7 s); a menu prompt is seconds.
MAX_SECONDS = 300.0
# One 20 ms frame: the grain of the level measurement and the shortest thing worth playing.
MIN_SECONDS = 0.02
# ITU-T G.169: -19 dBm0 is the nominal active speech level; the stock prompts sit at -12 to -19.
# Further than 9 dB from it a prompt sounds faint or loud next to the others: said, not refused.
NOMINAL_DBM0 = -19.0
LEVEL_ADVICE_DB = 9.0
# Where clipping is reported, at most this many places are named.
SHOWN_CLIPS = 5


class PromptImportError(Exception):
    """A recording cannot be made a prompt; the message says why, in the admin's terms."""


def read_recording(path: str | Path) -> tuple[int, npt.NDArray, float, str]:
    """(rate, samples (n,) or (n, channels) as stored; the value of a full-scale sample; format
    description) of a PCM or IEEE-float WAV file. Read whole, not mapped: scipy maps no 24-bit file,
    and the upload limit bounds what is read."""
    try:
        rate, data = wavfile.read(str(path))
    except (ValueError, OSError, EOFError, wave.Error) as exc:
        raise PromptImportError(f"not a WAV file this box reads (PCM 8/16/24/32-bit or float): {exc}") from None
    channels = 1 if data.ndim == 1 else data.shape[1]
    if data.dtype.kind not in "iuf" or (data.dtype.kind == "u" and data.dtype.itemsize != 1):
        raise PromptImportError(f"samples of type {data.dtype} are not audio this box reads")
    # scipy returns 24-bit samples in the top bits of int32: full scale is that of the int32, and
    # the width the file has is told from its header.
    bits = 8 * data.dtype.itemsize
    full = 1.0 if data.dtype.kind == "f" else float(2 ** (bits - 1))
    width = f"{bits}-bit float" if data.dtype.kind == "f" else f"{_stored_bits(path) or bits}-bit"
    return int(rate), data, full, f"{rate} Hz {width} {'mono' if channels == 1 else f'{channels} channels'}"


def _stored_bits(path: str | Path) -> int | None:
    """Bits per sample of a PCM WAV as its header says (None where the stdlib cannot read it)."""
    try:
        with wave.open(str(path), "rb") as w:
            return 8 * w.getsampwidth()
    except (wave.Error, EOFError, OSError):
        return None


def convert(rate: int, data: npt.NDArray, full_scale: float) -> tuple[npt.NDArray[np.int16], dict]:
    """8 kHz mono int16 of `data` ((n,) or (n, channels) at `rate`, `full_scale` its +-1.0) and its
    level report; PromptImportError for a recording that is silent, clipped, too short or too long."""
    if not MIN_RATE <= rate <= MAX_RATE:
        raise PromptImportError(f"sample rate {rate} Hz: the box takes {MIN_RATE}-{MAX_RATE} Hz")
    seconds = data.shape[0] / rate
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise PromptImportError(f"{seconds:.2f} s long: a prompt is {MIN_SECONDS}-{MAX_SECONDS:g} s")
    # 8-bit WAV is unsigned, centred on 128 (full scale 128 either way); the rest are signed.
    offset = 128.0 if data.dtype == np.uint8 else 0.0
    channels = data.reshape(data.shape[0], -1).T
    # The highest code a sample can hold is full scale: 32767 of 32768, 127 of 128 (float: 1.0).
    top = full_scale if data.dtype.kind == "f" else full_scale - 1.0
    clips = clipped_runs(channels.astype(np.float32) - np.float32(offset) if offset else channels, top)
    if clips.size:
        at = ", ".join(f"{i / rate:.2f} s" for i in clips[:SHOWN_CLIPS])
        raise PromptImportError(f"clipped in {clips.size} place{'s' if clips.size != 1 else ''} (at {at}"
                                f"{' ...' if clips.size > SHOWN_CLIPS else ''}): record it again less loud")
    mono = (np.mean(channels, axis=0, dtype=np.float64) - offset) * (32768.0 / full_scale)
    mono = to_8k(mono, rate)
    overshoot = int(np.count_nonzero(np.abs(mono) > 32767.0))
    pcm = np.clip(np.round(mono), -32768, 32767).astype(np.int16)
    level, activity = active_level_dbm0(pcm)
    frames = pcm[: pcm.size // ACTIVE_FRAME * ACTIVE_FRAME].reshape(-1, ACTIVE_FRAME)
    loudest = float(np.max(rms_dbm0(frames, axis=1)))
    if loudest < THRESHOLD_DBM0:
        raise PromptImportError(f"silent: its loudest 20 ms is at {loudest:.1f} dBm0, under the box's "
                                f"{THRESHOLD_DBM0:g} dBm0 voice-activity threshold")
    advice = None
    if level < NOMINAL_DBM0 - LEVEL_ADVICE_DB:
        advice = "quiet"
    elif level > NOMINAL_DBM0 + LEVEL_ADVICE_DB:
        advice = "loud"
    peak = max(int(np.max(np.abs(pcm.astype(np.int32)))), 1)
    return pcm, {"seconds": round(pcm.size / RATE, 3), "active_dbm0": round(level, 1),
                 "active_dbov": round(level - DBOV_TO_DBM0, 1), "activity": round(activity, 2),
                 "peak_dbov": round(20.0 * np.log10(peak / 32768.0), 1),
                 "nominal_dbm0": NOMINAL_DBM0, "advice": advice, "resampling_overshoot": overshoot}


def import_prompt(source: str | Path, directory: str | Path, name: str) -> dict:
    """Convert `source` and write it as `<directory>/<name>.wav`; the report, or PromptImportError."""
    if not NAME_RE.fullmatch(name):
        raise PromptImportError(f"prompt name {name[:70]!r}: 1-64 of a-z 0-9 - _, starting with a letter or digit")
    rate, data, full, described = read_recording(source)
    pcm, report = convert(rate, data, full)
    dest = Path(directory) / f"{name}.wav"
    try:
        write_atomic(dest, _wav_bytes(pcm), keep_previous=True)
    except FileWriteError as exc:
        raise PromptImportError(str(exc)) from None
    return {"name": name, "source": described, "format": f"{RATE} Hz 16-bit mono", **report}


def _wav_bytes(pcm: npt.NDArray[np.int16]) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.astype("<i2").tobytes())
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware.tools.prompt_import",
                                     description="Make a WAV recording a prompt of the box (8 kHz mono 16-bit).")
    parser.add_argument("source", type=Path, help="the recording (WAV)")
    parser.add_argument("directory", type=Path, help="the box's own prompts of one language: <state>/prompts/<lang>")
    parser.add_argument("name", help="the prompt's name, as flows name it")
    args = parser.parse_args(argv)
    try:
        report = import_prompt(args.source, args.directory, args.name)
    except PromptImportError as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
