"""HQ sync over HTTP: the bearer-token pull API under /api/v1/sync/ and the admin's HQ token API."""
from __future__ import annotations

import base64
import contextlib
import functools
import inspect
import json
import logging
import re
import time
from pathlib import Path

from bottle import Bottle, HTTPResponse, request, response

from firmware.store import StoreError, connect_readonly
from firmware.store.sync import (CursorError, FileRefused, HqFile, SyncError, TokenRefused, box_instance, check_token,
                           create_token, find_file, list_tokens, parse_cursor, parse_limit, read_changes, record_ack,
                           revoke_token, sync_status)

from .auth import requires
from .i18n import gettext as _
from .replies import json_error
from .shared_writer import SharedWriter

log = logging.getLogger(__name__)

SYNC_PREFIX = "/api/v1/sync/"
CHUNK = 64 * 1024
MAX_ACK_BODY = 1024
STATUS_ROLES = ("admin", "technician")
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")


class SyncStore:
    """The web process's sync writes (tokens, acknowledgements) on one connection behind a lock.

    Installed on the app as a plugin that changes no route, so that app.close() closes it."""

    name = "hq-sync-store"
    api = 2

    def __init__(self, db_path: str | Path, clock=time.time):
        self.db_path = Path(db_path)
        self.clock = clock
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn, self._lock = self.writer.conn, self.writer.lock
        with self._lock:
            self.instance = box_instance(self.conn)

    def apply(self, callback, route):
        return callback

    def create(self, name: str, created_by: str) -> tuple[dict, str]:
        with self._lock:
            return create_token(self.conn, name, self.clock(), created_by)

    def revoke(self, token_id: str, by: str) -> dict:
        with self._lock:
            return revoke_token(self.conn, token_id, self.clock(), by)

    def tokens(self) -> list[dict]:
        with self._lock:
            return list_tokens(self.conn)

    def ack(self, token_id: str, seq, address: str) -> dict:
        with self._lock:
            return record_ack(self.conn, token_id, seq, self.clock(), address)

    def close(self) -> None:
        self.writer.close()


@contextlib.contextmanager
def reader(db_path: Path):
    """A read-only connection whose transactions this module begins and ends itself."""
    try:
        conn = connect_readonly(db_path)
    except StoreError as exc:
        raise json_error(503, _("the records database cannot be read: %(reason)s") % {"reason": exc}) from None
    conn.isolation_level = None
    try:
        yield conn
    finally:
        conn.close()


def _address() -> str:
    # REMOTE_ADDR, as webui/auth.py does: X-Forwarded-For is whatever the client wrote.
    return request.environ.get("REMOTE_ADDR") or "unknown"


class BearerAuth:
    """Bottle plugin for the sync API: a valid, unrevoked HQ token or 401; injects `hq` and `conn`.

    No CSRF check: a browser never sends an Authorization header on its own, so a bearer-token
    request cannot be forged by another site the way a cookie-carrying form post can."""

    name = "hq-bearer"
    api = 2

    def __init__(self, db_path: Path):
        self.db_path = db_path

    def apply(self, callback, route):
        params = inspect.signature(route.callback).parameters

        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            scheme, _space, token = (request.get_header("Authorization") or "").partition(" ")
            with reader(self.db_path) as conn:
                try:
                    if scheme.lower() != "bearer":
                        raise TokenRefused(_("no bearer token (send Authorization: Bearer <token>)"))
                    hq = check_token(conn, token.strip())
                except TokenRefused as exc:
                    log.warning("sync: %s %s from %s refused: %s", request.method, request.path, _address(), exc)
                    refusal = json_error(401, str(exc))
                    refusal.set_header("WWW-Authenticate", 'Bearer realm="branchline-sync"')
                    raise refusal from None
                if "hq" in params:
                    kwargs["hq"] = hq
                if "conn" in params:
                    kwargs["conn"] = conn
                return callback(*args, **kwargs)
        return wrapper


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one range (first, last) a Range header asks for; None to send the whole file.

    RFC 9110 §14.2 lets a server ignore a Range it does not support: several ranges, other units."""
    m = _RANGE.fullmatch(header.strip())
    if m is None or (not m[1] and not m[2]):
        return None
    if not m[1]:
        # The last N bytes; RFC 9110 §14.1.1: satisfiable only when N and the file are not empty.
        if int(m[2]) == 0 or size == 0:
            raise FileRefused(_("range asks for the last %(n)d bytes of a file of %(size)d bytes: no byte")
                              % {"n": int(m[2]), "size": size})
        return max(0, size - int(m[2])), size - 1
    first = int(m[1])
    last = min(int(m[2]), size - 1) if m[2] else size - 1
    if m[2] and int(m[2]) < first:
        return None
    if first >= size:
        raise FileRefused(_("range starts at byte %(first)d, past the end of the file (%(size)d bytes)")
                          % {"first": first, "size": size})
    return first, last


class _FileBody:
    """`length` bytes of an open file in chunks; the server's close() closes the file, sent or not."""

    def __init__(self, fh, length: int):
        self.fh, self.length = fh, length

    def __iter__(self):
        while self.length > 0:
            block = self.fh.read(min(CHUNK, self.length))
            if not block:
                return
            self.length -= len(block)
            yield block

    def close(self) -> None:
        self.fh.close()


