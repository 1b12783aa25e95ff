"""Knowledge-base articles: checked, written with their search index in one transaction, versioned so two
editors cannot overwrite each other, and searched (webui/kb_search.py says how the index finds Chinese)."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Mapping
from pathlib import Path


from .i18n import gettext as _
from .kb_search import SearchError, index_text, match_expression, snippet
from .shared_writer import SharedWriter

# Bounds of an article (docs/requirements.md R22): a title fits a list line; a body is a procedure or a
# policy, not a manual (100,000 characters is some 50 printed pages), and a search hit or a page shows it whole.
MAX_TITLE = 200
MAX_BODY = 100_000
MAX_CATEGORY = 60
MAX_TAG = 40
MAX_TAGS = 20
PER_PAGE = 20
MAX_PAGE = 1000
# bm25 weights of the index's columns (title, body, tags): a word in the title or a tag says more of what
# an article is about than one in its body.
BM25_WEIGHTS = (10.0, 1.0, 5.0)
FIELDS = ("title", "body", "tags", "category")
_COLUMNS = "a.id, a.title, a.body, a.tags, a.category, a.author, a.created_at, a.updated_at, a.version, a.seq"


class KbError(ValueError):
    """A change to an article is refused; `problems` maps each bad field to its reason."""

    def __init__(self, message: str, problems: dict[str, str] | None = None, status: int = 400,
                 current: dict | None = None):
        super().__init__(message)
        self.problems = problems or {}
        self.status = status
        self.current = current


def _text(data: Mapping, field: str, limit: int, problems: dict[str, str], *, required: bool,
          multiline: bool = False) -> str:
    value = data.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems[field] = _("Must be text.")
        return ""
    value = value.strip() if not multiline else value.replace("\r\n", "\n").strip("\n")
    printable = value.replace("\n", "").replace("\t", "").isprintable() if multiline else value.isprintable()
    if required and not value.strip():
        problems[field] = _("Required.")
    elif len(value) > limit:
        problems[field] = _("At most %(n)d characters (this has %(given)d).") % {"n": limit, "given": len(value)}
    elif not printable:
        problems[field] = _("Only printable characters.")
    return value


def _tags(value, problems: dict[str, str]) -> list[str]:
    """Tags as a list: given as a list, or as text separated by commas (ASCII or Chinese)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        problems["tags"] = _("Tags are a list of words, or words separated by commas.")
        return []
    tags: list[str] = []
    for tag in (" ".join(t.split()) for t in value):
        if not tag or tag.casefold() in (t.casefold() for t in tags):
            continue
        if len(tag) > MAX_TAG or not tag.isprintable():
            problems["tags"] = _("Each tag is at most %(n)d printable characters.") % {"n": MAX_TAG}
            return []
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        problems["tags"] = _("At most %(n)d tags.") % {"n": MAX_TAGS}
    return tags


def check_article(data: Mapping) -> dict:
    """The article fields of a form or JSON body, checked; raises KbError naming each bad field."""
    problems: dict[str, str] = {}
    article = {"title": _text(data, "title", MAX_TITLE, problems, required=True),
               "body": _text(data, "body", MAX_BODY, problems, required=True, multiline=True),
               "category": _text(data, "category", MAX_CATEGORY, problems, required=False),
               "tags": _tags(data.get("tags"), problems)}
    if problems:
        raise KbError(_("The article was not saved: %(fields)s.") % {"fields": ", ".join(sorted(problems))},
                      problems)
    return article


def parse_version(value) -> int:
    """The version a client edited, from a JSON number or a form's text."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise KbError(_("Say which version of the article you edited (version, a whole number)."),
                      {"version": _("Required.")})
    return int(value)


def _public(row: sqlite3.Row) -> dict:
    article = dict(row)
    article["tags"] = json.loads(article["tags"] or "[]")
    return article


def get_article(conn: sqlite3.Connection, article_id: str) -> dict | None:
    conn.row_factory = sqlite3.Row
    row = conn.execute(f"SELECT {_COLUMNS} FROM kb_articles a WHERE a.id = ?", [article_id]).fetchone()
    return _public(row) if row else None


def categories(conn: sqlite3.Connection) -> list[str]:
    """The categories articles have, for the editor's suggestions and the search filter."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT category FROM kb_articles WHERE category != '' ORDER BY category")]


def list_articles(conn: sqlite3.Connection, category: str = "", page: int = 1) -> tuple[list[dict], int]:
    """The articles most recently changed first (of one category if given) and how many there are."""
    conn.row_factory = sqlite3.Row
    where, args = ("WHERE a.category = ?", [category]) if category else ("", [])
    total = conn.execute(f"SELECT count(*) FROM kb_articles a {where}", args).fetchone()[0]
    rows = conn.execute(f"SELECT {_COLUMNS} FROM kb_articles a {where} ORDER BY a.updated_at DESC, a.id"
                        " LIMIT ? OFFSET ?", [*args, PER_PAGE, (page - 1) * PER_PAGE]).fetchall()
    return [_public(r) for r in rows], total


