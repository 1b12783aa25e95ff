"""The box's TLS certificate: one PEM file (key and chain) in the state directory, made self-signed at first
start with the openssl CLI, or replaced by one an admin uploads once it has been checked.

The key never leaves `<state>/tls/` (0700, the file 0600), is never in the repository, and is never logged;
what the box shows of it is the certificate's SHA-256 fingerprint, which head office pins (hq/collector.py)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import ssl
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

TLS_DIR = "tls"
SERVER_PEM = "server.pem"
# The CA/Browser Forum's baseline limit was 825 days when Apple made it a rule for certificates a device
# trusts (iOS 13, macOS 10.15); a longer self-signed one is refused by those browsers even once trusted.
SELF_SIGNED_DAYS = 825
# What an upload may be: a key and a chain of a few certificates are a few KiB.
PEM_MAX = 64 * 1024
OPENSSL_TIMEOUT_S = 30.0
# A certificate issued minutes ago by a clock a little ahead of the box's is taken (RFC 5280 §4.1.2.5 leaves
# skew to the relying party; 5 minutes is Kerberos's default allowance, RFC 4120 §1.7).
CLOCK_SKEW_S = 300.0
# RFC 7468 §2: the labels of the PEM blocks the file holds.
CERT_BEGIN = "-----BEGIN CERTIFICATE-----"
KEY_BEGINS = ("-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----")
ENCRYPTED_KEY = "-----BEGIN ENCRYPTED PRIVATE KEY-----"


class TlsError(Exception):
    """The certificate cannot be made, read or taken; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class CertInfo:
    """What the box shows of its certificate: never the key."""

    subject: str
    issuer: str
    not_before: float
    not_after: float
    fingerprint_sha256: str
    certificate: str    # the PEM of the leaf certificate, public

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer

    def as_json(self) -> dict:
        return {**dataclasses.asdict(self), "self_signed": self.self_signed}


def server_pem(state_dir: str | Path) -> Path:
    return Path(state_dir) / TLS_DIR / SERVER_PEM


def _openssl(*args: str, stdin: str | None = None) -> str:
    import subprocess  # on first use, not at the web process's start (docs/architecture.md "Memory")

    try:
        done = subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True,
                              timeout=OPENSSL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TlsError(f"openssl {args[0]}: {exc}") from None
    if done.returncode != 0:
        # openssl's first error line names the problem; a key is never echoed on stderr.
        first = (done.stderr.strip().splitlines() or ["no reason given"])[0]
        raise TlsError(f"openssl {args[0]} failed: {first}")
    return done.stdout


def _asn1_time(text: str) -> float:
    # openssl x509 -dates prints e.g. "Dec  7 11:41:20 2026 GMT" (RFC 5280 §4.1.2.5, always GMT).
    return dt.datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=dt.timezone.utc).timestamp()


def describe(pem: str) -> CertInfo:
    """The first certificate of `pem` (leaf first, RFC 8446 §4.4.2), as CertInfo; TlsError if there is none."""
    start = pem.find(CERT_BEGIN)
    end = pem.find("-----END CERTIFICATE-----", start)
    if start < 0 or end < 0:
        raise TlsError("no PEM certificate (-----BEGIN CERTIFICATE-----) in what was given")
    leaf = pem[start:end + len("-----END CERTIFICATE-----")] + "\n"
    fields = {}
    for line in _openssl("x509", "-noout", "-subject", "-issuer", "-startdate", "-enddate", "-fingerprint",
                         "-sha256", "-nameopt", "RFC2253", stdin=leaf).splitlines():
        key, _, value = line.partition("=")
        fields[key.strip().lower()] = value.strip()
    try:
        return CertInfo(subject=fields["subject"], issuer=fields["issuer"],
                        not_before=_asn1_time(fields["notbefore"]), not_after=_asn1_time(fields["notafter"]),
                        fingerprint_sha256=fields["sha256 fingerprint"], certificate=leaf)
    except (KeyError, ValueError) as exc:
        raise TlsError(f"openssl x509 printed no {exc}") from None


def _no_passphrase() -> bytes:
    # The box starts unattended: a key that needs a passphrase could never be loaded at boot.
    raise TlsError("the private key is encrypted: upload it without a passphrase")


