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
    """Every prompt of one language, by name (the file name without `.wav`): the stock recordings
    of `directory`, and the box's own (uploaded from the web) in `own`, which win over a stock
    prompt of the same name."""

    def __init__(self, directory: str | Path, own: str | Path | None = None):
        self.directory = Path(directory)
        self.own = None if own is None else Path(own)
        if not self.directory.is_dir():
            raise PromptError(f"prompt directory {self.directory} does not exist")
        self._prompts = self.read()

    def read(self) -> dict[str, np.ndarray]:
        """Every prompt read from disk again; a file that is not a prompt is refused (PromptError).
        The control socket's thread runs this, and the loop swaps the result in with `replace`."""
        files = {p.stem: p for p in sorted(self.directory.glob("*.wav"))}
        if self.own is not None and self.own.is_dir():
            files.update({p.stem: p for p in sorted(self.own.glob("*.wav"))})
        return {name: read_wav(path) for name, path in files.items()}

    def replace(self, prompts: dict[str, np.ndarray]) -> None:
        # One assignment: a prompt being played keeps its array, the next play finds the new one.
        self._prompts = prompts

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
