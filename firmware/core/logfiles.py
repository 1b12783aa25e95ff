"""Where the engine and the web process log: stderr (the journal, under systemd) and a rotating file
under <state>/logs/, which the web's log tail reads; secrets are masked before a line is written.

Both go on: the journal is what an operator with a shell reads (`journalctl -u branchline-engine`),
the file is what a technician reads in the browser, and a box started by hand (`branchline run`)
has no journal at all.
"""
from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

LOG_DIR = "logs"
PROCESSES = ("engine", "web")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Bounded so that the logs can never take the card the recordings need: at most (1 + BACKUPS) *
# MAX_BYTES = 5 MiB per process, 10 MiB for both, written in 1 MiB files whose oldest goes first.
# The tail shows the newest lines, which is what a technician at the box looks for; the journal
# keeps its own history under systemd's limits.
MAX_BYTES = 1024 * 1024
BACKUPS = 4

# What must never reach a log, even from a message that quotes a request or an exception: HQ tokens
# (firmware/store/sync.py TOKEN_PREFIX), bearer and cookie headers, and password or token values
# written as key=value or "key": "value", and PEM private keys (RFC 7468; the box's TLS key, webui/tls.py).
_SECRETS = (
    (re.compile(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
     r"\1PRIVATE KEY [hidden]"),
    (re.compile(r"blhq_[A-Za-z0-9_\-]+"), "blhq_[hidden]"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1[hidden]"),
    (re.compile(r"(?i)(cookie:\s*)[^\r\n]+"), r"\1[hidden]"),
    (re.compile(r"""(?i)(["']?(?:password|passwd|secret|token|csrf_token)["']?\s*[:=]\s*)(["']?)[^\s"',&}]+"""),
     r"\1\2[hidden]"),
)


class LogFileError(Exception):
    """The log directory cannot be made or the log file cannot be opened."""


def mask(text: str) -> str:
    """`text` with every secret _SECRETS knows replaced by a marker."""
    for pattern, marker in _SECRETS:
        text = pattern.sub(marker, text)
    return text


class MaskingFormatter(logging.Formatter):
    """The house format, with secrets masked in the message and in any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def log_path(state: str | Path, process: str) -> Path:
    if process not in PROCESSES:
        raise LogFileError(f"no log for {process!r}: the processes are {', '.join(PROCESSES)}")
    return Path(state) / LOG_DIR / f"{process}.log"


def configure(state: str | Path | None, process: str, level: int = logging.INFO) -> Path | None:
    """Log at `level` to stderr and, with a state directory, to its rotating file; the file's path."""
    formatter = MaskingFormatter(FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path = None
    if state is not None:
        path = log_path(state, process)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                                 encoding="utf-8"))
        except OSError as exc:
            raise LogFileError(f"cannot log to {path}: {exc}") from None
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=handlers, force=True)
    return path
