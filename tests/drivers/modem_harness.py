"""Test helpers: drive a voice modem driver in real time, and replay recorded modem transcripts on a pty."""
import os
import select
import threading
import time
import tty
from pathlib import Path

import numpy as np

from drivers.channel import TICK_SAMPLES

TRANSCRIPTS = Path(__file__).parent / "transcripts"


def pump(driver, until=lambda events: False, seconds=5.0, tx=None):
    """Exchange ticks every 10 ms until `until(events)` or `seconds` pass; -> (events, rx frames)."""
    n = len(driver.specs())
    tx = np.zeros((n, TICK_SAMPLES), np.int16) if tx is None else tx
    rx = np.zeros((n, TICK_SAMPLES), np.int16)
    events, frames = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events += driver.exchange(tx, rx)
        frames.append(rx.copy())
        if until(events):
            break
        time.sleep(0.01)
    return events, np.concatenate(frames, axis=1) if frames else rx


def load_transcript(name):
    """`> line` the host must send, `< line` the modem answers; `#` comments."""
    steps = []
    for raw in (TRANSCRIPTS / name).read_text().splitlines():
        if raw.startswith(("> ", "< ")):
            steps.append((raw[0], raw[2:]))
    return steps


class TranscriptModem:
    """A pty peer that expects the host's commands of a transcript in order and plays the modem's answers."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.done = 0
        self.mismatch = None
        self.received = []
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _answer(self):
        while self.done < len(self.steps) and self.steps[self.done][0] == "<":
            os.write(self.master, f"\r\n{self.steps[self.done][1]}\r\n".encode())
            self.done += 1

    def _run(self):
        buf = b""
        self._answer()
        while not self._stop.is_set() and self.mismatch is None:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            buf += os.read(self.master, 4096)
            while b"\r" in buf:
                line, buf = buf.split(b"\r", 1)
                text = line.decode("ascii", "replace").strip()
                if not text:
                    continue
                self.received.append(text)
                if self.done >= len(self.steps):
                    self.mismatch = f"host sent {text!r} after the end of the transcript"
                    return
                expected = self.steps[self.done][1]
                if text != expected:
                    self.mismatch = f"step {self.done}: expected {expected!r}, host sent {text!r}"
                    return
                self.done += 1
                self._answer()

    @property
    def finished(self):
        return self.done == len(self.steps)

    def close(self):
        self._stop.set()
        self._thread.join(1.0)
        os.close(self.master)
        os.close(self._slave)
