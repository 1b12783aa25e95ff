"""Restoring a backup: the archive checked (manifest, checksums, schema, box), staged in <state>/restore/,
and applied at the next engine start, before anything opens the database, so that HQ never sees one
change sequence stand for two changes (docs/architecture.md §6, "Backup and restore")."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
import time
import zlib
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from firmware.store import StoreError, audit, connect, connect_readonly, write_transaction
from firmware.store.backup import (CHUNK, DB_FILE, DB_MEMBER, FORMAT, MANIFEST, RECORDINGS_DIR, SPARE_BYTES,
                                   STATE_DIRS, BackupError, database_facts, read_box_id)
from firmware.store.ids import BOOT_KEY
from firmware.store.migrations import MIGRATIONS, SYNCED_TABLES
from firmware.store.sync import FILE_TABLES, INSTANCE_KEY

if TYPE_CHECKING:
    import zipfile

log = logging.getLogger(__name__)

RESTORE_DIR = "restore"
STAGED = "staged"
REQUEST = "request.json"
APPLIED = "applied.json"
KEPT_PREFIX = "before-restore-"
UNREADABLE = ".unreadable"
# A manifest is a few kB per thousand members; anything larger is not one of ours.
MAX_MANIFEST = 16 * 1024 * 1024
# Overridable refusals: a person who knows the archive is the right one may restore it anyway.
SCHEMA_OLDER, OTHER_BOX, OTHER_DATABASE = "schema_older", "other_box", "other_database"
# Refusals no override lifts.
SCHEMA_NEWER, SCHEMA_FOREIGN = "schema_newer", "schema_foreign"


class RestoreError(Exception):
    """An archive cannot be read or restored; the message names the member or the reason."""


class RestoreRefused(RestoreError):
    """The archive is sound but is not this box's, or not this schema's; `problems` say why."""

    def __init__(self, problems: list[dict], manifest: dict):
        super().__init__("; ".join(p["message"] for p in problems))
        self.problems = problems
        self.manifest = manifest


def _root(state: Path) -> Path:
    return Path(state) / RESTORE_DIR


# --- reading and checking an archive ----------------------------------------------------------------------
def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (not path.is_absolute() and ".." not in path.parts and "\\" not in name
            and (name == DB_MEMBER or path.parts[0] in (*STATE_DIRS, RECORDINGS_DIR)) and len(path.parts) > 1)


Archive = Path | BinaryIO


def verify(source: Archive) -> dict:
    """The archive's manifest, once every member is found whole (size and SHA-256) and nothing else is in it."""
    import zipfile  # on first use, not at the web process's start (docs/architecture.md "Memory")

    try:
        with zipfile.ZipFile(source) as archive:
            try:
                info = archive.getinfo(MANIFEST)
            except KeyError:
                raise RestoreError("this is not a Branchline backup: it has no manifest.json") from None
            if info.file_size > MAX_MANIFEST:
                raise RestoreError("this is not a Branchline backup: its manifest is too large")
            try:
                manifest = json.loads(archive.read(info))
                members = manifest["members"]
                if (manifest["format"] != FORMAT or not isinstance(members, dict)
                        or not isinstance(manifest["schema"], list)
                        or not all(isinstance(m, dict) and isinstance(m.get("size"), int)
                                   and isinstance(m.get("sha256"), str) for m in members.values())
                        or any(key not in manifest for key in ("box_id", "latest_seq", "created_at"))):
                    raise ValueError("not this format")
            except (ValueError, KeyError, TypeError):
                raise RestoreError(f"this is not a Branchline backup this software can read (manifest format "
                                   f"{FORMAT} expected)") from None
            names = {i.filename for i in archive.infolist() if not i.is_dir()} - {MANIFEST}
            if extra := sorted(names - set(members)):
                raise RestoreError(f"the archive holds {extra[0]}, which its manifest does not list")
            if missing := sorted(set(members) - names):
                raise RestoreError(f"the archive lacks {missing[0]}, which its manifest lists")
            if DB_MEMBER not in members:
                raise RestoreError("the archive holds no database")
            for name, expected in members.items():
                if not _safe_name(name):
                    raise RestoreError(f"the archive names a file outside what a backup holds: {name!r}")
                _check_member(archive, name, expected)
    except zipfile.BadZipFile as exc:
        raise RestoreError(f"the file is not a readable zip archive ({exc})") from None
    except OSError as exc:
        raise RestoreError(f"the archive cannot be read: {exc}") from None
    return manifest


