"""Call-progress tone plans: reads board/tones/<name>.toml (or a given file) into a dsp.tones.TonePlan."""

import pathlib
import tomllib

from dsp.tones import TonePlanError, plan_from_dict

PLAN_DIR = pathlib.Path(__file__).resolve().parent.parent / "board" / "tones"


def load_tone_plan(name_or_path):
    """Read and check a tone plan: a name in board/tones ('cn', 'na', 'etsi') or a path to a .toml file."""
    text = str(name_or_path)
    path = pathlib.Path(text) if ("/" in text or text.endswith(".toml")) else PLAN_DIR / f"{text}.toml"
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise TonePlanError(f"{path}: cannot read tone plan: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TonePlanError(f"{path}: not valid TOML: {exc}") from None
    return plan_from_dict(data, str(path))
