"""Writes the scheduled reports: each due period of each enabled schedule once, into <state>/reports/, queued
to its recipients in the mail outbox, the oldest files beyond the schedule's count deleted.

Run by a thread of the web process (webui/server.py), never the engine, so a month's workbook never
slows a call. What is written is known from the database alone (`report_schedules.last_period` and the
`report_files` rows), so a restart writes what was missed and nothing twice:

- a file is written under a temporary name (`.<name>.part`) from a read-only connection, outside any write
  transaction (a workbook takes seconds; the engine's writer must not wait for it);
- then one write transaction checks the period is still unwritten, renames the file into place, adds its
  row, moves `last_period` on and queues the mail. A crash before the commit leaves a file without a row:
  the next pass writes the period again under the same name, replacing it; a second web process racing
  this one finds the row (UNIQUE (schedule, period)) and drops its copy.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
import uuid
from pathlib import Path

from firmware.core.files import fsync_dir
from firmware.store import connect_readonly

from .i18n import gettext as _, speaking
from .mail import MAX_ATTACHMENTS, Attachment, MailError, queue_mail
from .report_schedule import SCHEDULES, Period, Schedule, due_periods, load
from .reports import REPORTS
from .reports.params import ReportParams
from .reports.table import Table
from .shared_writer import SharedWriter
from .site_file import SiteFile
from .site_values import service_level

log = logging.getLogger(__name__)

# After a failed run the schedule waits this long before trying again: a full card or a broken report
# should cost one attempt every few minutes, not one a second.
RETRY_S = 300.0
# A daily file shows the day by hour; a monthly one the month by day (the reports' own grouping).
GROUPING = {"daily": "hour", "monthly": "day"}


class ReportRunError(Exception):
    """A scheduled report could not be written."""


def extension(fmt: str) -> str:
    """A schedule's format as its files' extension: an xlsx workbook, or a zip of CSV files."""
    return "xlsx" if fmt == "xlsx" else "zip"


class ReportRunner:
    """One pass at a time (webui/webhook_delivery.py DeliveryThread repeats it): the oldest due period of
    an enabled schedule written, recorded and mailed; True while more may be due."""

    def __init__(self, db_path: str | Path, reports_dir: str | Path, clock=time.time):
        self.db_path = db_path
        # The service level's definition the files count by: the site's (site.toml [reports]) beside the records.
        self.site = SiteFile(Path(db_path).parent / "config" / "site.toml")
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.dir = Path(reports_dir)
        self.clock = clock
        self.dir.mkdir(parents=True, exist_ok=True)
        # What a stop between writing and renaming left: never a file anyone can download.
        for leftover in self.dir.glob(".*.part"):
            leftover.unlink(missing_ok=True)

    def pass_once(self) -> bool:
        now = self.clock()
        with self.writer.lock:
            schedules = load(self.conn)
        for schedule in schedules:
            if not schedule.enabled or schedule.enabled_at is None:
                continue
            if schedule.last_error_at is not None and now - schedule.last_error_at < RETRY_S:
                continue
            with self.writer.lock:
                written = frozenset(row[0] for row in self.conn.execute(
                    "SELECT period FROM report_files WHERE schedule = ?", [schedule.name]))
            due = due_periods(schedule.name, now, schedule.last_period, schedule.enabled_at, schedule.keep, written)
            if due:
                return self.run(schedule, due[0], now)
        return False

    def run(self, schedule: Schedule, period: Period, now: float) -> bool:
        """Write `period` of `schedule` once; a failure is kept on the schedule (shown to the admin) and
        tried again after RETRY_S. True: written (more may be due)."""
        try:
            part, name = self._write(schedule, period, now)
        except (ReportRunError, OSError, sqlite3.Error, ValueError) as exc:
            log.warning("scheduled report %s %s not written: %s", schedule.name, period.label, exc)
            with self.writer.transaction():
                self.conn.execute("UPDATE report_schedules SET last_error = ?, last_error_at = ? WHERE name = ?",
                                  [f"{period.label}: {exc}", now, schedule.name])
            return False
        try:
            recorded = self._record(schedule, period, part, name, now)
        finally:
            part.unlink(missing_ok=True)
        if recorded:
            log.info("scheduled report %s %s written: %s", schedule.name, period.label, name)
            self._prune(schedule)
        return recorded

    def _write(self, schedule: Schedule, period: Period, now: float) -> tuple[Path, str]:
        ext = extension(schedule.format)
        name = f"{schedule.name}-{period.label}.{ext}"
        part = self.dir / f".{name}.part"
        sl = service_level(self.site)
        params = ReportParams(date_from=period.first, date_to=period.last, group=GROUPING[schedule.name],
                              format="xlsx" if ext == "xlsx" else "csv", now=now,
                              short_abandon=sl["short_abandon_s"], service_level_s=sl["service_level_s"])
        db = connect_readonly(self.db_path)
        try:
            self._build(db, schedule, period, params, part, ext)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        finally:
            db.close()
        with part.open("rb+") as fh:
            os.fsync(fh.fileno())   # on the card before its row says it is there
        return part, name

    def _build(self, db: sqlite3.Connection, schedule: Schedule, period: Period, params: ReportParams, part: Path,
               ext: str) -> None:
        with speaking(schedule.language):
            # One read transaction: every report in the file sees the same snapshot of the records.
            db.execute("BEGIN")
            tables: list[Table] = []
            for report_name in schedule.reports:
                report = REPORTS.get(report_name)
                if report is None:
                    raise ReportRunError(f"no report {report_name} (removed since the schedule was saved)")
                tables.extend(report.build(db, params))
            title = _("%(schedule)s report %(period)s") % {"schedule": _(SCHEDULES[schedule.name]),
                                                           "period": period.label}
            if ext == "xlsx":
                # Loaded when a file is due, not at the web process's start (docs/architecture.md "Memory").
                from .reports.export import write_xlsx

                write_xlsx(str(part), title, tables)
            else:
                _write_zip(part, tables)
        db.execute("COMMIT")

    def _record(self, schedule: Schedule, period: Period, part: Path, name: str, now: float) -> bool:
        digest, size = _sha256(part), part.stat().st_size
        with self.writer.transaction():
            written = self.conn.execute("SELECT 1 FROM report_files WHERE schedule = ? AND period = ?",
                                        [schedule.name, period.label]).fetchone()
            if written is not None:
                return False
            os.replace(part, self.dir / name)
            self.conn.execute("INSERT INTO report_files (id, schedule, period, date_from, date_to, filename, format,"
                              " reports, size, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              [uuid.uuid4().hex, schedule.name, period.label, period.first.isoformat(),
                               period.last.isoformat(), name, extension(schedule.format),
                               ",".join(schedule.reports), size, digest, now])
            problem = self._mail(schedule, period, name, size, now) if schedule.recipients else None
            self.conn.execute("UPDATE report_schedules SET last_period = ?, last_error = ?, last_error_at = NULL"
                              " WHERE name = ?", [period.label, problem, schedule.name])
        fsync_dir(self.dir)
        return True

    def _mail(self, schedule: Schedule, period: Period, name: str, size: int, now: float) -> str | None:
        """Queue the file to the schedule's recipients in the transaction that records it; the reason the
        mail could not be queued, which leaves the file written."""
        with speaking(schedule.language):
            subject = _("Branchline %(schedule)s report %(period)s") % {
                "schedule": _(SCHEDULES[schedule.name]).lower(), "period": period.label}
            body = _("The %(schedule)s report for %(first)s to %(last)s.") % {
                "schedule": _(SCHEDULES[schedule.name]).lower(), "first": period.first.isoformat(),
                "last": period.last.isoformat()}
            attach = size <= MAX_ATTACHMENTS
            if not attach:
                body += "\n\n" + _("The file is too large to send by e-mail (%(size)d MiB): download it from the "
                                   "box's Report files page.") % {"size": size // (1024 * 1024)}
        try:
            files = [Attachment.from_file(self.dir / name)] if attach else []
            queue_mail(self.conn, list(schedule.recipients), subject, body, files,
                       key=f"report:{schedule.name}:{period.label}", now=now)
        except MailError as exc:
            log.warning("scheduled report %s %s: mail not queued: %s", schedule.name, period.label, exc)
            return f"{period.label}: mail not queued: {exc}"
        return None

    def _prune(self, schedule: Schedule) -> None:
        """Delete the schedule's files beyond its count, oldest first: rows, then files."""
        with self.writer.transaction():
            old = self.conn.execute("SELECT id, filename FROM report_files WHERE schedule = ? ORDER BY period DESC"
                                    " LIMIT -1 OFFSET ?", [schedule.name, schedule.keep]).fetchall()
            self.conn.executemany("DELETE FROM report_files WHERE id = ?", [(row[0],) for row in old])
        for _id, filename in old:
            (self.dir / filename).unlink(missing_ok=True)

    def close(self) -> None:
        self.writer.close()


def _write_zip(path: Path, tables: list[Table]) -> None:
    # One CSV per table (a CSV holds one), each written as its rows are read (csv_chunks streams).
    import zipfile

    from .reports.export import csv_chunks

    taken: set[str] = set()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for table in tables:
            name, n = f"{table.name}.csv", 2
            while name in taken:
                name, n = f"{table.name}-{n}.csv", n + 1
            taken.add(name)
            with zf.open(name, "w") as fh:
                for chunk in csv_chunks(table):
                    fh.write(chunk)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()