def _check_member(archive: zipfile.ZipFile, name: str, expected: dict) -> None:
    import zipfile

    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(name) as f:
            while block := f.read(CHUNK):
                digest.update(block)
                size += len(block)
                if size > expected["size"]:   # a member inflating past its size: stop reading it now
                    break
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:   # zipfile's CRC, bad deflate, a cut archive
        raise RestoreError(f"{name} is corrupted in the archive ({exc})") from None
    if size != expected["size"] or digest.hexdigest() != expected["sha256"]:
        raise RestoreError(f"{name} is corrupted: its SHA-256 or size does not match the manifest")


def _current_instance(state: Path) -> str | None:
    db = Path(state) / DB_FILE
    if not db.is_file():
        return None
    try:
        conn = connect_readonly(db)
        try:
            return database_facts(conn)["box_instance"]
        finally:
            conn.close()
    except (StoreError, sqlite3.Error):
        return None


def problems(manifest: dict, state: Path) -> list[dict]:
    """Why this archive is not plainly this box's: schema, box id, database instance. Each problem has a
    `code`, whether an override lifts it, the `params` its message is made of, and the message."""
    ours = [m.__name__ for m in MIGRATIONS]
    theirs = list(manifest["schema"])
    found = []
    params = {"theirs": len(theirs), "ours": len(ours), "software": str(manifest.get("software", "?"))}
    if theirs != ours:
        if theirs[:len(ours)] == ours:
            found.append({"code": SCHEMA_NEWER, "overridable": False, "params": params, "message": (
                f"the archive was made by newer software (schema {len(theirs)}, this box's is {len(ours)}, "
                f"software {manifest.get('software', '?')}): update this box's software first")})
        elif ours[:len(theirs)] == theirs:
            found.append({"code": SCHEMA_OLDER, "overridable": True, "params": params, "message": (
                f"the archive is of an older schema ({len(theirs)} migrations, this box has {len(ours)}, "
                f"software {manifest.get('software', '?')}): restoring it migrates its database forward")})
        else:
            found.append({"code": SCHEMA_FOREIGN, "overridable": False, "params": params, "message": (
                "the archive's schema is not one this software has ever had: it cannot be restored here")})
    try:
        here = read_box_id(Path(state))
    except BackupError:   # a broken site.toml: the archive may be just what mends it, with the override
        here = "(site.toml unreadable)"
    if manifest["box_id"] != here:
        found.append({"code": OTHER_BOX, "overridable": True, "params": {"theirs": manifest["box_id"], "ours": here},
                      "message": (
            f"the archive is of box {manifest['box_id']}, this box is {here}: restoring it makes this box "
            f"{manifest['box_id']} (its configuration comes with it)")})
    instance = _current_instance(Path(state))
    if instance is not None and manifest.get("box_instance") != instance:
        found.append({"code": OTHER_DATABASE, "overridable": True, "params": {}, "message": (
            "the archive's database is not this box's database (it was replaced since, or the archive comes "
            "from elsewhere): the restored database gets a new identity, and HQ must pull it as a new box "
            "(a new box id in the collector's configuration)")})
    return found


# --- staging ---------------------------------------------------------------------------------------------
def stage(source: Archive, state: Path, override: bool, by: str, now: float, name: str | None = None) -> dict:
    """Check the archive and unpack it into <state>/restore/staged/ for the next engine start.

    RestoreError if it is unreadable or corrupted; RestoreRefused if it is of another schema or box
    and `override` is not given (or cannot help). Replaces a restore staged earlier."""
    import zipfile

    state = Path(state)
    manifest = verify(source)
    found = problems(manifest, state)
    if any(not p["overridable"] or not override for p in found):
        raise RestoreRefused(found, manifest)
    need = sum(m["size"] for m in manifest["members"].values()) + SPARE_BYTES
    free = shutil.disk_usage(state).free
    if free < need:
        raise RestoreError(f"not enough free space in {state} to unpack the archive: {need / 1e6:.0f} MB needed, "
                           f"{free / 1e6:.0f} MB free")
    root = _root(state)
    root.mkdir(exist_ok=True)
    work = root / (STAGED + ".part")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    with zipfile.ZipFile(source) as archive:
        for member in manifest["members"]:
            target = work / (DB_FILE if member == DB_MEMBER else member)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
    if name is None:
        name = Path(source).name if isinstance(source, (str, Path)) else "archive.zip"
    request = {"manifest": manifest, "by": by, "staged_at": now, "override": override, "overridden": found,
               "archive": name}
    (work / REQUEST).write_text(json.dumps(request, indent=2))
    shutil.rmtree(root / STAGED, ignore_errors=True)
    # The rename makes a staged restore whole or absent: an engine starting mid-upload never sees half.
    work.rename(root / STAGED)
    log.warning("restore of %s (box %s, made %s, latest change %s) staged by %s; applied at the next engine start",
                request["archive"], manifest["box_id"], manifest.get("created"), manifest["latest_seq"], by)
    return request


