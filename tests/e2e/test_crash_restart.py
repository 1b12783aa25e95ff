"""The real box under load, killed with SIGKILL at random points and restarted on the same state.

After each restart: no call from before it is left non-final, every recording from before it has its
row (duration, size and SHA-256 of the file), and the box answers its control socket within 2 s of the
process starting. At the end: every call final, every WAV filed, every queue_log completion with its
closed record, no row dead-lettered, no id reused (a reused id shows as a refused row, as a call whose
events fall outside its own life, or as a recording overwritten under its row's hash).

"Answering" is measured from the process's start to the first `status` reply on the control socket:
the reply comes from the tick loop, so the box is taking calls by then. The wall time is printed; the
bound is checked on the process's CPU time, which a machine shared with other work does not inflate.
"""
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import wave
from pathlib import Path

import pytest

from firmware.core.control import ControlClient, ControlError
from firmware.store import open_readonly
from scenario_builder import agent, flow, run_section, scenario, traffic

REPO = Path(__file__).resolve().parents[2]
# The requirement: the box answers again within 2 s of a restart.
ANSWER_S = 2.0
# How long the test waits for a start that has plainly failed.
START_TIMEOUT_S = 30.0
COMPLETIONS = {"COMPLETEAGENT", "COMPLETECALLER", "ABANDON"}

# Busy line traffic on the simulated board in real time: a caller a second, short talks, some
# callers leaving a message, so every kill cuts calls in the IVR, waiting, talking and recording.
SCENARIO = scenario(
    # Each start replays from 0 s; a round lasts at most 10 s. DTMF caller ID comes before the first
    # ring: the box answers on it.
    run_section(120, seed=11, trunks=8, flow="flow.toml", callerid="dtmf"),
    agent("1001", queues=["sales", "service"], answer_after=0.5, talk=2.0),
    agent("1002", queues=["sales", "service"], answer_after=0.8, talk=3.0),
    agent("1003", queues=["service"], answer_after=0.6, talk=2.5),
    traffic(per_hour=3600, keys=["1", "2", "3"], key_delay=0.5, patience=[2.0, 20.0], talk=[1.0, 4.0],
            speak=[[1.0, 2.0]]),
)
FLOW = flow(
    "menu",
    menu={"type": "menu", "prompts": ["main-menu"], "choices": {"1": "sales", "2": "service", "3": "message"},
          "on_fail": "bye"},
    sales={"type": "queue", "queue": "sales"},
    service={"type": "queue", "queue": "service"},
    message={"type": "voicemail", "box": "general", "silence": 1.0, "beep": False},
    bye={"type": "hangup", "prompts": ["goodbye"]},
)


