"""The reports the box offers, by name: each a function (read-only connection, params) -> tables."""
from __future__ import annotations

import dataclasses
import importlib
import sqlite3
from collections.abc import Callable

from .params import ReportParams
from .table import Table

Build = Callable[[sqlite3.Connection, ReportParams], list[Table]]


class UnknownReport(KeyError):
    """No report has this name."""


@dataclasses.dataclass(frozen=True)
class Report:
    name: str
    title: str                 # an English message
    # "module:function" of this package: imported when the report is first built, not when the web
    # process starts, which must stay within its memory budget (docs/architecture.md "Memory").
    builder: str
    roles: tuple[str, ...]     # who may read it
    # An agent (without a supervisor's or admin's role) may read it for their own agent id only: the
    # report is built with the agent filter set to theirs, whatever the request says.
    agents_own: bool = False
    paged: bool = False        # a detail query: JSON pages through it, exports hold every row

    def build(self, db: sqlite3.Connection, params: ReportParams) -> list[Table]:
        module, function = self.builder.split(":")
        fn: Build = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        return fn(db, params)


REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    if report.name in REPORTS:
        raise ValueError(f"report {report.name} registered twice")
    REPORTS[report.name] = report
    return report


def get(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport(name) from None
