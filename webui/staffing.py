"""Staffing from Erlang C: the page, the agents each half hour of observed traffic needs, and the what-if API."""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Callable
from urllib.parse import urlencode

from bottle import Bottle, request, response

from . import erlang
from .auth import requires
from .i18n import gettext as _
from .replies import json_error
from .site_file import SiteFile
from .site_values import service_level
from .reports.web import readable
from .traffic import FIELD_LABELS, WEEKDAYS, TrafficError, TrafficQuery, staffing, targets_from_query

STAFFING_ROLES = ("admin", "supervisor")
# What-if limits: an hour of calls beyond what any branch takes, a handle time beyond a working morning.
MAX_CALLS_PER_HOUR = 100_000
MAX_AHT_S = 4 * 3600
# Rows of the what-if table: the answer, the two staffings below it that still keep up, three above.
TABLE_BELOW, TABLE_ABOVE = 2, 3
WHAT_IF_DEFAULTS = {"calls_per_hour": "60", "aht_s": "180"}


class WhatIfError(ValueError):
    """Bad what-if inputs; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def what_if(query: Mapping[str, str]) -> dict:
    """The agents, ASA and occupancy for the calls an hour, AHT and targets asked, and the table around them."""
    problems: dict[str, str] = {}
    values: dict[str, float] = {}
    for name, high in (("calls_per_hour", MAX_CALLS_PER_HOUR), ("aht_s", MAX_AHT_S)):
        raw = (query.get(name) or "").strip()
        try:
            values[name] = float(raw)
            if not math.isfinite(values[name]):
                raise ValueError
        except ValueError:
            problems[name] = _("%(field)s must be a number.") % {"field": _(FIELD_LABELS[name])}
            continue
        if name == "aht_s" and not 0 < values[name] <= high:
            problems[name] = (_("AHT must be more than 0 and at most %(max)d seconds: a call takes some time.")
                              % {"max": high})
        elif name == "calls_per_hour" and not 0 <= values[name] <= high:
            problems[name] = _("Calls per hour must be from 0 to %(max)d.") % {"max": high}
    targets = targets_from_query(query, problems)
    if problems:
        raise WhatIfError(problems)
    try:
        answer = erlang.agents_needed(values["calls_per_hour"], values["aht_s"], targets.service_level,
                                      targets.answer_s, targets.shrinkage)
    except erlang.ErlangError:
        raise WhatIfError({"calls_per_hour": _("That is more traffic than this calculator takes (at most "
                                               "%(max)d erlangs).") % {"max": erlang.MAX_ERLANGS}}) from None
    low = max(math.floor(answer.traffic) + 1, answer.agents - TABLE_BELOW)
    table = [erlang.with_agents(n, values["calls_per_hour"], values["aht_s"], targets.service_level,
                                targets.answer_s, targets.shrinkage).as_dict()
             for n in range(low, answer.agents + TABLE_ABOVE + 1)] if answer.agents else []
    return {"calls_per_hour": values["calls_per_hour"], "aht_s": values["aht_s"], "targets": targets.as_dict(),
            "answer": answer.as_dict(), "table": table}


def install(app: Bottle, render: Callable[..., str], site: SiteFile, clock: Callable[[], float]) -> None:
    """Add /reports/staffing and its API to the web app; `clock` says which day is today (the default range).
    The answer time defaults to the site's service-level target (site.toml [reports], docs/kpi.md)."""

    def today() -> dt.date:
        return dt.date.fromtimestamp(clock())

    def with_target(query: Mapping[str, str]) -> dict[str, str]:
        given = dict(query)
        if not (given.get("answer_s") or "").strip():
            given["answer_s"] = str(service_level(site)["service_level_s"])
        return given

    @app.get("/reports/staffing")
    @requires(*STAFFING_ROLES)
    def staffing_page(db, user):
        query = with_target(request.query.decode())
        problems: dict[str, str] = {}
        result = None
        try:
            q, targets = TrafficQuery.from_query(query, today())
            result = staffing(db, q, targets)
        except TrafficError as exc:
            response.status, problems = 400, exc.problems
            q, targets = TrafficQuery.from_query(with_target({}), today())
        except erlang.ErlangError as exc:
            response.status, problems = 400, {"queue": str(exc)}
        what_if_query = {**WHAT_IF_DEFAULTS, **{k: query[k] for k in ("calls_per_hour", "aht_s") if query.get(k)},
                         **{k: query[k] for k in ("service_level", "answer_s", "shrinkage") if query.get(k)}}
        try:
            answer, what_if_problems = what_if(what_if_query), {}
        except WhatIfError as exc:
            answer, what_if_problems = None, exc.problems
            response.status = 400
        queues = [row[0] for row in db.execute("SELECT id FROM queues ORDER BY id")]
        # The chart reads the same figures from the API (the page's own answer, as a script would).
        chart_api = "/api/v1/staffing?" + urlencode({**q.params(), "service_level": targets.service_level * 100,
                                                     "answer_s": targets.answer_s,
                                                     "shrinkage": targets.shrinkage * 100})
        return render("staffing", title=_("Staffing"), active="reports", report_tabs=readable(user),
                      chart_api=chart_api,
                      scripts=["api.js", "live.js", "vendor/chart.js-4.5.1/chart.umd.min.js", "staffing.js"],
                      form=dict(query), problems=problems, result=result, q=q, targets=targets,
                      weekdays=WEEKDAYS, queues=queues, what_if=answer, what_if_form=what_if_query,
                      what_if_problems=what_if_problems)

    @app.get("/api/v1/staffing")
    @requires(*STAFFING_ROLES)
    def api_staffing(db):
        try:
            q, targets = TrafficQuery.from_query(with_target(request.query.decode()), today())
            return staffing(db, q, targets)
        except TrafficError as exc:
            raise json_error(400, str(exc), exc.problems) from None
        except erlang.ErlangError as exc:
            raise json_error(400, str(exc)) from None

    @app.get("/api/v1/staffing/what-if")
    @requires(*STAFFING_ROLES)
    def api_what_if():
        try:
            return what_if(with_target(request.query.decode()))
        except WhatIfError as exc:
            raise json_error(400, str(exc), exc.problems) from None

