"""Sends the mail outbox (webui/mail.py) through the site's SMTP server, and queues the mail the box sends
on its own: a new voicemail to its box's address (the WAV attached), a ticket past its SLA due time.

Where it runs: a thread of the web process (webui/webhook_delivery.py DeliveryThread), never the engine.

Sent once. A message is `pending` until tried; a try that fails before the message's end was sent (no
connection, STARTTLS refused, a recipient refused with 4yz) leaves it `pending` with a backoff, and a 5yz
makes it `failed` (RFC 5321 §4.2.1: permanent). Only the reply to the final "." of DATA tells whether the
server took responsibility for the message (RFC 5321 §4.1.1.4, §6.1); so the row is marked `sending` and
committed just before DATA, and `sent` once the server answered 250. If the connection drops during DATA,
or the process dies with a row still `sending`, the server may or may not have the message (the
duplicate-message problem of RFC 1047): the row becomes `unknown` and is NOT sent again by itself. A
person sees it on the page and may send it again, with the same Message-ID, so that a mailbox which
drops repeats of a Message-ID shows it once. Why not resend at once: the window is one reply long, so
this is rare, and then a person who looks at the recipient's mailbox costs less than a report or a
customer's voicemail arriving twice, which the recipients cannot tell from two messages."""
from __future__ import annotations

import functools
import json
import logging
import random
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.config.messaging import MailConfig, read_mail

from typed_toml import ConfigError, read_file

from .i18n import translations
from .mail import MAX_ATTACHMENTS, Attachment, MailError, queue_mail
from .shared_writer import SharedWriter
from .webhook_delivery import backoff

if TYPE_CHECKING:
    import smtplib

log = logging.getLogger(__name__)

# RFC 5321 §4.5.3.2: the client's timeouts are minutes per command; a box's single mail thread waits
# at most this for one reply, and a slow server holds mail, not the box.
TIMEOUT_S = 60.0
BATCH = 20
# RFC 5321 §4.5.4.1: give up after at least 4-5 days.
GIVE_UP_AFTER_S = 5 * 86400.0
MAX_ERROR = 300
KEEP_S = 30 * 86400.0
PRUNE_EVERY_S = 3600.0
# Tickets past due are looked for once a minute: an alert a minute late is still an alert.
OVERDUE_EVERY_S = 60.0
VOICEMAIL_CURSOR_KEY = "mail.voicemails_seq"
# A ticket's states that are no longer anyone's work (webui/ticket_config.py STATES).
DONE_STATES = ("resolved", "confirmed", "closed", "cancelled")


class SendError(Exception):
    """A try failed; `permanent` for a 5yz reply, `unknown` when the server may have the message."""

    def __init__(self, message: str, *, permanent: bool = False, unknown: bool = False):
        super().__init__(message)
        self.permanent, self.unknown = permanent, unknown


class SiteMail:
    """The [mail] table of site.toml, read again when the file changes; a bad table is logged and mail
    waits (the configuration page shows the error)."""

    def __init__(self, path: Path):
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._config = MailConfig()

    def __call__(self) -> MailConfig:
        try:
            info = self.path.stat()
        except OSError:
            return MailConfig()
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._config = read_mail(read_file(self.path))
            except ConfigError as exc:
                log.warning("mail: %s; nothing is sent until it is fixed", exc)
                self._config = MailConfig()
        return self._config


def build(row: dict, attachments: list[Attachment], config: MailConfig) -> EmailMessage:
    # The header and MIME machinery of email.policy (about 0.7 MB) loads with the first message, not at
    # the web process's start (docs/architecture.md "Memory": most boxes send a few a day, many none).
    from email.policy import SMTP as SMTP_POLICY

    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = config.sender
    message["To"] = ", ".join(row["recipients"])
    message["Subject"] = row["subject"]
    message["Date"] = formatdate(row["created_at"], localtime=False)
    message["Message-ID"] = row["message_id"]
    message.set_content(row["body"])
    for a in attachments:
        main, _sep, sub = a.content_type.partition("/")
        message.add_attachment(a.data, maintype=main, subtype=sub or "octet-stream", filename=a.filename)
    return message


