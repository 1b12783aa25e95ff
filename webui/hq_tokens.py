"""The admin's HQ tokens page: the tokens head office pulls with, created (shown once) and revoked.

The page only draws; it reads and writes through the HQ token API of webui/sync.py, as a script would."""
from __future__ import annotations

from typing import Callable

from bottle import Bottle

from .auth import requires
from .i18n import gettext as _

HQ_TOKEN_ROLES = ("admin",)


def install(app: Bottle, render: Callable[..., str]) -> None:
    """Add the /hq-tokens page to the web app."""

    @app.get("/hq-tokens")
    @requires(*HQ_TOKEN_ROLES)
    def hq_tokens_page():
        return render("hq_tokens", title=_("HQ tokens"), active="hq-tokens", scripts=["api.js", "hq_tokens.js"])
