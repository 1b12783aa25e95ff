"""The language of each request and its gettext translations: the user's choice, else the browser's."""
from __future__ import annotations

import functools
import gettext as gettext_module
from pathlib import Path

from bottle import request

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "branchline"
# English is the source language of every message; Chinese (Simplified) is the branch staff's.
LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The catalogue of `language` (webui/locale/<language>/LC_MESSAGES/branchline.mo)."""
    return gettext_module.translation(DOMAIN, LOCALE_DIR, [language], fallback=True)


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
    """This request's language: the signed-in user's choice, else the browser's, else English."""
    env = request.environ
    user = env.get("branchline.user")  # set by the Auth plugin once it has read the session
    chosen = user.get("locale") if user else None
    if chosen in LANGUAGES:
        return chosen
    return _accepted(env.get("HTTP_ACCEPT_LANGUAGE", "")) or DEFAULT_LANGUAGE


def gettext(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)
