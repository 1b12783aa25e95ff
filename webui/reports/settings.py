"""The reports' own settings, kept in the `settings` table: the complaint keywords an admin configures."""
from __future__ import annotations

import json
import sqlite3
import threading
import unicodedata
from pathlib import Path

from firmware.store import connect, write_transaction

from ..i18n import gettext as _

KEY = "reports.complaint_keywords"
# What a branch's complaints say most, in both languages the box speaks, until an admin sets their own.
DEFAULT_KEYWORDS = ("投诉", "退款", "质量", "态度", "延误", "complaint", "refund", "quality", "rude", "delay")
MAX_KEYWORDS = 50
MAX_KEYWORD = 32


class SettingsError(ValueError):
    """A keyword list the box does not take; `problems` names the reason."""

    def __init__(self, message: str):
        super().__init__(message)
        self.problems = {"keywords": message}


def keywords(db: sqlite3.Connection) -> list[str]:
    """The complaint keywords in force (the stock list while an admin has set none)."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [KEY]).fetchone()
    if row is None:
        return list(DEFAULT_KEYWORDS)
    try:
        found = json.loads(row[0])
    except ValueError:
        return list(DEFAULT_KEYWORDS)
    return [str(k) for k in found] if isinstance(found, list) else list(DEFAULT_KEYWORDS)


def check(given: object) -> list[str]:
    """The keywords as they will be kept: trimmed, NFKC-normalised (full-width letters become ASCII, as
    the matching folds them), repeats dropped; SettingsError for anything else."""
    if not isinstance(given, list) or not all(isinstance(k, str) for k in given):
        raise SettingsError(_("Keywords are a list of words or phrases, one a line."))
    out: list[str] = []
    seen: set[str] = set()
    for raw in given:
        word = unicodedata.normalize("NFKC", raw).strip()
        if not word:
            continue
        if len(word) > MAX_KEYWORD or not word.isprintable():
            raise SettingsError(_("A keyword is up to %(max)d printable characters: %(given)r is not.")
                                % {"max": MAX_KEYWORD, "given": word[:40]})
        if word.casefold() not in seen:
            seen.add(word.casefold())
            out.append(word)
    if len(out) > MAX_KEYWORDS:
        raise SettingsError(_("At most %(max)d keywords.") % {"max": MAX_KEYWORDS})
    return out


class ReportSettings:
    """The writer of the reports' settings (the web process owns the `settings` rows it writes)."""

    def __init__(self, db_path: str | Path):
        self.db_path = db_path
        self._lock = threading.Lock()

    def set_keywords(self, words: list[str]) -> list[str]:
        """Keep `words` (checked) and return the previous list."""
        conn = connect(self.db_path)
        try:
            with self._lock, write_transaction(conn):
                before = keywords(conn)
                conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                             " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                             [KEY, json.dumps(words, ensure_ascii=False)])
        finally:
            conn.close()
        return before
