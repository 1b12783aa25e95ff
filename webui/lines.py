"""The technician's lines page and its API: each line's driver, state, alarm and counters, line tests, digits heard,
and whether the engine's worker threads (records, queue journal, recordings) are alive."""
from __future__ import annotations

import re
from typing import Callable

from bottle import Bottle, response

from .auth import requires
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import gettext as _, ngettext
from .replies import json_error

LINES_ROLES = ("admin", "technician")
CHANNEL_RE = re.compile(r"\d{1,4}")
# The engine's job ids are uuid4 hex (firmware/core/engine.py new_id).
JOB_RE = re.compile(r"[0-9a-f]{32}")
# The engine's worker threads, as its status names them (firmware/core/heartbeat.py).
WORKERS = ("store", "journal", "recorder")


def _status(engine: Engine) -> dict:
    try:
        return engine.status()
    except EngineUnavailable as exc:
        raise json_error(503, str(exc)) from None
    except CommandRefused as exc:
        raise json_error(503, _("engine did not give its status: %(reason)s") % {"reason": exc}) from None


def install(app: Bottle, render: Callable[..., str]) -> None:
    """Add the lines page and its /api/v1 routes to the web app."""

    @app.get("/lines")
    @requires(*LINES_ROLES)
    def lines_page():
        return render("lines", title=_("Lines"), active="lines", scripts=["events.js", "live.js", "lines.js"])

    @app.get("/api/v1/lines")
    @requires(*LINES_ROLES)
    def api_lines(engine):
        status = _status(engine)
        return {"box": status["box"], "lines": status["lines"], "trunk_groups": status.get("trunk_groups", []),
                "workers": {name: status[name] for name in WORKERS if status.get(name) is not None},
                # The last live event this includes (the page follows the events from there).
                "events": status.get("events")}

    @app.post("/api/v1/lines/<channel>/test")
    @requires(*LINES_ROLES)
    def api_line_test(channel, engine):
        if not CHANNEL_RE.fullmatch(channel):
            raise json_error(400, _("a line is named by its channel number (0, 1, 2 ...), not %(given)r")
                             % {"given": channel[:20]})
        number = int(channel)
        names = {line["channel"]: line["name"] for line in _status(engine)["lines"]}
        if number not in names:
            raise json_error(404, ngettext("there is no line %(line)d on this box (%(n)d line, numbered from 0)",
                                           "there is no line %(line)d on this box (%(n)d lines, numbered from 0)",
                                           len(names)) % {"line": number, "n": len(names)})
        try:
            job = engine.line_test(number)
        except EngineUnavailable as exc:
            raise json_error(503, str(exc)) from None
        except CommandRefused as exc:
            raise json_error(409, str(exc)) from None
        response.status = 202
        return job

    @app.get("/api/v1/line-tests/<job>")
    @requires(*LINES_ROLES)
    def api_line_test_result(job, engine):
        if not JOB_RE.fullmatch(job):
            raise json_error(400, _("a line test id is the 32 hex digits the test request answered with"))
        try:
            return engine.line_test_result(job)
        except EngineUnavailable as exc:
            raise json_error(503, str(exc)) from None
        except CommandRefused as exc:
            raise json_error(404, str(exc)) from None
