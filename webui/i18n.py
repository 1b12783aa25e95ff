"""The language of each request and its gettext translations.

The catalogues are compiled by `make messages` (webui/locale_build.py) into
webui/locale/<lang>/LC_MESSAGES/branchline.mo, which the standard library's gettext reads."""
from __future__ import annotations

import contextlib
import functools
import gettext as gettext_module
from collections.abc import Iterator
from pathlib import Path

from bottle import request

from .cookies import read_cookie

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "branchline"
# English is the source language of every message; Chinese (Simplified) is the branch staff's.
LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
# Each language named in itself, for the language switch.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# An anonymous visitor's choice on the sign-in page (a signed-in user's own setting comes first).
LANGUAGE_COOKIE = "branchline_lang"


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
    """This request's language: the signed-in user's setting, else the one chosen on the sign-in page
    (a cookie), else the browser's, else English."""
    env = request.environ
    user = env.get("branchline.user")  # set by the Auth plugin once it has read the session
    # A setting may name a region too (zh-CN, zh_Hans_CN): its language is what the pages follow.
    chosen = ((user.get("locale") if user else None) or "").replace("_", "-").split("-")[0].lower()
    if chosen in LANGUAGES:
        return chosen
    cookie = read_cookie(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return _accepted(env.get("HTTP_ACCEPT_LANGUAGE", "")) or DEFAULT_LANGUAGE


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """In a thread outside any request (the report schedule's), `_()` answers in `lang` meanwhile: bottle's
    `request` is per thread, so this binds the thread's own to a user of that language."""
    request.bind({"branchline.user": {"locale": lang}})
    try:
        yield
    finally:
        request.bind({})


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined (a table of labels, a module constant);
    it is translated where it is shown, with `_(label)`, in the request's language."""
    return message


def gettext(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def engine_text(text: str, template: object = "", params: object = None) -> str:
    """A reason the engine sent (a site setting's error, a flow's problem) in the request's language:
    `_(template) % params`, a param that is itself such a message ({"text", "template", "params"})
    translated the same way; the engine's English `text` when it sent no template (or a template this
    catalogue cannot fill). The engine marks its templates with `N_` (typed_toml), `make messages`
    extracts them into this catalogue."""
    if not template or not isinstance(template, str):
        return text
    if not params:
        return gettext(template)
    if not isinstance(params, dict):
        return text
    values = {k: engine_text(str(v.get("text", "")), v.get("template"), v.get("params")) if isinstance(v, dict)
              else v for k, v in params.items()}
    try:
        return gettext(template) % values
    except (KeyError, TypeError, ValueError):
        return text


def pgettext(context: str, message: str) -> str:
    """`message` where the same English words need another translation (a count in a table head)."""
    return translations(language()).pgettext(context, message)