def _reply_error(code: int, text: bytes | str, what: str) -> SendError:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return SendError(f"{what}: {code} {detail}"[:MAX_ERROR], permanent=500 <= code < 600)


class SmtpTransport:
    """One message per connection through smtplib (a few messages an hour: no connection kept open)."""

    def __init__(self, config: MailConfig):
        self.config = config

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.ca_file or None)

    def _password(self) -> str:
        try:
            return Path(self.config.password_file).read_text().strip()
        except OSError as exc:
            raise SendError(f"password file {self.config.password_file}: {exc.strerror or exc}") from None

    def send(self, message: EmailMessage, recipients: list[str], before_data: Callable[[], None]) -> None:
        import smtplib  # on first use, not at the web process's start (docs/architecture.md "Memory")

        cfg = self.config
        try:
            if cfg.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=TIMEOUT_S, context=self._context())
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=TIMEOUT_S)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"{cfg.host}:{cfg.port}: {exc}"[:MAX_ERROR]) from None
        try:
            self._session(smtp, message, recipients, before_data)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _session(self, smtp: smtplib.SMTP, message: EmailMessage, recipients: list[str],
                 before_data: Callable[[], None]) -> None:
        import smtplib

        cfg = self.config
        try:
            smtp.ehlo()
            if cfg.security == "starttls":
                # RFC 3207 §4: a client that requires TLS must not go on without it (no downgrade).
                if not smtp.has_extn("starttls"):
                    raise SendError(f"{cfg.host}: the server offers no STARTTLS")
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if cfg.user:
                smtp.login(cfg.user, self._password())
            code, text = smtp.mail(cfg.sender)
            if code != 250:
                raise _reply_error(code, text, "MAIL FROM")
            for rcpt in recipients:
                code, text = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    raise _reply_error(code, text, f"RCPT TO {rcpt}")
            data = message.as_bytes()
        except smtplib.SMTPAuthenticationError as exc:
            # A refused login is the box's settings, not the message: it waits for the fix, then goes.
            detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise SendError(f"login refused: {exc.smtp_code} {detail}"[:MAX_ERROR]) from None
        except smtplib.SMTPResponseException as exc:
            raise _reply_error(exc.smtp_code, exc.smtp_error, "SMTP") from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise SendError(f"{cfg.host}: {type(exc).__name__}: {exc}"[:MAX_ERROR]) from None
        before_data()
        try:
            code, text = smtp.data(data)
        except smtplib.SMTPResponseException as exc:
            # The server answered DATA or its end with a refusal: it does not have the message.
            raise _reply_error(exc.smtp_code, exc.smtp_error, "DATA") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"{cfg.host}: no reply to the message's end ({type(exc).__name__}: {exc})"[:MAX_ERROR],
                            unknown=True) from None
        if code != 250:
            raise _reply_error(code, text, "DATA")


