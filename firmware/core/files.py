"""Files the box's configuration lives in, replaced atomically: a power cut leaves the old file or the
new one, never half of either, and the version replaced is kept beside it as `<name>.prev`."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PREVIOUS_SUFFIX = ".prev"


class FileWriteError(Exception):
    """A file could not be replaced; the message names it and says why."""


def previous_of(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + PREVIOUS_SUFFIX)


def fsync_dir(directory: Path) -> None:
    """Make the entries renamed into `directory` durable."""
    # POSIX rename(2) is atomic, but the new directory entry is durable only once the directory
    # itself is fsync'd (ext4 with data=ordered included).
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(directory: Path) -> None:
    """Create `directory` and any parent missing, each new entry made durable (its parent fsync'd):
    a file made durable in a directory that a power cut takes away is lost all the same (POSIX
    mkdir(2) changes only the parent directory, which must be synced like a rename's)."""
    missing = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:
            pass
        fsync_dir(new.parent)


def write_atomic(path: str | Path, data: bytes, keep_previous: bool = True) -> None:
    """Replace `path` with `data`: temp file in the same directory, fsync, rename over, fsync the
    directory. With `keep_previous`, the file it replaces becomes `<name>.prev` (a hard link, so
    there is no moment without either)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        make_dirs(path.parent)
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if keep_previous and path.exists():
            link = path.with_name(f".{path.name}.{secrets.token_hex(4)}.prev")
            os.link(path, link)
            os.replace(link, previous_of(path))
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileWriteError(f"{path}: not written: {exc.strerror or exc}") from exc
