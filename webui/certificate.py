"""The admin's HTTPS certificate: the one the box serves shown (fingerprint, names, dates) and replaced by an
uploaded one once checked (PEM, key matches, in date); the page draws through the same API a script uses."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from bottle import Bottle

from .auth import requires
from .i18n import gettext as _
from .replies import json_body, json_error

CERTIFICATE_ROLES = ("admin",)


def install(app: Bottle, render: Callable[..., str], state_dir: Path, clock: Callable[[], float]) -> None:
    """Add the /certificate page and /api/v1/tls/certificate to the web app."""
    path = state_dir / "tls" / "server.pem"     # webui/tls.py server_pem

    # webui/tls.py (ssl, subprocess, tempfile) is loaded by the routes that use it: a web process serving
    # loopback only never needs it (docs/architecture.md §1 "Memory").

    @app.get("/certificate")
    @requires(*CERTIFICATE_ROLES)
    def certificate_page():
        # Drawn with the certificate in use, so that "none yet" is a state of the page, not a failed request.
        from .tls import TlsError, describe
        try:
            info = describe(path.read_text()).as_json()
        except (OSError, TlsError):
            info = None
        return render("certificate", title=_("HTTPS certificate"), active="certificate", info=info,
                      scripts=["api.js", "certificate.js"])

    @app.get("/api/v1/tls/certificate")
    @requires(*CERTIFICATE_ROLES)
    def certificate_get():
        from .tls import TlsError, describe
        try:
            pem = path.read_text()
        except FileNotFoundError:
            raise json_error(404, _("this box has no certificate yet: it makes one the first time it serves "
                                    "HTTPS, or upload one")) from None
        try:
            return describe(pem).as_json()
        except TlsError as exc:
            raise json_error(500, _("the box's certificate file cannot be read: %(reason)s")
                             % {"reason": str(exc)}) from None

    @app.put("/api/v1/tls/certificate")
    @requires(*CERTIFICATE_ROLES)
    def certificate_put(audit):
        from .tls import TlsError, check, install_pem
        body = json_body()
        certificate, key = body.get("certificate"), body.get("key")
        if not isinstance(certificate, str) or not isinstance(key, str):
            raise json_error(400, _("send the certificate (its chain after it) and its private key as PEM text"),
                             {name: _("PEM text is required") for name, value in
                              (("certificate", certificate), ("key", key)) if not isinstance(value, str)})
        try:
            combined, info = check(certificate, key, clock())
        except TlsError as exc:
            raise json_error(400, _("this certificate cannot be used: %(reason)s") % {"reason": str(exc)}) from None
        install_pem(state_dir, combined)
        # The fingerprint and dates only: the key never goes to the audit log (nor to HQ with it).
        audit.record("tls.certificate", info.subject, {"fingerprint_sha256": info.fingerprint_sha256,
                                                       "issuer": info.issuer, "not_after": info.not_after})
        return info.as_json()
