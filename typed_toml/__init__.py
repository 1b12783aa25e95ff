"""Typed reading of TOML files: every value checked for type and range, unknown keys refused."""
from __future__ import annotations

import tomllib
from collections.abc import Collection
from pathlib import Path

_MISSING = object()


class ConfigError(Exception):
    """A configuration file is unreadable or has a bad key; the message names file, key and reason.

    `key` (dotted, e.g. "nodes.menu.timeout" or "queue[0].ring_timeout") and `reason` are also kept
    apart, for an editor that shows each reason next to its key; both are empty when the whole file
    is at fault.
    """

    def __init__(self, message: str, key: str = "", reason: str = ""):
        super().__init__(message)
        self.key, self.reason = key, reason or message


def load_toml(path: str | Path) -> dict:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


class Section:
    """One table of a TOML file. Getters record the keys they read; `done()` refuses the rest."""

    def __init__(self, data: object, file: str | Path, where: str = ""):
        if not isinstance(data, dict):
            reason = f"must be a table, got {type(data).__name__}"
            raise ConfigError(f"{file}: [{where}] {reason}", where, reason)
        self.data, self.file, self.where = data, str(file), where
        self._read: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, reason: str) -> ConfigError:
        return ConfigError(f"{self.file}: {self._key(key)}: {reason}", self._key(key), reason)

    def _raw(self, key: str, default: object) -> object:
        self._read.add(key)
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.error(key, "required key is missing")
        return value

    def get_any(self, key: str, default: object = _MISSING) -> object:
        """The raw value, for shapes the typed getters do not cover (the caller checks it)."""
        return self._raw(key, default)

    def has(self, key: str) -> bool:
        return key in self.data

    def get_str(self, key: str, default: object = _MISSING, choices: Collection[str] | None = None) -> str:
        value = self._raw(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.error(key, f"{value!r} is not one of {', '.join(sorted(choices))}")
        return value

    def get_float(self, key: str, default: object = _MISSING, minval: float | None = None,
                  maxval: float | None = None) -> float:
        value = self._raw(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected a number, got {value!r}")
        if minval is not None and value < minval:
            raise self.error(key, f"{value} is below the minimum {minval}")
        if maxval is not None and value > maxval:
            raise self.error(key, f"{value} is above the maximum {maxval}")
        return float(value)

    def get_int(self, key: str, default: object = _MISSING, minval: float | None = None,
                maxval: float | None = None) -> int:
        value = self._raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {value!r}")
        return int(self.get_float(key, value, minval, maxval))

    def get_bool(self, key: str, default: object = _MISSING) -> bool:
        value = self._raw(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def get_list(self, key: str, default: object = _MISSING, item: type = str) -> list:
        value = self._raw(key, default)
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            raise self.error(key, f"expected a list of {item.__name__}, got {value!r}")
        return list(value)

    def get_table(self, key: str, default: object = _MISSING) -> "Section":
        value = self._raw(key, default)
        return Section(value, self.file, self._key(key))

    def get_tables(self, key: str) -> list["Section"]:
        """An array of tables ([[key]]); missing means none."""
        value = self._raw(key, [])
        if not isinstance(value, list):
            raise self.error(key, "expected an array of tables ([[...]])")
        return [Section(v, self.file, f"{self._key(key)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            raise self.error(unknown[0], f"unknown key (known here: {', '.join(sorted(self._read)) or 'none'})")


def read_file(path: str | Path) -> Section:
    return Section(load_toml(path), path)


def read_text(text: str, name: str) -> Section:
    """A file's contents not yet written (an edit to check before it is saved), named `name` in errors."""
    try:
        return Section(tomllib.loads(text), name)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
