"""A V.253 voice modem emulated on a pseudo-terminal, playing the PSTN side: the real driver talks to it
via pyserial."""
# The modem's answers come from board/modems.toml (`[modem.answers]`), so each vendor family's quirks
# are replayed as data. A caller rings, sends caller ID, presses keys as real DTMF audio (and the
# modem's own <DLE> digit reports), and hangs up. A line taken off-hook carries the tone plan's dial
# tone as audio. Faults: garbage bytes, missing OKs, a modem that stops answering, a dead line, a line
# that carries some other sound off-hook, glare (a call that reaches the line as the modem goes off hook
# to dial), unplug and replug (the stable link is re-pointed, as udev's by-id).
# Over 600 lines, and one thing: a modem and the line behind it as the driver sees them through one
# pseudo-terminal. The AT command set, the voice stream, the hook and the call on the line share one
# state under one lock and change together (going off hook answers a ringing call or starts dial tone;
# ATD with a call arriving is glare), so splitting them would only pass that state between modules.
# What varies between vendors is data (board/modems.toml), not code here.

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dsp import tonegen
from dsp.levels import dbm0_to_amplitude
from dsp.tones import TonePlan

from . import modem_quirks, v253
from .modem_quirks import ModemModel
from .pty_device import PtyDevice
from .sim import DtmfStyle, SimCaller
from .sim_signals import BEFORE_RING_GAP_S, Loop, make_loop, progress_tone

log = logging.getLogger(__name__)

FRAME = 160
FRAME_S = FRAME / v253.RATE
# North American ringing, 2 s on / 4 s off (docs/standards.md §3.2), one RING result per burst.
RING_PERIOD_S = 6.0
# Bell 202 caller ID is sent in the silent interval after the first ring (docs/standards.md §4.1, GR-30);
# the modem reports it once decoded, about half a second after the ring burst ends.
CID_AFTER_RING_S = 0.5
# A ringing call nobody answers is released by the network (the sim's Q.118-style release).
NO_ANSWER_RELEASE_S = 60.0
# Line signals while dialling (docs/standards.md §3.2 North America, spandsp levels per tone): ringback
# 440+480 Hz at -19 (2 s / 4 s), busy 480+620 Hz at -24 (0.5 s / 0.5 s).
RINGBACK = ((440.0, 480.0), -19.0, (2.0, 4.0))
BUSY = ((480.0, 620.0), -24.0, (0.5, 0.5))
NOISE_DBM0 = -65.0
# The sim's caller voice level.
CALLER_VOICE_DBM0 = -20.0
# A late emulator thread catches up at most this many frames at once; older audio is lost.
MAX_CATCH_UP = 25
# How long the modem's receive path plays before it reports the dial tone it hears.
DIAL_TONE_REPORT_S = 0.3
# Host audio kept for tests to inspect.
HEARD_S = 30.0
# A modem dialling with dial tone detection (X4, the power-on default of USR and Conexant) waits this
# long for dial tone before it gives up with NO DIALTONE (S6, 2 s by default on both).
DIAL_TONE_WAIT_S = 2.0
# The exchange takes an on-hook break of an answered line for a clear only once it lasts longer than a
# hook flash, whose longest form is 600 ms (register recall is read in 100-600 ms); a shorter break
# leaves the caller on the line.
CLEAR_BREAK_S = 0.6


class EmulatorError(Exception):
    """The emulator cannot run as asked (no answers for that modem, an unknown model)."""


@dataclass
class CalledParty:
    """Who answers when the box dials out through this modem."""
    answer_after: float = 2.0
    busy: bool = False


@dataclass
class _Call:
    caller: SimCaller
    next_ring: float
    rings: int = 0
    cid_at: float | None = None
    give_up_at: float = float("inf")
    hangup_at: float = float("inf")
    keys: list | None = None
    gone: bool = False          # the caller has hung up while the modem is off-hook
    cleared: Loop | None = None       # what the line carries after that: the exchange's busy tone
    on_hook_at: float | None = None   # the answered line went on-hook then: a clear once it lasts
    cid_first: bool = False     # caller ID comes before the first ring