def send_file(f: HqFile, disposition: str = "attachment", filename: str = "") -> HTTPResponse:
    """The file, whole or the one byte range asked for, with its SHA-256 as recorded by the box;
    `disposition` "inline" for a page's player, "attachment" (saved as `filename`) for a download."""
    headers = {"Content-Type": "audio/wav", "Accept-Ranges": "bytes",
               "Content-Disposition": f'{disposition}; filename="{filename or f.id + ".wav"}"'}
    if f.sha256:
        # RFC 9530 Repr-Digest: the digest of the whole file, whatever range this reply carries.
        headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(f.sha256)).decode()}:"
        headers["ETag"] = f'"{f.sha256}"'
    first, last, status = 0, f.size - 1, 200
    wanted = request.get_header("Range")
    if_range = request.get_header("If-Range")
    if wanted and (if_range is None or if_range == headers.get("ETag")):
        try:
            span = _byte_range(wanted, f.size)
        except FileRefused as exc:
            refusal = json_error(416, f"{f.table[:-1]} {f.id}: {exc}")
            refusal.set_header("Content-Range", f"bytes */{f.size}")
            return refusal
        if span is not None:
            (first, last), status = span, 206
            headers["Content-Range"] = f"bytes {first}-{last}/{f.size}"
    headers["Content-Length"] = str(last - first + 1)
    fh = open(f.path, "rb")
    fh.seek(first)
    return HTTPResponse(_FileBody(fh, last - first + 1), status, headers)


def install(app: Bottle, db_path: str | Path, clock=time.time) -> None:
    """Add the sync API (its own bearer-token app, mounted) and the HQ token and status routes."""
    db_path = Path(db_path)
    # StatePaths (firmware/config/box.py) keeps recordings, voicemails included, beside the database.
    recordings = db_path.with_name("recordings")
    store = SyncStore(db_path, clock)
    app.install(store)

    sync = Bottle()
    sync.install(BearerAuth(db_path))

    @sync.get("/changes")
    def changes(hq, conn):
        try:
            page = read_changes(conn, parse_cursor(request.query.get("since")), parse_limit(request.query.get("limit")))
        except CursorError as exc:
            log.warning("sync: HQ token %s from %s: %s", hq["id"], _address(), exc)
            raise json_error(400, str(exc)) from None
        page.box = store.instance
        lines = [json.dumps(c, separators=(",", ":")) for c in page.changes]
        lines.append(json.dumps(page.trailer(), separators=(",", ":")))
        response.content_type = "application/x-ndjson"
        return ("\n".join(lines) + "\n").encode()

    def file_route(table: str):
        def serve(file_id, conn):
            try:
                return send_file(find_file(conn, recordings, table, file_id))
            except FileRefused as exc:
                raise json_error(404, str(exc)) from None
        return serve

    sync.route("/recordings/<file_id>", "GET", file_route("recordings"))
    sync.route("/voicemails/<file_id>", "GET", file_route("voicemails"))

    @sync.post("/ack")
    def ack(hq):
        raw = request.body.read(MAX_ACK_BODY + 1)
        try:
            body = json.loads(raw) if len(raw) <= MAX_ACK_BODY else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or "seq" not in body:
            raise json_error(400, _('send a JSON object {"seq": N}: the change sequence HQ has stored'))
        try:
            result = store.ack(hq["id"], body["seq"], _address())
        except CursorError as exc:
            log.warning("sync: HQ token %s from %s: ack refused: %s", hq["id"], _address(), exc)
            raise json_error(400, str(exc)) from None
        log.info("sync: HQ token %s (%s) holds everything up to change %d", hq["id"], hq["name"], result["acked"])
        return result

    app.mount(SYNC_PREFIX, sync)

    @app.get("/api/v1/hq/tokens")
    @requires("admin")
    def hq_tokens():
        return {"tokens": store.tokens()}

    @app.post("/api/v1/hq/tokens")
    @requires("admin")
    def hq_token_create(user, audit):
        body = request.json if request.content_type.startswith("application/json") else None
        name = body.get("name") if isinstance(body, dict) else request.forms.getunicode("name")
        try:
            row, token = store.create(name if isinstance(name, str) else "", user["username"])
        except SyncError as exc:
            raise json_error(400, str(exc)) from None
        audit.record("hq_token.create", row["id"], {"name": row["name"]})
        response.status = 201
        return {**row, "token": token, "notice": _("the token is shown this once: give it to HQ now")}

    @app.post("/api/v1/hq/tokens/<token_id>/revoke")
    @requires("admin")
    def hq_token_revoke(token_id, user, audit):
        try:
            row = store.revoke(token_id, user["username"])
        except SyncError as exc:
            raise json_error(404, str(exc)) from None
        audit.record("hq_token.revoke", row["id"], {"name": row["name"], "revoked_at": row["revoked_at"]})
        return row

    @app.get("/api/v1/hq/status")
    @requires(*STATUS_ROLES)
    def hq_status():
        with reader(db_path) as conn:
            return sync_status(conn, clock())
