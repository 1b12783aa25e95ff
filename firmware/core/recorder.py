"""Call recording: stereo WAV files (caller left, agent right) written by one thread.

The loop hands over one array per tick for all recorded calls; the thread appends to each file and,
once a second, rewrites the WAV header and syncs, so after a power cut a recording is playable up to
its last second. `repair()` fixes headers of files left open by a crash.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.channel import RATE

from firmware.core import peaks
from firmware.core.files import fsync_dir, make_dirs
from firmware.core.handoff import Handoff
from firmware.core.heartbeat import Heartbeat

log = logging.getLogger(__name__)

SYNC_SECONDS = 1.0
# 10 s of ticks may wait for a slow SD card before the handoff starts spilling.
QUEUE_TICKS = 500
_HEADER = 44
# Voicemail messages live under <recordings>/voicemail/ (firmware/callcenter/voicemail.py).
VOICEMAIL_DIR = "voicemail"
_STOP = object()


def wav_header(data_bytes: int, channels: int = 2) -> bytes:
    """A canonical 44-byte PCM WAV header for 16-bit audio at the box's rate."""
    block = 2 * channels
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, RATE, RATE * block, block, 16)
            + b"data" + struct.pack("<I", data_bytes))


def repair(path: Path, channels: int = 2) -> bool:
    """Make a WAV left by a crash consistent: whole frames only, sizes in the header. True if changed."""
    size = path.stat().st_size
    block = 2 * channels
    if size < _HEADER:
        # Killed before the first sync: the header never left the write buffer. Only our recorder
        # writes here, so what is there is the start of our header: an empty recording, kept as one.
        with open(path, "r+b") as f:
            if not wav_header(0, channels).startswith(f.read()):
                return False
            f.seek(0)
            f.truncate()
            f.write(wav_header(0, channels))
            f.flush()
            os.fsync(f.fileno())
        log.warning("recording %s repaired: empty", path)
        return True
    data = (size - _HEADER) // block * block
    with open(path, "r+b") as f:
        head = f.read(_HEADER)
        # A header of zeros: a power cut kept the audio written after it and not the header itself,
        # written first but not yet synced (a card writes back blocks in any order). Only our
        # recorder writes here, so it is ours to write again.
        lost = head == bytes(_HEADER)
        if not lost and (head[:4] != b"RIFF" or head[8:12] != b"WAVE"):
            return False
        if not lost and struct.unpack("<I", head[40:44])[0] == data and size == _HEADER + data:
            return False
        f.truncate(_HEADER + data)
        f.seek(0)
        f.write(wav_header(data, channels))
        f.flush()
        os.fsync(f.fileno())
    log.warning("recording %s repaired: %.1f s kept", path, data / block / RATE)
    return True


def _channels(path: Path, default: int = 2) -> int:
    with open(path, "rb") as f:
        head = f.read(_HEADER)
    said = struct.unpack("<H", head[22:24])[0] if len(head) == _HEADER and head[:4] == b"RIFF" else 0
    # The recorder writes mono messages and stereo calls only; any other count is a header a cut garbled.
    return said if said in (1, 2) else default


def describe(path: Path) -> tuple[float, int, str] | None:
    """(duration s, size, sha256) of a consistent recording, as the recorder reports a finished one;
    None if the file is not one of ours."""
    with open(path, "rb") as f:
        head = f.read(_HEADER)
        if len(head) < _HEADER or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        f.seek(0)
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    channels = struct.unpack("<H", head[22:24])[0]
    data = struct.unpack("<I", head[40:44])[0]
    return data / (2 * channels) / RATE, _HEADER + data, sha


