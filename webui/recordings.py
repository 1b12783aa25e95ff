"""Recordings in the web UI and the API: the search, the player (waveform peaks, the audio with Range,
the call's events on its timeline), downloads, and supervisors' quality evaluations. Every play and
download is in the audit log (docs/architecture.md §19)."""
from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from typing import Callable

from bottle import Bottle, HTTPError, request, response

from firmware.core import peaks
from firmware.store.sync import FileRefused, HqFile, find_file

from .auth import requires, user_has
from .evaluations import EVALUATOR_ROLES, Evaluations, list_for
from .i18n import gettext as _, language
from .quality_form import QualityFormError, QualityFormFile
from .records import DISPOSITIONS, FilterError, filter_choices
from .replies import json_body, json_error
from .recording_queries import RecordingFilter, agent_scope, recording_detail, recording_for, search
from .sync import send_file

log = logging.getLogger(__name__)

RECORDING_ROLES = ("admin", "supervisor", "agent")
# The player fetches the audio in pieces (the start, each seek, a replay). A request from the first
# byte is a new play; any other belongs to the play the user started, unless none was logged for this
# user and recording within this window: a client that skips the first bytes is logged all the same.
PLAY_WINDOW_S = 1800
# Bounds the memory of who played what: past this, entries older than the window are forgotten.
PLAY_LOG_ENTRIES = 1000
# The player's speeds (the 0.75-2x): slower for a fast talker, faster to skim.
SPEEDS = (0.75, 1.0, 1.25, 1.5, 2.0)


