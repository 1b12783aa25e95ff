"""site.toml's [mail] and [sms] tables, read and checked: the SMTP server the web process sends mail
through, and what the engine does with the GSM modem's texts. No numpy here: the web process reads it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from firmware.config.site_keys import LANGUAGES

from typed_toml import N_, Section

# An address as the configuration takes it: local@domain, no display name, no spaces (RFC 5321 §4.1.2's
# Mailbox, less quoted local parts, which no branch's mail system needs).
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
MAX_ADDRESS = 254
# Submission (RFC 6409 §3.1) is port 587 with STARTTLS (RFC 3207); 465 is implicit TLS (RFC 8314 §3.3).
SECURITY = ("starttls", "tls", "none")
DEFAULT_PORT = {"starttls": 587, "tls": 465, "none": 25}
MAX_RECIPIENTS = 20
# The keywords of a text that asks to be called back, in both languages of the box; a technician may set
# others (`[sms] callback_keywords`).
CALLBACK_KEYWORDS = ("回电", "回电话", "call me", "callback", "call back")


@dataclass(frozen=True)
class MailConfig:
    """Where mail goes; `host` empty: mail is queued but not sent (nothing configured yet)."""
    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    # The SMTP password lives in a file readable by the service user alone (never in site.toml, which
    # the pages show and the backups carry): its path, read at each send.
    password_file: str = ""
    sender: str = ""
    # A server whose certificate an in-house CA signed: that CA's PEM file (empty: the system's CAs).
    ca_file: str = ""
    # Who gets the alert of a ticket past its SLA due time.
    overdue_to: tuple[str, ...] = ()
    # Voicemail box name -> the address told of each new message (the WAV attached).
    voicemail: dict[str, str] = field(default_factory=dict)
    # The language the box's own mail is written in: the site's ([box] language, checked by site.py).
    language: str = "en"

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.sender)


@dataclass(frozen=True)
class SmsConfig:
    """What the engine does with texts: a satisfaction text after each answered call (empty: none), and
    the keywords of a reply that asks to be called back, into which queue."""
    after_call: str = ""
    callback_keywords: tuple[str, ...] = CALLBACK_KEYWORDS
    callback_queue: str = ""


def check_address(sec: Section, key: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_ADDRESS or not ADDRESS.fullmatch(value):
        raise sec.error(key, N_("expected an e-mail address like name@example.com, got %(value)s"),
                        {"value": repr(value)})
    return value


def read_mail(top: Section) -> MailConfig:
    """The [mail] table (missing: mail off); ConfigError naming a bad key."""
    sec = top.get_table("mail", {})
    security = sec.get_str("security", "starttls", choices=SECURITY)
    host = sec.get_str("host", "")
    if host and not re.fullmatch(r"[A-Za-z0-9.:\[\]-]{1,253}", host):
        raise sec.error("host", N_("expected a host name or address, got %(value)s"), {"value": repr(host)})
    sender = sec.get_str("from", "")
    if sender:
        check_address(sec, "from", sender)
    password_file = sec.get_str("password_file", "")
    ca_file = sec.get_str("ca_file", "")
    for key, path in (("password_file", password_file), ("ca_file", ca_file)):
        if path and not path.startswith("/"):
            raise sec.error(key, N_("expected an absolute path, got %(value)s"), {"value": repr(path)})
    overdue = sec.get_list("overdue_to", [])
    if len(overdue) > MAX_RECIPIENTS:
        raise sec.error("overdue_to", N_("at most %(n)s addresses"), {"n": str(MAX_RECIPIENTS)})
    boxes = sec.get_table("voicemail", {})
    voicemail = {str(box): check_address(boxes, str(box), boxes.get_any(str(box))) for box in list(boxes.data)}
    boxes.done()
    box = top.data.get("box")
    language = box.get("language") if isinstance(box, dict) else None
    cfg = MailConfig(language=language if language in LANGUAGES else "en", host=host,
                     port=sec.get_int("port", DEFAULT_PORT[security], 1, 65535), security=security,
                     user=sec.get_str("user", ""), password_file=password_file, sender=sender, ca_file=ca_file,
                     overdue_to=tuple(check_address(sec, "overdue_to", a) for a in overdue), voicemail=voicemail)
    if host and not sender:
        raise sec.error("from", N_("required with host: the address mail is sent from"), {})
    sec.done()
    return cfg


def read_sms(top: Section) -> SmsConfig:
    """The [sms] table (missing: the defaults)."""
    sec = top.get_table("sms", {})
    # TS 23.038: 70 UCS-2 characters fill one message; a satisfaction question longer than three parts is
    # a letter, not a text.
    after_call = sec.get_str("after_call", "")
    if len(after_call) > 3 * 67:
        raise sec.error("after_call", N_("at most %(n)s characters"), {"n": str(3 * 67)})
    keywords = sec.get_list("callback_keywords", list(CALLBACK_KEYWORDS))
    if not all(0 < len(k.strip()) <= 20 for k in keywords):
        raise sec.error("callback_keywords", N_("each keyword 1 to 20 characters"), {})
    cfg = SmsConfig(after_call=after_call, callback_keywords=tuple(k.strip().lower() for k in keywords),
                    callback_queue=sec.get_str("callback_queue", ""))
    sec.done()
    return cfg


__all__ = ["ADDRESS", "CALLBACK_KEYWORDS", "MAX_RECIPIENTS", "MailConfig", "SECURITY", "SmsConfig",
           "check_address", "read_mail", "read_sms"]