@dataclass
class _Glare:
    """A call that reaches the line as the modem goes off hook to dial."""
    caller: SimCaller
    caller_id_first: bool       # the network sends caller ID before the first ring (ETSI, DTMF)


class ModemEmulator(PtyDevice):
    """One emulated modem on one pseudo-terminal; public methods are safe from any thread."""

    DIR_PREFIX = "branchline-emu-"
    # The tick sends the line's audio, in frames of FRAME_S (20 ms).
    POLL_S = 0.01

    def __init__(self, model: ModemModel | str, serial_number: str = "EMU0001", link_dir: str | Path | None = None,
                 ring_period_s: float = RING_PERIOD_S, dtmf: DtmfStyle | None = None, seed: int = 0,
                 answers: dict | None = None, tones: TonePlan | None = None):
        """`tones`: the plan of the network the line belongs to, whose dial tone a line taken off-hook
        carries; None: a line that carries no tone (as the simulated exchange without a plan)."""
        self.model = modem_quirks.known()[model] if isinstance(model, str) else model
        if self.model.answers is None:
            raise EmulatorError(f"emulator: modem {self.model.id!r} has no [modem.answers] in board/modems.toml")
        base = self.model.answers
        self.answers = base if not answers else type(base)(**{**base.__dict__, **answers})
        self.codecs = v253.parse_vsm_list(list(self.answers.vsm))
        super().__init__(serial_number, link_dir)
        self.ring_period_s = ring_period_s
        self.dtmf = dtmf or DtmfStyle()
        self.called = CalledParty()
        self.tone_plan = tones
        self.dead_line = False
        self._glare: _Glare | None = None
        # What the line carries off-hook instead of dial tone (a line stuck on busy tone, noise, a
        # crossed line's speech): int16-scale samples, repeated; None: the plan's dial tone.
        self.off_hook_audio: np.ndarray | None = None
        self._rng = np.random.default_rng(seed)
        self.transcript: list[tuple[str, str]] = []
        self.finished: list[SimCaller] = []
        self.dialed: list[str] = []
        self.counters = {"calls": 0, "unplugs": 0, "garbage": 0, "dropped_ok": 0}
        self._drop_ok = 0
        self._muted = False
        self._heard: list[np.ndarray] = []
        self._power_on()
        self._call: _Call | None = None

    # --- lifecycle --------------------------------------------------------------------------------
    @property
    def link(self) -> str:
        """The stable name the driver opens: like /dev/serial/by-id/usb-<vendor>_<model>_<serial>-if00."""
        if self.link_dir is None:
            raise EmulatorError(f"emulator {self.model.id}: no link before start() chose its directory")
        return str(self.link_dir / f"usb-Emulated_{self.model.id}_{self.serial_number}-if00")

    def _thread_name(self) -> str:
        return f"emulator-{self.model.id}"

    def _plugged(self) -> None:
        """A modem says nothing until the host speaks to it."""

    def _unplugging(self) -> None:
        self.counters["unplugs"] += 1
        if self._call is not None:
            self._end_call("pstn")

    def _power_on(self) -> None:
        """Modem state after power-on or ATZ."""
        self.echo = True
        self.fclass = "0"
        self.offhook = False
        self.stream = "none"
        self.codec: v253.VoiceCodec | None = None
        self._cmd = bytearray()
        self._host_dec = v253.DleDecoder(v253.DTE_COMMANDS, frozenset({"\x03", "!", "^"}), shielding=False)
        self._frames_sent = 0
        self._frame_t0 = 0.0
        self._signal = np.zeros(0)
        self._marks: list[tuple[int, bytes]] = []
        self._dialing: dict[str, Any] | None = None
        self._dial_tone_wait: float | None = None   # ATD waits for a dial tone the line does not carry
        self._dial_tone_reported = False
        self._off_hook: Loop | None = None      # what an idle line carries while off-hook

    # --- the PSTN side ----------------------------------------------------------------------------
    def place_call(self, caller: SimCaller, caller_id_first: bool = False) -> bool:
        """A caller dials this line: False if it is busy (off-hook, ringing or unplugged).
        `caller_id_first`: the network sends caller ID before the first ring (ETSI EN 300 659-1, DTMF
        caller ID), not in the silence after it; the modem reports it once decoded, then it rings."""
        with self._lock:
            now = time.monotonic()
            if self._call is not None or self.offhook or self._master is None:
                return False
            caller.arrived = now
            self.counters["calls"] += 1
            first_ring = now + CID_AFTER_RING_S + BEFORE_RING_GAP_S if caller_id_first else now
            self._call = _Call(caller, next_ring=first_ring,
                               give_up_at=now + min(caller.patience, NO_ANSWER_RELEASE_S),
                               cid_at=now + CID_AFTER_RING_S if caller_id_first else None,
                               cid_first=caller_id_first)
        self._wake()
        return True

    def arrive_on_dial(self, caller: SimCaller, caller_id_first: bool = False) -> None:
        """Glare: `caller`'s call reaches this line at the moment the modem next goes off hook to dial.

        What a real line and modem do then: the modem's ring detector catches the ring burst that the
        exchange had just started (RING, after the caller ID lines on a network that sends them before
        the first ring), and the loop the modem closes to dial answers the call (the exchange's ring
        trip). Instead of dial tone the line carries the caller, so after its dial tone wait the modem
        gives up with NO DIALTONE and goes back on hook; the exchange keeps the answered call through
        a break shorter than CLEAR_BREAK_S."""
        with self._lock:
            self._glare = _Glare(caller, caller_id_first)

    @property
    def caller(self) -> SimCaller | None:
        """The caller on this line now (ringing, talking, or gone while the modem is still off-hook)."""
        with self._lock:
            return self._call.caller if self._call is not None else None

    def connected(self) -> None:
        """The caller now hears an agent: their talk time starts."""
        with self._lock:
            call = self._call
            if call is not None and call.caller.connected is None and not call.gone:
                now = time.monotonic()
                call.caller.connected = now
                call.give_up_at = float("inf")
                call.hangup_at = now + call.caller.talk

    def hang_up(self) -> None:
        """The caller on the line hangs up now."""
        with self._lock:
            self._caller_gone(time.monotonic())

    # --- faults -----------------------------------------------------------------------------------
    def inject_garbage(self, n: int = 48) -> bytes:
        """Line noise on the serial link: printable and high bytes, no <DLE>, then CR LF."""
        junk = bytes(b for b in self._rng.integers(0x20, 0x100, size=n, dtype=np.uint8).tobytes() if b != v253.DLE)
        with self._lock:
            self.counters["garbage"] += 1
            self._write(junk + b"\r\n")
        return junk

    def drop_ok(self, n: int = 1) -> None:
        """The next `n` OK results are not sent."""
        with self._lock:
            self._drop_ok += n

    def mute(self, on: bool = True) -> None:
        """Stop answering anything (a wedged modem), or start again."""
        with self._lock:
            self._muted = on

    # --- what the box sent ------------------------------------------------------------------------
    def heard(self) -> np.ndarray:
        """The box's audio as the modem played it (int16, the last HEARD_S seconds)."""
        with self._lock:
            return np.concatenate(self._heard) if self._heard else np.zeros(0, np.int16)

    def commands(self) -> list[str]:
        with self._lock:
            return [text for who, text in self.transcript if who == "host"]

    def status(self) -> dict:
        with self._lock:
            return {"model": self.model.id, "path": self.path, "link": self.link, "offhook": self.offhook,
                    "stream": self.stream, "fclass": self.fclass,
                    "codec": self.codec.codec.value if self.codec and self.codec.codec else None,
                    "caller": self._call.caller.number if self._call else None, **self.counters}

    # --- what the modem sends ---------------------------------------------------------------------
    def _write_lost(self, exc: OSError) -> None:
        log.debug("emulator %s: write failed: %s", self.model.id, exc)

    def _say(self, *lines: str) -> None:
        for text in lines:
            if text == "OK" and self._drop_ok:
                self._drop_ok -= 1
                self.counters["dropped_ok"] += 1
                continue
            self.transcript.append(("modem", text))
            self._write(f"\r\n{text}\r\n".encode("ascii"))

    # --- bytes from the host ----------------------------------------------------------------------
    def _from_host(self, data: bytes) -> None:
        if self._muted:
            return
        while data:
            if self.stream != "none":
                data = self._from_host_stream(data)
            else:
                data = self._from_host_commands(data)

    def _from_host_stream(self, data: bytes) -> bytes:
        audio, events, rest = self._host_dec.feed(data)
        if audio and self.stream in ("tx", "duplex") and self.codec is not None:
            self._hear(audio)
        for ev in events:
            if ev.name == "clear_tx":
                continue
            if ev.name != "end":
                continue
            code = ev.code
            fits = ((self.stream == "tx" and code == "\x03") or (self.stream == "duplex" and code == "^")
                    or (self.stream == "rx" and code == self.model.stop_rx))
            if not fits:
                # Not this stream's end: a real modem ignores it; the stream goes on.
                return rest or b""
            etx = self.stream in ("rx", "duplex") and self.answers.rx_end_etx
            self.stream = "none"
            if etx:
                self._write(bytes([v253.DLE, v253.ETX]))
            self._say("OK")
        return rest or b""

    def _hear(self, audio: bytes) -> None:
        codec = self.codec.codec if self.codec else None
        if codec is None:         # no AT+VSM yet: nothing to decode with
            return
        if codec.width == 2 and len(audio) % 2:
            audio = audio[:-1]
        self._heard.append(v253.decode_audio(codec, audio))
        total = sum(a.size for a in self._heard)
        while self._heard and total - self._heard[0].size >= HEARD_S * v253.RATE:
            total -= self._heard.pop(0).size

    def _from_host_commands(self, data: bytes) -> bytes:
        for i, b in enumerate(data):
            if b == 0x0D:
                line = self._cmd.decode("ascii", "replace").strip()
                self._cmd.clear()
                if self.echo:
                    self._write(line.encode("ascii", "replace") + b"\r")
                if line:
                    self.transcript.append(("host", line))
                    self._command(line)
                if self.stream != "none":
                    return data[i + 1:]
            elif b != 0x0A and len(self._cmd) < 256:
                self._cmd.append(b)
        return b""

    def _command(self, line: str) -> None:
        if not line.upper().startswith("AT"):
            self._say("ERROR")
            return
        body = line[2:]
        if body[:1].upper() == "D":
            self._dial(body[1:])
            return
        info: list[str] = []
        final: str | None = "OK"
        while body and final == "OK":
            if body[0] in "+#":
                ext, _, body = body.partition(";")
                final = self._extended(ext.upper(), info)
            else:
                m = re.match(r"(&?[A-Za-z])(\d*)", body)
                if not m:
                    final = "ERROR"
                    break
                body = body[m.end():]
                final = self._basic(m.group(1).upper(), m.group(2), info)
        if final is None:
            return
        self._say(*info, final)

    def _basic(self, letter: str, num: str, info: list[str]) -> str | None:
        if letter == "Z":
            self._hook(False)
            self._power_on()
        elif letter == "E":
            self.echo = num != "0"
        elif letter == "H":
            self._hook(False)
        elif letter == "I":
            text = {"": self.answers.ati0, "0": self.answers.ati0, "3": self.answers.ati3}.get(num)
            if not text:
                return "ERROR"
            info.append(text)
        elif letter not in ("V", "Q", "&F", "&D", "&C", "X", "L", "M", "S"):
            return "ERROR"
        return "OK"

    def _extended(self, cmd: str, info: list[str]) -> str | None:
        name, _, arg = cmd.partition("=")
        if name == "+FCLASS":
            if arg == "?":
                info.append(self.answers.fclass)
            elif arg in self.answers.fclass.split(","):
                self.fclass = arg
            else:
                return "ERROR"
            return "OK"
        if name == "+FCLASS?":
            info.append(self.fclass)
            return "OK"
        if not name.startswith("+V") or self.fclass != "8":
            # Voice commands exist only in voice mode (V.253 §8); +GCI and the like are accepted.
            return "OK" if name in ("+GCI", "+IFC") else "ERROR"
        if name == "+VSM":
            return self._vsm(arg, info)
        if name == "+VLS":
            if arg == "1":
                self._hook(True)
                return self.answers.vls
            if arg == "0":
                self._hook(False)
                return "OK"
            return "ERROR"
        if name in ("+VTR", "+VRX", "+VTX"):
            if not self.offhook or self.codec is None or (name == "+VTR" and not self.answers.vtr):
                return "ERROR"
            self._say("CONNECT")
            self.stream = {"+VTR": "duplex", "+VRX": "rx", "+VTX": "tx"}[name]
            self._host_dec.reset()
            return None
        if name in ("+VCID", "+VSD", "+VIT", "+VGT", "+VGR", "+VRA", "+VRN", "+VNH", "+VDR", "+VEM", "+VTD"):
            return "OK"
        return "ERROR"

    def _vsm(self, arg: str, info: list[str]) -> str:
        if arg == "?":
            info.extend(self.answers.vsm)
            return "OK"
        parts = arg.split(",")
        try:
            cml, rate = int(parts[0]), int(parts[1])
        except (IndexError, ValueError):
            return "ERROR"
        if len(parts) == 2 and not self.answers.vsm_short:
            return "ERROR"
        codec = next((c for c in self.codecs if c.cml == cml), None)
        if codec is None or not codec.supports(rate) or codec.codec is None:
            return "ERROR"
        self.codec = codec
        return "OK"

    def _dial(self, dial: str) -> None:
        number = dial.rstrip(";")
        self.dialed.append(number)
        if self.fclass != "8":
            self._say("ERROR")
            return
        glare, self._glare = self._glare, None
        if glare is not None and self._call is None:
            self._collide(glare)
            return
        self._hook(True)
        if self.dead_line:
            self._hook(False)
            self._say("NO DIALTONE")
            return
        now = time.monotonic()
        self._dialing = {"number": number, "at": now, "answer_at": now + self.called.answer_after,
                         "answered": False, "next_event": now}
        self._signal = np.zeros(0)
        self._say("OK")

    def _collide(self, glare: _Glare) -> None:
        now = time.monotonic()
        caller = glare.caller
        caller.arrived = now
        self.counters["calls"] += 1
        self._call = _Call(caller, next_ring=float("inf"), give_up_at=now + caller.patience)
        if glare.caller_id_first:
            self._caller_id(caller)
        self._say("RING")
        self._hook(True)                 # the ring trip: the caller is answered
        self._dial_tone_wait = now + DIAL_TONE_WAIT_S

    def _hook(self, off: bool) -> None:
        if off == self.offhook:
            return
        now = time.monotonic()
        self.offhook = off
        if off:
            self._frame_t0, self._frames_sent = now, 0
            self._off_hook = self._off_hook_sound()
            self._signal = np.zeros(0)
            self._marks = []
            self._dial_tone_reported = False
            call = self._call
            if call is not None:
                call.on_hook_at = None       # back within the break: still the same call
            if call is not None and call.caller.answered is None and not call.gone:
                assert call.caller.arrived is not None, "place_call and arrive_on_dial set it"
                call.caller.answered = now
                call.give_up_at = call.caller.arrived + call.caller.patience
                call.keys = sorted((now + at, digits) for at, digits in call.caller.keys)
            return
        self.stream = "none"
        self._dialing = None
        self._dial_tone_wait = None
        call = self._call
        if call is not None and call.caller.answered is not None and not call.gone:
            call.on_hook_at = now            # a clear once the break outlasts CLEAR_BREAK_S
        elif call is not None:
            self._end_call("caller" if call.gone else "box")

    # --- time -------------------------------------------------------------------------------------
    def _tick(self, now: float) -> None:
        call = self._call
        if call is not None and call.on_hook_at is not None and now - call.on_hook_at >= CLEAR_BREAK_S:
            self._end_call("box", at=call.on_hook_at)
            call = None
        if self._dial_tone_wait is not None and now >= self._dial_tone_wait:
            self._dial_tone_wait = None
            self._hook(False)
            self._say("NO DIALTONE")
        if call is not None and not self.offhook and call.caller.answered is None:
            if now >= call.next_ring:
                self._say("RING")
                call.rings += 1
                call.next_ring += self.ring_period_s
                if call.rings == 1 and not call.cid_first:
                    call.cid_at = now + CID_AFTER_RING_S
            if call.cid_at is not None and now >= call.cid_at:
                call.cid_at = None
                self._caller_id(call.caller)
            if now >= call.give_up_at:
                assert call.caller.arrived is not None, "place_call and arrive_on_dial set it"
                self._end_call("caller" if now < call.caller.arrived + NO_ANSWER_RELEASE_S else "pstn")
        if call is not None and self.offhook and not call.gone:
            while call.keys and call.keys[0][0] <= now:
                _, digits = call.keys.pop(0)
                self._press(call.caller, digits)
            if now >= call.hangup_at or now >= call.give_up_at:
                self._caller_gone(now)
        if self._dialing is not None and self.offhook:
            self._dial_progress(now, self._dialing)
        if self.offhook:
            self._frames(now)

    def _caller_id(self, caller: SimCaller) -> None:
        sep = " = " if self.answers.cid_spaces else "="
        when = time.localtime()
        lines = [f"DATE{sep}{when.tm_mon:02d}{when.tm_mday:02d}", f"TIME{sep}{when.tm_hour:02d}{when.tm_min:02d}",
                 f"NMBR{sep}{caller.number}"]
        if caller.name:
            lines.append(f"NAME{sep}{caller.name}")
        for text in lines:
            self.transcript.append(("modem", text))
            self._write(f"\r\n{text}\r\n".encode("ascii", "replace"))

    def _press(self, caller: SimCaller, digits: str) -> None:
        style = self.dtmf
        start = self._signal.size
        audio = tonegen.dtmf_string(digits, on_s=style.on_s, off_s=style.off_s, level_dbm0=style.level_dbm0,
                                    twist_db=style.twist_db)
        step = int(round((style.on_s + style.off_s) * v253.RATE))
        on = int(round(style.on_s * v253.RATE))
        for k, d in enumerate(digits):
            # The modem reports the digit it detects (V.253 event 4); with DTMF shielding it brackets
            # the (repeated) report with <DLE>/ and <DLE>~ (docs/standards.md §11.3).
            if self.answers.dtmf_shielding:
                self._marks.append((start + k * step, v253.dle("/") + v253.dle(d) + v253.dle(d)))
                self._marks.append((start + k * step + on, v253.dle("~")))
            else:
                self._marks.append((start + k * step, v253.dle(d)))
        self._signal = np.concatenate([self._signal, audio])
        caller.pressed += digits

    def _caller_gone(self, now: float) -> None:
        call = self._call
        if call is None or call.gone:
            return
        call.gone = True
        if call.caller.ended is None:
            call.caller.ended, call.caller.ended_by = now, "caller"
        if self.tone_plan is not None and self.offhook:
            # docs/architecture.md §20: the exchange gives the party left on the line its busy tone.
            call.cleared = progress_tone(self.tone_plan, "busy", round((now - self._frame_t0) / FRAME_S), FRAME)
        self._signal = np.zeros(0)
        self._marks = []
        if self.stream != "none":
            self._write(v253.dle(self.answers.remote_hangup))
        if not self.offhook:
            self._end_call("caller")

    def _end_call(self, by: str, at: float | None = None) -> None:
        call, self._call = self._call, None
        assert call is not None, "a call ends once"
        caller = call.caller
        if caller.ended is None:
            caller.ended, caller.ended_by = time.monotonic() if at is None else at, by
        self.finished.append(caller)

    def _dial_progress(self, now: float, d: dict[str, Any]) -> None:
        if self.stream == "none":
            return
        if self.called.busy:
            if now >= d["next_event"]:
                self._write(v253.dle("b"))
                d["next_event"] = now + BUSY[2][0] + BUSY[2][1]
            return
        if not d["answered"] and now >= d["answer_at"]:
            d["answered"] = True
            self._write(v253.dle("v"))        # V.253 event 27, voice detected: the far end speaks
        elif not d["answered"] and now >= d["next_event"]:
            self._write(v253.dle("r"))
            d["next_event"] = now + sum(RINGBACK[2])

    def _line_signal(self, n: int, t: float) -> np.ndarray:
        """What the line carries now besides the caller's own audio."""
        call = self._call
        if self._dialing is not None:
            d = self._dialing
            if self.called.busy:
                return self._tone(BUSY, n, t - d["at"])
            return np.zeros(n) if d["answered"] else self._tone(RINGBACK, n, t - d["at"])
        if call is None:
            sound = self._off_hook
            return np.zeros(n) if sound is None else sound.read(round((t - self._frame_t0) / FRAME_S), n)
        if call.cleared is not None:
            return call.cleared.read(round((t - self._frame_t0) / FRAME_S), n)
        caller = call.caller if call is not None else None
        if caller is not None and not call.gone and caller.connected is not None and caller.voice_hz:
            # The caller's voice as a steady tone (as drivers/sim does), to trace the audio path.
            hz = round(caller.voice_hz)
            return tonegen.tone(hz, CALLER_VOICE_DBM0, n, phase=2.0 * np.pi * hz * (t - caller.connected))
        return np.zeros(n)

    def _off_hook_sound(self) -> Loop | None:
        """What an idle line carries off-hook: nothing on a dead line, the injected sound, or the plan's
        dial tone (the same the simulated exchange gives: drivers/sim_signals.py)."""
        if self.dead_line:
            return None
        if self.off_hook_audio is not None:
            return make_loop(self.off_hook_audio, 0, FRAME)
        if self.tone_plan is None:
            return None
        return progress_tone(self.tone_plan, "dial", 0, FRAME)

    @staticmethod
    def _tone(spec, n: int, t: float) -> np.ndarray:
        freqs, level, cadence = spec
        x = tonegen.tone(freqs, level, n, phase=0.0)
        if cadence is None:
            return x
        on, off = cadence
        return x if (t % (on + off)) < on else np.zeros(n)

    def _frames(self, now: float) -> None:
        due = int((now - self._frame_t0) / FRAME_S) - self._frames_sent
        if due <= 0:
            return
        if due > MAX_CATCH_UP:
            self._frames_sent += due - MAX_CATCH_UP
            due = MAX_CATCH_UP
        noise_amp = dbm0_to_amplitude(NOISE_DBM0) * np.sqrt(0.5)
        out = bytearray()
        for _ in range(due):
            t = self._frame_t0 + self._frames_sent * FRAME_S
            x = self._line_signal(FRAME, t) + self._rng.standard_normal(FRAME) * noise_amp
            k = min(FRAME, self._signal.size)
            x[:k] += self._signal[:k]
            self._signal = self._signal[k:]
            marks = b"".join(m for at, m in self._marks if at < FRAME)
            self._marks = [(at - FRAME, m) for at, m in self._marks if at >= FRAME]
            if self.stream in ("rx", "duplex") and self.codec is not None and self.codec.codec is not None:
                out += v253.shield(v253.encode_audio(self.codec.codec, tonegen.to_int16(x)))
            if self.stream != "none":
                out += marks
            self._frames_sent += 1
        if (self.stream != "none" and self._call is None and self._dialing is None and not self._dial_tone_reported
                and self.off_hook_audio is None and not self.dead_line and now - self._frame_t0 >= DIAL_TONE_REPORT_S):
            self._dial_tone_reported = True
            out += v253.dle("d")
        if out:
            self._write(bytes(out))