def search(conn: sqlite3.Connection, query: str, category: str = "", page: int = 1,
           per_page: int = PER_PAGE) -> tuple[list[dict], int]:
    """Articles matching every term of `query`, best first (bm25), each with a highlighted `snippet` (HTML,
    escaped) and no body; raises SearchError when the query holds no word to search for."""
    expression = match_expression(query)
    conn.row_factory = sqlite3.Row
    where, args = "kb_fts MATCH ?", [expression]
    if category:
        where, args = where + " AND kb_fts.rowid IN (SELECT rowid FROM kb_articles WHERE category = ?)", \
            [*args, category]
    total = conn.execute(f"SELECT count(*) FROM kb_fts WHERE {where}", args).fetchone()[0]
    weights = ", ".join(str(w) for w in BM25_WEIGHTS)
    # Ranked inside the index first, then only the page's rows joined: joined before the sort, SQLite reads
    # every matching article's row (twice the time with 5,000 matches, `make bench`).
    rows = conn.execute(f"SELECT {_COLUMNS}, f.score FROM (SELECT rowid AS r, bm25(kb_fts, {weights}) AS score"
                        f" FROM kb_fts WHERE {where} ORDER BY score LIMIT ? OFFSET ?) f"
                        " JOIN kb_articles a ON a.rowid = f.r ORDER BY f.score",
                        [*args, per_page, (page - 1) * per_page]).fetchall()
    hits = []
    for row in rows:
        hit = _public(row)
        hit["snippet"] = snippet(hit.pop("body"), query)
        hits.append(hit)
    return hits, total


class KbStore:
    """Writes articles and their index; one connection shared by the server threads behind a lock.

    Installed on the app as a plugin that changes no route, so that app.close() closes it."""

    name = "kb-store"
    api = 2

    def __init__(self, db_path: str | Path, clock=time.time):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.clock = clock

    def apply(self, callback, route):
        return callback

    def _index(self, rowid: int, article: dict) -> None:
        self.conn.execute("DELETE FROM kb_fts WHERE rowid = ?", [rowid])
        self.conn.execute("INSERT INTO kb_fts (rowid, title, body, tags) VALUES (?, ?, ?, ?)",
                          [rowid, index_text(article["title"]), index_text(article["body"]),
                           index_text(" ".join(article["tags"]))])

    def _article(self, article_id: str, columns: str = _COLUMNS) -> dict:
        """Inside the write transaction: the article's `columns`; KbError 404 if there is no such article."""
        # Rows by name on this cursor only: the connection is every writing part's (webui/shared_writer.py).
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        row = cursor.execute(f"SELECT {columns} FROM kb_articles a WHERE a.id = ?", [article_id]).fetchone()
        if row is None:
            raise KbError(_("There is no article with id %(id)s.") % {"id": article_id}, status=404)
        return _public(row)

    def _current(self, article_id: str, version: int) -> tuple[int, dict]:
        """Inside the write transaction: the article's rowid and fields, if it is still at `version`."""
        current = self._article(article_id, f"a.rowid AS rowid, {_COLUMNS}")
        rowid = current.pop("rowid")
        if current["version"] != version:
            raise KbError(_("Someone else saved this article since you opened it (now version %(now)d, "
                            "yours %(yours)d): nothing was changed. Reload it and make your change again.")
                          % {"now": current["version"], "yours": version}, status=409, current=current)
        return rowid, current

    def create(self, fields: dict, author: str) -> dict:
        now = self.clock()
        article_id = uuid.uuid4().hex  # unique across branches: HQ holds every box's articles in one table
        with self.writer.transaction():
            cur = self.conn.execute(
                "INSERT INTO kb_articles (id, title, body, tags, category, author, created_at, updated_at, version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                [article_id, fields["title"], fields["body"], json.dumps(fields["tags"], ensure_ascii=False),
                 fields["category"], author, now, now])
            self._index(cur.lastrowid or 0, fields)
            return self._article(article_id)

    def update(self, article_id: str, fields: dict, version: int, author: str) -> tuple[dict, dict]:
        """The article as saved and what changed ({field: [old, new]}); KbError 404 if there is no such
        article, 409 (with the current article) if it changed since `version`."""
        with self.writer.transaction():
            rowid, current = self._current(article_id, version)
            changed = {f: [current[f], fields[f]] for f in FIELDS if current[f] != fields[f]}
            if not changed:
                return current, {}
            self.conn.execute(
                "UPDATE kb_articles SET title = ?, body = ?, tags = ?, category = ?, author = ?, updated_at = ?,"
                " version = version + 1 WHERE id = ?",
                [fields["title"], fields["body"], json.dumps(fields["tags"], ensure_ascii=False),
                 fields["category"], author, self.clock(), article_id])
            self._index(rowid, fields)
            saved = self._article(article_id)
        # The audit keeps which fields changed, and the old and new text of the short ones only.
        changed = {f: (v if f != "body" else [len(v[0]), len(v[1])]) for f, v in changed.items()}
        return saved, changed

    def delete(self, article_id: str, version: int) -> dict:
        with self.writer.transaction():
            rowid, current = self._current(article_id, version)
            self.conn.execute("DELETE FROM kb_fts WHERE rowid = ?", [rowid])
            self.conn.execute("DELETE FROM kb_articles WHERE id = ?", [article_id])
        return current

    def close(self) -> None:
        self.writer.close()


__all__ = ["KbError", "KbStore", "SearchError", "categories", "check_article", "get_article", "list_articles",
           "parse_version", "search"]
