"""Mail (issue 16 item 6): the outbox sends through a real SMTP server started here, over STARTTLS with a
certificate made here; it survives a restart, sends each message once, and never resends by itself a
message the server may already have; voicemail notifications carry the WAV; overdue tickets alert once per
state."""
from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from firmware.config.messaging import MailConfig
from firmware.store import connect, write_transaction
from webui.mail import Attachment, MailError, queue_mail, recent, send_again
from webui.mail_delivery import MailSender

T0 = 1_700_000_000.0


class Clock:
    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client trusts it as its CA file)."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    """A port free now (aiosmtpd's controller connects to its own port to know it runs, so not 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the server accepted, and faults: `refuse` answers the message's end with that reply,
    `drop_after_accept` keeps the message and drops the connection before the reply."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = ""
        self.drop_after_accept = False
        self.starttls_seen = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.starttls_seen += session.ssl is not None
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        if self.drop_after_accept:
            server.transport.close()
        return "250 OK queued"


@pytest.fixture
def smtp(certificate):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def config(smtp, certificate, **changes) -> MailConfig:
    fields = {"host": "127.0.0.1", "port": smtp.port, "sender": "branch-001@example.com",
              "ca_file": str(certificate[0])}
    return MailConfig(**{**fields, **changes})


def sender(db_path, cfg: MailConfig, clock: Clock) -> MailSender:
    return MailSender(db_path, lambda: cfg, clock, rand=lambda: 0.0)


def test_a_queued_message_goes_out_once_over_starttls_with_its_attachment(db_path, smtp, certificate):
    clock = Clock()
    conn = connect(db_path)
    message_id = queue_mail(conn, ["li@example.com", "wang@example.com"], "Daily report 日报", "Calls: 42\n",
                            [Attachment("report.csv", b"queue,calls\nsales,42\n", "text/csv")], now=clock())
    mailer = sender(db_path, config(smtp, certificate), clock)
    mailer.pass_once()
    mailer.pass_once()
    assert len(smtp.messages) == 1 and smtp.starttls_seen == 1
    got = smtp.messages[0]
    assert got["Message-ID"] == message_id and got["Subject"] == "Daily report 日报"
    assert smtp.envelopes[0] == ("branch-001@example.com", ["li@example.com", "wang@example.com"])
    parts = {p.get_filename(): p.get_content() for p in got.iter_attachments()}
    assert parts == {"report.csv": "queue,calls\nsales,42\n"}
    assert recent(conn)[0]["state"] == "sent"
    mailer.close()
    conn.close()


def test_a_server_without_starttls_gets_nothing_when_starttls_is_required(db_path, certificate):
    box = Mailbox()
    plain = Controller(box, hostname="127.0.0.1", port=free_port())
    plain.start()
    try:
        box.port = plain.port
        conn = connect(db_path)
        queue_mail(conn, "li@example.com", "Hello", "x", now=T0)
        mailer = sender(db_path, config(box, certificate), Clock())
        mailer.pass_once()
        assert box.messages == []
        row = recent(conn)[0]
        assert row["state"] == "pending" and "STARTTLS" in row["last_error"]
        mailer.close()
        conn.close()
    finally:
        plain.stop()


def test_an_untrusted_certificate_is_refused(db_path, smtp, certificate):
    conn = connect(db_path)
    queue_mail(conn, "li@example.com", "Hello", "x", now=T0)
    mailer = sender(db_path, config(smtp, certificate, ca_file=""), Clock())
    mailer.pass_once()
    assert smtp.messages == [] and "CERTIFICATE" in recent(conn)[0]["last_error"].upper()
    mailer.close()
    conn.close()


def test_the_outbox_survives_a_restart_while_the_server_is_down(db_path, smtp, certificate, tmp_path):
    clock = Clock()
    conn = connect(db_path)
    queue_mail(conn, "li@example.com", "Hello", "x", now=clock())
    down = sender(db_path, config(smtp, certificate, port=1), clock)   # nothing listens on port 1
    down.pass_once()
    assert recent(conn)[0]["state"] == "pending" and recent(conn)[0]["attempts"] == 1
    down.close()
    clock.t += 3600
    restarted = sender(db_path, config(smtp, certificate), clock)
    restarted.pass_once()
    restarted.pass_once()
    assert len(smtp.messages) == 1 and recent(conn)[0]["state"] == "sent"
    restarted.close()
    conn.close()


def test_a_permanent_refusal_fails_and_a_temporary_one_is_retried_later(db_path, smtp, certificate):
    clock = Clock()
    conn = connect(db_path)
    queue_mail(conn, "li@example.com", "Hello", "x", now=clock())
    mailer = sender(db_path, config(smtp, certificate), clock)
    smtp.refuse = "451 4.3.0 try later"
    mailer.pass_once()
    assert recent(conn)[0]["state"] == "pending"
    mailer.pass_once()                      # not due yet: the backoff holds it
    assert recent(conn)[0]["attempts"] == 1
    clock.t += 3600
    smtp.refuse = "554 5.7.1 rejected"
    mailer.pass_once()
    row = recent(conn)[0]
    assert row["state"] == "failed" and "554" in row["last_error"] and smtp.messages == []
    mailer.close()
    conn.close()


def test_a_message_whose_acceptance_was_not_heard_is_not_resent_until_a_person_says_so(db_path, smtp, certificate):
    clock = Clock()
    conn = connect(db_path)
    queue_mail(conn, "li@example.com", "Hello", "x", now=clock())
    mailer = sender(db_path, config(smtp, certificate), clock)
    smtp.drop_after_accept = True
    mailer.pass_once()
    assert len(smtp.messages) == 1
    row = recent(conn)[0]
    assert row["state"] == "unknown"
    smtp.drop_after_accept = False
    for _ in range(3):
        clock.t += 86400
        mailer.pass_once()
    assert len(smtp.messages) == 1
    with write_transaction(conn):
        assert send_again(conn, row["id"], clock())
    mailer.pass_once()
    assert len(smtp.messages) == 2 and smtp.messages[1]["Message-ID"] == smtp.messages[0]["Message-ID"]
    mailer.close()
    conn.close()


def test_a_crash_while_the_server_took_the_message_leaves_it_unknown_after_restart(db_path, smtp, certificate):
    conn = connect(db_path)
    queue_mail(conn, "li@example.com", "Hello", "x", now=T0)
    with write_transaction(conn):            # the state a crash inside DATA leaves behind
        conn.execute("UPDATE mail_outbox SET state = 'sending'")
    mailer = sender(db_path, config(smtp, certificate), Clock())
    mailer.pass_once()
    assert smtp.messages == [] and recent(conn)[0]["state"] == "unknown"
    mailer.close()
    conn.close()


def test_bad_messages_are_refused_at_queueing(db_path):
    conn = connect(db_path)
    for to, subject, files in (("not an address", "s", []), ([], "s", []), ("a@example.com", "two\nlines", []),
                               ("a@example.com", "s", [Attachment("big.bin", b"x" * (8 << 20))])):
        with pytest.raises(MailError):
            queue_mail(conn, to, subject, "body", files)
    assert recent(conn) == []
    conn.close()


def test_a_new_voicemail_is_mailed_to_its_box_address_with_the_wav(db_path, smtp, certificate):
    clock = Clock()
    conn = connect(db_path)
    cfg = config(smtp, certificate, voicemail={"sales": "sales-lead@example.com"})
    mailer = sender(db_path, cfg, clock)
    mailer.pass_once()                       # starts following from here
    wav = db_path.with_name("recordings") / "vm" / "a.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF" + bytes(range(256)) * 4)
    with write_transaction(conn):
        for box in ("sales", "service"):
            conn.execute("INSERT INTO voicemails (id, number, box, path, duration, created_at) VALUES (?, ?, ?, ?,"
                         " ?, ?)", [uuid.uuid4().hex, "13800138000", box, "vm/a.wav", 12.4, clock()])
    mailer.pass_once()
    mailer.pass_once()
    assert len(smtp.messages) == 1
    got = smtp.messages[0]
    assert smtp.envelopes[0][1] == ["sales-lead@example.com"] and "13800138000" in got["Subject"]
    (part,) = list(got.iter_attachments())
    assert part.get_content_type() == "audio/wav" and part.get_content() == wav.read_bytes()
    mailer.close()
    conn.close()


def test_an_overdue_ticket_alerts_once_per_state(db_path, smtp, certificate):
    clock = Clock()
    conn = connect(db_path)
    with write_transaction(conn):
        for ticket, due, state in (("t-late", clock() - 60, "new"), ("t-done", clock() - 60, "resolved"),
                                   ("t-ok", clock() + 3600, "new")):
            conn.execute("INSERT INTO tickets (id, category, priority, state, title, created_at, updated_at, due_at)"
                         " VALUES (?, 'repair', 'high', ?, ?, ?, ?, ?)", [ticket, state, ticket, T0, T0, due])
    mailer = sender(db_path, config(smtp, certificate, overdue_to=("boss@example.com",)), clock)
    mailer.pass_once()
    clock.t += 120
    mailer.pass_once()
    assert [m["Subject"] for m in smtp.messages] == ["Ticket past due: t-late"]
    with write_transaction(conn):
        conn.execute("UPDATE tickets SET state = 'in_progress' WHERE id = 't-late'")
    clock.t += 120
    mailer.pass_once()
    mailer.pass_once()
    assert len(smtp.messages) == 2 and "in_progress" in smtp.messages[1].get_body().get_content()
    mailer.close()
    conn.close()
