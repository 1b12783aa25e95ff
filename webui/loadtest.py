"""The load test's API: start N virtual callers on the live box, watch them, stop them (R18).

The engine runs the test and refuses what the box cannot carry (firmware/config/loadtest.py); this
checks the shape of a request and passes the engine's answer or refusal on."""
from __future__ import annotations

import math

from bottle import Bottle, request, response

from .auth import requires
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import gettext as _
from .replies import json_error

LOADTEST_ROLES = ("admin", "technician")
# Field -> (integer?, required?); the engine checks the ranges against what the box carries now.
FIELDS = {"callers": (True, True), "duration": (False, True), "agents": (True, False), "talk": (False, False)}
MAX_KEYS = 64


def _start_args(body) -> dict:
    if not isinstance(body, dict):
        raise json_error(400, _('send a JSON object such as {"callers": 10, "duration": 300}'))
    unknown = set(body) - {*FIELDS, "keys"}
    if unknown:
        raise json_error(400, _("unknown field %(field)s") % {"field": sorted(unknown)[0][:40]})
    args: dict = {}
    for name, (integer, required) in FIELDS.items():
        value = body.get(name)
        if value is None:
            if required:
                raise json_error(400, _("%(field)s is required") % {"field": name})
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not number or (integer and value != int(value)):
            raise json_error(400, (_("%(field)s must be a whole number") if integer else
                                   _("%(field)s must be a number of seconds")) % {"field": name})
        args[name] = int(value) if integer else float(value)
    keys = body.get("keys")
    if keys is not None:
        if not isinstance(keys, str) or not 1 <= len(keys.strip()) <= MAX_KEYS:
            raise json_error(400, _('keys must be the keys callers press, e.g. "1 2"'))
        args["keys"] = keys.strip()
    return args


def _engine_call(fn, *args, **kwargs) -> dict:
    try:
        return fn(*args, **kwargs)
    except EngineUnavailable as exc:
        raise json_error(503, str(exc)) from None
    except CommandRefused as exc:
        raise json_error(409, str(exc)) from None


def install(app: Bottle) -> None:
    """Add GET, POST and DELETE /api/v1/loadtest."""

    @app.get("/api/v1/loadtest")
    @requires(*LOADTEST_ROLES)
    def api_loadtest(engine: Engine):
        return _engine_call(engine.command, "loadtest.status")

    @app.post("/api/v1/loadtest")
    @requires(*LOADTEST_ROLES)
    def api_loadtest_start(engine: Engine, audit):
        body = request.json if request.content_type.startswith("application/json") else None
        args = _start_args(body)
        status = _engine_call(engine.command, "loadtest.start", **args)
        audit.record("loadtest.start", status["run"]["id"], args)
        response.status = 202
        return status

    @app.delete("/api/v1/loadtest")
    @requires(*LOADTEST_ROLES)
    def api_loadtest_stop(engine: Engine, audit):
        status = _engine_call(engine.command, "loadtest.stop")
        audit.record("loadtest.stop", status["run"]["id"], {"calls": status["run"]["calls"]})
        return status
