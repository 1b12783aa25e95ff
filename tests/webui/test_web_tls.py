"""HTTPS on the box (webui/tls.py, webui/tls_front.py, webui/certificate.py): a self-signed certificate made at
first start with its key kept 0600, an admin's upload checked before use, the relay marking only its own
requests HTTPS with their real client, plain HTTP from off the box sent to HTTPS, Secure cookies and HSTS."""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import time
import logging
import socket
import ssl
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from webui import tls
from webui.server import make_server, start_https
from webui.tls_front import Certificates, Entry, TlsFront

BOX_NAME = "branch-7"


def openssl_cert(directory: Path, name: str, days: int = 30) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a fresh self-signed certificate for `name`."""
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", f"/CN={name}"],
                   check=True, capture_output=True)
    return cert.read_text(), key.read_text()


def test_first_start_makes_a_self_signed_certificate_whose_key_only_the_box_reads(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    now = time.time()
    info = tls.ensure(tmp_path, now)
    made = time.time()   # openssl stamps its own clock, in whole seconds (RFC 5280 §4.1.2.5)
    pem = tls.server_pem(tmp_path)
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(pem.parent.stat().st_mode) == 0o700
    assert info.self_signed and int(now) <= info.not_before <= made < info.not_after
    # Apple's platforms refuse a server certificate valid for more than 825 days.
    assert info.not_after - info.not_before <= 825 * 86400
    key = pem.read_text().split("-----BEGIN CERTIFICATE-----")[0]
    assert "PRIVATE KEY" in key
    assert key.strip().splitlines()[1] not in caplog.text
    assert info.fingerprint_sha256 in caplog.text    # public: what HQ pins
    # A second start keeps it: head office's pin stays good.
    assert tls.ensure(tmp_path, now + 86400).fingerprint_sha256 == info.fingerprint_sha256


def test_an_expired_self_made_certificate_is_made_anew(tmp_path):
    first = tls.ensure(tmp_path, time.time())
    again = tls.ensure(tmp_path, first.not_after + 1)
    assert again.fingerprint_sha256 != first.fingerprint_sha256


def test_an_upload_is_taken_only_if_pem_matching_and_in_date(tmp_path):
    cert, key = openssl_cert(tmp_path, BOX_NAME)
    _, other_key = openssl_cert(tmp_path, "other")
    info = tls.describe(cert)
    now = info.not_before + 60
    combined, checked = tls.check(cert, key, now)
    assert checked.fingerprint_sha256 == info.fingerprint_sha256 and "PRIVATE KEY" in combined
    refusals = {
        "the key and certificate do not go together": (cert, other_key, now),
        "expired": (cert, key, info.not_after + 1),
        "not valid before": (cert, key, info.not_before - 3600),
        "no PEM certificate": ("not a certificate", key, now),
        "no PEM private key": (cert, "not a key", now),
        "holds a private key": (key + cert, key, now),
    }
    for reason, (c, k, when) in refusals.items():
        with pytest.raises(tls.TlsError, match=reason):
            tls.check(c, k, when)


def test_an_encrypted_key_is_refused_without_waiting_for_a_passphrase(tmp_path):
    cert, key = openssl_cert(tmp_path, BOX_NAME)
    encrypted = subprocess.run(["openssl", "pkcs8", "-topk8", "-passout", "pass:secret-phrase"], input=key,
                               capture_output=True, text=True, check=True).stdout
    with pytest.raises(tls.TlsError, match="encrypted"):
        tls.check(cert, encrypted, tls.describe(cert).not_before + 60)


def test_admins_upload_a_certificate_audited_without_its_key(admin, tmp_path, db_path, clock, add_user):
    cert, key = openssl_cert(tmp_path, BOX_NAME)
    info = tls.describe(cert)
    clock.now = info.not_before + 60
    csrf = admin.csrf("/certificate")
    assert admin.get("/api/v1/tls/certificate").status == 404
    reply = admin.request("PUT", "/api/v1/tls/certificate", json_body={"certificate": cert, "key": key},
                          headers={"X-CSRF-Token": csrf})
    assert reply.status == 200 and reply.json()["fingerprint_sha256"] == info.fingerprint_sha256
    assert "PRIVATE" not in reply.text
    served = tls.server_pem(db_path.parent)
    assert stat.S_IMODE(served.stat().st_mode) == 0o600
    assert admin.get("/api/v1/tls/certificate").json()["subject"] == f"CN={BOX_NAME}"
    entries = admin.get("/api/v1/audit?action=tls.certificate").json()["entries"]
    assert [e["target"] for e in entries] == [f"CN={BOX_NAME}"]
    assert "PRIVATE" not in json.dumps(entries) and key.splitlines()[1] not in json.dumps(entries)
    # A bad upload leaves the one in use alone and says why.
    _, other_key = openssl_cert(tmp_path, "other")
    refused = admin.request("PUT", "/api/v1/tls/certificate", json_body={"certificate": cert, "key": other_key},
                            headers={"X-CSRF-Token": csrf})
    assert refused.status == 400 and "do not go together" in refused.json()["error"]
    assert tls.describe(served.read_text()).fingerprint_sha256 == info.fingerprint_sha256
    page = admin.get("/certificate")
    assert info.fingerprint_sha256 in page.text and 'href="/certificate"' in page.text
    supervisor = add_user("sup", "supervisor")
    assert supervisor.get("/api/v1/tls/certificate").status == 403
    assert supervisor.get("/certificate").status == 403
    assert 'href="/certificate"' not in supervisor.get("/").text


def pattern(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


def echo_app(environ, start_response):
    """What the app behind the entry learns of a request (as JSON, and in X-Seen with the body's SHA-256);
    `?reply=N` answers N bytes instead."""
    sent = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) if "wsgi.input" in environ else b""
    seen = {key: environ.get(key) for key in ("REMOTE_ADDR", "REMOTE_PORT", "wsgi.url_scheme",
                                              "HTTP_X_FORWARDED_PROTO")}
    query = environ.get("QUERY_STRING", "")
    body = pattern(int(query.split("=")[1])) if query.startswith("reply=") else json.dumps(seen).encode()
    seen["body_sha256"] = hashlib.sha256(sent).hexdigest()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                              ("X-Seen", json.dumps(seen))])
    return [body]


@pytest.fixture
def relayed(tmp_path):
    """The box's server with echo_app behind the HTTPS relay: (front, plain port, https port, pinned context)."""
    tls.ensure(tmp_path, time.time())
    server = make_server(echo_app, "127.0.0.1", 0)
    front = start_https(tmp_path, server, "127.0.0.1", 0, time.time())
    server.prepare()
    threads = [threading.Thread(target=server.serve, daemon=True), threading.Thread(target=front.serve, daemon=True)]
    for thread in threads:
        thread.start()
    context = ssl.create_default_context(cafile=str(tls.server_pem(tmp_path)))
    context.check_hostname = False
    yield front, server.bind_addr[1], front.bind_addr[1], context
    front.stop()
    server.stop()
    for thread in threads:
        thread.join(5)
    front.close()


def test_requests_over_the_relay_are_https_from_their_real_client(relayed):
    front, _, https_port, context = relayed
    conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=context, timeout=5)
    conn.connect()
    own_port = conn.sock.getsockname()[1]
    for _ in range(3):    # keep-alive: every request of the connection
        conn.request("GET", "/x", headers={"X-Forwarded-Proto": "http"})
        seen = json.loads(conn.getresponse().read())
        assert seen == {"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": str(own_port), "wsgi.url_scheme": "https",
                        "HTTP_X_FORWARDED_PROTO": None}
    conn.close()


