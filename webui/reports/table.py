"""A report's result: typed tables whose columns carry their definitions, and the charts drawn from them."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

# Cell types: the page formats them, the API writes them as JSON/CSV, the workbook as typed cells.
# date: a local calendar day; datetime: a local time; duration: seconds; percent: a fraction 0..1;
# int: a count; number: a measure (Erlangs, a score); text: words.
KINDS = ("date", "datetime", "duration", "percent", "int", "number", "text")
CHART_KINDS = ("bar", "pie", "line")


class TableError(ValueError):
    """A table or chart declared against the rules above (a programming error, found by the tests)."""


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str          # an English message (N_), translated where it is shown
    kind: str
    definition: str = ""  # how the figure is counted (docs/kpi.md), an English message

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TableError(f"column {self.key}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


@dataclasses.dataclass(frozen=True)
class Chart:
    kind: str              # bar | pie | line
    title: str             # an English message
    category: str          # the column giving each point's label
    values: tuple[str, ...]  # the columns plotted, one series each (a pie takes one)

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise TableError(f"chart {self.title}: kind {self.kind!r} is not one of {', '.join(CHART_KINDS)}")
        if self.kind == "pie" and len(self.values) != 1:
            raise TableError(f"chart {self.title}: a pie shows one series")


@dataclasses.dataclass
class Table:
    """`rows` are sequences in column order; a detail table's rows may be an iterator read once (exports
    stream it), every other table's a list."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: Iterable[Sequence]
    charts: tuple[Chart, ...] = ()
    total: int | None = None    # a paged table: all matching rows
    note: str = ""              # an English message shown under the table

    def __post_init__(self) -> None:
        keys = [c.key for c in self.columns]
        for chart in self.charts:
            for key in (chart.category, *chart.values):
                if key not in keys:
                    raise TableError(f"table {self.name}: chart {chart.title} names no column {key!r}")

    def index(self, key: str) -> int:
        return [c.key for c in self.columns].index(key)


def json_value(kind: str, value: object) -> object:
    """A cell as JSON carries it: dates and local times in ISO 8601, durations in seconds, percents as
    fractions, so the API's figures are the page's and the workbook's."""
    if value is None:
        return None
    if kind in ("date", "datetime") and isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if kind in ("duration", "number"):
        return round(float(value), 3)   # type: ignore[arg-type]
    if kind == "percent":
        return round(float(value), 4)   # type: ignore[arg-type]
    return value
