"""Recorded prompts: WAV files of one language loaded once as 8 kHz int16 arrays."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from drivers.channel import RATE


class PromptError(Exception):
    """A prompt file is missing or unreadable."""


def read_wav(path: Path) -> np.ndarray:
    """Mono 16-bit PCM WAV at 8 kHz as int16; anything else is refused with the reason."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != RATE:
                raise PromptError(f"prompt {path}: need mono 16-bit {RATE} Hz, got {w.getnchannels()} ch "
                                  f"{8 * w.getsampwidth()}-bit {w.getframerate()} Hz")
            return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
    except (wave.Error, EOFError, OSError) as exc:
        raise PromptError(f"prompt {path}: {exc}") from exc


class PromptSet:
    """Every prompt of one language directory, by name (the file name without `.wav`)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise PromptError(f"prompt directory {self.directory} does not exist")
        self._prompts = {p.stem: read_wav(p) for p in sorted(self.directory.glob("*.wav"))}

    def __contains__(self, name: str) -> bool:
        return name in self._prompts

    def names(self) -> list[str]:
        return sorted(self._prompts)

    def get(self, name: str) -> np.ndarray:
        try:
            return self._prompts[name]
        except KeyError:
            raise PromptError(f"no prompt {name!r} in {self.directory}") from None

    def concat(self, names: list[str]) -> np.ndarray:
        return np.concatenate([self.get(n) for n in names]) if names else np.zeros(0, np.int16)
