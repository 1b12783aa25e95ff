"""Reading a request's cookies without letting a malformed Cookie header become a 500."""
from __future__ import annotations

from http.cookies import CookieError

from bottle import request


def read_cookie(name: str) -> str | None:
    """The cookie's value, or None when it is absent or the Cookie header cannot be read.

    Python's cookie parser refuses headers a client may well send (an RFC 2965 `$Port` attribute, a
    stray `$=`): such a request is one without cookies, never a 500."""
    try:
        return request.get_cookie(name)
    except CookieError:
        return None
