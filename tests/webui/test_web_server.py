"""`branchline web` as a process: serves on cheroot and exits cleanly on SIGTERM and SIGINT."""
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from webui.server import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_then_stops_cleanly_on_a_signal(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-m", "webui.server", "--state", str(tmp_path), "--port", "0"],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stderr:
            if found := re.search(r"listening on (http://\S+)", line):
                url = found.group(1)
                break
        assert url, "the server never said where it listens"

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args):
                return None
        with pytest.raises(urllib.error.HTTPError) as first_run:
            urllib.request.build_opener(NoRedirect).open(url + "login", timeout=5)
        assert first_run.value.code == 303 and first_run.value.headers["Location"].endswith("/setup")
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert "web UI stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "branchline.db").exists()


def test_refuses_a_missing_state_directory(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--state", str(tmp_path / "nope")])
    assert exit_info.value.code == 2
    assert "does not exist" in capsys.readouterr().err