def context_for(path: Path) -> ssl.SSLContext:
    """A server context with the key and chain of `path`; TlsError if they are unreadable or do not match."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # RFC 8996: TLS 1.0 and 1.1 are deprecated; every browser a branch runs speaks 1.2 and 1.3.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # TLS 1.2 renegotiation, which a client could ask for again and again at the box's CPU cost (RFC 5746
    # made it safe, not cheap); TLS 1.3 has none.
    context.options |= ssl.OP_NO_RENEGOTIATION
    try:
        context.load_cert_chain(path, password=_no_passphrase)
    except ssl.SSLError as exc:
        # OpenSSL's "key values mismatch" when the key is not the certificate's.
        raise TlsError(f"{path.name}: the key and certificate do not go together or are not PEM "
                       f"({exc.reason or exc})") from None
    except OSError as exc:
        raise TlsError(f"{path}: {exc.strerror or exc}") from None
    return context


def check(certificate: str, key: str, now: float) -> tuple[str, CertInfo]:
    """The PEM file to serve (key then chain) made of an upload, and its leaf's details; TlsError saying why
    the upload cannot be used: not PEM, key encrypted or not the certificate's, expired or not yet valid."""
    if len(certificate) + len(key) > PEM_MAX:
        raise TlsError(f"the certificate and key together are over {PEM_MAX // 1024} KiB")
    if ENCRYPTED_KEY in key:
        raise TlsError("the private key is encrypted: upload it without a passphrase")
    if not any(begin in key for begin in KEY_BEGINS):
        raise TlsError("no PEM private key (-----BEGIN PRIVATE KEY-----) in what was given as the key")
    if "PRIVATE KEY-----" in certificate:
        raise TlsError("the certificate field holds a private key: give the key in its own field")
    info = describe(certificate)
    if now + CLOCK_SKEW_S < info.not_before:
        raise TlsError(f"the certificate is not valid before {_iso(info.not_before)}")
    if now >= info.not_after:
        raise TlsError(f"the certificate expired on {_iso(info.not_after)}")
    combined = key.strip() + "\n" + certificate.strip() + "\n"
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / SERVER_PEM
        trial.write_text(combined)
        context_for(trial)
    return combined, info


def _iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def install_pem(state_dir: str | Path, combined: str) -> Path:
    """Write `combined` (key and chain) as the box's certificate, 0600, atomically: the TLS listener takes it
    for its next connection (webui/tls_front.py) and a crash leaves the old file or the new one, never half."""
    path = server_pem(state_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")   # mkstemp(3): mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write(combined)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)   # the rename itself survives a power cut (D1)
    finally:
        os.close(directory)
    return path


def make_self_signed(state_dir: str | Path, hostname: str | None = None) -> Path:
    """A new self-signed certificate for this box (ECDSA P-256, SELF_SIGNED_DAYS), installed as its own."""
    name = hostname or socket.gethostname() or "branchline"
    names = [f"DNS:{name}", "DNS:localhost", "IP:127.0.0.1"]
    if "." not in name:
        names.insert(1, f"DNS:{name}.local")   # mDNS (RFC 6762): how a branch's browsers often reach the box
    path = server_pem(state_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        key, cert = Path(scratch) / "key.pem", Path(scratch) / "cert.pem"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", str(key), "-out", str(cert), "-days", str(SELF_SIGNED_DAYS),
                 "-subj", f"/CN={name}/O=Branchline", "-addext", "subjectAltName=" + ",".join(names),
                 "-addext", "extendedKeyUsage=serverAuth")
        return install_pem(state_dir, key.read_text().strip() + "\n" + cert.read_text())


def ensure(state_dir: str | Path, now: float) -> CertInfo:
    """The box's certificate, made self-signed first if there is none or the self-made one has expired
    (an uploaded one that expired is kept: replacing it is the admin's choice, and the log says so)."""
    path = server_pem(state_dir)
    if path.exists():
        info = describe(path.read_text())
        if now < info.not_after:
            return info
        if not info.self_signed:
            log.warning("the uploaded TLS certificate expired on %s: upload a new one", _iso(info.not_after))
            return info
        log.warning("the self-signed TLS certificate expired on %s: making a new one", _iso(info.not_after))
    info = describe(make_self_signed(state_dir).read_text())
    # The fingerprint is public: head office pins it (hq/collector.py), so it is logged where a
    # technician can read it.
    log.info("TLS certificate made: %s, SHA-256 fingerprint %s", info.subject, info.fingerprint_sha256)
    return info
