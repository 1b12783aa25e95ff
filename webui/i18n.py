"""The language of each request, its gettext translations and its locale's dates and numbers.

The catalogues are the .po files under webui/locale/ (Babel's message format): they are the one
source of translations, read and compiled in memory the first time a language is used, so a clean
clone, a box and a developer's tree need no compile step and cannot run a stale .mo file."""
from __future__ import annotations

import functools
import gettext as gettext_module
import io
import json
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from bottle import request

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "branchline"
# English is the source language of every message; Chinese (Simplified) is the branch staff's.
LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
# Each language named in itself, for the language switch.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# An anonymous visitor's choice on the sign-in page (a signed-in user's own setting comes first).
LANGUAGE_COOKIE = "branchline_lang"
# The source files whose messages the browser needs (webui/static/*.js): only those go to the script
# catalogue, not every page's text.
SCRIPT_SOURCES = "webui/static/"


class CatalogueError(Exception):
    """A catalogue file cannot be read."""


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _catalog(language: str):
    """The parsed catalogue of `language`, or None for the source language (and a missing file)."""
    path = po_path(language)
    if language == DEFAULT_LANGUAGE or not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            return read_po(fh, locale=language, domain=DOMAIN)
    except Exception as exc:  # read_po raises plain Exceptions for a damaged file
        raise CatalogueError(f"catalogue {path.name} of {language}: {exc}") from exc


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The gettext translations of `language`, compiled from its .po file (fuzzy entries left out)."""
    catalog = _catalog(language)
    if catalog is None:
        return gettext_module.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


@functools.cache
def script_catalogue(language: str) -> str:
    """JavaScript defining the messages the scripts under webui/static use, translated into `language`
    (the scripts use no message contexts).

    `window.BranchlineCatalogue = {"lang", "plurals", "messages": {msgid: msgstr or [forms]}}`; the
    scripts read it through webui/static/i18n.js. Served as a script, not inline (the CSP forbids
    inline script)."""
    catalog = _catalog(language)
    messages: dict[str, str | list[str]] = {}
    for message in catalog or ():
        if not message.id or message.fuzzy or message.context or not any(
                path.startswith(SCRIPT_SOURCES) for path, _line in message.locations):
            continue
        if isinstance(message.id, tuple):
            forms = list(message.string)
            if all(forms):
                messages[message.id[0]] = forms
        elif message.string:
            messages[message.id] = message.string
    # English's two forms are the source's own (singular for 1, else plural).
    body = {"lang": language, "plurals": catalog.num_plurals if catalog else 2, "messages": messages}
    return "window.BranchlineCatalogue = " + json.dumps(body, ensure_ascii=False, sort_keys=True) + ";\n"


def _accepted(header: str) -> str | None:
    """The first of LANGUAGES an Accept-Language header asks for, by quality (RFC 9110 §12.5.4)."""
    ranked = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def language() -> str:
    """This request's language: the signed-in user's setting, else the one chosen on the sign-in page
    (a cookie), else the browser's, else English."""
    env = request.environ
    user = env.get("branchline.user")  # set by the Auth plugin once it has read the session
    chosen = user.get("locale") if user else None
    if chosen in LANGUAGES:
        return chosen
    cookie = request.get_cookie(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return _accepted(env.get("HTTP_ACCEPT_LANGUAGE", "")) or DEFAULT_LANGUAGE


def locale() -> Locale:
    """This request's Babel locale, for dates and numbers (zh is Simplified Chinese, China)."""
    return Locale.parse(language())


def gettext(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined (a table of labels, a module constant);
    it is translated where it is shown, with `_(label)`, in the request's language."""
    return message


def pgettext(context: str, message: str) -> str:
    """`message` where the same English words need another translation (a count in a table head)."""
    return translations(language()).pgettext(context, message)
