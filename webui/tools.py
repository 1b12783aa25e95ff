"""The technician's tools page: the load test on the live box, and the engine's and the web's log tail.

The page only draws; it works through /api/v1/loadtest (webui/loadtest.py) and /api/v1/logs
(webui/logs.py), as a script would."""
from __future__ import annotations

from typing import Callable

from bottle import Bottle

from .auth import requires
from .i18n import gettext as _
from .logs import DEFAULT_LINES, LEVELS, MAX_LINES

TOOLS_ROLES = ("admin", "technician")


def install(app: Bottle, render: Callable[..., str]) -> None:
    """Add the /tools page to the web app."""

    @app.get("/tools")
    @requires(*TOOLS_ROLES)
    def tools_page():
        return render("tools", title=_("Tools"), active="tools", scripts=["api.js", "tools.js"], levels=LEVELS,
                      default_lines=DEFAULT_LINES, max_lines=MAX_LINES)
