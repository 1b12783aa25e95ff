"""Call recordings: which calls are recorded, the stereo frames each tick hands the recorder (left
what the caller says, right what the caller hears), and the record of each finished file."""
from __future__ import annotations

import time

import numpy as np

from firmware.callcenter.calls import Call
from firmware.core.application import Services
from firmware.core.recorder import Finished


class Recordings:
    def __init__(self, svc: Services):
        self.svc = svc
        self.recorded: dict[str, Call] = {}       # recording id -> call
        self._index: tuple | None = None          # (ids, channels, paused), rebuilt when they change

    def start(self, call: Call) -> None:
        """Record the call from now on, in a file under the day it started (YYYY/MM/DD/<call id>.wav)."""
        rec_id = self.svc.new_id()
        when = time.gmtime(self.svc.clock.time())
        relpath = f"{when.tm_year:04d}/{when.tm_mon:02d}/{when.tm_mday:02d}/{call.id}.wav"
        call.recording_id = rec_id
        self.recorded[rec_id] = call
        self._index = None
        self.svc.recorder.open(rec_id, relpath)

    def stop(self, call: Call) -> None:
        if call.recording_id:
            self.recorded.pop(call.recording_id, None)
            self._index = None
            self.svc.recorder.close(call.recording_id)

    def changed(self) -> None:
        """A recorded call's channel, legs or pause changed: the frames are gathered anew."""
        self._index = None

    def frames(self, rx: np.ndarray, tx: np.ndarray) -> None:
        """Left: what the caller says; right: what the caller hears (agent, third party, music on
        hold, a barging supervisor; never a whisper). Paused recordings get silence."""
        if not self.recorded:
            return
        if self._index is None:
            ids = tuple(self.recorded)
            channels = np.array([self.recorded[r].channel for r in ids], np.intp)
            paused = np.array([self.recorded[r].recording_paused for r in ids], bool)
            self._index = (ids, channels, paused)
        ids, channels, paused = self._index
        audio = np.stack([rx[channels], tx[channels]], axis=1)
        if paused.any():
            audio[paused] = 0
        self.svc.recorder.frames(ids, audio)

    def finished(self, fin: Finished) -> None:
        """File a call's finished recording (named after the call)."""
        call_id = fin.path.stem
        self.svc.records.insert("recordings", {"id": fin.rec_id, "call_id": call_id,
                                               "path": str(fin.path.relative_to(self.svc.recorder.directory)),
                                               "duration": round(fin.duration, 3), "size": fin.size,
                                               "sha256": fin.sha256, "created_at": self.svc.clock.time()})
        self.svc.emit("recording:done", recording=fin, call_id=call_id)
