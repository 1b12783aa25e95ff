"""The admin's backup page and API: download the box as one archive, stage a restore for the engine's next start."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Callable

from bottle import Bottle, FileUpload, HTTPResponse, MultipartError, redirect, request, response

from firmware.store.backup import MAX_RECORDINGS_BYTES, BackupError, prepare, recordings_size
from firmware.store.restore import (OTHER_BOX, OTHER_DATABASE, SCHEMA_FOREIGN, SCHEMA_NEWER,
                                    SCHEMA_OLDER, RestoreError, RestoreRefused, cancel, last_applied, pending, stage)

from .auth import requires
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import gettext as _
from .replies import json_error

log = logging.getLogger(__name__)

BACKUP_ROLES = ("admin",)
# The archive backups listed on the page (from the audit log).
RECENT_BACKUPS = 10
ARCHIVE_FIELD = "archive"
OVERRIDE_FIELD = "override"
# bottle's multipart parser keeps an upload in temporary files up to 1 GiB (_MultipartParser disk_limit);
# a database with years of records fits. A larger archive (one with recordings) is restored with
# `branchline restore` on the box.
MAX_UPLOAD_BYTES = 2 ** 30
# How the page tells the admin to apply a staged restore (board/systemd: the web unit follows the engine's).
RESTART_COMMAND = "sudo systemctl restart branchline-engine"


def problem_text(problem: dict) -> str:
    """A refusal of firmware/store/restore.py in the reader's language (its `message` is the English log text)."""
    texts = {
        SCHEMA_OLDER: _("The archive is of an older schema (%(theirs)d migrations; this box has %(ours)d). "
                        "Restoring it migrates its database forward."),
        SCHEMA_NEWER: _("The archive was made by newer software (%(software)s, schema %(theirs)d; this box's is "
                        "%(ours)d). Update this box's software first."),
        SCHEMA_FOREIGN: _("The archive's schema is not one this software has ever had: it cannot be restored here."),
        OTHER_BOX: _("The archive is of box %(theirs)s; this box is %(ours)s. Restoring it makes this box "
                     "%(theirs)s: its configuration comes with it."),
        OTHER_DATABASE: _("The archive's database is not this box's current database (the card was replaced, or "
                          "the archive comes from elsewhere). The restored database gets a new identity, and HQ "
                          "must pull it as a new box (a new box id in the collector's configuration)."),
    }
    text = texts.get(problem["code"])
    return text % problem.get("params", {}) if text else problem["message"]


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "on", "yes")


def recent_backups(db, limit: int = RECENT_BACKUPS) -> list[dict]:
    """The latest archives downloaded from this box, as the audit log has them."""
    rows = db.execute("SELECT at, username, address, target, detail FROM audit_log WHERE action = 'backup.create' "
                      "ORDER BY at DESC LIMIT ?", [limit]).fetchall()
    return [{"at": at, "username": who, "address": address, "file": target, **json.loads(detail or "{}")}
            for at, who, address, target, detail in rows]