def test_a_large_body_and_reply_cross_the_relay_whole(relayed):
    _, _, https_port, context = relayed
    big = bytes(range(256)) * 2500     # 640 KB each way: many TLS records, the relay's buffers filled
    conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=context, timeout=10)
    conn.request("POST", "/echo?reply=700000", body=big)
    reply = conn.getresponse()
    seen = json.loads(reply.getheader("X-Seen"))
    assert seen["body_sha256"] == hashlib.sha256(big).hexdigest()
    assert reply.read() == pattern(700000)
    conn.close()


def test_plain_http_on_the_box_itself_stays_plain_and_cannot_claim_https(relayed):
    _, plain_port, _, _ = relayed
    conn = http.client.HTTPConnection("127.0.0.1", plain_port, timeout=5)
    conn.request("GET", "/x", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9",
                                       "Forwarded": "for=203.0.113.9;proto=https"})
    seen = json.loads(conn.getresponse().read())
    assert seen["wsgi.url_scheme"] == "http" and seen["REMOTE_ADDR"] == "127.0.0.1"
    assert seen["HTTP_X_FORWARDED_PROTO"] is None
    conn.close()


def test_garbage_on_the_https_port_is_dropped_and_others_are_still_served(relayed):
    _, _, https_port, context = relayed
    for junk in (b"GET / HTTP/1.1\r\nHost: box\r\n\r\n", b"\x16\x03\x01\x00\x05hello", b"\x00" * 4096):
        with socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw:
            raw.sendall(junk)
            try:
                while raw.recv(65536):      # a TLS alert at most, then the relay closes (no timeout)
                    pass
            except ConnectionResetError:
                pass
    conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=context, timeout=5)
    conn.request("GET", "/x")
    assert json.loads(conn.getresponse().read())["wsgi.url_scheme"] == "https"
    conn.close()


