"""Tone-plan files (board/tones/<name>.toml) read into dsp.tones.TonePlan: the one place plans come off
the disk, so dsp/ stays pure signal processing (docs/architecture.md §4, docs/standards.md §3)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from dsp.tones import TonePlan, TonePlanError, plan_from_dict

from firmware.config.site_keys import PLAN_DIR, plan_names

# The box's network unless site.toml's [box] tones says otherwise (China's, issue 3).
DEFAULT_PLAN = "cn"
__all__ = ["PLAN_DIR", "DEFAULT_PLAN", "plan_names", "load_plan"]


def load_plan(name_or_path: str | Path) -> TonePlan:
    """A tone plan by name in board/tones ('cn', 'na', 'etsi') or a .toml path; TonePlanError naming
    the file and the reason. Read once, when a site or board is loaded, never per tick."""
    text = str(name_or_path)
    path = Path(text) if ("/" in text or text.endswith(".toml")) else PLAN_DIR / f"{text}.toml"
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise TonePlanError(f"{path}: cannot read tone plan: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TonePlanError(f"{path}: not valid TOML: {exc}") from None
    return plan_from_dict(data, str(path))
