"""The power cut itself (tests/e2e/powercut.py): what a process made durable stays, what it did not goes."""
import hashlib
import os
import random
import subprocess
import sys
import textwrap

import pytest

import powercut

# The child: a file written and synced, then written again; a new file in a synced directory and one
# in a directory never synced; a file replaced the careful way (temp file, fsync, rename, fsync of the
# directory) and one replaced without the directory's fsync; then it is killed by the cut.
CHILD = textwrap.dedent("""
    import os, sys
    root = sys.argv[1]
    def put(name, data, sync):
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
    def sync_dir(d):
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(fd)
        os.close(fd)
    put("synced", b"A" * 100, True)
    sync_dir(root)
    with open(os.path.join(root, "synced"), "r+b") as f:
        f.seek(50)
        f.write(b"B" * 100)
        f.flush()
    os.mkdir(os.path.join(root, "sub"))
    sync_dir(root)
    put("sub/durable", b"kept", True)
    sync_dir(os.path.join(root, "sub"))
    put("sub/lost", b"never named on the card", True)
    put("careful", b"old", True)
    put("careful.tmp", b"new", True)
    os.replace(os.path.join(root, "careful.tmp"), os.path.join(root, "careful"))
    sync_dir(root)
    put("hasty", b"old", True)
    sync_dir(root)
    put("hasty.tmp", b"new", True)
    os.replace(os.path.join(root, "hasty.tmp"), os.path.join(root, "hasty"))
    with open(os.path.join(root, "last"), "wb") as f:
        f.write(b"the cut")
""")


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return powercut.library(tmp_path_factory.mktemp("powercut"))


def _run(lib, tmp_path, cut_at=None):
    root = tmp_path / "state"
    root.mkdir()
    log = tmp_path / "undo.log"
    env = {**os.environ, **powercut.environment(lib, root, log, cut_at)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(root)], env=env, start_new_session=True)
    return root, log, done.returncode


def test_what_was_synced_stays_and_what_was_not_goes(lib, tmp_path):
    root, log, code = _run(lib, tmp_path)
    assert code == 0
    figures = powercut.roll_back(root, log, "all", random.Random(1))
    assert figures["lost"] > 0
    assert (root / "synced").read_bytes() == b"A" * 100
    assert (root / "sub" / "durable").read_bytes() == b"kept"
    assert not (root / "sub" / "lost").exists()
    assert (root / "careful").read_bytes() == b"new"
    assert (root / "hasty").read_bytes() == b"old"
    assert not (root / "last").exists() and not (root / "hasty.tmp").exists()
    assert not list(root.rglob("*.pcut-*")) and not log.exists()


def test_the_cut_kills_the_process_at_the_chosen_write(lib, tmp_path):
    root, log, code = _run(lib, tmp_path, cut_at=2)
    assert code == -9
    powercut.roll_back(root, log, "all", random.Random(1))
    # The first write was synced; the second (the overwrite) never happened on the card.
    assert (root / "synced").read_bytes() == b"A" * 100
    assert not (root / "sub").exists()


@pytest.mark.parametrize("mode", ["suffix", "subset"])
def test_a_partial_loss_keeps_every_synced_byte(lib, tmp_path, mode):
    root, log, _ = _run(lib, tmp_path)
    powercut.roll_back(root, log, mode, random.Random(3))
    assert (root / "sub" / "durable").read_bytes() == b"kept"
    assert (root / "careful").read_bytes() == b"new"
    assert (root / "synced").read_bytes()[:50] == b"A" * 50


# The recorder (firmware/core/recorder.py) on its own thread, as the engine runs it: a call's recording
# opened in a new day's directory, written for a second and closed; the call's row would name it now.
RECORDER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from firmware.core.recorder import Recorder
    rec = Recorder(sys.argv[1])
    rec.start()
    rec.open("r1", "2026/12/07/call-1.wav")
    for _ in range(50):
        rec.frames(("r1",), np.ones((1, 2, 160), np.int16))
    rec.close("r1")
    while not (done := rec.finished()):
        time.sleep(0.01)
    print(done[0].sha256, flush=True)
    rec.stop()
""")


def test_a_finished_recording_is_on_the_card_whole_after_a_power_cut(lib, tmp_path):
    # A recording's row is written once the recorder says it is finished: by then its file, and the
    # directories it sits in, must be durable, or a power cut leaves a row whose file is gone.
    root = tmp_path / "recordings"
    root.mkdir()
    log = tmp_path / "undo.log"
    done = subprocess.run([sys.executable, "-c", RECORDER, str(root)], capture_output=True, text=True,
                          env={**os.environ, **powercut.environment(lib, root, log, None)}, cwd=powercut.REPO,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    powercut.roll_back(root, log, "all", random.Random(1))
    path = root / "2026" / "12" / "07" / "call-1.wav"
    assert path.exists(), "the finished recording is gone after the power cut"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == done.stdout.strip()
