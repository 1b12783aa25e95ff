"""HTTP replies shared by the routes and the plugins: JSON errors, the JSON body an API route takes, and safe
local redirects."""
from __future__ import annotations

import json

from bottle import HTTPError, HTTPResponse, request, response

from .i18n import gettext as _


def json_error(status: int, message: str, problems: dict[str, str] | None = None) -> HTTPResponse:
    """A `{"error": message}` reply to raise from an API route; `problems` names each bad field's reason."""
    body: dict = {"error": message}
    if problems:
        body["problems"] = problems
    return HTTPResponse(json.dumps(body, ensure_ascii=False), status,
                        {"Content-Type": "application/json", "Cache-Control": "no-store"})


def json_body() -> dict:
    """This request's body as a JSON object; a 400 reply raised if it is anything else."""
    try:
        body = request.json
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise json_error(400, _("send a JSON object (Content-Type: application/json)"))
    return body


def error_message(err: HTTPError) -> str:
    """What the user is told of an error: never an exception's text, and a 404 names what was asked."""
    if err.status_code >= 500 and err.status_code != 503:
        # Bottle's own 500 body can name the exception; the user only learns that it was logged.
        return _("The box hit an unexpected error; it has been logged.")
    message = str(err.body)
    if err.status_code == 404 and message.startswith("Not found: "):  # bottle's router
        if request.path.startswith("/api/"):
            return _("no such API endpoint: %(path)s") % {"path": request.path}
        return _("There is no page at %(path)s.") % {"path": request.path}
    return message


def json_error_handler(err: HTTPError) -> str:
    """A bottle error handler answering every status as `{"error": ...}`: API clients parse no HTML."""
    response.content_type = "application/json"
    response.set_header("Cache-Control", "no-store")
    return json.dumps({"error": error_message(err)})


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this box, else `default`: a login link must not redirect off-box."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
