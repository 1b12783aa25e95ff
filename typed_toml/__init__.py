"""Typed reading of TOML files: every value checked for type and range, unknown keys refused."""
from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path

_MISSING = object()


def N_(template: str) -> str:
    """Marks an English reason template (named placeholders, `%(value)s`) for the web's catalogue
    (`make messages` extracts it with `-k N_`); the engine itself speaks English only: the web shows
    `_(template) % params` in its user's language, the English text otherwise."""
    return template


def message(template: str, params: Mapping[str, object] | None = None) -> dict:
    """A reason as sent over the control socket and nested in another's params: the English `text`,
    the `template` and its `params` (strings, or such messages themselves)."""
    params = dict(params or {})
    return {"text": fill(template, params), "template": template, "params": params}


def fill(template: str, params: Mapping[str, object]) -> str:
    """The English text: the template with its params (a nested message gives its English text)."""
    if not params:
        return template
    return template % {k: v["text"] if isinstance(v, dict) else v for k, v in params.items()}


class ConfigError(Exception):
    """A configuration file is unreadable or has a bad key; the message names file, key and reason.

    `key` (dotted, e.g. "nodes.menu.timeout" or "queue[0].ring_timeout") and `reason` are also kept
    apart, for an editor that shows each reason next to its key; both are empty when the whole file
    is at fault. `template` and `params` are the reason for translation (`reason` is
    `fill(template, params)`); the template is empty for a reason given only in English.
    """

    def __init__(self, message: str, key: str = "", reason: str = "", template: str = "",
                 params: Mapping[str, object] | None = None):
        super().__init__(message)
        self.key, self.reason = key, reason or message
        self.template, self.params = template, dict(params or {})

    def reason_message(self) -> dict:
        """{"text", "template", "params"} of the reason (template "" when it has none)."""
        return {"text": self.reason, "template": self.template, "params": self.params}


def load_toml(path: str | Path) -> dict:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise _whole(N_("%(file)s: file not found"), {"file": str(path)}) from None
    except tomllib.TOMLDecodeError as exc:
        raise _whole(N_("%(file)s: not valid TOML: %(error)s"), {"file": str(path), "error": str(exc)}) from None


def _whole(template: str, params: dict[str, object]) -> ConfigError:
    """A ConfigError about the whole file (no key)."""
    text = fill(template, params)
    return ConfigError(text, "", text, template, params)


class Section:
    """One table of a TOML file. Getters record the keys they read; `done()` refuses the rest."""

    def __init__(self, data: object, file: str | Path, where: str = ""):
        if not isinstance(data, dict):
            template, params = N_("must be a table, got %(type)s"), {"type": type(data).__name__}
            reason = fill(template, params)
            raise ConfigError(f"{file}: [{where}] {reason}", where, reason, template, params)
        self.data, self.file, self.where = data, str(file), where
        self._read: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, reason: str, params: Mapping[str, object] | None = None) -> ConfigError:
        """The error of `key`. With `params` (`{}` for none), `reason` is a template marked with N_:
        `%(name)s` placeholders filled from `params`; without, it is English text only."""
        text = reason if params is None else fill(reason, params)
        return ConfigError(f"{self.file}: {self._key(key)}: {text}", self._key(key), text,
                           "" if params is None else reason, params)

    def _raw(self, key: str, default: object) -> object:
        self._read.add(key)
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.error(key, N_("required key is missing"), {})
        return value

    def get_any(self, key: str, default: object = _MISSING) -> object:
        """The raw value, for shapes the typed getters do not cover (the caller checks it)."""
        return self._raw(key, default)

    def has(self, key: str) -> bool:
        return key in self.data

    def get_str(self, key: str, default: object = _MISSING, choices: Collection[str] | None = None) -> str:
        value = self._raw(key, default)
        if not isinstance(value, str):
            raise self.error(key, N_("expected a string, got %(value)s"), {"value": repr(value)})
        if choices is not None and value not in choices:
            raise self.error(key, N_("%(value)s is not one of %(choices)s"),
                             {"value": repr(value), "choices": ", ".join(sorted(choices))})
        return value

    def get_float(self, key: str, default: object = _MISSING, minval: float | None = None,
                  maxval: float | None = None) -> float:
        value = self._raw(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, N_("expected a number, got %(value)s"), {"value": repr(value)})
        if minval is not None and value < minval:
            raise self.error(key, N_("%(value)s is below the minimum %(min)s"),
                             {"value": str(value), "min": str(minval)})
        if maxval is not None and value > maxval:
            raise self.error(key, N_("%(value)s is above the maximum %(max)s"),
                             {"value": str(value), "max": str(maxval)})
        return float(value)

    def get_int(self, key: str, default: object = _MISSING, minval: float | None = None,
                maxval: float | None = None) -> int:
        value = self._raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, N_("expected an integer, got %(value)s"), {"value": repr(value)})
        return int(self.get_float(key, value, minval, maxval))

    def get_bool(self, key: str, default: object = _MISSING) -> bool:
        value = self._raw(key, default)
        if not isinstance(value, bool):
            raise self.error(key, N_("expected true or false, got %(value)s"), {"value": repr(value)})
        return value

    def get_list(self, key: str, default: object = _MISSING, item: type = str) -> list:
        value = self._raw(key, default)
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            raise self.error(key, N_("expected a list of %(type)s, got %(value)s"),
                             {"type": item.__name__, "value": repr(value)})
        return list(value)

    def get_table(self, key: str, default: object = _MISSING) -> "Section":
        value = self._raw(key, default)
        return Section(value, self.file, self._key(key))

    def get_tables(self, key: str) -> list["Section"]:
        """An array of tables ([[key]]); missing means none."""
        value = self._raw(key, [])
        if not isinstance(value, list):
            raise self.error(key, N_("expected an array of tables ([[...]])"), {})
        return [Section(v, self.file, f"{self._key(key)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            raise self.error(unknown[0], N_("unknown key (known here: %(known)s)"),
                             {"known": ", ".join(sorted(self._read)) or "none"})


def read_file(path: str | Path) -> Section:
    return Section(load_toml(path), path)


def read_text(text: str, name: str) -> Section:
    """A file's contents not yet written (an edit to check before it is saved), named `name` in errors."""
    try:
        return Section(tomllib.loads(text), name)
    except tomllib.TOMLDecodeError as exc:
        raise _whole(N_("%(file)s: not valid TOML: %(error)s"), {"file": name, "error": str(exc)}) from None
