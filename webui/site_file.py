"""config/site.toml as the configuration pages edit it: read with its version, written atomically with
the previous generations kept, refused when the page was built from a version that is no longer there.

The file stays the source of truth (a person with a shell may edit it too): each page reads it anew,
and a save compares the version the form was built from (a hash of the file's bytes) with the file
on disk, so two admins editing at once, or an admin and a shell, never overwrite each other unseen.
Comments in the file do not survive a save from the browser; the generation before it keeps them.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import tomllib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import tomli_w

# Generations kept beside the file: site.toml.1 (the one before the last save) ... site.toml.5.
KEEP = 5


class SiteFileError(Exception):
    """The site file cannot be read as TOML, or a save was based on a version no longer on disk."""


class StaleVersion(SiteFileError):
    """The file changed since the form was built; the message says so, the page shows it again."""


def version_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


class SiteFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def read(self) -> tuple[dict, str]:
        """(the settings as TOML data, their version)."""
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise SiteFileError(f"{self.path.name} cannot be read ({exc.strerror or exc}); the engine writes it "
                                "at its first start") from None
        try:
            return tomllib.loads(raw.decode()), version_of(raw)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SiteFileError(f"{self.path.name} is not valid TOML ({exc}); fix it on the box first") from None

    @staticmethod
    def dumps(data: dict) -> str:
        return tomli_w.dumps(data)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One save at a time, across the web server's threads and any other process that writes it
        the same way (an advisory lock on a file beside it)."""
        with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def replace(self, text: str, based_on: str) -> bytes:
        """Write `text` as the new file if the file is still at version `based_on`; the previous
        generations move down one (site.toml.1 is the file as it was). Returns the previous bytes.
        Call inside `locked()`."""
        previous = self.path.read_bytes()
        if version_of(previous) != based_on:
            raise StaleVersion("the settings were changed since this page was loaded (by another admin or "
                               "on the box); here they are as they are now, make your change again")
        for n in range(KEEP - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        _atomic_write(self.path.with_name(f"{self.path.name}.1"), previous)
        _atomic_write(self.path, text.encode())
        return previous

    def put_back(self, previous: bytes) -> None:
        """Undo `replace` (the engine refused the new file): the previous file again, generations
        as they were. Call inside `locked()`."""
        _atomic_write(self.path, previous)
        for n in range(1, KEEP):
            newer = self.path.with_name(f"{self.path.name}.{n + 1}")
            if newer.exists():
                os.replace(newer, self.path.with_name(f"{self.path.name}.{n}"))
            else:
                self.path.with_name(f"{self.path.name}.{n}").unlink(missing_ok=True)
                break

    def generations(self) -> list[Path]:
        return [p for n in range(1, KEEP + 1) if (p := self.path.with_name(f"{self.path.name}.{n}")).exists()]


def _atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename over, fsync the directory: after a power cut
    the file is the old one or the new one, never a mix (the box has no UPS; rename(2) is atomic on
    one file system, and the directory's fsync makes the rename itself durable)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
