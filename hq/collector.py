"""`branchline hq pull`: HQ's collector, pulling every branch box's records and recordings into one database."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import random
import re
import signal
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from typed_toml import ConfigError, read_file
from hq.store import HqStore, HqStoreError, PendingFile

log = logging.getLogger(__name__)

BOX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Record ids become HQ file names: the box's ids are hex, anything else is refused.
FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
FINGERPRINT = re.compile(r"(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}")
CHUNK = 64 * 1024
# Continuous mode: a failing box is retried after 2, 4, 8 ... s, at most [hq] max_backoff, with jitter
# so that boxes behind one failed WAN link do not all come back at the same instant.
FIRST_BACKOFF = 2.0


class HqError(Exception):
    """A box could not be pulled this round; the message names the box and the reason."""


@dataclass
class BoxConfig:
    id: str
    url: str
    token: str
    # An https:// box's certificate, pinned: its SHA-256 fingerprint as the box's certificate page shows it
    # (a box's self-signed certificate), or a CA file (one the company's authority signed).
    fingerprint: str = ""
    ca_file: str = ""


@dataclass
class HqConfig:
    database: str
    files: Path
    interval: float = 60.0
    page: int = 1000
    timeout: float = 30.0
    workers: int = 4
    max_backoff: float = 300.0
    boxes: list[BoxConfig] = field(default_factory=list)


def load_config(path: str | Path) -> HqConfig:
    """hq.toml: [hq] database, files, interval, page, timeout, workers, max_backoff; [[box]] id, url, token,
    and for an https:// url fingerprint or ca_file."""
    path = Path(path)
    top = read_file(path)
    here = path.resolve().parent
    hq = top.get_table("hq", {})
    database = hq.get_str("database", "hq.db")
    if not database.startswith(("postgresql://", "postgres://")):
        database = str(here / database)
    cfg = HqConfig(database=database, files=here / hq.get_str("files", "hq-files"),
                   interval=hq.get_float("interval", 60.0, 1.0, 86400.0),
                   page=hq.get_int("page", 1000, 1, 5000),
                   timeout=hq.get_float("timeout", 30.0, 1.0, 600.0),
                   workers=hq.get_int("workers", 4, 1, 64),
                   max_backoff=hq.get_float("max_backoff", 300.0, 1.0, 86400.0))
    hq.done()
    for sec in top.get_tables("box"):
        box = BoxConfig(sec.get_str("id"), sec.get_str("url"), sec.get_str("token"),
                        fingerprint=sec.get_str("fingerprint", ""), ca_file=sec.get_str("ca_file", ""))
        sec.done()
        if box.fingerprint and not FINGERPRINT.fullmatch(box.fingerprint):
            raise sec.error("fingerprint", f"{box.fingerprint!r} is not a SHA-256 fingerprint (64 hex digits, "
                                           "colons allowed)")
        if box.ca_file:
            box.ca_file = str(here / box.ca_file)
            if not Path(box.ca_file).is_file():
                raise sec.error("ca_file", f"{box.ca_file} is not a file")
        if not BOX_ID.fullmatch(box.id):
            raise sec.error("id", f"{box.id!r}: letters, digits, dot, dash or underscore, at most 64")
        if urlsplit(box.url).scheme not in ("http", "https") or not urlsplit(box.url).hostname:
            raise sec.error("url", f"{box.url!r} is not an http:// or https:// URL")
        if any(b.id == box.id for b in cfg.boxes):
            raise sec.error("id", f"box {box.id} is listed twice")
        cfg.boxes.append(box)
    top.done()
    if not cfg.boxes:
        raise ConfigError(f"{path}: no [[box]] to pull from")
    return cfg


