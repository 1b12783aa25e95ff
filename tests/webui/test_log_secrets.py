"""No password or token ever reaches the logs: the web process's log file after every flow that handles
one, and the masking applied to whatever a message quotes."""
import logging

import pytest

from firmware.core import logfiles
from webui import tls


@pytest.fixture
def web_log(tmp_path):
    """The web process's logging as `branchline web` sets it up (DEBUG, so every line is kept); restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    path = logfiles.configure(tmp_path / "state", "web", logging.DEBUG)
    yield path
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = saved[0], saved[1]


def test_sign_in_and_hq_token_flows_leave_no_secret_in_the_log(web_log, client, make_client, password):
    assert client.setup("admin", password).status == 303
    assert make_client().login("admin", password + "x").status in (400, 401)   # refused
    assert client.login("admin", password).status == 303
    token = client.api_post("/api/v1/hq/tokens", {"name": "HQ"}).json()
    assert client.get("/api/v1/sync/changes", headers={"Authorization": f"Bearer {token['token']}"}).status == 200
    assert client.get("/api/v1/sync/changes", headers={"Authorization": f"Bearer {token['token']}x"}).status == 401
    client.api_post(f"/api/v1/hq/tokens/{token['id']}/revoke")
    assert client.get("/api/v1/sync/changes", headers={"Authorization": f"Bearer {token['token']}"}).status == 401
    # A script that puts a secret where it does not belong (a query string) is logged without it.
    logging.getLogger("webui.test").warning("odd request: /api/v1/sync/changes?token=%s", token["token"])
    text = web_log.read_text()
    assert "HQ token" in text and "refused" in text      # the flows were logged ...
    assert password not in text and token["token"] not in text and token["token"][5:] not in text   # ... not secrets


def test_the_tls_certificate_flows_leave_no_key_in_the_log(web_log, admin, db_path, clock, tmp_path):
    made = tls.ensure(db_path.parent, clock())
    key = tls.server_pem(db_path.parent).read_text().split("-----BEGIN CERTIFICATE-----")[0]
    csrf = admin.csrf("/certificate")
    # An upload whose key is not the certificate's: refused, and the reason is logged nowhere with the key.
    other = tmp_path / "other"
    other.mkdir()
    tls.make_self_signed(other, "other")
    other_key = tls.server_pem(other).read_text().split("-----BEGIN CERTIFICATE-----")[0]
    reply = admin.request("PUT", "/api/v1/tls/certificate", headers={"X-CSRF-Token": csrf},
                          json_body={"certificate": made.certificate, "key": other_key})
    assert reply.status == 400
    # A message that quotes a key (an exception's text, a request body) is logged without it.
    logging.getLogger("webui.test").warning("odd upload: %s", other_key)
    text = web_log.read_text()
    assert made.fingerprint_sha256 in text        # public, and what HQ pins
    for pem in (key, other_key):
        for line in pem.strip().splitlines()[1:-1]:
            assert line not in text


@pytest.mark.parametrize("message, secret", [
    ("key: -----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----", "MIGHAgEAMBMG"),
    ("cut short: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBexample", "MHcCAQEEIBexample"),
    ("sync refused: Authorization: Bearer blhq_Zm9vYmFy-_x", "Zm9vYmFy"),
    ("header was authorization: bearer s3cr3tvalue", "s3cr3tvalue"),
    ("form: username=admin&password=hunter2&next=/", "hunter2"),
    ('body {"user": "admin", "password": "hunter2"}', "hunter2"),
    ("Cookie: branchline_session=abcdef0123456789", "abcdef0123456789"),
    ("csrf_token=0123abcd sent twice", "0123abcd"),
])
def test_masking_hides_what_a_message_quotes(message, secret):
    masked = logfiles.mask(message)
    assert secret not in masked and "[hidden]" in masked


def test_the_log_file_is_bounded_and_rotates(tmp_path):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        path = logfiles.configure(tmp_path, "engine")
        [handler] = [h for h in root.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
        assert path == tmp_path / "logs" / "engine.log"
        assert (handler.maxBytes, handler.backupCount) == (logfiles.MAX_BYTES, logfiles.BACKUPS)
        with pytest.raises(logfiles.LogFileError):
            logfiles.log_path(tmp_path, "hq")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level = saved[0], saved[1]
