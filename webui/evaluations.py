"""Quality evaluations: a supervisor's scores of one recorded call against the quality form, written by
the web process (table `evaluations`, synced to HQ; the agent report averages them, webui/reports/agents.py)."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path


from .i18n import gettext as _
from .quality_form import MAX_COMMENT, QualityForm, QualityFormError
from .shared_writer import SharedWriter

EVALUATOR_ROLES = ("admin", "supervisor")
_COLUMNS = ("id", "recording_id", "call_id", "agent_id", "evaluator", "score", "scores", "comment", "created_at")


class Evaluations:
    """Writes evaluations on one connection behind a lock; closed with the app (a plugin that changes
    no route)."""

    name = "evaluations"
    api = 2

    def __init__(self, db_path: str | Path, clock=time.time):
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.clock = clock

    def apply(self, callback, route):
        return callback

    def add(self, recording: dict, form: QualityForm, points: object, comment: object, evaluator: str) -> dict:
        """Score `recording` (a row of webui/recording_queries.py recording_for); the stored evaluation."""
        if not isinstance(points, dict):
            raise QualityFormError({"scores": _('Send the points as {"scores": {"criterion id": points}}.')})
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise QualityFormError({"comment": _("A comment is text of up to %(max)d characters.")
                                    % {"max": MAX_COMMENT}})
        score, given = form.score(points)
        row = {"id": uuid.uuid4().hex, "recording_id": recording["id"], "call_id": recording["call_id"],
               "agent_id": recording["agent_id"], "evaluator": evaluator, "score": score,
               "scores": json.dumps(given, ensure_ascii=False, separators=(",", ":")),
               "comment": comment.strip(), "created_at": self.clock()}
        with self.writer.transaction():
            self.conn.execute(f"INSERT INTO evaluations ({', '.join(_COLUMNS)})"
                              f" VALUES ({', '.join(':' + c for c in _COLUMNS)})", row)
        return _shown(row)

    def close(self) -> None:
        self.writer.close()


def _shown(row: dict) -> dict:
    out = dict(row)
    out["scores"] = json.loads(row["scores"]) if row["scores"] else []
    return out


def list_for(db: sqlite3.Connection, recording_id: str) -> list[dict]:
    """The recording's evaluations, newest first."""
    cursor = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM evaluations WHERE recording_id = ?"
                        " ORDER BY created_at DESC, id", [recording_id])
    return [_shown(dict(zip(_COLUMNS, r))) for r in cursor.fetchall()]

