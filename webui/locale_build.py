"""The languages' build step (`make messages`, after extract and update): from each catalogue and from
CLDR (through Babel), the files the web process reads with the standard library alone.

- webui/locale/<lang>/LC_MESSAGES/branchline.mo: the .po compiled, fuzzy entries left out;
- webui/static/i18n/<lang>.js: the page scripts' messages (webui/static/*.js), translated;
- webui/locale/<lang>/formats.json: how the language writes a date, a time of day and a number.

Babel stays off the box: loading its CLDR data would add about 6 MB to the web process, whose budget
is 40 MB (`make bench`). The outputs are committed, so a clean clone runs without this step, and
tests/webui/test_i18n.py fails while any of them differs from what this module makes now.

    python -m webui.locale_build    # writes every output (`make messages` runs it)"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from babel import Locale
from babel.dates import match_skeleton, tokenize_pattern
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .i18n import DOMAIN, LANGUAGES, LOCALE_DIR

WEBUI = Path(__file__).resolve().parent
SCRIPTS_DIR = "webui/static/"            # the catalogue's references to the page scripts start so
SCRIPT_CATALOGUE_DIR = WEBUI / "static" / "i18n"
# CLDR skeletons (UTS #35 §2.6.2) of what the pages show: a date with the month abbreviated, and the
# time of day on the 24-hour clock the box's timelines use.
DATE_SKELETON = "yMMMd"
TIME_SKELETON = "Hms"
# The pattern letters webui/fmt.py knows (UTS #35 §8 table "Date Field Symbol Table") and their widths.
FIELDS = {"y": (1, 2, 4), "M": (1, 2, 3), "L": (1, 2, 3), "d": (1, 2), "H": (1, 2), "m": (1, 2), "s": (1, 2)}


class LocaleBuildError(Exception):
    """A language's catalogue or CLDR data cannot be turned into what the web process reads."""


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: str) -> Catalog | None:
    """The catalogue of `language`; None for English, the source language, which has none."""
    path = po_path(language)
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    """The .mo file of `catalog` (Babel leaves fuzzy entries out)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def script_catalogue(language: str, catalog: Catalog | None) -> str:
    """`window.BranchlineCatalogue = {"lang", "plurals", "messages": {msgid: msgstr or [forms]}}`, the
    messages webui/static/i18n.js translates; a script file, not inline (the CSP forbids inline script).
    The scripts use no message contexts."""
    messages: dict[str, str | list[str]] = {}
    for message in catalog or ():
        if not message.id or message.fuzzy or message.context or not any(
                path.startswith(SCRIPTS_DIR) for path, _line in message.locations):
            continue
        if isinstance(message.id, tuple):
            forms = list(message.string or ())
            if forms and all(forms):
                messages[message.id[0]] = forms
        elif isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            messages[message.id] = message.string
    plurals = (catalog or Catalog(locale=language)).num_plurals
    body = {"lang": language, "plurals": plurals, "messages": messages}
    return ("// Made by webui/locale_build.py from the catalogue (`make messages`); do not edit.\n"
            "window.BranchlineCatalogue = " + json.dumps(body, ensure_ascii=False, sort_keys=True, indent=1)
            + ";\n")


def _tokens(locale: Locale, skeleton: str) -> list[list[str | int]]:
    pattern = locale.datetime_skeletons[match_skeleton(skeleton, locale.datetime_skeletons)].pattern
    tokens: list[list[str | int]] = []
    for _kind, value in tokenize_pattern(pattern):
        if isinstance(value, str):  # a "chars" token: literal text
            tokens.append([value])
            continue
        letter, width = value
        if width not in FIELDS.get(letter, ()):
            raise LocaleBuildError(f"{locale}: {skeleton} is {pattern!r}; webui/fmt.py does not write "
                                   f"{letter * width}")
        tokens.append([letter, width])
    return tokens


def formats(language: str) -> dict:
    """CLDR's way for `language` to write what webui/fmt.py writes (checked against Babel by the tests)."""
    locale = Locale.parse(language)
    symbols = locale.number_symbols["latn"]
    decimal = locale.decimal_formats[None]
    # fmt.number groups by threes and keeps up to three decimals, as "#,##0.###" says.
    if decimal.grouping != (3, 3) or decimal.frac_prec != (0, 3) or decimal.prefix != ("", "-") \
            or decimal.suffix != ("", ""):
        raise LocaleBuildError(f"{language}: number pattern {decimal.pattern!r} is not #,##0.###")
    return {"date": _tokens(locale, DATE_SKELETON), "time": _tokens(locale, TIME_SKELETON),
            "date_time": locale.datetime_formats["medium"],
            "months": [locale.months["format"]["abbreviated"][m] for m in range(1, 13)],
            "decimal": symbols["decimal"], "group": symbols["group"], "minus": symbols["minusSign"]}


def outputs() -> dict[Path, bytes]:
    """Every file this step writes, with its content."""
    files: dict[Path, bytes] = {}
    for language in LANGUAGES:
        catalog = read_catalogue(language)
        if catalog is not None:
            files[po_path(language).with_suffix(".mo")] = compiled(catalog)
        files[SCRIPT_CATALOGUE_DIR / f"{language}.js"] = script_catalogue(language, catalog).encode()
        lines = [f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
                 for key, value in formats(language).items()]
        files[LOCALE_DIR / language / "formats.json"] = ("{\n" + ",\n".join(lines) + "\n}\n").encode()
    return files


def main() -> int:
    for path, content in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"wrote {path.relative_to(WEBUI.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