def _cpu_seconds(pid: int) -> float:
    # proc(5): utime and stime, fields 14 and 15, in clock ticks.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Box:
    """`branchline run --demo` on one state directory, started and killed as a technician would."""

    def __init__(self, root: Path):
        self.root = root
        self.state = root / "state"
        (root / "flow.toml").write_text(textwrap.dedent(FLOW))
        self.scenario = root / "scenario.toml"
        self.scenario.write_text(textwrap.dedent(SCENARIO))
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> tuple[float, float]:
        """Start the box; (wall s, CPU s) from process start to the first answered `status`."""
        self.starts += 1
        log = open(self.root / f"engine-{self.starts}.log", "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "firmware.cli", "run", "--state", str(self.state), "--demo", "--no-web",
             "--scenario", str(self.scenario)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = ControlClient(self.state / "control.sock", timeout=5.0)
        while True:
            try:
                client.call("status")
                wall, cpu = time.monotonic() - t0, _cpu_seconds(self.proc.pid)
                client.close()
                return wall, cpu
            except ControlError:
                client.close()
            assert self.proc.poll() is None, f"the box exited at start: {self.log()[-3000:]}"
            assert time.monotonic() - t0 < START_TIMEOUT_S, f"no answer in {START_TIMEOUT_S} s: {self.log()[-3000:]}"
            time.sleep(0.01)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0, self.log()[-3000:]

    def log(self) -> str:
        return (self.root / f"engine-{self.starts}.log").read_text(errors="replace")

    def wavs(self) -> dict[str, Path]:
        rec = self.state / "recordings"
        return {str(p.relative_to(rec)): p for p in rec.rglob("*.wav")}


def _filed(db, name: str) -> dict | None:
    for table in ("recordings", "voicemails"):
        rows = list(db[table].rows_where("path = ?", [name]))
        if rows:
            return rows[0]
    return None


def _check_filed(db, name: str, path: Path) -> None:
    row = _filed(db, name)
    assert row is not None, f"recording {name} has no row"
    data = path.read_bytes()
    with wave.open(str(path)) as w:
        assert row["duration"] == round(w.getnframes() / w.getframerate(), 3), name
    assert row["size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest(), name


def _journal(state: Path) -> list[list[str]]:
    return [line.split("|") for f in sorted((state / "queue_log").glob("queue_log-*.log"))
            for line in f.read_text().splitlines()]


def crash_rounds(tmp_path: Path, rounds: int, seed: int) -> None:
    box = Box(tmp_path)
    try:
        _crash_rounds(box, rounds, random.Random(seed))
    finally:
        if box.proc is not None and box.proc.poll() is None:
            box.kill()


def _crash_rounds(box: Box, rounds: int, rng: random.Random) -> None:
    timings = []
    for _ in range(rounds):
        before = box.wavs() if box.starts else {}
        spawned = time.time()
        timings.append(box.start())
        db = open_readonly(box.state / "branchline.db")
        try:
            left = db.execute("SELECT count(*) FROM calls WHERE arrived_at < ? AND disposition IS NULL",
                              [spawned]).fetchone()[0]
            assert left == 0, f"{left} calls of an earlier run are still open after restart {box.starts}"
            for name, path in before.items():
                if path.exists():      # a message shorter than a second is not kept (firmware/callcenter/voicemail.py)
                    _check_filed(db, name, path)
        finally:
            db.conn.close()
        time.sleep(rng.uniform(3.0, 10.0))
        box.kill()
    # A last run stopped cleanly: its calls end as the box closes them, through the normal path.
    box.start()
    time.sleep(rng.uniform(3.0, 10.0))
    box.stop()
    walls = [w for w, _ in timings[1:]]
    print(f"{rounds} kills; restart to answering: wall {min(walls):.2f}-{max(walls):.2f} s "
          f"(median {sorted(walls)[len(walls) // 2]:.2f}), CPU {max(c for _, c in timings[1:]):.2f} s at most")
    assert all(cpu < ANSWER_S for _, cpu in timings[1:]), timings

    db = open_readonly(box.state / "branchline.db")
    calls = {r["id"]: r for r in db["calls"].rows}
    assert not (box.state / "branchline.rejected.jsonl").exists(), "rows were dead-lettered"
    assert calls and all(r["disposition"] and r["ended_at"] for r in calls.values())
    interrupted = {cid for cid, r in calls.items() if r["disposition"] == "interrupted"}
    assert interrupted, "the kills should have cut calls"
    for cid, at_min, at_max in db.execute("SELECT call_id, min(at), max(at) FROM call_events GROUP BY call_id"):
        assert calls[cid]["arrived_at"] <= at_min and at_max <= calls[cid]["ended_at"], cid
    hangups = db.execute("SELECT call_id, count(*) FROM call_events WHERE kind = 'call:hangup' GROUP BY call_id")
    assert all(n == 1 for _, n in hangups)
    wavs = box.wavs()
    for name, path in wavs.items():
        _check_filed(db, name, path)
    assert db["recordings"].count + db["voicemails"].count == len(wavs)
    # A completion's call is closed and its record agrees: it reached an agent (COMPLETE*) or did
    # not (ABANDON), and the crash did not cut it.
    for f in _journal(box.state):
        if f[4] in COMPLETIONS:
            row = calls[f[1]]
            assert row["disposition"] != "interrupted", (f, row)
            assert (row["connected_at"] is None) == (f[4] == "ABANDON"), (f, row)
    assert sum(1 for f in _journal(box.state) if f[4] == "QUEUESTART") == box.starts
    print(f"{len(calls)} calls, {len(interrupted)} interrupted, {len(wavs)} recordings and messages, "
          f"{json.dumps(dict(db.execute('SELECT disposition, count(*) FROM calls GROUP BY disposition')))}")
    db.conn.close()


def test_kills_under_load_lose_nothing(tmp_path):
    crash_rounds(tmp_path, rounds=3, seed=1)


@pytest.mark.slow
def test_many_kills_under_load_lose_nothing(tmp_path):
    crash_rounds(tmp_path, rounds=25, seed=2)
