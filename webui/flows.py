"""The IVR flow editor and the prompt recordings: flows as text, checked by the engine as they are
typed, drawn as a graph, saved atomically and swapped into the running engine; prompts listed,
played and uploaded.

The files under `<state>/config/flows/` stay the source of truth (a person with a shell may edit
them too): a save names the version it was made from and is refused if the file changed since.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable

from bottle import Bottle, HTTPError, redirect, request, response, static_file

from firmware.core.commands import MAX_FLOW_NAME, MAX_FLOW_TEXT
from firmware.core.control import MAX_LINE
from firmware.core.files import FileWriteError, previous_of, write_atomic

from .auth import requires
from .engine import CommandRefused, Engine, EngineUnavailable
from .i18n import engine_text
from .i18n import gettext as _
from .i18n import ngettext
from .replies import json_error

log = logging.getLogger(__name__)

FLOW_ROLES = ("admin",)
# A flow's name is its file's name; the same characters as a prompt's (firmware/tools/prompt_import.py).
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,%d}" % (MAX_FLOW_NAME - 1))
PROMPT_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# A recording's upload: a minute and a half of CD-quality stereo, three minutes of 44.1 kHz mono,
# more than any prompt needs (music on hold loops). The conversion holds the recording in memory
# as float64, up to 64 MB for this much 16-bit audio, on a board of 1 GB shared with the engine.
MAX_UPLOAD = 16 * 1024 * 1024
# The conversion of a 60 s stereo 44.1 kHz recording takes under 1 s on a desktop and a few on a
# Pi 4, most of it loading scipy; a minute means something is wrong.
CONVERT_TIMEOUT_S = 60.0
# A save's audit entry carries the change as a unified diff, cut to this (webui/audit.py MAX_DETAIL).
AUDIT_DIFF_CHARS = 4000
ROOT = Path(__file__).resolve().parents[1]
# A control request's id, command and name around the flow's text.
LINE_ENVELOPE = 256


def version_of(data: bytes) -> str:
    """A flow file's version: the SHA-256 of its bytes (a save names the one it was made from)."""
    return hashlib.sha256(data).hexdigest()