def install(app: Bottle, render: Callable[..., str], state: Path, clock: Callable[[], float] = time.time) -> None:
    """Add the backup page and its /api/v1 routes to the web app of the box whose state directory is `state`."""

    def calls_in_progress(engine: Engine) -> int | None:
        """How many calls a restart would end now; None when the engine does not answer (not running)."""
        try:
            return len(engine.status()["calls"])
        except (EngineUnavailable, CommandRefused):
            return None

    def page(db, engine: Engine, **kwargs) -> str:
        size = recordings_size(db)
        staged = pending(state)
        kwargs.setdefault("refusal", None)
        return render("backup", title=_("Backup and restore"), active="backup", backups=recent_backups(db),
                      recordings_bytes=size, recordings_allowed=size <= MAX_RECORDINGS_BYTES,
                      recordings_limit=MAX_RECORDINGS_BYTES, staged=staged, applied=last_applied(state),
                      calls_now=calls_in_progress(engine) if staged else None, restart=RESTART_COMMAND,
                      archive_limit=MAX_UPLOAD_BYTES, problem_text=problem_text, **kwargs)

    def upload() -> FileUpload:
        if request.content_length > MAX_UPLOAD_BYTES:
            raise _TooLarge()
        try:
            found = request.files.get(ARCHIVE_FIELD)
        except MultipartError as exc:
            reason = {"reason": exc.body}
            raise RestoreError(_("the upload arrived incomplete or malformed (%(reason)s)") % reason) from None
        if not isinstance(found, FileUpload):
            raise RestoreError(_("choose the archive to restore (a .zip made by this page or `branchline backup`)"))
        return found

    def stage_upload(user, audit) -> dict:
        archive = upload()
        override = _flag(request.forms.get(OVERRIDE_FIELD))
        staged = stage(archive.file, state, override, user["username"], clock(), name=archive.raw_filename[:200])
        m = staged["manifest"]
        audit.record("restore.stage", staged["archive"], {
            "box_id": m["box_id"], "created": m.get("created"), "latest_seq": m["latest_seq"],
            "schema": len(m["schema"]), "override": override, "overridden": [p["code"] for p in staged["overridden"]]})
        return staged

    @app.get("/backup")
    @requires(*BACKUP_ROLES)
    def backup_page(db, engine):
        return page(db, engine)

    @app.post("/backup/restore")
    @requires(*BACKUP_ROLES)
    def backup_restore_form(db, engine, user, audit):
        try:
            stage_upload(user, audit)
        except _TooLarge:
            response.status = 413
            return page(db, engine, error=_("The archive is larger than %(mb)d MB: restore it with "
                                            "`branchline restore` on the box.") % {"mb": MAX_UPLOAD_BYTES // 10 ** 6})
        except RestoreRefused as exc:
            response.status = 409
            return page(db, engine, refusal=exc)
        except RestoreError as exc:
            response.status = 400
            return page(db, engine, error=_("The archive cannot be restored: %(reason)s") % {"reason": exc})
        redirect("/backup")

    @app.post("/backup/restore/cancel")
    @requires(*BACKUP_ROLES)
    def backup_cancel_form(audit):
        if cancel(state):
            audit.record("restore.cancel", "", {})
        redirect("/backup")

    @app.get("/api/v1/backup")
    @requires(*BACKUP_ROLES)
    def api_backup(audit):
        recordings = _flag(request.query.get("recordings"))
        try:
            backup = prepare(state, clock(), recordings=recordings)
        except BackupError as exc:
            raise json_error(409 if recordings else 503, _("no backup made: %(reason)s") % {"reason": exc}) from None
        m = backup.manifest
        filename = backup.filename
        audit.record("backup.create", filename, {
            "latest_seq": m["latest_seq"], "schema": len(m["schema"]), "members": len(m["members"]) + 1,
            "recordings": recordings, "bytes": sum(x["size"] for x in m["members"].values())})
        log.info("backup %s downloaded by %s", filename, request.environ["branchline.user"]["username"])

        def body():
            # The work copy goes when the download ends, completed or cut off (the server closes the body).
            try:
                yield from backup.chunks()
            except BackupError as exc:
                # Raised on: the server drops the connection without the last chunk, so the browser
                # reports a failed download rather than keeping a truncated archive as a good one.
                log.error("backup %s cut short: %s", filename, exc)
                raise
            finally:
                backup.close()
        response.content_type = "application/zip"
        response.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        return body()

    @app.get("/api/v1/restore")
    @requires(*BACKUP_ROLES)
    def api_restore_status():
        return {"staged": pending(state), "last_applied": last_applied(state), "restart": RESTART_COMMAND}

    @app.post("/api/v1/restore")
    @requires(*BACKUP_ROLES)
    def api_restore(user, audit):
        try:
            staged = stage_upload(user, audit)
        except _TooLarge:
            raise json_error(413, _("the archive is larger than %(mb)d MB: restore it with `branchline restore` "
                                    "on the box") % {"mb": MAX_UPLOAD_BYTES // 10 ** 6}) from None
        except RestoreRefused as exc:
            texts = [problem_text(p) for p in exc.problems]
            problems = [{**p, "message": t} for p, t in zip(exc.problems, texts)]
            raise HTTPResponse(json.dumps({"error": " ".join(texts), "problems": problems, "manifest": exc.manifest,
                                           "overridable": all(p["overridable"] for p in exc.problems)}),
                               409, {"Content-Type": "application/json", "Cache-Control": "no-store"}) from None
        except RestoreError as exc:
            raise json_error(400, _("the archive cannot be restored: %(reason)s") % {"reason": exc}) from None
        response.status = 202
        return {"staged": staged, "restart": RESTART_COMMAND}

    @app.delete("/api/v1/restore")
    @requires(*BACKUP_ROLES)
    def api_restore_cancel(audit):
        cancelled = cancel(state)
        if cancelled:
            audit.record("restore.cancel", "", {})
        return {"cancelled": cancelled}


class _TooLarge(Exception):
    """The request's body is larger than the web process takes in."""