def pending(state: Path) -> dict | None:
    """The restore staged for the next engine start, or None."""
    try:
        return json.loads((_root(state) / STAGED / REQUEST).read_text())
    except FileNotFoundError:
        return None


def cancel(state: Path) -> bool:
    """Drop a staged restore; True if there was one."""
    staged = _root(state) / STAGED
    found = (staged / REQUEST).exists()
    shutil.rmtree(staged, ignore_errors=True)
    return found


def last_applied(state: Path) -> dict | None:
    try:
        return json.loads((_root(state) / APPLIED).read_text())
    except FileNotFoundError:
        return None


# --- applying, at engine start -----------------------------------------------------------------------------
def apply_staged(state: Path, now: float) -> dict | None:
    """Put a staged restore in place, before the engine opens its store; None when none is staged.

    The current database (with its WAL folded in) and configuration are kept in
    <state>/before-restore-<UTC time>/. Each step can be repeated: a start cut short by a power loss
    finishes the restore at the next start from where it was."""
    state = Path(state)
    staged = _root(state) / STAGED
    request = pending(state)
    if request is None:
        return None
    manifest = request["manifest"]
    if "kept" not in request:
        request["kept"] = KEPT_PREFIX + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        _write_json(staged / REQUEST, request)
    kept = state / request["kept"]
    kept.mkdir(exist_ok=True)
    db = state / DB_FILE
    previous = kept / DB_FILE
    if (staged / DB_FILE).exists():
        if db.exists() and not (kept / ".database-kept").exists():
            try:
                _copy_database(db, previous)
            except RestoreError as exc:
                # Often why a box is restored: its database is damaged. Its files are kept as they are;
                # with nothing readable to say how far HQ got, the restored database is another database.
                log.error("%s; its files are kept unread in %s", exc, kept)
                for suffix in ("", "-wal", "-shm", "-journal"):
                    if (state / (DB_FILE + suffix)).exists():
                        os.replace(state / (DB_FILE + suffix), kept / (DB_FILE + suffix + UNREADABLE))
            (kept / ".database-kept").touch()
        # The old WAL must never meet the new file: SQLite would replay it into the restored database.
        for suffix in ("-wal", "-shm", "-journal"):
            (state / (DB_FILE + suffix)).unlink(missing_ok=True)
        os.replace(staged / DB_FILE, db)
    for name in STATE_DIRS:
        if (staged / name).exists():
            if (state / name).exists() and not (kept / name).exists():
                (state / name).rename(kept / name)
            shutil.rmtree(state / name, ignore_errors=True)
            (staged / name).rename(state / name)
    restored_files = _put_back_recordings(staged / RECORDINGS_DIR, state / RECORDINGS_DIR)
    try:
        conn = connect(db)   # migrates an older schema forward
    except StoreError as exc:
        raise RestoreError(f"the restored database cannot be opened: {exc}") from exc
    try:
        sequences = continue_sequences(conn, previous if previous.exists() else None, manifest)
        report = {**request, "applied_at": now, "recordings_put_back": restored_files, **sequences}
        _audit(conn, report)
    finally:
        conn.close()
    _write_json(_root(state) / APPLIED, report)
    shutil.rmtree(staged)
    log.warning("restore of %s applied: box %s, database %s, changes continue from %s (%s); the previous "
                "database and configuration are kept in %s", request["archive"], manifest["box_id"],
                sequences["box_instance"], sequences["counter"], sequences["rule"], kept)
    return report


def _audit(conn: sqlite3.Connection, report: dict) -> None:
    """The restore in the restored database's audit log, so HQ sees it."""
    m = report["manifest"]
    audit.append(conn, report["applied_at"], report["by"], "engine start", "restore.apply", report["archive"], {
        "box_id": m["box_id"], "created": m.get("created"), "archive_latest_seq": m["latest_seq"],
        "override": report["override"], "overridden": [p["code"] for p in report["overridden"]],
        "rule": report["rule"], "counter": report["counter"], "restamped": report["restamped"],
        "kept": report["kept"]})


def _write_json(path: Path, data: dict) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(data, indent=2))
    os.replace(part, path)


def _copy_database(src_path: Path, dest: Path) -> None:
    """A whole copy of the current database, its WAL folded in (nothing else has it open at start)."""
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    src = sqlite3.connect(str(src_path))
    try:
        dst = sqlite3.connect(str(part))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise RestoreError(f"the current database {src_path} cannot be kept: {exc}") from exc
    finally:
        src.close()
    os.replace(part, dest)


def _put_back_recordings(src: Path, dest: Path) -> int:
    """Recordings from the archive that the box no longer has; a file the box has is never replaced."""
    count = 0
    if not src.is_dir():
        return 0
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dest / path.relative_to(src)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            count += 1
    return count


