"""HTTP replies shared by the routes and the plugins: JSON errors and safe local redirects."""
from __future__ import annotations

import json

from bottle import HTTPResponse


def json_error(status: int, message: str) -> HTTPResponse:
    """A `{"error": message}` reply to raise from an API route."""
    return HTTPResponse(json.dumps({"error": message}), status,
                        {"Content-Type": "application/json", "Cache-Control": "no-store"})


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this box, else `default`: a login link must not redirect off-box."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
