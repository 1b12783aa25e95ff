"""A backup of the box: the database copied with SQLite's online backup, the configuration, the prompt
uploads, optionally the recordings, and a manifest with each member's SHA-256, as one zip archive
written a block at a time (to a file, or to an HTTP response)."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.store import StoreError, connect_readonly
from firmware.store.migrations import MIGRATION_SET, MIGRATIONS_TABLE
from firmware.store.sync import FILE_TABLES, INSTANCE_KEY

if TYPE_CHECKING:
    import zipfile

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
DB_FILE = "branchline.db"
DB_MEMBER = "database/" + DB_FILE
# What of the state directory an archive carries besides the database: the configuration (site.toml,
# flows, the quality form and anything else there), prompt recordings uploaded to the box, and the
# scheduled report files the database's `report_files` rows name (webui/report_runner.py). Recordings
# only on request.
STATE_DIRS = ("config", "prompts", "reports")
# A file still being written under its temporary name (webui/report_runner.py `.<name>.part`) is not yet
# one the database names: left out, as the process writing it deletes it at its next start.
PARTIAL = shutil.ignore_patterns(".*.part")
RECORDINGS_DIR = "recordings"
# As firmware/config/site.py reads it: [box] id, "branch-001" when the file does not say.
DEFAULT_BOX_ID = "branch-001"
CHUNK = 256 * 1024
# Room the card must keep beyond the database copy an archive is built from, so that a backup
# never fills the card the engine writes calls to (firmware/store/writer.py waits on a full card).
SPARE_BYTES = 64 * 1024 * 1024
WORK_PREFIX = ".backup-"
# A work directory older than this was left by a process that died mid-download (no download of an
# archive this box makes lasts a day): the next backup removes it, so a crash never keeps a copy of
# the database on the card for good.
STALE_WORK_S = 24 * 3600
# Recordings are the bulk of a box's data and HQ holds them (HQ sync): carried only on request, and
# only up to this much, because the archive crosses the branch LAN to a browser in one download and
# must fit a FAT32 USB stick (4 GiB per file) with the database beside them.
MAX_RECORDINGS_BYTES = 2 * 1024 ** 3


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class BackupError(Exception):
    """A backup cannot be made; the message names the file or the reason."""


@dataclass
class Member:
    name: str        # path inside the archive
    path: Path       # where its bytes are read from
    size: int
    sha256: str


@dataclass
class Backup:
    """A backup ready to be written: the database copy lives in `workdir` until `close()`."""
    workdir: Path
    manifest: dict
    members: list[Member] = field(default_factory=list)

    @property
    def filename(self) -> str:
        """branchline-<box id>-<UTC time>.zip, safe as a file name and in a Content-Disposition header."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.manifest["created_at"]))
        return f"branchline-{_UNSAFE.sub('_', self.manifest['box_id'])}-{stamp}.zip"

    def chunks(self) -> Iterator[bytes]:
        """The zip archive, manifest first, in blocks of about CHUNK bytes: memory stays at a block
        whatever the size of the database. A member whose bytes changed since the manifest was made
        ends the archive with BackupError (a truncated download fails its restore check)."""
        import zipfile  # on first use, not at the web process's start (docs/architecture.md "Memory")

        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            archive.writestr(_info(MANIFEST, self.manifest["created_at"]),
                             json.dumps(self.manifest, indent=2, sort_keys=True))
            yield sink.take()
            for m in self.members:
                info = _info(m.name, self.manifest["created_at"])
                # WAV audio hardly deflates: stored as it is, the Pi's CPU is spent where it pays.
                info.compress_type = zipfile.ZIP_STORED if m.name.endswith(".wav") else zipfile.ZIP_DEFLATED
                digest = hashlib.sha256()
                with open(m.path, "rb") as src, archive.open(info, "w", force_zip64=True) as out:
                    while block := src.read(CHUNK):
                        digest.update(block)
                        out.write(block)
                        if sink.size >= CHUNK:
                            yield sink.take()
                if digest.hexdigest() != m.sha256:
                    raise BackupError(f"{m.name} changed while the backup was written: start it again")
                yield sink.take()
        yield sink.take()

    def write(self, out: Path) -> int:
        """Write the archive to `out` (through a .part file renamed at the end); its size in bytes."""
        part = out.with_name(out.name + ".part")
        size = 0
        try:
            with open(part, "wb") as f:
                for block in self.chunks():
                    f.write(block)
                    size += len(block)
            part.replace(out)
        finally:
            part.unlink(missing_ok=True)
        return size

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Backup:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Sink:
    """A write-only stream zipfile writes into; the bytes are taken out between members and blocks."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self.size = 0
        return data


def _info(name: str, at: float) -> zipfile.ZipInfo:
    import zipfile

    info = zipfile.ZipInfo(name, time.gmtime(at)[:6])
    info.external_attr = 0o640 << 16
    return info


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_box_id(state: Path) -> str:
    """The box's id as its site.toml names it."""
    # Imported here, as importlib.metadata below: the web process loads this module at start and
    # keeps its memory for what it serves (docs/architecture.md §8, the web's RSS budget).
    import tomllib

    try:
        with open(state / "config" / "site.toml", "rb") as f:
            box = tomllib.load(f).get("box", {})
    except FileNotFoundError:
        return DEFAULT_BOX_ID
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BackupError(f"{state / 'config' / 'site.toml'}: {exc}") from exc
    value = box.get("id", DEFAULT_BOX_ID) if isinstance(box, dict) else DEFAULT_BOX_ID
    return value if isinstance(value, str) else DEFAULT_BOX_ID