def continue_sequences(conn: sqlite3.Connection, previous: Path | None, manifest: dict) -> dict:
    """The rule that keeps HQ whole after a restore (docs/architecture.md §6), in one transaction.

    Same database (the previous one has the archive's instance): the box knows every sequence it
    handed out and every acknowledgement HQ sent, so the counter continues above all of them and
    above the archive's; the instance stays, and HQ goes on pulling from its cursor. Rows the
    archive holds in an older version than HQ may have (changed or deleted after the backup) are
    stamped again, so HQ takes the restored version. Recordings and voicemails made since keep their
    rows (their files stay). HQ's tokens and acknowledgements are kept from the previous database: a
    restore rolls back the box, not what HQ holds.
    Another database (a new card, another box): nothing here says how far HQ read the archive's
    sequences, so the restored database gets a new instance and no acknowledgements; HQ refuses
    the new instance rather than mix it in (hq/store.py) until it is pulled as a new box."""
    if previous is not None:
        conn.execute("ATTACH DATABASE ? AS prev", [str(previous)])
    try:
        with write_transaction(conn):
            prev = _previous_facts(conn) if previous is not None else None
            same = (prev is not None and prev["instance"] is not None
                    and prev["instance"] == manifest.get("box_instance"))
            restored_latest = conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0]
            restamped = carried = 0
            if prev is not None:
                boots = max(prev["boots"], _boots(conn, "main"))
                conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                             "SET value = excluded.value", [BOOT_KEY, str(boots)])
            if same:
                assert prev is not None
                counter = max(prev["counter"], prev["acked"], prev["tombstoned"], restored_latest)
                conn.execute("UPDATE change_counter SET value = ? WHERE id = 1", [counter])
                conn.execute("DELETE FROM hq_acks")
                conn.execute("DELETE FROM hq_tokens")
                conn.execute("INSERT INTO hq_tokens (id, name, token_hash, created_at, created_by, revoked_at) "
                             "SELECT id, name, token_hash, created_at, created_by, revoked_at FROM prev.hq_tokens")
                conn.execute("INSERT INTO hq_acks (token_id, seq, acked_at, address) "
                             "SELECT token_id, seq, acked_at, address FROM prev.hq_acks")
                for table in SYNCED_TABLES:
                    restamped += conn.execute(
                        f"UPDATE {table} SET id = id WHERE id IN (SELECT id FROM prev.{table} WHERE seq > :since "
                        "UNION SELECT row_id FROM prev.tombstones WHERE table_name = :table AND seq > :since)",
                        {"since": restored_latest, "table": table}).rowcount
                for table in FILE_TABLES:
                    carried += _carry_file_rows(conn, table, restored_latest)
                instance, rule = prev["instance"], "same database: sequences continue"
            else:
                counter = restored_latest
                instance = secrets.token_hex(16)
                conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                             "SET value = excluded.value", [INSTANCE_KEY, instance])
                conn.execute("DELETE FROM hq_acks")
                rule = "another database: new identity, HQ pulls it as a new box"
            latest = conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0]
    finally:
        if previous is not None:
            conn.execute("DETACH DATABASE prev")
    return {"box_instance": instance, "counter": counter, "latest_seq": latest, "restamped": restamped,
            "file_rows_carried": carried,
            "rule": rule, "previous_latest": prev["counter"] if prev else None,
            "previous_acked": prev["acked"] if prev else None}


def _carry_file_rows(conn: sqlite3.Connection, table: str, since: int) -> int:
    """Rows of recordings (or voicemails) made after the backup, from the previous database.

    Their files are still on the card (a restore never deletes one), and HQ may hold them under
    these ids: without their rows the start-up recovery would file them again under new ids
    (firmware/callcenter/recovery.py), and HQ would hold each such file twice."""
    columns = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})") if r[1] != "seq")
    return conn.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM prev.{table} "
                        f"WHERE seq > ? AND id NOT IN (SELECT id FROM main.{table})", [since]).rowcount


def _boots(conn: sqlite3.Connection, schema: str) -> int:
    row = conn.execute(f"SELECT value FROM {schema}.settings WHERE key = ?", [BOOT_KEY]).fetchone()
    return int(row[0]) if row else 0


def _previous_facts(conn: sqlite3.Connection) -> dict:
    found = conn.execute("SELECT value FROM prev.settings WHERE key = ?", [INSTANCE_KEY]).fetchone()
    return {"instance": found[0] if found else None,
            "counter": conn.execute("SELECT value FROM prev.change_counter WHERE id = 1").fetchone()[0],
            "acked": conn.execute("SELECT coalesce(max(seq), 0) FROM prev.hq_acks").fetchone()[0],
            "tombstoned": conn.execute("SELECT coalesce(max(seq), 0) FROM prev.tombstones").fetchone()[0],
            "boots": _boots(conn, "prev")}
