"""HQ pulls a box over HTTPS only from the certificate it pinned: a box answering with another certificate
(a new one, or a machine posing as the box on the branch's network) never receives the token."""
import json
import threading
import time

import pytest

from typed_toml import ConfigError
from hq.collector import BoxClient, BoxConfig, HqError, load_config
from webui import tls
from webui.server import make_server, start_https

TOKEN = "hq-test-token-not-a-secret"


@pytest.fixture
def box_over_https(tmp_path):
    """A box answering its sync API over HTTPS: (https port, its fingerprint, the Authorization headers seen)."""
    seen: list[str | None] = []

    def app(environ, start_response):
        seen.append(environ.get("HTTP_AUTHORIZATION"))
        body = json.dumps({"acked": 0}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    info = tls.ensure(tmp_path, time.time())
    server = make_server(app, "127.0.0.1", 0)
    front = start_https(tmp_path, server, "127.0.0.1", 0, time.time())
    server.prepare()
    threads = [threading.Thread(target=t.serve, daemon=True) for t in (server, front)]
    for thread in threads:
        thread.start()
    yield front.bind_addr[1], info.fingerprint_sha256, seen
    front.stop()
    server.stop()
    for thread in threads:
        thread.join(5)
    front.close()


def test_a_pinned_box_is_pulled_with_its_token(box_over_https):
    port, fingerprint, seen = box_over_https
    client = BoxClient(BoxConfig("a", f"https://127.0.0.1:{port}/", TOKEN, fingerprint=fingerprint), timeout=5)
    assert client.ack(0) == {"acked": 0}
    assert seen == [f"Bearer {TOKEN}"]


def test_another_certificate_is_refused_before_the_token_is_sent(box_over_https):
    port, fingerprint, seen = box_over_https
    wrong = ("00:" * 32)[:-1]
    client = BoxClient(BoxConfig("a", f"https://127.0.0.1:{port}/", TOKEN, fingerprint=wrong), timeout=5)
    with pytest.raises(HqError, match=f"fingerprint is {fingerprint}, not the one configured"):
        client.ack(0)
    unpinned = BoxClient(BoxConfig("a", f"https://127.0.0.1:{port}/", TOKEN), timeout=5)
    with pytest.raises(HqError, match="set the box's fingerprint"):
        unpinned.ack(0)
    assert seen == []


def test_the_fingerprint_setting_is_checked_at_load(tmp_path):
    path = tmp_path / "hq.toml"
    path.write_text('[[box]]\nid = "a"\nurl = "https://a/"\ntoken = "t"\nfingerprint = "AB:CD"\n')
    with pytest.raises(ConfigError, match="not a SHA-256 fingerprint"):
        load_config(path)
    path.write_text('[[box]]\nid = "a"\nurl = "https://a/"\ntoken = "t"\nfingerprint = "' + "ab" * 32 + '"\n')
    assert load_config(path).boxes[0].fingerprint == "ab" * 32
