"""The admin's mail page: the outbox (webui/mail.py) with each message's state, a test message through the
configured server, and "send again" for a message that failed or whose fate is unknown (audited: a person's
decision that a recipient may get it twice). The server's settings are on /config/mail."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from bottle import Bottle, HTTPError, redirect, request

from .auth import requires
from .i18n import N_
from .i18n import gettext as _
from .mail import MailError, queue_mail, recent, send_again
from .write_store import WriteStore

MAIL_ROLES = ("admin",)
STATE_NAMES = {"pending": N_("waiting to be sent"), "sending": N_("being sent"), "sent": N_("sent"),
               "unknown": N_("unknown: check before sending again"), "failed": N_("failed")}


def install(app: Bottle, render: Callable[..., str], db_path: str | Path, clock) -> None:
    """Add /mail and /api/v1/mail to the web app."""
    store = WriteStore(db_path, clock, "mail-store")
    app.install(store)

    def page(db, error: str | None = None, notice: str | None = None, to: str = "") -> str:
        return render("mail", title=_("E-mail"), active="mail", messages=recent(db), states=STATE_NAMES,
                      error=error, notice=notice, to=to)

    @app.get("/mail")
    @requires(*MAIL_ROLES)
    def mail_page(db):
        notice = {"queued": _("The test message is queued; it is sent within a few seconds if the server takes it."),
                  "again": _("Queued to be sent again.")}.get(request.query.get("done", ""))
        return page(db, notice=notice)

    @app.post("/mail/test")
    @requires(*MAIL_ROLES)
    def mail_test(db, user):
        to = (request.forms.getunicode("to") or "").strip()

        def test(conn, now):
            return queue_mail(conn, to, _("Test message from Branchline"),
                              _("%(user)s sent this test from the box's mail page.") % {"user": user["username"]},
                              now=now)
        try:
            store.write(test)
        except MailError as exc:
            return page(db, error=str(exc), to=to)
        redirect("/mail?done=queued")

    @app.post("/mail/<mail_id:int>/send-again")
    @requires(*MAIL_ROLES)
    def mail_send_again(mail_id, audit):
        if not store.write(send_again, mail_id):
            raise HTTPError(404, _("There is no failed or unknown message %(id)s.") % {"id": mail_id})
        audit.record("mail.send_again", str(mail_id), {})
        redirect("/mail?done=again")

    @app.get("/api/v1/mail")
    @requires(*MAIL_ROLES)
    def api_mail(db):
        return {"messages": recent(db)}
