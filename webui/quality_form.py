"""The quality form (<state>/config/quality.toml): the criteria supervisors score recorded calls against,
each with a weight and a maximum of points; its checks, its file, and the scoring of one call."""
from __future__ import annotations

import hashlib
import math
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from firmware.core.files import FileWriteError, write_atomic

from .i18n import gettext as _, language

DEFAULTS = Path(__file__).resolve().parents[1] / "board" / "defaults" / "quality.toml"
ID_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# A form a supervisor fills in while listening: a few dozen criteria at most.
MAX_CRITERIA = 30
MAX_NAME = 80
MAX_HELP = 300
MAX_POINTS = 100
MAX_WEIGHT = 100
MAX_COMMENT = 2000
LANGUAGES = ("en", "zh")
_HEAD = ("# The quality form supervisors score recorded calls against (docs/architecture.md §19).\n"
         "# Written by the web's Quality form page; every change is in the audit log.\n"
         "# score = 100 * sum(weight * points / max_points) / sum(weight)\n\n")


class QualityFormError(ValueError):
    """The form, or the scores given against it, are not valid; `problems` maps each field to why."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class StaleForm(QualityFormError):
    """The form changed since the editor read it."""


@dataclass(frozen=True)
class Criterion:
    id: str
    names: dict[str, str]
    help: dict[str, str]
    weight: float
    max_points: int

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]

    def hint(self, language: str) -> str:
        return self.help.get(language) or self.help.get("en", "")

    def as_dict(self) -> dict:
        return {"id": self.id, "name": dict(self.names), "help": dict(self.help), "weight": self.weight,
                "max_points": self.max_points}


@dataclass(frozen=True)
class QualityForm:
    criteria: tuple[Criterion, ...]
    pass_score: float
    version: str                 # SHA-256 of the file's bytes: a save names the version it edited

    def as_dict(self) -> dict:
        return {"version": self.version, "pass_score": self.pass_score,
                "criteria": [c.as_dict() for c in self.criteria]}

    def score(self, points: Mapping[str, object]) -> tuple[float, list[dict]]:
        """The call's score (0-100, one decimal) from each criterion's points, and what was scored:
        each criterion's id, name, weight, maximum and points, kept with the evaluation so a later
        change of the form leaves it as it was given."""
        problems: dict[str, str] = {}
        unknown = set(points) - {c.id for c in self.criteria}
        if unknown:
            problems["scores"] = (_("These are not criteria of the quality form: %(ids)s.")
                                  % {"ids": ", ".join(sorted(unknown))})
        given = []
        for c in self.criteria:
            value = points.get(c.id)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= c.max_points:
                problems[f"scores.{c.id}"] = (_("Give %(criterion)s a whole number of points from 0 to %(max)d.")
                                              % {"criterion": c.name(language()), "max": c.max_points})
                continue
            given.append({"id": c.id, "name": dict(c.names), "weight": c.weight, "max_points": c.max_points,
                          "points": value})
        if problems:
            raise QualityFormError(problems)
        return weighted_score(given), given


def weighted_score(given: list[dict]) -> float:
    """100 * sum(weight * points / max_points) / sum(weight), to one decimal."""
    total_weight = sum(g["weight"] for g in given)
    if not total_weight:
        return 0.0
    return round(100 * sum(g["weight"] * g["points"] / g["max_points"] for g in given) / total_weight, 1)


def parse(data: Mapping, version: str = "") -> QualityForm:
    """Check the form's data (as TOML gives it, or as the editor sends it); QualityFormError names
    every bad field (`criterion[2].weight`) at once."""
    problems: dict[str, str] = {}

    def unknown_keys(where: str, table: Mapping, known: tuple[str, ...]) -> None:
        extra = sorted(set(table) - set(known))
        if extra:
            problems[where or extra[0]] = _("Unknown keys: %(keys)s.") % {"keys": ", ".join(extra)}

    def number(where: str, value: object, low: float, high: float, whole: bool) -> float:
        ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
              and low <= value <= high and (not whole or value == int(value)))
        if not ok:
            problems[where] = (_("A whole number from %(low)s to %(high)s.") if whole
                               else _("A number from %(low)s to %(high)s.")) % {"low": low, "high": high}
            return low
        return value  # type: ignore[return-value]

    def texts(where: str, value: object, limit: int, required: bool) -> dict[str, str]:
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping):
            problems[where] = _("Give the text as {en = \"...\", zh = \"...\"}.")
            return {}
        unknown_keys(where, value, LANGUAGES)
        out = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if text is None or text == "":
                if lang == "en" and required:
                    problems[f"{where}.en"] = _("The English text is required.")
                continue
            if not isinstance(text, str) or len(text.strip()) > limit:
                problems[f"{where}.{lang}"] = _("Up to %(max)d characters.") % {"max": limit}
                continue
            out[lang] = text.strip()
        return out

    unknown_keys("", data, ("quality", "criterion"))
    general = data.get("quality", {})
    if not isinstance(general, Mapping):
        general = {}
    unknown_keys("quality", general, ("pass_score",))
    pass_score = number("quality.pass_score", general.get("pass_score", 80), 0, 100, False)
    rows = data.get("criterion", [])
    if not isinstance(rows, list) or not rows:
        problems["criterion"] = _("The form needs at least one criterion.")
        rows = []
    elif len(rows) > MAX_CRITERIA:
        problems["criterion"] = _("At most %(max)d criteria.") % {"max": MAX_CRITERIA}
    criteria, seen = [], set()
    for i, row in enumerate(rows[:MAX_CRITERIA]):
        at = f"criterion[{i}]"
        if not isinstance(row, Mapping):
            problems[at] = _("Each criterion is a table.")
            continue
        unknown_keys(at, row, ("id", "name", "help", "weight", "max_points"))
        ident = row.get("id")
        if not isinstance(ident, str) or not ID_RE.fullmatch(ident):
            problems[f"{at}.id"] = _("Lower-case letters, digits, - and _, starting with a letter, up to 32.")
        elif ident in seen:
            problems[f"{at}.id"] = _("The id %(id)s is given twice.") % {"id": ident}
        seen.add(ident)
        criteria.append(Criterion(
            str(ident), texts(f"{at}.name", row.get("name"), MAX_NAME, True),
            texts(f"{at}.help", row.get("help"), MAX_HELP, False),
            float(number(f"{at}.weight", row.get("weight"), 0.1, MAX_WEIGHT, False)),
            int(number(f"{at}.max_points", row.get("max_points"), 1, MAX_POINTS, True))))
    if problems:
        raise QualityFormError(problems)
    return QualityForm(tuple(criteria), float(pass_score), version)


def to_toml(form: QualityForm) -> bytes:
    data = {"quality": {"pass_score": _plain(form.pass_score)},
            "criterion": [{"id": c.id, "name": c.names, **({"help": c.help} if c.help else {}),
                           "weight": _plain(c.weight), "max_points": c.max_points} for c in form.criteria]}
    return (_HEAD + tomli_w.dumps(data)).encode()


def _plain(value: float) -> float | int:
    return int(value) if value == int(value) else value


class QualityFormFile:
    """The box's quality.toml (seeded by the engine's first start: firmware/config/site.py ensure_config),
    or the stock one while the box has none; saved whole, atomically, the previous kept as `.prev`."""

    def __init__(self, config_dir: Path):
        self.path = config_dir / "quality.toml"
        self._lock = threading.Lock()

    def load(self) -> QualityForm:
        source = self.path if self.path.exists() else DEFAULTS
        raw = source.read_bytes()
        try:
            data = tomllib.loads(raw.decode())
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise QualityFormError({"file": f"{source}: {exc}"}) from None
        return parse(data, hashlib.sha256(raw).hexdigest())

    def save(self, data: Mapping, version: str) -> tuple[QualityForm, QualityForm]:
        """Replace the form with `data` if the file is still at `version`; (old form, new form)."""
        with self._lock:
            old = self.load()
            if version != old.version:
                raise StaleForm({"version": _("The quality form was changed by someone else since you opened "
                                              "it; reload the page to see it.")})
            new = parse(data)
            raw = to_toml(new)
            try:
                write_atomic(self.path, raw)
            except FileWriteError as exc:
                raise QualityFormError({"file": str(exc)}) from None
            return old, QualityForm(new.criteria, new.pass_score, hashlib.sha256(raw).hexdigest())