class FlowFiles:
    """The flow files of a state directory, read and replaced one save at a time."""

    def __init__(self, state_dir: Path):
        self.directory = state_dir / "config" / "flows"
        self.prompts = state_dir / "prompts"
        self.lock = threading.Lock()          # one save at a time: check, write, reload, maybe undo
        self.converting = threading.Lock()    # one prompt conversion at a time (memory, CPU)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.toml"

    def read(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None

    def read_previous(self, name: str) -> bytes | None:
        try:
            return previous_of(self.path(name)).read_bytes()
        except FileNotFoundError:
            return None

    def listing(self) -> list[dict]:
        out = []
        for path in sorted(self.directory.glob("*.toml")):
            if not NAME_RE.fullmatch(path.stem):
                continue
            data = path.read_bytes()
            out.append({"name": path.stem, "bytes": len(data), "modified": path.stat().st_mtime,
                        "version": version_of(data)})
        return out


def _engine_call(fn: Callable[[], dict], refused_status: int = 409) -> dict:
    try:
        return fn()
    except EngineUnavailable as exc:
        raise json_error(503, _("the engine is not reachable, so the flow cannot be checked: %(reason)s")
                         % {"reason": exc}) from None
    except CommandRefused as exc:
        raise json_error(refused_status, str(exc)) from None


def _translated(report: dict) -> dict:
    """The engine's check of a flow with each problem's message in the request's language (the
    engine sends the English message, its template and params); the editor shows `message`."""
    problems = [{**p, "message": engine_text(p["message"], p.get("template"), p.get("params"))}
                for p in report.get("problems", ())]
    return {**report, "problems": problems}


def _flow_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise json_error(400, _("a flow's name is 1-%(n)d of a-z 0-9 - _ (its file name without .toml)")
                         % {"n": MAX_FLOW_NAME})
    return name


def _text_from_body() -> tuple[str, dict]:
    body = request.json if (request.content_type or "").startswith("application/json") else None
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise json_error(400, _('send a JSON object with the flow as "text"'))
    text = body["text"]
    # The characters the engine's table allows fit its line unless they are mostly outside the BMP
    # (an emoji is 12 bytes escaped): the line itself is the limit that must hold.
    if len(text) > MAX_FLOW_TEXT or len(json.dumps(text)) > MAX_LINE - LINE_ENVELOPE:
        raise json_error(413, _("the flow is %(n)d characters long; the box takes at most %(max)d")
                         % {"n": len(text), "max": MAX_FLOW_TEXT})
    return text, body


def _running(engine: Engine) -> dict:
    """The engine's running flow and prompt directories, or {} when it cannot be asked."""
    try:
        status = engine.status()
    except (EngineUnavailable, CommandRefused):
        return {}
    return {"flow": (status.get("flow") or {}).get("name"), "language": status.get("language"),
            "prompt_dirs": status.get("prompt_dirs") or {}}


def _prompt_files(dirs: dict) -> dict[str, tuple[Path, bool]]:
    """name -> (file, the box's own recording) of every prompt: the box's own over the stock ones."""
    found: dict[str, tuple[Path, bool]] = {}
    for key in ("stock", "own"):
        if dirs.get(key) and Path(dirs[key]).is_dir():
            for path in sorted(Path(dirs[key]).glob("*.wav")):
                found[path.stem] = (path, key == "own")
    return found


def _seconds(path: Path) -> float | None:
    import wave  # on first use, not at the web process's start (docs/architecture.md "Memory")

    try:
        with wave.open(str(path), "rb") as w:
            return round(w.getnframes() / w.getframerate(), 2)
    except (wave.Error, EOFError, OSError, ZeroDivisionError):
        return None


def install(app: Bottle, render: Callable[..., str], state_dir: str | Path) -> None:
    """Add the flow editor's pages and its /api/v1 routes to the web app."""
    files = FlowFiles(Path(state_dir))

    # --- pages ------------------------------------------------------------------------------
    @app.get("/flows")
    @requires(*FLOW_ROLES)
    def flows_page(engine):
        new = request.query.getunicode("name", default="").strip()
        if new:
            if not NAME_RE.fullmatch(new):
                raise HTTPError(400, _("A flow's name is 1-%(n)d of a-z 0-9 - _.") % {"n": MAX_FLOW_NAME})
            redirect(f"/flows/{new}")
        return render("flows", title=_("IVR flows"), active="flows", flows=files.listing(),
                      running=_running(engine).get("flow"))

    @app.get("/flows/<name>")
    @requires(*FLOW_ROLES)
    def flow_page(name):
        if not NAME_RE.fullmatch(name):
            raise HTTPError(404, _("There is no flow named %(name)s.") % {"name": name[:70]})
        return render("flow", title=_("Flow %(name)s") % {"name": name}, active="flows", flow_name=name,
                      exists=files.read(name) is not None, max_text=MAX_FLOW_TEXT, max_upload=MAX_UPLOAD,
                      scripts=["vendor/dagre-3.1.4/dagre.min.js", "flows.js"], main_class="page page-wide")

    # --- flows --------------------------------------------------------------------------------
    @app.get("/api/v1/flows")
    @requires(*FLOW_ROLES)
    def api_flows(engine):
        running = _running(engine).get("flow")
        return {"flows": [{**f, "running": f["name"] == running} for f in files.listing()], "running": running}

    @app.get("/api/v1/flows/<name>")
    @requires(*FLOW_ROLES)
    def api_flow(name, engine):
        data = files.read(_flow_name(name))
        if data is None:
            raise json_error(404, _("there is no flow named %(name)s") % {"name": name})
        text = data.decode("utf-8", errors="replace")
        reply = {"name": name, "text": text, "version": version_of(data), "report": None, "engine_error": None}
        try:
            if len(text) <= MAX_FLOW_TEXT:
                reply["report"] = _translated(engine.validate_flow(text, name))
        except (EngineUnavailable, CommandRefused) as exc:
            reply["engine_error"] = str(exc)   # the text is still the admin's to read
        reply["running"] = bool(reply["report"] and reply["report"]["running"] == name)
        return reply

    @app.get("/api/v1/flows/<name>/previous")
    @requires(*FLOW_ROLES)
    def api_flow_previous(name):
        data = files.read_previous(_flow_name(name))
        if data is None:
            raise json_error(404, _("flow %(name)s has no previous version on the box") % {"name": name})
        return {"name": name, "text": data.decode("utf-8", errors="replace"),
                "replaced": previous_of(files.path(name)).stat().st_mtime}

    @app.post("/api/v1/flows/validate")
    @requires(*FLOW_ROLES)
    def api_flow_validate(engine):
        text, body = _text_from_body()
        name = body.get("name") or "main"
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise json_error(400, _("a flow's name is 1-%(n)d of a-z 0-9 - _ (its file name without .toml)")
                             % {"n": MAX_FLOW_NAME})
        return _translated(_engine_call(lambda: engine.validate_flow(text, name), refused_status=400))

    @app.put("/api/v1/flows/<name>")
    @requires(*FLOW_ROLES)
    def api_flow_save(name, engine, audit):
        _flow_name(name)
        text, body = _text_from_body()
        based_on = body.get("version")
        if based_on is not None and not isinstance(based_on, str):
            raise json_error(400, _('"version" is the version the text was made from (null for a new flow)'))
        with files.lock:
            old = files.read(name)
            current = None if old is None else version_of(old)
            if based_on != current:
                response.status = 409
                return {"error": _("the flow was changed on the box since you opened it (by someone else, or "
                                   "on disk): reload it and make your change again"), "version": current}
            report = _translated(_engine_call(lambda: engine.validate_flow(text, name), refused_status=400))
            if not report["valid"]:
                response.status = 422
                n = len(report["problems"])
                return {"error": ngettext("the flow has %(n)d problem; nothing was saved",
                                          "the flow has %(n)d problems; nothing was saved", n) % {"n": n},
                        "report": report}
            new = text.encode("utf-8")
            path = files.path(name)
            kept = files.read_previous(name)
            try:
                write_atomic(path, new, keep_previous=True)
            except FileWriteError as exc:
                raise json_error(500, str(exc)) from None
            running = report["running"] == name
            if running:
                try:
                    engine.reload_flow()
                except (EngineUnavailable, CommandRefused) as exc:
                    _undo(path, old, kept)
                    raise json_error(409, _("the engine did not take the flow, so the file was put back as it "
                                            "was: %(reason)s") % {"reason": exc}) from None
            version = version_of(new)
            import difflib  # on first use, not at the web process's start (docs/architecture.md "Memory")

            diff = "".join(difflib.unified_diff((old or b"").decode("utf-8", "replace").splitlines(True),
                                                text.splitlines(True), f"{name}.toml@{(current or 'new')[:12]}",
                                                f"{name}.toml@{version[:12]}"))
            audit.record("flow.create" if old is None else "flow.update", name,
                         {"version": version, "previous": current, "running": running,
                          "nodes": len(report["graph"]["nodes"]), "diff": diff[:AUDIT_DIFF_CHARS]})
            log.info("flow %s saved (%s), %s", name, version[:12],
                     "swapped into the engine" if running else "not the running flow")
        return {"name": name, "version": version, "running": running, "reloaded": running, "report": report}

    @app.get("/api/v1/flow-schema")
    @requires(*FLOW_ROLES)
    def api_flow_schema(engine):
        # The engine's own table, so the editor's help never drifts from what the engine checks.
        return _engine_call(engine.flow_schema, refused_status=503)

    # --- prompts ------------------------------------------------------------------------------
    @app.get("/api/v1/prompts")
    @requires(*FLOW_ROLES)
    def api_prompts(engine):
        running = _running(engine)
        if not running:
            raise json_error(503, _("the engine is not reachable, so its prompts are not known"))
        found = _prompt_files(running["prompt_dirs"])
        return {"language": running["language"],
                "prompts": [{"name": name, "own": own, "seconds": _seconds(path)}
                            for name, (path, own) in sorted(found.items())]}

    @app.get("/api/v1/prompts/<name>")
    @requires(*FLOW_ROLES)
    def api_prompt_audio(name, engine):
        if not PROMPT_RE.fullmatch(name):
            raise json_error(400, _("a prompt's name is 1-64 of a-z 0-9 - _"))
        running = _running(engine)
        found = _prompt_files(running.get("prompt_dirs") or {}).get(name)
        if found is None:
            raise json_error(404, _("there is no prompt named %(name)s") % {"name": name})
        path = found[0]
        return static_file(path.name, root=str(path.parent), mimetype="audio/wav")

    @app.post("/api/v1/prompts")
    @requires(*FLOW_ROLES)
    def api_prompt_upload(engine, audit):
        if request.content_length < 0:
            raise json_error(411, _("send the recording with its length (Content-Length)"))
        if request.content_length > MAX_UPLOAD:
            raise json_error(413, _("the recording is %(mb).1f MB; the box takes at most %(max)d MB")
                             % {"mb": request.content_length / 2 ** 20, "max": MAX_UPLOAD // 2 ** 20})
        name = (request.forms.getunicode("name") or "").strip()
        upload = request.files.get("file")
        if not PROMPT_RE.fullmatch(name):
            raise json_error(400, _("a prompt's name is 1-64 of a-z 0-9 - _, as flows name it"))
        if upload is None:
            raise json_error(400, _('send the recording as the form field "file" (a WAV file)'))
        running = _running(engine)
        if not running or not running["language"]:
            raise json_error(503, _("the engine is not reachable, so the prompt cannot be taken up"))
        if not files.converting.acquire(blocking=False):
            raise json_error(409, _("another recording is being converted; try again in a moment"))
        try:
            own = files.prompts / running["language"]
            report = _convert(upload, own, name)
            reloaded = True
            try:
                engine.reload_prompts()
            except (EngineUnavailable, CommandRefused) as exc:
                log.error("prompt %s written but not taken up by the engine: %s", name, exc)
                reloaded = False
        finally:
            files.converting.release()
        audit.record("prompt.upload", name, {**report, "language": running["language"], "reloaded": reloaded,
                                            "filename": upload.raw_filename[:120]})
        response.status = 201
        return {**report, "language": running["language"], "reloaded": reloaded}


def _undo(path: Path, old: bytes | None, kept: bytes | None) -> None:
    """Put a flow file and its previous version back as they were before a save the engine refused."""
    try:
        for target, data in ((path, old), (previous_of(path), kept)):
            if data is None:
                target.unlink(missing_ok=True)
            else:
                write_atomic(target, data, keep_previous=False)
    except (OSError, FileWriteError) as exc:
        log.error("flow %s: the refused version could not be taken back: %s", path, exc)


def _convert(upload, own: Path, name: str) -> dict:
    """Run the conversion (firmware/tools/prompt_import.py) in a child process: the web process
    loads no numpy or scipy. The upload goes to a file on the state's disk first, not to memory."""
    import subprocess  # on first use, not at the web process's start (docs/architecture.md "Memory")

    own.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".wav", dir=own.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            upload.save(out)
        try:
            done = subprocess.run([sys.executable, "-m", "firmware.tools.prompt_import", tmp, str(own), name],
                                  capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, cwd=ROOT, check=False)
        except subprocess.TimeoutExpired:
            raise json_error(500, _("converting the recording took over %(s)d s; it was stopped")
                             % {"s": CONVERT_TIMEOUT_S}) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        log.error("prompt conversion failed (exit %s): %s", done.returncode, done.stderr[-2000:])
        raise json_error(500, _("the recording could not be converted; the box logged why")) from None
    if done.returncode != 0:
        raise json_error(422, _("the recording was not taken: %(reason)s") % {"reason": answer.get("error")})
    return answer
