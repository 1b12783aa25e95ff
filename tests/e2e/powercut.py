"""A power cut on a state directory: the processes killed and their writes not yet made durable lost.

`library()` builds tests/e2e/powercut.c (the undo log kept by the processes, LD_PRELOAD);
`environment()` is what a process is started with; after the processes are killed, `roll_back()`
undoes what a disk would not hold after a power loss: every change since its fsync (POSIX: a file's
data and size once fsync(2)/fdatasync(2) of it returned; a directory entry made by creat, mkdir,
rename or unlink once fsync(2) of its directory returned).

How much of what was not durable goes is the cut's `mode`:
- "all": nothing that was not synced reached the card (the strict reading of POSIX);
- "suffix": each file kept the first of its unsynced writes, a random number of them, in order (a
  file system writing back each file in order, files in any order);
- "subset": each unsynced write and directory change kept or lost at random, independently (a card
  writing back its blocks in any order; a lost write inside data later written stays as zeros).
"""
from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("powercut.c")
REPO = Path(__file__).resolve().parents[2]
MODES = ("all", "suffix", "subset")
_HEAD = struct.Struct("<IIQQQqIIII")
_MAGIC = 0x54554350
DATA, SYNC, CREATE, RENAME, UNLINK, MKDIR = 1, 2, 3, 4, 5, 6
_ENTRIES = (CREATE, RENAME, UNLINK, MKDIR)


class PowerCutError(Exception):
    """The library cannot be built, or its undo log is not one it wrote."""


@dataclass
class Change:
    kind: int
    ino: int
    offset: int
    length: int
    old_size: int
    path: str
    other: str
    keep: str
    old: bytes

    def directory(self) -> str:
        """The directory whose fsync makes this entry change durable."""
        return os.path.dirname(self.other if self.kind == RENAME and self.other else self.path)


def library(build_dir: Path) -> Path:
    """tests/e2e/powercut.c as a shared library in `build_dir` (the C compiler of the machine, `cc`)."""
    out = build_dir / "powercut.so"
    if not out.exists() or out.stat().st_mtime < SOURCE.stat().st_mtime:
        built = subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", str(out), str(SOURCE), "-ldl", "-lpthread"],
                               capture_output=True, text=True)
        if built.returncode:
            raise PowerCutError(f"cc could not build {SOURCE.name}: {built.stderr}")
    return out


def environment(lib: Path, root: Path, undo_log: Path, cut_at: int | None) -> dict[str, str]:
    env = {"LD_PRELOAD": str(lib), "PCUT_ROOT": str(root), "PCUT_LOG": str(undo_log)}
    if cut_at is not None:
        env["PCUT_CUT_AT"] = str(cut_at)
    return env


def read_log(undo_log: Path) -> list[Change]:
    data = undo_log.read_bytes() if undo_log.exists() else b""
    changes, at = [], 0
    while at < len(data):
        magic, kind, ino, offset, length, old_size, n1, n2, n3, nd = _HEAD.unpack_from(data, at)
        if magic != _MAGIC:
            raise PowerCutError(f"{undo_log}: no record at byte {at}")
        at += _HEAD.size
        parts = []
        for n in (n1, n2, n3):
            parts.append(data[at:at + n].decode())
            at += n
        changes.append(Change(kind, ino, offset, length, old_size, *parts, data[at:at + nd]))
        at += nd
    return changes


def pending(changes: list[Change]) -> list[Change]:
    """The changes not durable at the end of the log, in the order they were made."""
    open_: dict[int, Change] = {}
    for i, c in enumerate(changes):
        if c.kind == SYNC:
            for j in [j for j, p in open_.items()
                      if (p.kind == DATA and p.ino == c.ino) or (p.kind in _ENTRIES and p.directory() == c.path)]:
                del open_[j]
        else:
            open_[i] = c
    return [open_[i] for i in sorted(open_)]


def choose(lost: list[Change], mode: str, rng: random.Random) -> list[Change]:
    """Which of the changes not durable the cut loses."""
    if mode == "all":
        return lost
    if mode == "subset":
        return [c for c in lost if rng.random() < 0.5]
    if mode != "suffix":
        raise PowerCutError(f"no power cut mode {mode!r}: {MODES}")
    kept_writes: dict[int, int] = {}
    for c in lost:
        if c.kind == DATA:
            kept_writes[c.ino] = kept_writes.get(c.ino, 0) + 1
    kept_writes = {ino: rng.randint(0, n) for ino, n in kept_writes.items()}
    out, seen = [], dict.fromkeys(kept_writes, 0)
    for c in lost:
        if c.kind == DATA:
            seen[c.ino] += 1
            if seen[c.ino] > kept_writes[c.ino]:
                out.append(c)
        elif rng.random() < 0.5:
            out.append(c)
    return out


def roll_back(root: Path, undo_log: Path, mode: str, rng: random.Random) -> dict[str, int]:
    """Put `root` back as a power cut leaves it; the figures of what was lost. Removes the log."""
    changes = read_log(undo_log)
    lost = choose(pending(changes), mode, rng)
    files = _Inodes(root)
    for c in reversed(lost):
        _undo(c, files)
    for keep in root.rglob("*.pcut-*"):
        keep.unlink()
    undo_log.unlink(missing_ok=True)
    return {"changes": len(changes), "lost": len(lost),
            "lost_bytes": sum(c.length for c in lost if c.kind == DATA)}


class _Inodes:
    """Files by inode number: a write's file may have been renamed since."""

    def __init__(self, root: Path):
        self.root = root

    def find(self, path: str, ino: int) -> str | None:
        try:
            if os.stat(path).st_ino == ino:
                return path
        except FileNotFoundError:
            pass
        for p in self.root.rglob("*"):
            if p.is_file() and p.stat().st_ino == ino:
                return str(p)
        return None


def _undo(c: Change, files: _Inodes) -> None:
    if c.kind == DATA:
        path = files.find(c.path, c.ino)
        if path is None:
            return
        end = c.offset + c.length
        with open(path, "r+b") as f:
            f.seek(c.offset)
            f.write(c.old)
            size = f.seek(0, os.SEEK_END)
            if size <= end:
                f.truncate(c.old_size)
            elif c.old_size < end:
                # Data written later beyond this write was kept: the lost part reads as zeros.
                start = max(c.offset, c.old_size)
                f.seek(start)
                f.write(bytes(end - start))
    elif c.kind == CREATE:
        if os.path.isfile(c.path):
            os.unlink(c.path)
    elif c.kind == MKDIR:
        shutil.rmtree(c.path, ignore_errors=True)
    elif c.kind == RENAME:
        if c.path and os.path.lexists(c.other) and os.path.isdir(os.path.dirname(c.path)):
            os.rename(c.other, c.path)
        elif not c.path and os.path.lexists(c.other):
            os.unlink(c.other)         # renamed in from outside the directory: gone with the entry
        if c.keep:
            os.rename(c.keep, c.other)
    elif c.kind == UNLINK:
        if c.keep and os.path.lexists(c.keep):
            os.rename(c.keep, c.path)
