"""The media type of each kind of file the box serves or mails, by its extension.

Not mimetypes.guess_type: its first call reads the system's whole table (/etc/mime.types, over 1,500
types) into dictionaries the web process keeps for good, about 0.4 MB of its 40 MB budget
(docs/architecture.md §1 "Memory"), to name the few kinds of file the box has. The names are the
registered ones (IANA media types; text/javascript per RFC 9239, audio/wav per RFC 2361)."""
from __future__ import annotations

from pathlib import PurePath

TYPES = {
    ".css": "text/css",
    ".csv": "text/csv",
    ".js": "text/javascript",
    ".json": "application/json",
    ".md": "text/markdown",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".wav": "audio/wav",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
}
UNKNOWN = "application/octet-stream"


def media_type(name: str) -> str:
    """The media type of a file called `name`; application/octet-stream for a kind the box does not have."""
    return TYPES.get(PurePath(name).suffix.lower(), UNKNOWN)
