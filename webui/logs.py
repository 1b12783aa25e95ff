"""The technician's log tail: the newest lines of the engine's or the web's log file, by level."""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from bottle import Bottle, request

from firmware.core.logfiles import BACKUPS, PROCESSES, log_path, mask

from .auth import requires
from .i18n import gettext as _
from .replies import json_error

LOGS_ROLES = ("admin", "technician")
DEFAULT_LINES = 200
# A page shows at most this many entries; reading stops at TAIL_BYTES from the end of each file, so
# a request costs the same whatever the file's size (firmware/core/logfiles.py MAX_BYTES is 1 MiB).
MAX_LINES = 1000
TAIL_BYTES = 256 * 1024
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# firmware/core/logfiles.py FORMAT: "%(asctime)s %(levelname)s %(name)s: %(message)s".
_ENTRY = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): (.*)")


def _tail_text(path: Path) -> tuple[str, bool]:
    """The last TAIL_BYTES of `path`, from a whole line on; True when the file was longer."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        start = max(0, size - TAIL_BYTES)
        f.seek(start)
        data = f.read()
    if start:
        data = data.partition(b"\n")[2]
    return data.decode("utf-8", errors="replace"), bool(start)


def _entries(text: str) -> list[dict]:
    """Log lines as entries; a line that starts no entry (a traceback) belongs to the one before."""
    entries: list[dict] = []
    for line in text.splitlines():
        m = _ENTRY.fullmatch(line)
        if m:
            entries.append({"at": m[1], "level": m[2], "logger": m[3], "message": m[4]})
        elif entries:
            entries[-1]["message"] += "\n" + line
    return entries


def tail(path: Path, lines: int, level: str) -> list[dict]:
    """The newest `lines` entries at `level` or above, oldest first, from the file and the one it
    rotated to before it when the file alone holds too few; secrets masked once more on the way out."""
    floor = logging.getLevelName(level)
    found: list[dict] = []
    for n in range(BACKUPS + 1):
        part = path if n == 0 else path.with_name(f"{path.name}.{n}")
        if not part.exists():
            break
        text, cut = _tail_text(part)
        found = [e for e in _entries(text) if logging.getLevelName(e["level"]) >= floor] + found
        if len(found) >= lines or cut:
            break
    for entry in found[-lines:]:
        entry["message"] = mask(entry["message"])
    return found[-lines:]


def install(app: Bottle, state: Path) -> None:
    """Add GET /api/v1/logs/<engine|web> for the box whose state directory is `state`."""

    @app.get("/api/v1/logs/<process>")
    @requires(*LOGS_ROLES)
    def api_log_tail(process):
        if process not in PROCESSES:
            raise json_error(404, _("no log named %(name)s: the logs are %(names)s")
                             % {"name": process[:20], "names": ", ".join(PROCESSES)})
        raw = request.query.get("lines", str(DEFAULT_LINES))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LINES:
            raise json_error(400, _("lines must be a whole number from 1 to %(max)d") % {"max": MAX_LINES})
        level = request.query.get("level", "INFO").upper()
        if level not in LEVELS:
            raise json_error(400, _("level must be one of %(levels)s") % {"levels": ", ".join(LEVELS)})
        path = log_path(state, process)
        exists = path.exists()
        entries = tail(path, int(raw), level) if exists else []
        return {"process": process, "file": f"{path.parent.name}/{path.name}", "exists": exists,
                "size": path.stat().st_size if exists else 0, "level": level, "lines": int(raw), "entries": entries}
