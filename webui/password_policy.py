"""What makes a password too easy to guess beyond its length: the username in it, or a common password."""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from .i18n import gettext as _

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case (read once per process)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _folded(text: str) -> str:
    # NFKC as the hash does (webui/auth.py), then case-folded: "PassWord123" is "password123".
    return unicodedata.normalize("NFKC", text).casefold()


def weakness(password: str, username: str, minimum: int) -> str | None:
    """Why `password` is too easy to guess for `username`, or None; `minimum` is the length rule."""
    folded = _folded(password)
    if folded in common_passwords():
        return _("This is one of the most common passwords: attackers try these first.")
    # NIST SP 800-63B §5.1.1.2: refuse context-specific words such as the username. Only the rest
    # counts, so "admin12345" is refused while a passphrase that happens to contain "ana" is not.
    name = _folded(username)
    if name and len(folded.replace(name, "")) < minimum:
        return _("Your username does not count: the password needs %(n)d characters besides it.") % {"n": minimum}
    return None


def rules(minimum: int, maximum: int, *, own: bool) -> list[str]:
    """The policy as the forms state it, one sentence a rule; `own`: the user changes their own."""
    stated = [_("At least %(min)d and at most %(max)d characters; spaces are allowed, so a few unrelated words "
                "make a good password.") % {"min": minimum, "max": maximum},
              _("Not the username, and not one of the most common passwords.")]
    if own:
        stated.append(_("Not the same as your current password."))
    return stated