def peaks_of(path: Path, channels: int, frames: int) -> peaks.Peaks:
    """The recording's waveform peaks with numpy: what `firmware.core.peaks.compute` gives without it.

    Read a few hundred kB at a time (a whole number of stretches), so an hour's call costs the engine
    no more memory than a minute's."""
    spp = peaks.samples_per_peak(frames)
    step = spp * max(1, 65536 // spp)
    lows, highs = [], []
    with open(path, "rb") as f:
        f.seek(_HEADER)
        done = 0
        while done < frames:
            x = np.fromfile(f, "<i2", count=min(step, frames - done) * channels)
            x = x[:len(x) // channels * channels].reshape(-1, channels) >> 8
            if not len(x):
                break
            done += len(x)
            whole = len(x) // spp * spp
            if whole:
                lows.append(x[:whole].reshape(-1, spp, channels).min(axis=1))
                highs.append(x[:whole].reshape(-1, spp, channels).max(axis=1))
            if whole < len(x):
                lows.append(x[whole:].min(axis=0, keepdims=True))
                highs.append(x[whole:].max(axis=0, keepdims=True))
    lo = np.concatenate(lows).astype(np.int8) if lows else np.zeros((0, channels), np.int8)
    hi = np.concatenate(highs).astype(np.int8) if highs else np.zeros((0, channels), np.int8)
    return peaks.Peaks(RATE, spp, done, tuple(lo[:, c].tobytes() for c in range(channels)),
                       tuple(hi[:, c].tobytes() for c in range(channels)))


@dataclass
class Finished:
    rec_id: str
    path: Path
    duration: float
    size: int
    sha256: str


class _Open:
    def __init__(self, path: Path, channels: int):
        make_dirs(path.parent)
        self.path, self.channels = path, channels
        self.f = open(path, "wb")
        self.f.write(wav_header(0, channels))
        # The new file's name is durable only once its directory is synced (POSIX open(2) with
        # O_CREAT): without it a power cut could take a recording whose row is already committed.
        fsync_dir(path.parent)
        self.data = 0
        self.sha = hashlib.sha256()
        self.synced = self.data

    def write(self, frames: np.ndarray) -> None:
        # (channels, n), e.g. caller/agent -> interleaved little-endian int16 frames.
        raw = np.ascontiguousarray(frames.T).astype("<i2").tobytes()
        self.f.write(raw)
        self.data += len(raw)

    def sync(self) -> None:
        if self.data == self.synced:
            return
        self.f.seek(0)
        self.f.write(wav_header(self.data, self.channels))
        self.f.seek(0, os.SEEK_END)
        self.f.flush()
        os.fsync(self.f.fileno())
        self.synced = self.data

    def close(self) -> tuple[str, int]:
        self.sync()
        self.f.close()
        with open(self.path, "rb") as f:
            sha = hashlib.file_digest(f, "sha256").hexdigest()
        return sha, self.data


class Recorder:
    def __init__(self, directory: str | Path, keep: bool = True):
        """`keep=False`: each file is deleted once written, closed and hashed (the load test's recorder:
        the card bears the write load, and holds only the calls in progress)."""
        self.directory = Path(directory)
        self.keep = keep
        self.handoff = Handoff(QUEUE_TICKS)
        self.results: queue.Queue[Finished] = queue.Queue()
        self.heartbeat = Heartbeat("recorder")
        self.errors = 0

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.heartbeat.start(self._run)

    def repair_all(self, unfiled: Iterable[Path]) -> list[Path]:
        """Repair those of `unfiled` a crash left inconsistent (run before `start`); the repaired ones.

        Only recordings without a row can need it: a row is written after its file was closed whole and
        synced (docs/architecture.md §25). A start so opens the few a crash left, not every file kept on
        the card (about 0.1 ms each: a second at 14,000, many at 90 days of a busy branch's calls)."""
        # Messages are mono (firmware/callcenter/voicemail.py), calls stereo: what a file too short to say is.
        return [p for p in unfiled
                if repair(p, _channels(p, 1 if VOICEMAIL_DIR in p.relative_to(self.directory).parts[:1] else 2))]

    # --- loop-thread side ---------------------------------------------------------------------
    def open(self, rec_id: str, relpath: str, channels: int = 2) -> None:
        self.handoff.put(("open", rec_id, relpath, channels))

    def frames(self, rec_ids: tuple[str, ...], audio: np.ndarray) -> None:
        """One tick for every recorded call: audio (k, 2, n) int16, rows in `rec_ids` order."""
        self.handoff.put(("frames", rec_ids, audio))

    def close(self, rec_id: str) -> None:
        self.handoff.put(("close", rec_id))

    def finished(self) -> list[Finished]:
        done = []
        while not self.results.empty():
            done.append(self.results.get_nowait())
        return done

    def stop(self, timeout: float = 10.0) -> None:
        thread = self.heartbeat.thread
        if thread is not None and thread.is_alive():
            while self.handoff.backlog - self.handoff.queue.qsize():
                self.handoff.pump()
                time.sleep(0.01)
            self.handoff.queue.put(_STOP)
            thread.join(timeout)

    def status(self) -> dict:
        return {"backlog": self.handoff.backlog, "spilled": self.handoff.spilled, "errors": self.errors,
                **self.heartbeat.status()}

    # --- recorder thread ----------------------------------------------------------------------
    def _run(self) -> None:
        files: dict[str, _Open] = {}
        next_sync = time.monotonic() + SYNC_SECONDS
        while True:
            self.heartbeat.beat()
            try:
                item = self.handoff.queue.get(timeout=SYNC_SECONDS)
            except queue.Empty:
                item = None
            if item is _STOP:
                for rec_id in list(files):
                    self._close(files, rec_id)
                return
            try:
                if item is not None:
                    self._handle(files, item)
                if time.monotonic() >= next_sync:
                    for f in files.values():
                        f.sync()
                    next_sync = time.monotonic() + SYNC_SECONDS
            except OSError as exc:
                self.errors += 1
                log.error("recorder: %s", exc)
            except Exception as exc:   # a fault of our own must not stop every other recording
                self.errors += 1
                self.heartbeat.error("recorder", exc)

    def _handle(self, files: dict[str, _Open], item: tuple) -> None:
        kind = item[0]
        if kind == "frames":
            for rec_id, frames in zip(item[1], item[2]):
                f = files.get(rec_id)
                if f is not None:
                    f.write(frames)
        elif kind == "open":
            files[item[1]] = _Open(self.directory / item[2], item[3])
        else:
            self._close(files, item[1])

    def _close(self, files: dict[str, _Open], rec_id: str) -> None:
        f = files.pop(rec_id, None)
        if f is None:
            return
        sha, data = f.close()
        if self.keep:
            # Once, here, off the loop: every page that shows the waveform reads these few kB
            # (docs/architecture.md §19). A failure costs only the waveform; the web computes it later.
            try:
                peaks.write(f.path, peaks_of(f.path, f.channels, data // (2 * f.channels)))
            except (OSError, peaks.PeaksError) as exc:
                log.warning("recording %s: no waveform peaks: %s", f.path, exc)
        self.results.put(Finished(rec_id, f.path, data / (2 * f.channels) / RATE, _HEADER + data, sha))
        if not self.keep:
            f.path.unlink(missing_ok=True)
