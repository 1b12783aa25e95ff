"""The knowledge base's pages and API: every role reads and searches it, supervisors and admins write it
(audited); a search box other pages include (views/kb_search_box.tpl with static/kb_search.js)."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from urllib.parse import urlencode
from typing import Callable

from bottle import Bottle, HTTPError, HTTPResponse, redirect, request, response

from .accounts import ROLES
from .auth import requires, user_has
from .i18n import gettext as _
from .kb_render import render as render_markdown
from .kb_search import MAX_QUERY
from .kb_store import (MAX_BODY, MAX_CATEGORY, MAX_PAGE, MAX_TITLE, PER_PAGE, KbError, KbStore, SearchError,
                       categories, check_article, get_article, list_articles, parse_version, search)
from .replies import json_body, json_error

KB_READ_ROLES = ROLES
# docs/requirements.md R22: supervisors and admins keep the knowledge base; agents and technicians read it.
KB_EDIT_ROLES = ("admin", "supervisor")
# Article ids are uuid4 hex (webui/kb_store.py); anything else names no article.
ID_CHARS = frozenset("0123456789abcdef")


def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise ValueError(value)
    return int(value)


def _valid_id(article_id: str) -> bool:
    return len(article_id) == 32 and set(article_id) <= ID_CHARS


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, clock) -> None:
    """Add the knowledge base's pages and /api/v1/kb routes to the web app."""
    store = KbStore(db_path, clock)
    app.install(store)
    page_of = functools.partial(render, urlencode=urlencode)

    def lookup(db, article_id: str, api: bool) -> dict:
        found = get_article(db, article_id) if _valid_id(article_id) else None
        if found is None:
            message = _("There is no article with id %(id)s.") % {"id": article_id[:40]}
            raise json_error(404, message) if api else HTTPError(404, message)
        return found

    def query_args() -> tuple[str, str, int]:
        query = request.query.decode()
        q = (query.get("q") or "").strip()
        category = (query.get("category") or "").strip()[:MAX_CATEGORY]
        page = _page_number(query.get("page"))
        return q[:MAX_QUERY], category, page

    def editor(title: str, article: dict, problems: dict, db, error: str | None = None) -> str:
        return page_of("kb_edit", title=title, active="kb", article=article, problems=problems, error=error,
                      categories=categories(db), max_title=MAX_TITLE, max_body=MAX_BODY,
                      max_category=MAX_CATEGORY)

    def form_fields() -> dict:
        forms = request.forms.decode()
        return {f: forms.get(f, "") for f in ("title", "body", "tags", "category", "version")}

    # --- pages -----------------------------------------------------------------------------------
    @app.get("/kb")
    @requires(*KB_READ_ROLES)
    def kb_page(user, db):
        try:
            q, category, page = query_args()
        except ValueError:
            raise HTTPError(400, _("The page number must be a whole number from 1 to %(max)d.")
                            % {"max": MAX_PAGE}) from None
        hits: list[dict] = []
        total, problem = 0, None
        try:
            hits, total = search(db, q, category, page) if q else list_articles(db, category, page)
        except SearchError:
            problem = _("Type a word to search for: letters, digits or Chinese characters.")
        return page_of("kb", title=_("Knowledge base"), active="kb", q=q,
                      category=category, page=page, hits=hits, total=total, problem=problem,
                      pages=max(1, -(-total // PER_PAGE)), categories=categories(db),
                      can_edit=user_has(user, *KB_EDIT_ROLES))

    @app.get("/kb/new")
    @requires(*KB_EDIT_ROLES)
    def kb_new(db):
        return editor(_("New article"), {"title": "", "body": "", "tags": [], "category": "", "version": None}, {},
                      db)

    @app.post("/kb/new")
    @requires(*KB_EDIT_ROLES)
    def kb_create(user, db, audit):
        data = form_fields()
        try:
            saved = store.create(check_article(data), user["username"])
        except KbError as exc:
            response.status = exc.status
            return editor(_("New article"), {**data, "version": None}, exc.problems, db, str(exc))
        audit.record("kb.create", saved["id"], {"title": saved["title"], "category": saved["category"]})
        redirect(f"/kb/{saved['id']}")

    @app.get("/kb/<article_id>")
    @requires(*KB_READ_ROLES)
    def kb_article(article_id, user, db):
        article = lookup(db, article_id, api=False)
        return page_of("kb_article", title=article["title"], active="kb", article=article,
                      html=render_markdown(article["body"]), can_edit=user_has(user, *KB_EDIT_ROLES))

    @app.get("/kb/<article_id>/edit")
    @requires(*KB_EDIT_ROLES)
    def kb_edit(article_id, db):
        article = lookup(db, article_id, api=False)
        return editor(_("Edit: %(title)s") % {"title": article["title"]}, article, {}, db)

    @app.post("/kb/<article_id>/edit")
    @requires(*KB_EDIT_ROLES)
    def kb_save(article_id, user, db, audit):
        lookup(db, article_id, api=False)
        data = form_fields()
        try:
            saved, changed = store.update(article_id, check_article(data), parse_version(data["version"]),
                                          user["username"])
        except KbError as exc:
            response.status = exc.status
            # A conflict keeps the user's text in the form and moves the version on, so saving again is
            # a deliberate overwrite of what they have now been shown.
            version = exc.current["version"] if exc.current else data["version"]
            return editor(_("Edit: %(title)s") % {"title": data["title"] or article_id}, {**data, "id": article_id,
                          "version": version}, exc.problems, db, str(exc))
        if changed:
            audit.record("kb.update", article_id, changed)
        redirect(f"/kb/{saved['id']}")

    @app.post("/kb/<article_id>/delete")
    @requires(*KB_EDIT_ROLES)
    def kb_remove(article_id, db, audit):
        lookup(db, article_id, api=False)
        try:
            gone = store.delete(article_id, parse_version(request.forms.get("version", "")))
        except KbError as exc:
            raise HTTPError(exc.status, str(exc)) from None
        audit.record("kb.delete", article_id, {"title": gone["title"]})
        redirect("/kb")

    # --- API -------------------------------------------------------------------------------------
    @app.get("/api/v1/kb/articles")
    @requires(*KB_READ_ROLES)
    def api_articles(db):
        try:
            _q, category, page = query_args()
        except ValueError:
            raise json_error(400, _("page must be a whole number from 1 to %(max)d") % {"max": MAX_PAGE}) from None
        articles, total = list_articles(db, category, page)
        for article in articles:
            del article["body"]
        return {"articles": articles, "total": total, "page": page, "per_page": PER_PAGE}

    @app.post("/api/v1/kb/articles")
    @requires(*KB_EDIT_ROLES)
    def api_create(user, audit):
        try:
            saved = store.create(check_article(json_body()), user["username"])
        except KbError as exc:
            raise json_error(exc.status, str(exc), exc.problems) from None
        audit.record("kb.create", saved["id"], {"title": saved["title"], "category": saved["category"]})
        response.status = 201
        return {"article": saved}

    @app.get("/api/v1/kb/articles/<article_id>")
    @requires(*KB_READ_ROLES)
    def api_article(article_id, db):
        article = lookup(db, article_id, api=True)
        return {"article": article, "html": render_markdown(article["body"])}

    @app.put("/api/v1/kb/articles/<article_id>")
    @requires(*KB_EDIT_ROLES)
    def api_update(article_id, user, audit):
        body = json_body()
        try:
            saved, changed = store.update(article_id, check_article(body), parse_version(body.get("version")),
                                          user["username"])
        except KbError as exc:
            if exc.current is not None:
                raise json_conflict(str(exc), exc.current) from None
            raise json_error(exc.status, str(exc), exc.problems) from None
        if changed:
            audit.record("kb.update", article_id, changed)
        return {"article": saved}

    @app.delete("/api/v1/kb/articles/<article_id>")
    @requires(*KB_EDIT_ROLES)
    def api_delete(article_id, audit):
        try:
            gone = store.delete(article_id, parse_version(request.query.get("version", "")))
        except KbError as exc:
            if exc.current is not None:
                raise json_conflict(str(exc), exc.current) from None
            raise json_error(exc.status, str(exc), exc.problems) from None
        audit.record("kb.delete", article_id, {"title": gone["title"]})
        return {"deleted": article_id}

    @app.get("/api/v1/kb/search")
    @requires(*KB_READ_ROLES)
    def api_search(db):
        try:
            q, category, page = query_args()
        except ValueError:
            raise json_error(400, _("page must be a whole number from 1 to %(max)d") % {"max": MAX_PAGE}) from None
        try:
            hits, total = search(db, q, category, page)
        except SearchError:
            raise json_error(400, _("q must hold a word to search for: letters, digits or Chinese characters"),
                             {"q": _("Type a word to search for.")}) from None
        return {"query": q, "hits": hits, "total": total, "page": page, "per_page": PER_PAGE}


def json_conflict(message: str, current: dict) -> HTTPResponse:
    """A 409 reply carrying the article as it now is, so the client can show what changed."""
    return HTTPResponse(json.dumps({"error": message, "current": current}, ensure_ascii=False), 409,
                        {"Content-Type": "application/json", "Cache-Control": "no-store"})
