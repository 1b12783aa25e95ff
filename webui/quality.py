"""The admin's quality form page and its API: the criteria recorded calls are scored against, edited
with every field checked, saved only from the version the editor read, and audited."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from bottle import Bottle, redirect, request, response

from .auth import requires
from .i18n import gettext as _, language
from .quality_form import LANGUAGES, QualityForm, QualityFormError, QualityFormFile
from .replies import json_body, json_error

EDIT_ROLES = ("admin",)
READ_ROLES = ("admin", "supervisor", "agent")
# Empty rows under the form's criteria, for adding some without a script.
BLANK_ROWS = 3
_PROBLEM_ROW = re.compile(r"criterion\[(\d+)\]")


def _changes(old: QualityForm, new: QualityForm) -> dict:
    """The audit entry's summary: criteria added, removed and changed, and the pass score."""
    before, after = {c.id: c for c in old.criteria}, {c.id: c for c in new.criteria}
    return {"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
            "pass_score": [old.pass_score, new.pass_score] if old.pass_score != new.pass_score else None,
            "version": new.version}


def _number(text: str) -> object:
    """A number typed in the form; the text itself when it is none (the checks then say so)."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def form_rows(forms) -> tuple[dict, list[dict], dict[int, int]]:
    """The page's fields as the form's data, the rows as typed (to show them again), and which row of
    the page each criterion of the data came from (a removed or empty row is skipped)."""
    rows: list[dict] = []
    criteria: list[dict] = []
    origin: dict[int, int] = {}
    count = min(int(forms.get("rows", "0")) if forms.get("rows", "").isdigit() else 0, 100)
    for i in range(count):
        row = {key: forms.getunicode(f"{key}_{i}", default="").strip()
               for key in ("id", "name_en", "name_zh", "help_en", "help_zh", "weight", "max_points")}
        rows.append(row)
        if forms.get(f"remove_{i}") or not any(row.values()):
            continue
        origin[len(criteria)] = i
        criteria.append({"id": row["id"], "name": {lang: row[f"name_{lang}"] for lang in LANGUAGES},
                         "help": {lang: row[f"help_{lang}"] for lang in LANGUAGES},
                         "weight": _number(row["weight"]), "max_points": _number(row["max_points"])})
    data = {"quality": {"pass_score": _number(forms.getunicode("pass_score", default="").strip())},
            "criterion": criteria}
    return data, rows, origin


def page_rows(form: QualityForm) -> list[dict]:
    return [{"id": c.id, "name_en": c.names.get("en", ""), "name_zh": c.names.get("zh", ""),
             "help_en": c.help.get("en", ""), "help_zh": c.help.get("zh", ""), "weight": _shown(c.weight),
             "max_points": str(c.max_points)} for c in form.criteria]


def _shown(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def install(app: Bottle, render: Callable[..., str], config_dir: Path) -> QualityFormFile:
    quality = QualityFormFile(config_dir)

    def page(form: QualityForm, rows: list[dict], pass_score: str, problems: dict[str, str], saved: bool) -> str:
        blank = dict.fromkeys(("id", "name_en", "name_zh", "help_en", "help_zh", "weight", "max_points"), "")
        return render("quality_form", title=_("Quality form"), active="quality", version=form.version,
                      pass_score=pass_score, rows=rows + [dict(blank) for _row in range(BLANK_ROWS)],
                      problems=problems, saved=saved, lang=language())

    @app.get("/quality")
    @requires(*EDIT_ROLES)
    def quality_page():
        form = quality.load()
        return page(form, page_rows(form), _shown(form.pass_score), {}, bool(request.query.get("saved")))

    @app.post("/quality")
    @requires(*EDIT_ROLES)
    def quality_save(audit):
        data, rows, origin = form_rows(request.forms)
        try:
            old, new = quality.save(data, request.forms.getunicode("version", default=""))
        except QualityFormError as exc:
            # Each criterion's problem is shown at the row of the page it was typed in.
            problems = {_PROBLEM_ROW.sub(lambda m: f"row{origin.get(int(m[1]), int(m[1]))}", key): message
                        for key, message in exc.problems.items()}
            response.status = 409 if "version" in exc.problems else 400
            return page(quality.load(), rows, request.forms.getunicode("pass_score", default=""), problems, False)
        audit.record("quality.form", "quality.toml", _changes(old, new))
        redirect("/quality?saved=1")

    @app.get("/api/v1/quality/form")
    @requires(*READ_ROLES)
    def api_quality_form():
        return quality.load().as_dict()

    @app.put("/api/v1/quality/form")
    @requires(*EDIT_ROLES)
    def api_quality_save(audit):
        body = json_body()
        data = {"quality": {"pass_score": body.get("pass_score")}, "criterion": body.get("criteria")}
        try:
            old, new = quality.save(data, str(body.get("version", "")))
        except QualityFormError as exc:
            raise json_error(409 if "version" in exc.problems else 400, str(exc), problems=exc.problems) from None
        audit.record("quality.form", "quality.toml", _changes(old, new))
        return new.as_dict()

    return quality
