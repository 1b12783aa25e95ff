"""Voicemail: a beep, then the caller's message recorded until silence, '#', the length limit or hang-up."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dsp import tonegen

from firmware.callcenter.calls import Call, Disposition
from firmware.callcenter.flows import Node
from firmware.core.application import Services
from firmware.core.recorder import VOICEMAIL_DIR

if TYPE_CHECKING:
    from firmware.callcenter.center import CallCenter

log = logging.getLogger(__name__)

# The beep: 1 kHz for 0.5 s at -10 dBm0, the usual answering-machine cue.
BEEP = tonegen.to_int16(tonegen.tone(1000.0, -10.0, 4000))
# Speech above this level counts as talking (ITU-T P.56 active speech is well above -40 dBm0 on a line).
VOICE_DBM0 = -40.0
# A message shorter than this is an accidental hang-up, not kept.
MIN_MESSAGE_S = 1.0


@dataclass
class _Taking:
    vm_id: str
    call: Call
    node: Node
    started: float
    last_voice: float
    spoke: bool = False


class Voicemail:
    def __init__(self, svc: Services, center: "CallCenter"):
        self.svc, self.center = svc, center
        self.taking: dict[int, _Taking] = {}     # channel -> message being recorded
        self.pending: dict[str, tuple[Call, Node, float]] = {}   # recording id -> (call, node, started)

    def record(self, call: Call, node: Node) -> None:
        """Beep (if the node says so), then record."""
        if node.beep:
            self.center.play_samples(call, BEEP, on_done=lambda: self._start(call, node))
        else:
            self._start(call, node)

    def _start(self, call: Call, node: Node) -> None:
        now = self.svc.clock.time()
        vm_id = self.svc.new_id()
        day = time.strftime("%Y/%m/%d", time.gmtime(now))
        self.svc.recorder.open(vm_id, f"{VOICEMAIL_DIR}/{node.box}/{day}/{vm_id}.wav", channels=1)
        call.voicemail_id = vm_id
        # The message's id names its file: after a crash the file is filed under this call.
        call.event("voicemail:start", box=node.box, voicemail=vm_id)
        self.taking[call.line] = _Taking(vm_id, call, node, now, now)

    def tick(self, rx: np.ndarray, levels: np.ndarray) -> None:
        """Hand this tick's audio of every message being taken to the recorder; end finished ones.
        `levels`: each channel's level in dBm0 over the tick."""
        if not self.taking:
            return
        now = self.svc.clock.time()
        channels = list(self.taking)
        ids = tuple(self.taking[ch].vm_id for ch in channels)
        self.svc.recorder.frames(ids, rx[channels][:, None, :])
        for ch, level in zip(channels, levels[channels].tolist()):
            t = self.taking[ch]
            if level > VOICE_DBM0:
                t.last_voice, t.spoke = now, True
            if now - t.started >= t.node.max_length:
                self.finish(t.call, "length")
            elif t.spoke and now - t.last_voice >= t.node.silence:
                self.finish(t.call, "silence")

    def on_digit(self, call: Call, digit: str) -> bool:
        if call.channel in self.taking and digit == "#":
            self.finish(call, "key")
            return True
        return call.channel in self.taking

    def finish(self, call: Call, why: str, hung_up: bool = False) -> None:
        t = self.taking.pop(call.channel, None) if call.channel is not None else None
        if t is None:
            return
        self.svc.recorder.close(t.vm_id)
        self.pending[t.vm_id] = (call, t.node, t.started)
        call.event("voicemail:end", why=why, seconds=round(self.svc.clock.time() - t.started, 2))
        if not hung_up:
            self.center.play(call, list(t.node.thanks),
                             on_done=lambda: self.center.end_call(call, Disposition.VOICEMAIL, "box"))

    def stored(self, fin) -> bool:
        """The recorder finished a file: if it is a message, file it. True if it was one."""
        entry = self.pending.pop(fin.rec_id, None)
        if entry is None:
            return False
        call, node, started = entry
        if fin.duration < MIN_MESSAGE_S:
            fin.path.unlink(missing_ok=True)
            return True
        self.svc.records.insert("voicemails", {
            "id": fin.rec_id, "call_id": call.id, "number": call.number, "box": node.box,
            "path": str(fin.path.relative_to(self.svc.recorder.directory)), "duration": round(fin.duration, 3),
            "size": fin.size, "sha256": fin.sha256, "created_at": started})
        self.svc.emit("voicemail:stored", call=call, box=node.box, path=str(fin.path), duration=fin.duration)
        return True
