"""Complaint analysis: the tickets whose text or category holds each configured keyword (Chinese or English),
how often, repeated, still open, and how satisfied the customers were (docs/kpi.md)."""
from __future__ import annotations

import sqlite3
import unicodedata

from ..i18n import N_
from ..ticket_config import FINISHED
from . import buckets, settings
from .params import ReportParams
from .table import Chart, Column, Table
from .tickets import names, ticket_config, ticket_filter

KEYWORD_COLUMNS = (
    Column("keyword", N_("Keyword"), "text", N_("A complaint keyword an administrator configured.")),
    Column("tickets", N_("Tickets"), "int",
           N_("Tickets created in the range whose title, description or category holds the keyword.")),
    Column("share", N_("Share"), "percent", N_("Those tickets / all tickets created in the range.")),
    Column("repeats", N_("Repeat complaints"), "int", N_("Of them, repeating an earlier ticket.")),
    Column("open", N_("Open"), "int", N_("Of them, not yet resolved or cancelled.")),
    Column("overdue", N_("Overdue"), "int", N_("Of them, open past their SLA due time now.")),
    Column("satisfaction", N_("Satisfaction"), "number", N_("Mean score (1-5) customers gave at the callback.")),
)


def fold(text: str) -> str:
    """Text as keywords are matched against it: NFKC (full-width forms to ASCII) and case folded. Chinese
    has no spaces between words, so a keyword matches anywhere in the text, not by word."""
    return unicodedata.normalize("NFKC", text).casefold()


def report(db: sqlite3.Connection, p: ReportParams) -> list[Table]:
    words = settings.keywords(db)
    folded = [fold(w) for w in words]
    where, args = ticket_filter(p)
    config = ticket_config(db)
    # A category matches by its key and by its name in every language, so 投诉 finds the "complaint" category.
    category_text = {k: " ".join((k, *c.names.values())) for k, c in config.categories.items()} if config else {}
    categories, _departments = names(db)
    now = p.now or p.end
    counts = {w: [0, 0, 0, 0, 0.0, 0] for w in words}   # tickets, repeats, open, overdue, score sum, scored
    by_category: dict[str, int] = {}
    by_period: dict[str, int] = {}
    total = 0
    bucket = buckets.sql(p.group, "t.created_at")
    for title, description, category, repeat_of, state, due_at, satisfaction, b in db.execute(f"""
            SELECT t.title, t.description, t.category, t.repeat_of, t.state, t.due_at, t.satisfaction, {bucket}
            FROM tickets t WHERE {where}""", args):
        total += 1
        text = fold(" ".join((title or "", description or "", category_text.get(category, category or ""))))
        hit = False
        for word, key in zip(words, folded):
            if key in text:
                hit = True
                c = counts[word]
                still_open = state not in FINISHED
                c[0] += 1
                c[1] += repeat_of is not None
                c[2] += still_open
                c[3] += still_open and due_at is not None and due_at < now
                if satisfaction is not None:
                    c[4] += satisfaction
                    c[5] += 1
        if hit:
            label = categories.get(category, category)
            by_category[label] = by_category.get(label, 0) + 1
            by_period[b] = by_period.get(b, 0) + 1
    rows = [(w, int(c[0]), c[0] / total, int(c[1]), int(c[2]), int(c[3]), c[4] / c[5] if c[5] else None)
            for w, c in sorted(counts.items(), key=lambda kv: -kv[1][0]) if c[0]]
    return [
        Table("keywords", N_("Complaints by keyword"), KEYWORD_COLUMNS, rows,
              charts=(Chart("bar", N_("Complaints by keyword"), "keyword", ("tickets",)),
                      Chart("pie", N_("Share of complaints by keyword"), "keyword", ("tickets",))),
              note=N_("A ticket holding several keywords counts under each.")),
        Table("complaint_categories", N_("Complaints by category"),
              (Column("category", N_("Category"), "text", N_("The ticket's category.")),
               Column("tickets", N_("Tickets"), "int", N_("Tickets holding at least one keyword."))),
              sorted(by_category.items(), key=lambda kv: -kv[1]),
              charts=(Chart("pie", N_("Complaints by category"), "category", ("tickets",)),)),
        Table("complaint_periods", N_("Complaints by period"),
              (buckets.column(p.group),
               Column("tickets", N_("Tickets"), "int", N_("Tickets holding at least one keyword."))),
              [(buckets.value(p.group, b), n) for b, n in sorted(by_period.items())],
              charts=(Chart("line", N_("Complaints by period"), "period", ("tickets",)),)),
    ]