def software_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("branchline")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def database_facts(conn: sqlite3.Connection) -> dict:
    """What a restore checks of a database: its migrations, latest change, instance and boot count."""
    migrations = [row[0] for row in conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid", [MIGRATION_SET])]
    latest = conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0]
    found = conn.execute("SELECT value FROM settings WHERE key = ?", [INSTANCE_KEY]).fetchone()
    return {"schema": migrations, "latest_seq": latest, "box_instance": found[0] if found else None}


def copy_database(db_path: Path, dest: Path) -> dict:
    """Copy the live database to `dest` with SQLite's online backup API; the copy's facts.

    The whole copy is one step (pages=-1), so it runs inside one read transaction: in WAL mode that
    is one snapshot of committed transactions, taken without blocking the engine's writer, which
    goes on committing calls to the WAL meanwhile (sqlite.org/backup.html, wal.html). A copy made
    in several steps would start again each time another process commits, and might never finish
    on a busy box. SQLite copies page by page: memory does not grow with the database."""
    try:
        src = connect_readonly(db_path)
    except StoreError as exc:
        raise BackupError(str(exc)) from exc
    try:
        dst = sqlite3.connect(str(dest), isolation_level=None)
        try:
            src.backup(dst, pages=-1)
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise BackupError(f"the copy of {db_path} fails SQLite's check: {ok}")
            facts = database_facts(dst)
            # The copy stands alone: its WAL folded in, so the archive holds one file.
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"database {db_path}: {exc}") from exc
    finally:
        src.close()
    return facts


def _tree(root: Path, prefix: str) -> list[tuple[str, Path]]:
    return [(f"{prefix}/{p.relative_to(root).as_posix()}", p) for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()]


def recordings_size(conn: sqlite3.Connection) -> int:
    """Bytes of the recordings and voicemails the database names (what an archive with them carries):
    read from their rows, not by walking a card that holds a year of files."""
    return sum(conn.execute(f"SELECT coalesce(sum(size), 0) FROM {t}").fetchone()[0] for t in FILE_TABLES)


def _recordings_size(db_path: Path) -> int:
    try:
        conn = connect_readonly(db_path)
        try:
            return recordings_size(conn)
        finally:
            conn.close()
    except (StoreError, sqlite3.Error) as exc:
        raise BackupError(f"database {db_path}: {exc}") from exc


def _recordings(conn: sqlite3.Connection, state: Path) -> list[tuple[str, Path, int, str]]:
    """Every finished recording and voicemail the database copy names (a file still being written has
    no row yet), with the size and SHA-256 its row holds."""
    root = state / RECORDINGS_DIR
    found = []
    for table in FILE_TABLES:
        for rel, size, sha in conn.execute(f"SELECT path, size, sha256 FROM {table} WHERE path IS NOT NULL"):
            path = root / rel
            if path.is_file() and path.resolve().is_relative_to(root.resolve()):
                found.append((f"{RECORDINGS_DIR}/{rel}", path, size, sha))
    return found


def prepare(state: Path, now: float, recordings: bool = False) -> Backup:
    """Copy the database and the configuration into a work directory on the box's own card (never /tmp,
    which may be memory) and describe the archive; write it with `chunks()` or `write()`, then close."""
    state = Path(state)
    db_path = state / DB_FILE
    if not db_path.is_file():
        raise BackupError(f"no box database at {db_path}")
    if recordings and (size := _recordings_size(db_path)) > MAX_RECORDINGS_BYTES:
        raise BackupError(f"the recordings take {size / 1024 ** 3:.1f} GiB, more than the "
                          f"{MAX_RECORDINGS_BYTES / 1024 ** 3:.0f} GiB an archive may carry: back up without them "
                          "(HQ holds every recording it has acknowledged)")
    need = db_path.stat().st_size + SPARE_BYTES
    free = shutil.disk_usage(state).free
    if free < need:
        raise BackupError(f"not enough free space in {state} for the database copy: "
                          f"{need / 1e6:.0f} MB needed, {free / 1e6:.0f} MB free")
    for old in state.glob(WORK_PREFIX + "*"):
        if now - old.stat().st_mtime > STALE_WORK_S:
            shutil.rmtree(old, ignore_errors=True)
    workdir = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=state))
    try:
        backup = _describe(state, workdir, now, recordings)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    log.info("backup of %s prepared: %d members, latest change %s", state, len(backup.members) + 1,
             backup.manifest["latest_seq"])
    return backup


def _describe(state: Path, workdir: Path, now: float, recordings: bool) -> Backup:
    copy = workdir / DB_FILE
    facts = copy_database(state / DB_FILE, copy)
    sources = [(DB_MEMBER, copy)]
    for name in STATE_DIRS:
        root = state / name
        if root.is_dir():
            # Copied first, so an edit saved while the archive streams cannot split a member from its hash.
            shutil.copytree(root, workdir / name, symlinks=False, ignore=PARTIAL, ignore_dangling_symlinks=True)
            sources += _tree(workdir / name, name)
    backup = Backup(workdir, {})
    for name, path in sources:
        backup.members.append(Member(name, path, path.stat().st_size, sha256_file(path)))
    if recordings:
        conn = sqlite3.connect(str(copy))
        try:
            backup.members += [Member(n, p, s, h) for n, p, s, h in _recordings(conn, state)]
        finally:
            conn.close()
    backup.manifest = {
        "format": FORMAT, "box_id": read_box_id(state), "software": software_version(),
        "created_at": now, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        **facts, "recordings": recordings,
        "members": {m.name: {"size": m.size, "sha256": m.sha256} for m in backup.members},
    }
    return backup