class BoxClient:
    """The sync API of one box (firmware/store/sync.py, webui/sync.py), over a fresh connection per request."""

    def __init__(self, box: BoxConfig, timeout: float):
        self.box = box
        self.timeout = timeout
        parts = urlsplit(box.url)
        self.https = parts.scheme == "https"
        # The config reader refuses a URL without a host.
        self.host, self.port = parts.hostname or "", parts.port
        self.base = parts.path.rstrip("/") + "/api/v1/sync/"

    def _context(self) -> ssl.SSLContext:
        if self.box.fingerprint:
            # Pinned: the one certificate whose fingerprint is configured, whatever signed it, so no chain or
            # name check (a self-signed box certificate has neither); compared before the token is sent.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.box.ca_file or None)

    def _connect(self) -> http.client.HTTPConnection:
        if not self.https:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self._context())
        try:
            conn.connect()
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            # A box's own certificate is self-signed: no authority HQ knows vouches for it.
            raise HqError(f"box {self.box.id}: its certificate is not trusted ({exc.verify_message}): set the "
                          "box's fingerprint (its HTTPS certificate page) or a ca_file in hq.toml") from None
        if self.box.fingerprint:
            der = conn.sock.getpeercert(binary_form=True) if conn.sock else None
            seen = hashlib.sha256(der or b"").hexdigest()
            if not hmac.compare_digest(seen, self.box.fingerprint.replace(":", "").lower()):
                conn.close()
                raise HqError(f"box {self.box.id}: its certificate's SHA-256 fingerprint is {_colons(seen)}, "
                              "not the one configured: not sending the token (a new certificate on the box, "
                              "or someone else answering at its address)")
        return conn

    def _request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = self._connect()
        hdrs = {"Authorization": f"Bearer {self.box.token}", **(headers or {})}
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, self.base + path, body=body, headers=hdrs)
        return conn, conn.getresponse()

    def _refused(self, resp, what: str) -> HqError:
        raw = resp.read(4096)
        try:
            reason = json.loads(raw)["error"]
        except (ValueError, KeyError, TypeError):
            reason = raw.decode("utf-8", "replace")[:200]
        return HqError(f"box {self.box.id}: {what}: HTTP {resp.status}: {reason}")

    def changes(self, since: int, limit: int) -> tuple[list[dict], dict]:
        conn, resp = self._request("GET", "changes?" + urlencode({"since": since, "limit": limit}))
        try:
            if resp.status != 200:
                raise self._refused(resp, f"changes since {since}")
            body = resp.read()
        finally:
            conn.close()
        lines = body.split(b"\n")
        try:
            # The trailer comes last: a page cut short by the link has none and is thrown away whole.
            trailer = json.loads(lines[-2]) if len(lines) >= 2 and lines[-1] == b"" else {}
            if "next" not in trailer:
                raise ValueError("no trailer")
            changes = [json.loads(line) for line in lines[:-2]]
        except ValueError:
            raise HqError(f"box {self.box.id}: page of changes since {since} arrived incomplete") from None
        if len(changes) != trailer["count"]:
            raise HqError(f"box {self.box.id}: page since {since} has {len(changes)} changes, "
                          f"its trailer says {trailer['count']}")
        return changes, trailer

    def download(self, f: PendingFile, part: Path) -> bool:
        """Fetch a file into `part`, resuming what an earlier attempt left there. True if resumed."""
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{f.sha256}"'} if have else {}
        conn, resp = self._request("GET", f"{f.table}/{f.id}", headers=headers)
        try:
            if resp.status == 416 and have:
                # What we hold is already the whole file (or more): check it as it is.
                resp.read()
                return True
            if resp.status not in (200, 206):
                raise self._refused(resp, f"{f.table[:-1]} {f.id}")
            digest = resp.getheader("Repr-Digest") or ""
            if f.sha256 and digest and digest != _repr_digest(f.sha256):
                raise HqError(f"box {self.box.id}: {f.table[:-1]} {f.id}: the box now sends another file "
                              f"({digest}) than its record names (sha256 {f.sha256})")
            resumed = resp.status == 206
            if resumed and not (resp.getheader("Content-Range") or "").startswith(f"bytes {have}-"):
                raise HqError(f"box {self.box.id}: {f.table[:-1]} {f.id}: asked from byte {have}, "
                              f"got {resp.getheader('Content-Range')}")
            expected = resp.getheader("Content-Length")
            got = 0
            part.parent.mkdir(parents=True, exist_ok=True)
            with open(part, "ab" if resumed else "wb") as out:
                while block := resp.read(CHUNK):
                    out.write(block)
                    got += len(block)
                out.flush()
                os.fsync(out.fileno())
            if expected is not None and got != int(expected):
                # http.client ends a read quietly when the link drops: what arrived stays for a resume.
                raise HqError(f"box {self.box.id}: {f.table[:-1]} {f.id}: transfer cut after {got} of "
                              f"{expected} bytes; the next attempt resumes from byte {part.stat().st_size}")
            return resumed
        finally:
            conn.close()

    def ack(self, seq: int) -> dict:
        conn, resp = self._request("POST", "ack", body=json.dumps({"seq": seq}).encode())
        try:
            if resp.status != 200:
                raise self._refused(resp, f"ack of {seq}")
            return json.loads(resp.read())
        finally:
            conn.close()