def test_a_client_that_never_finishes_its_handshake_is_dropped(tmp_path):
    tls.ensure(tmp_path, time.time())
    now = [0.0]
    front = TlsFront("127.0.0.1", 0, ("127.0.0.1", 9), Certificates(tls.server_pem(tmp_path)), connections=4,
                     clock=lambda: now[0])
    silent = socket.create_connection(front.bind_addr)
    front._accept()
    assert len(front.pipes) == 1
    now[0] = 19.0
    front._expire()
    assert len(front.pipes) == 1
    now[0] = 21.0
    front._expire()
    assert not front.pipes
    silent.close()
    front.listener.close()
    front.close()


class NoRelay:
    def client_of(self, peer):
        return None


def wsgi(app, environ: dict) -> tuple[str, dict, bytes]:
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "box.test",
            "REMOTE_PORT": "50000", "wsgi.url_scheme": "http"}
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)
    body = b"".join(app({**base, **environ}, start_response))
    return captured["status"], captured["headers"], body


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_plain_http_from_the_lan_goes_to_https_keeping_path_query_and_method(method):
    status, headers, body = wsgi(Entry(echo_app, NoRelay(), 8443),
                                 {"REQUEST_METHOD": method, "REMOTE_ADDR": "192.0.2.7", "HTTP_HOST": "branch-7:8080",
                                  "PATH_INFO": "/calls/abc", "QUERY_STRING": "page=2"})
    assert status.startswith("308")     # RFC 9110 §15.4.9: a POST stays a POST, its body resent
    assert headers["Location"] == "https://branch-7:8443/calls/abc?page=2"
    assert b"password" not in body


@pytest.mark.parametrize("host, expected", [("[fe80::1]:8080", "https://[fe80::1]:8443/"),
                                            ("10.1.2.3", "https://10.1.2.3:8443/"),
                                            ("evil.example/x?", "https://localhost:8443/"),
                                            ("a b", "https://localhost:8443/")])
def test_the_redirect_names_only_the_host_the_client_asked_for(host, expected):
    _, headers, _ = wsgi(Entry(echo_app, NoRelay(), 8443), {"REMOTE_ADDR": "192.0.2.7", "HTTP_HOST": host})
    assert headers["Location"] == expected


def test_over_https_the_session_cookie_is_secure_and_replies_carry_hsts(app, client, password):
    client.setup("admin", password)
    plain = client.login("admin", password)
    assert "Secure" not in plain.header("Set-Cookie")
    assert plain.header("Strict-Transport-Security") is None
    # The relay marks its requests with the environ's scheme (no header can).
    status, headers, _ = request_with_environ(app, "GET", "/login", {"wsgi.url_scheme": "https"})
    assert headers.get("Strict-Transport-Security", "").startswith("max-age=")
    assert "Secure" in headers["Set-Cookie"]
    status, headers, _ = request_with_environ(app, "GET", "/no/such/page", {"wsgi.url_scheme": "https"})
    assert status.startswith("404") and "Strict-Transport-Security" in headers
    status, headers, _ = request_with_environ(app, "GET", "/login", {"HTTP_X_FORWARDED_PROTO": "https"})
    assert "Strict-Transport-Security" not in headers and "Secure" not in headers["Set-Cookie"]


def request_with_environ(app, method: str, path: str, extra: dict) -> tuple[str, dict, bytes]:
    environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_NAME": "box.test", "SERVER_PORT": "8443", "HTTP_HOST": "box.test",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.10", "wsgi.input": io.BytesIO(b""),
               "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": True,
               "wsgi.multiprocess": False, "wsgi.run_once": False, "CONTENT_LENGTH": "0", **extra}
    return wsgi(app, environ)