class PlayLog:
    """Which (user, recording) had a play logged when, so one play's many range requests log once."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def is_new_play(self, username: str, rec_id: str, first_byte: int) -> bool:
        now = self.clock()
        with self._lock:
            last = self._last.get((username, rec_id))
            new = first_byte == 0 or last is None or now - last > PLAY_WINDOW_S
            if new:
                self._last[(username, rec_id)] = now
                if len(self._last) > PLAY_LOG_ENTRIES:
                    self._last = {k: t for k, t in self._last.items() if now - t <= PLAY_WINDOW_S}
            return new


def first_byte() -> int:
    """Where the request's Range starts (0 without one, or for a suffix range it cannot tell)."""
    wanted = (request.get_header("Range") or "").strip()
    start = wanted[len("bytes="):].split("-", 1)[0] if wanted.startswith("bytes=") else ""
    return int(start) if start.isdigit() else 0


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, quality: QualityFormFile,
            clock=time.time) -> Evaluations:
    """Add the recordings pages and API and the quality form's; the evaluations' writer is closed with the app."""
    db_path = Path(db_path)
    # StatePaths (firmware/config/box.py) keeps recordings beside the database.
    recordings_dir = db_path.with_name("recordings")
    evaluations = Evaluations(db_path, clock)
    app.install(evaluations)
    plays = PlayLog(clock)

    def found(db, user, rec_id: str, api: bool) -> dict:
        rec = recording_for(db, rec_id, agent_scope(user))
        if rec is None:
            message = _("There is no recording with id %(id)s.") % {"id": rec_id}
            raise json_error(404, message) if api else HTTPError(404, message)
        return rec

    def file_of(db, rec: dict) -> HqFile:
        try:
            return find_file(db, recordings_dir, "recordings", rec["id"])
        except FileRefused:
            raise json_error(404, _("The recording's file is not on the box.")) from None

    def page_filter() -> tuple[RecordingFilter, dict]:
        try:
            return RecordingFilter.from_query(request.query.decode()), {}
        except FilterError as exc:
            return RecordingFilter(), exc.problems

    @app.get("/recordings")
    @requires(*RECORDING_ROLES)
    def recordings_page(db, user):
        f, problems = page_filter()
        rows, total = ([], 0) if problems else search(db, f, agent_scope(user))
        if problems:
            response.status = 400
        return render("recordings", title=_("Recordings"), active="recordings", form=dict(request.query.decode()),
                      problems=problems, rows=rows, total=total, f=f,
                      pages=max(1, math.ceil(total / f.calls.per_page)), choices=filter_choices(db),
                      dispositions=DISPOSITIONS, sees_all=agent_scope(user) is None)

    @app.get("/api/v1/recordings")
    @requires(*RECORDING_ROLES)
    def api_recordings(db, user):
        try:
            f = RecordingFilter.from_query(request.query.decode())
        except FilterError as exc:
            raise json_error(400, str(exc)) from None
        rows, total = search(db, f, agent_scope(user))
        return {"recordings": rows, "total": total, "page": f.calls.page, "per_page": f.calls.per_page,
                "pages": max(1, math.ceil(total / f.calls.per_page)), "order": f.calls.order}

    @app.get("/recordings/<recording_id>")
    @requires(*RECORDING_ROLES)
    def player_page(recording_id, db, user):
        detail = recording_detail(db, found(db, user, recording_id, api=False))
        call = detail["call"]
        form = None
        try:
            form = quality.load()
        except QualityFormError as exc:
            log.error("quality form: %s", exc)
        return render("recording", title=_("Recording of %(number)s") % {"number": call.get("number") or recording_id},
                      active="recordings", scripts=["api.js", "player.js"], speeds=SPEEDS, lang=language(),
                      evaluations=list_for(db, recording_id), quality_form=form,
                      can_evaluate=form is not None and user_has(user, *EVALUATOR_ROLES), dispositions=DISPOSITIONS,
                      **detail)

    @app.get("/api/v1/recordings/<recording_id>")
    @requires(*RECORDING_ROLES)
    def api_recording(recording_id, db, user):
        detail = recording_detail(db, found(db, user, recording_id, api=True))
        return {**detail, "evaluations": list_for(db, recording_id)}

    @app.get("/api/v1/recordings/<recording_id>/peaks")
    @requires(*RECORDING_ROLES)
    def api_peaks(recording_id, db, user):
        wav = file_of(db, found(db, user, recording_id, api=True)).path
        kept = peaks.read(wav)
        if kept is None:
            # A recording the recorder left none for (older, restored, recovered after a crash):
            # computed here once, without numpy, and kept beside it for every later view.
            try:
                kept = peaks.compute(wav)
            except peaks.PeaksError as exc:
                raise json_error(422, _("The recording's audio cannot be read: %(reason)s") % {"reason": exc}) from None
            try:
                peaks.write(wav, kept)
            except peaks.PeaksError as exc:
                log.warning("recording %s: peaks not kept: %s", recording_id, exc)
        return kept.as_json()

    @app.get("/api/v1/recordings/<recording_id>/audio")
    @requires(*RECORDING_ROLES)
    def api_audio(recording_id, db, user, audit):
        rec = found(db, user, recording_id, api=True)
        f = file_of(db, rec)
        if plays.is_new_play(user["username"], recording_id, first_byte()):
            audit.record("recording.play", recording_id, {"call_id": rec["call_id"], "agent_id": rec["agent_id"]})
        return send_file(f, "inline")

    @app.get("/api/v1/recordings/<recording_id>/download")
    @requires(*RECORDING_ROLES)
    def api_download(recording_id, db, user, audit):
        rec = found(db, user, recording_id, api=True)
        f = file_of(db, rec)
        audit.record("recording.download", recording_id, {"call_id": rec["call_id"], "agent_id": rec["agent_id"],
                                                    "range": request.get_header("Range") or ""})
        return send_file(f, "attachment", f"{rec['call_id']}.wav")

    @app.get("/api/v1/recordings/<recording_id>/evaluations")
    @requires(*RECORDING_ROLES)
    def api_evaluations(recording_id, db, user):
        found(db, user, recording_id, api=True)
        return {"evaluations": list_for(db, recording_id)}

    @app.post("/api/v1/recordings/<recording_id>/evaluations")
    @requires(*EVALUATOR_ROLES)
    def api_evaluate(recording_id, db, user, audit):
        rec = found(db, user, recording_id, api=True)
        body = json_body()
        try:
            evaluation = evaluations.add(rec, quality.load(), body.get("scores"), body.get("comment", ""),
                                         user["username"])
        except QualityFormError as exc:
            raise json_error(400, str(exc), problems=exc.problems) from None
        audit.record("recording.evaluate", recording_id, {"evaluation": evaluation["id"], "score": evaluation["score"],
                                                    "agent_id": rec["agent_id"]})
        response.status = 201
        return evaluation

    return evaluations