class MailSender:
    """One pass at a time over the outbox and the things the box mails of; what the thread repeats."""

    def __init__(self, db_path: str | Path, config: Callable[[], MailConfig],
                 clock: Callable[[], float] = time.time,
                 transport: Callable[[MailConfig], SmtpTransport] = SmtpTransport,
                 rand: Callable[[], float] = random.random):
        self.db_path = Path(db_path)
        self.writer = SharedWriter(db_path)  # webui/shared_writer.py: why one
        self.conn = self.writer.conn
        self.config, self.clock, self.transport, self.rand = config, clock, transport, rand
        self._pruned = 0.0
        self._overdue_at = 0.0
        # A row still `sending` was being sent when the process stopped: its fate is unknown.
        with self.writer.transaction():
            self.conn.execute("UPDATE mail_outbox SET state = 'unknown', last_error = ? WHERE state = 'sending'",
                              ["stopped while the server was taking the message: check before sending again"])

    def pass_once(self) -> bool:
        config = self.config()
        self.follow_voicemails(config)
        now = self.clock()
        if now - self._overdue_at >= OVERDUE_EVERY_S:
            self._overdue_at = now
            self.queue_overdue(config)
        if now - self._pruned >= PRUNE_EVERY_S:
            self.prune(now)
        return self.run_once(config) >= BATCH

    # --- what the box mails of ----------------------------------------------------------------------
    def follow_voicemails(self, config: MailConfig) -> int:
        """Queue a mail for each voicemail stored since the last pass whose box has an address; the first
        pass starts at the latest voicemail (mail from now on, not history)."""
        # A read first: the write lock is taken only when a voicemail changed, not every second.
        with self.writer.lock:
            cursor = self.conn.execute("SELECT value FROM settings WHERE key = ?", [VOICEMAIL_CURSOR_KEY]).fetchone()
            latest = self.conn.execute("SELECT coalesce(max(seq), 0) FROM voicemails").fetchone()[0]
        if cursor is not None and int(cursor[0]) >= latest:
            return 0
        with self.writer.transaction():
            row = self.conn.execute("SELECT value FROM settings WHERE key = ?", [VOICEMAIL_CURSOR_KEY]).fetchone()
            if row is None:
                latest = self.conn.execute("SELECT coalesce(max(seq), 0) FROM voicemails").fetchone()[0]
                self.conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)",
                                  [VOICEMAIL_CURSOR_KEY, str(latest)])
                return 0
            rows = self.conn.execute("SELECT id, seq, number, box, path, duration, created_at FROM voicemails"
                                     " WHERE seq > ? ORDER BY seq LIMIT 200", [int(row[0])]).fetchall()
            count = 0
            for vm_id, _seq, number, box, path, duration, created_at in rows:
                to = config.voicemail.get(box or "")
                if to:
                    queued = self._queue_voicemail(config.language, to, vm_id, number, box, path, duration, created_at)
                    count += queued is not None
            if rows:
                self.conn.execute("UPDATE settings SET value = ? WHERE key = ?",
                                  [str(rows[-1][1]), VOICEMAIL_CURSOR_KEY])
        return count

    def _queue_voicemail(self, language: str, to: str, vm_id: str, number: str | None, box: str, path: str,
                         duration: float | None, created_at: float) -> str | None:
        _ = translations(language).gettext
        wav = self.db_path.with_name("recordings") / (path or "")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(created_at))
        body = _("A new voicemail in box %(box)s from %(number)s at %(when)s, %(seconds)d s long.") % {
            "box": box, "number": number or _("an unknown number"), "when": when, "seconds": round(duration or 0)}
        files: list[Attachment] = []
        try:
            if wav.stat().st_size <= MAX_ATTACHMENTS:
                files.append(Attachment(f"voicemail-{when.replace(' ', '-').replace(':', '')}.wav", wav.read_bytes(),
                                        "audio/wav"))
            else:
                body += "\n" + _("The recording is too large to attach; listen to it on the box.")
        except OSError:
            body += "\n" + _("The recording could not be read; listen to it on the box.")
        subject = _("Voicemail for %(box)s from %(number)s") % {"box": box, "number": number or "?"}
        try:
            return queue_mail(self.conn, to, subject, body, files, key=f"voicemail:{vm_id}", now=self.clock())
        except MailError as exc:
            log.warning("mail: voicemail %s not queued: %s", vm_id, exc)
            return None

    def queue_overdue(self, config: MailConfig) -> int:
        """Queue an alert for each open ticket past its due time, once per ticket and state."""
        if not config.overdue_to:
            return 0
        _ = translations(config.language).gettext
        now = self.clock()
        marks = ",".join("?" * len(DONE_STATES))
        with self.writer.transaction():
            rows = self.conn.execute(
                f"SELECT id, title, state, priority, department, number, due_at FROM tickets WHERE due_at < ?"
                f" AND state NOT IN ({marks}) AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.key ="
                " 'overdue:' || tickets.id || ':' || tickets.state) ORDER BY due_at LIMIT 100",
                [now, *DONE_STATES]).fetchall()
            for ticket_id, title, state, priority, department, number, due_at in rows:
                due = time.strftime("%Y-%m-%d %H:%M", time.localtime(due_at))
                subject = _("Ticket past due: %(title)s") % {"title": (title or ticket_id)[:200]}
                body = _("The ticket %(title)s (%(state)s, priority %(priority)s, department %(department)s, "
                         "customer %(number)s) was due at %(due)s.") % {
                    "title": title or ticket_id, "state": state, "priority": priority,
                    "department": department or "-", "number": number or "-", "due": due}
                body += "\n/tickets/" + ticket_id
                queue_mail(self.conn, list(config.overdue_to), subject, body, key=f"overdue:{ticket_id}:{state}",
                           now=now)
        return len(rows)

    # --- sending --------------------------------------------------------------------------------------
    def run_once(self, config: MailConfig) -> int:
        """Try every message now due, oldest first; returns how many were tried. Nothing is tried while
        mail is not configured, and none more in this pass once the server could not be reached."""
        if not config.enabled:
            return 0
        with self.writer.lock:
            due = self.conn.execute("SELECT id, message_id, recipients, subject, body, attempts, created_at"
                                    " FROM mail_outbox WHERE state = 'pending' AND next_at <= ? ORDER BY id LIMIT ?",
                                    [self.clock(), BATCH]).fetchall()
        tried = 0
        for mail_id, message_id, recipients, subject, body, attempts, created_at in due:
            tried += 1
            row = {"message_id": message_id, "recipients": json.loads(recipients), "subject": subject,
                   "body": body, "created_at": created_at}
            with self.writer.lock:
                files = [Attachment(*a) for a in self.conn.execute(
                    "SELECT filename, data, content_type FROM mail_attachments WHERE mail_id = ? ORDER BY id",
                    [mail_id])]
            try:
                self.transport(config).send(build(row, files, config), row["recipients"],
                                            functools.partial(self._mark_sending, mail_id))
            except SendError as exc:
                self._failed(mail_id, attempts + 1, created_at, exc)
                if not (exc.permanent or exc.unknown):
                    break
                continue
            with self.writer.transaction():
                now = self.clock()
                self.conn.execute("UPDATE mail_outbox SET state = 'sent', attempts = ?, last_at = ?, sent_at = ?,"
                                  " last_error = NULL WHERE id = ?", [attempts + 1, now, now, mail_id])
        return tried

    def _mark_sending(self, mail_id: int) -> None:
        with self.writer.transaction():
            self.conn.execute("UPDATE mail_outbox SET state = 'sending', last_at = ? WHERE id = ?",
                              [self.clock(), mail_id])

    def _failed(self, mail_id: int, attempts: int, created_at: float, exc: SendError) -> None:
        now = self.clock()
        if exc.unknown:
            state = "unknown"
        elif exc.permanent or now - created_at >= GIVE_UP_AFTER_S:
            state = "failed"
        else:
            state = "pending"
        with self.writer.transaction():
            self.conn.execute("UPDATE mail_outbox SET state = ?, attempts = ?, last_at = ?, last_error = ?,"
                              " next_at = ? WHERE id = ?",
                              [state, attempts, now, str(exc)[:MAX_ERROR], now + backoff(attempts, self.rand), mail_id])
        log.info("mail %d not sent (attempt %d, %s): %s", mail_id, attempts, state, exc)

    def prune(self, now: float) -> None:
        """Forget messages sent or failed more than KEEP_S ago, with their attachments."""
        with self.writer.transaction():
            old = "SELECT id FROM mail_outbox WHERE state IN ('sent', 'failed') AND last_at < ?"
            self.conn.execute(f"DELETE FROM mail_attachments WHERE mail_id IN ({old})", [now - KEEP_S])
            self.conn.execute(f"DELETE FROM mail_outbox WHERE id IN ({old})", [now - KEEP_S])
        self._pruned = now

    def close(self) -> None:
        self.writer.close()


__all__ = ["MailSender", "SendError", "SiteMail", "SmtpTransport", "build"]
