"""MFC-R2 variant files (board/r2/<name>.toml) read into drivers.r2_variant.R2Variant: once, at load."""
from __future__ import annotations

import tomllib
from pathlib import Path

from drivers.r2_variant import R2Variant, R2VariantError, variant_from_dict

VARIANT_DIR = Path(__file__).resolve().parents[2] / "board" / "r2"
DEFAULT_VARIANT = "china"


def variant_names() -> list[str]:
    return sorted(p.stem for p in VARIANT_DIR.glob("*.toml"))


def load_variant(name: str = DEFAULT_VARIANT) -> R2Variant:
    """A variant by name in board/r2 ('china', 'itu'); R2VariantError naming the file and the reason."""
    path = VARIANT_DIR / f"{name}.toml"
    if name not in variant_names():
        raise R2VariantError(f"no R2 variant {name!r} (variants: {', '.join(variant_names())})")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise R2VariantError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise R2VariantError(f"{path}: not valid TOML: {exc}") from None
    return variant_from_dict(name, data, str(path))