def _colons(sha256_hex: str) -> str:
    return ":".join(sha256_hex[i:i + 2] for i in range(0, len(sha256_hex), 2)).upper()


def _repr_digest(sha256_hex: str) -> str:
    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256_hex)).decode()}:"


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass
class BoxReport:
    """One round with one box."""
    box: str
    pulled: int = 0
    pages: int = 0
    records: int = 0
    files: int = 0
    files_pending: int = 0
    downloaded: int = 0
    resumed: int = 0
    lag_changes: int = 0
    behind_s: float | None = None
    acked: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        behind = "caught up" if self.behind_s == 0 else (
            "never caught up" if self.behind_s is None else f"{self.behind_s:.0f} s since caught up")
        text = (f"{self.box}: {self.records} records ({self.pulled} changes pulled), {self.files} files "
                f"(+{self.downloaded}, {self.resumed} resumed, {self.files_pending} pending), "
                f"lag {self.lag_changes} changes, {behind}, "
                f"acked {self.acked}; errors {len(self.errors)}")
        return text + (f": {self.errors[-1]}" if self.errors else "")


class Collector:
    """Pulls each configured box: pages of changes until caught up, then missing files, then the ack."""

    def __init__(self, config: HqConfig, clock=time.time):
        self.config = config
        self.clock = clock

    def open_store(self) -> HqStore:
        return HqStore.open(self.config.database)

    def file_path(self, box_id: str, f: PendingFile) -> Path:
        # Named by ids HQ checked, never by the box's own path: a box cannot place a file anywhere.
        return self.config.files / box_id / f.table / f"{f.id}.wav"

    def pull_box(self, box: BoxConfig, store: HqStore) -> BoxReport:
        """One round with one box; a failure ends the round and is reported, never raised."""
        report = BoxReport(box.id)
        client = BoxClient(box, self.config.timeout)
        store_failed: tuple[type[Exception], ...] = (HqStoreError, *store.errors)
        failed: tuple[type[Exception], ...] = (HqError, OSError, http.client.HTTPException, *store_failed)
        try:
            state = store.box_state(box.id, box.url)
            report.acked, cursor, trailer = state.acked, state.cursor, None
            while trailer is None or trailer["more"]:
                changes, trailer = client.changes(cursor, self.config.page)
                for path in store.apply_page(box.id, changes, trailer, self.clock()):
                    (self.config.files / path).unlink(missing_ok=True)
                cursor = max(cursor, trailer["next"])
                report.pulled += len(changes)
                report.pages += 1
            report.lag_changes = trailer["latest"] - cursor
            self._fetch_files(box, store, client, report)
            point = store.ack_point(box.id)
            if point > state.acked:
                client.ack(point)
                store.set_acked(box.id, point)
                report.acked = point
        except failed as exc:
            message = (str(exc) if isinstance(exc, (HqError, HqStoreError))
                       else f"box {box.id}: link or database failed: {exc!r}")
            report.errors.append(message)
            log.warning("%s", message)
            try:
                store.note_error(box.id, message)
            except store_failed as store_exc:
                log.error("box %s: error not recorded: %s", box.id, store_exc)
        self._fill(box, store, report)
        return report

    def _fetch_files(self, box: BoxConfig, store: HqStore, client: BoxClient, report: BoxReport) -> None:
        for f in store.pending_files(box.id):
            if not FILE_ID.fullmatch(f.id):
                store.file_failed(box.id, f, f"{f.table[:-1]} id {f.id!r} is not a safe file name")
                continue
            final = self.file_path(box.id, f)
            part = final.with_name(final.name + ".part")
            try:
                report.resumed += client.download(f, part)
            except HqError as exc:
                # This file only (missing on the box, or cut off: its .part waits for a resume); the
                # others may still come.
                store.file_failed(box.id, f, str(exc))
                report.errors.append(str(exc))
                continue
            got = _sha256(part)
            if got != f.sha256:
                part.unlink()
                message = (f"box {box.id}: {f.table[:-1]} {f.id}: SHA-256 {got} does not match "
                           f"the record's {f.sha256}")
                store.file_failed(box.id, f, message)
                report.errors.append(message)
                continue
            os.replace(part, final)
            store.file_done(box.id, f, str(final.relative_to(self.config.files)))
            report.downloaded += 1

    def _fill(self, box: BoxConfig, store: HqStore, report: BoxReport) -> None:
        try:
            counts = store.counts(box.id)
            state = store.box_state(box.id, box.url)
        except store.errors:
            return
        report.records, report.files = counts["records"], counts["files"]
        report.files_pending = counts["files_pending"]
        if state.caught_up_at is not None:
            report.behind_s = max(0.0, round(self.clock() - state.caught_up_at, 1))
        if not report.errors and report.lag_changes == 0:
            report.behind_s = 0.0

    def run_once(self) -> list[BoxReport]:
        """One round with every box (a few at a time), each on its own database connection."""
        def one(box: BoxConfig) -> BoxReport:
            try:
                store = self.open_store()
            except HqStoreError as exc:
                return BoxReport(box.id, errors=[str(exc)])
            try:
                return self.pull_box(box, store)
            finally:
                store.close()
        with ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="hq-pull") as pool:
            return list(pool.map(one, self.config.boxes))

    def run_forever(self, stop: threading.Event, out=print) -> None:
        """Pull every box until `stop` is set: a caught-up box every `interval`, a failing one with backoff."""
        gate = threading.Semaphore(self.config.workers)

        def follow(box: BoxConfig) -> None:
            failures = 0
            store = None
            while not stop.is_set():
                with gate:
                    try:
                        store = store or self.open_store()
                        report = self.pull_box(box, store)
                    except HqStoreError as exc:
                        report = BoxReport(box.id, errors=[str(exc)])
                out(report.line())
                if report.errors:
                    # The database may be what failed: the next round starts on a fresh connection.
                    if store is not None:
                        store.close()
                    store = None
                    failures += 1
                    delay = min(self.config.max_backoff, FIRST_BACKOFF * 2 ** (failures - 1))
                    delay *= random.uniform(0.5, 1.0)
                else:
                    failures, delay = 0, self.config.interval
                stop.wait(delay)
            if store is not None:
                store.close()

        threads = [threading.Thread(target=follow, args=(box,), name=f"hq-{box.id}") for box in self.config.boxes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def pull(config_path: str | Path, once: bool = False) -> int:
    """`branchline hq pull`: one round with every box (exit 1 if any failed), or until SIGTERM/SIGINT."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"branchline hq: {exc}", file=sys.stderr)
        return 2
    collector = Collector(config)
    if once:
        reports = collector.run_once()
        for r in reports:
            print(r.line(), flush=True)
        return 1 if any(r.errors for r in reports) else 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    collector.run_forever(stop, out=lambda line: print(line, flush=True))
    return 0
