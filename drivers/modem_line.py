"""One analog line on one voice modem: its state machine, the command scripts it runs, its calls and audio."""
# Everything here runs in the tick loop: `poll` drains what the port's thread read, advances the
# line's command script (modem_chat) and trades one tick of audio (modem_audio).
# Over 600 lines, and one thing: the line's state machine. Its command scripts are its transitions
# (each sets the states it passes through), and the handlers of rings, caller ID, shielded events and
# result lines are what moves it between them; glare, far-end clearing and the line test each span
# both, so they read best side by side. Port, input framing, chat stepping and audio are apart.

from __future__ import annotations

import enum
import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import serial

from dsp.dialtone import DialToneListener
from dsp.tones import TonePlan, TonePlanError

from . import modem_chat, modem_quirks, v253
from .channel import ChannelError, ChannelEvent, ChannelKind, EventKind, LineTest
from .jitter_buffer import JITTER_LIMIT
from .modem_audio import LineAudio
from .modem_chat import Chat, Cmd, Script, Wait, require
from .modem_port import ModemPortError, PortIO, PortLink
from .modem_quirks import ModemModel
from .modem_reader import MAX_LINE, ModemReader, Stream
from .v253 import LineKind

log = logging.getLogger(__name__)

# An idle modem is asked `AT` this often; two missed answers in a row reset it.
KEEPALIVE_S = 30.0
# mgetty default.h dial_timeout.
DIAL_TIMEOUT_S = 90.0
# No RING for this long ends a ringing call: the longest silent gap of the usual cadences is 4 s
# (North America 2/4 s, China 1/4 s, docs/standards.md §3), doubled.
RING_GONE_S = 8.0
# docs/standards.md §11.4: caller ID comes as several lines after the first RING and is often partial; it is
# reported at the next RING or once no field has arrived for this long.
CID_SETTLE_S = 0.5
# Resets in a row without reaching idle before the port is closed and reopened.
MAX_RESETS = 2
# DTR held low this long makes a V.250 modem (&D2) hang up and return to command state.
DTR_DROP_S = 0.5
# Outbound: after ringback was heard, this long without it presumes the far end answered (V.253
# +VRA "ringback goes away"); one ringing cycle (6 s North America) plus a second.
RINGBACK_GONE_S = 7.0
# Line test: the audio of a voice stream may start this much after its CONNECT (USB CDC delivers in
# bursts, up to the jitter buffer's limit), so a test listens that much longer than the dial tone
# detector needs.
STREAM_START_S = JITTER_LIMIT / v253.RATE
# Why a dialled leg ends when an incoming call took its line (the CLEAR event's reason).
GLARE = "glare: an incoming call took the line"


class LineState(str, enum.Enum):
    OFFLINE = "offline"        # no device open (missing, lost, refused): in alarm, reconnect scheduled
    RESETTING = "resetting"    # DTR dropped, re-initialising after the modem stopped answering
    INIT = "init"              # the initialisation chat runs
    IDLE = "idle"              # on-hook in voice mode, waiting for RING
    RINGING = "ringing"
    ANSWERING = "answering"    # going off-hook, starting the voice stream
    DIALING = "dialing"        # an outbound call is being set up
    CONNECTED = "connected"    # audio flows
    HANGING_UP = "hanging_up"  # leaving the voice stream, going on-hook
    TESTING = "testing"        # line test: off-hook, listening for dial tone


@dataclass
class LineConfig:
    name: str
    port: str                        # a path pyserial opens, "auto", or "emulator:<modem id>"
    kind: ChannelKind = ChannelKind.TRUNK
    number: str = ""                 # station lines: the agent's phone number this line dials


class ModemLine:
    """One analog line on one voice modem: connection, command scripts, call state, audio."""

    def __init__(self, index: int, cfg: LineConfig, table: dict[str, ModemModel],
                 factory: Callable[..., serial.Serial], clock: Callable[[], float], claimed: set[str]):
        self.index, self.cfg, self.table = index, cfg, table
        self.state = LineState.OFFLINE
        self.model: ModemModel | None = None
        self.ati = ("", "")
        self.codec: v253.VoiceCodec | None = None
        self.duplex: bool | None = None
        self.io: PortIO | None = None
        self.events: list[ChannelEvent] = []
        self.counters = {"calls": 0, "dtmf": 0, "resets": 0, "overruns": 0, "underruns": 0,
                         "reconnects": 0, "ignored_lines": 0, "dropped_tx": 0}
        self.last_caller_id: dict[str, Any] | None = None
        self.last_test: dict[str, Any] | None = None
        self._alarm: tuple[str, str] | None = None      # (kind "device" | "line", reason)
        self._now = clock()
        self._link = PortLink(cfg.name, cfg.port, table, factory, claimed, self._now)
        self._resets_in_row = 0
        self._chat = Chat(lambda: self._now, self._send, self._stream_started, self._chat_failed)
        self._keepalive_at = float("inf")
        self._dtr_up_at: float | None = None
        self._reader = ModemReader(self._on_line, self._on_dle, self._on_audio, self._on_long_line)
        # call
        self._cid = v253.CallerIdReport()
        self._cid_at: float | None = None
        self._last_ring = 0.0
        self._ignore_rings_until = 0.0
        self._seizing = False                  # ATD sent, its result not yet in
        self._glare = False                    # a RING or caller ID came meanwhile
        self._caller_on_line = False           # RINGING off hook: the caller is answered already
        self._dial_deadline: float | None = None
        self._last_ringback: float | None = None
        self._test: dict[str, Any] | None = None
        self.audio = LineAudio()

    # --- naming and logging -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The device as messages name it: ttyACM0, pts/3, serial/by-id/usb-..."""
        return self._link.name

    @property
    def device(self) -> str:
        """The path opened last (for messages and status)."""
        return self._link.device

    @property
    def _stream(self) -> Stream:
        return self._reader.stream

    def _set_state(self, state: LineState, why: str = "") -> None:
        if state == self.state:
            return
        log.info("modem %s (%s): %s -> %s%s", self.name, self.cfg.name, self.state.value, state.value,
                 f" ({why})" if why else "")
        self.state = state

    def _emit(self, kind: EventKind, **data: Any) -> None:
        self.events.append(ChannelEvent(self.index, kind, data))

    def _raise_alarm(self, kind: str, reason: str) -> None:
        if self._alarm is not None and self._alarm[1] == reason:
            return
        log.error("%s", reason)
        self._alarm = (kind, reason)
        self._emit(EventKind.ALARM, active=True, reason=reason)

    def _clear_alarm(self, kind: str) -> None:
        if self._alarm is not None and self._alarm[0] == kind:
            log.warning("modem %s (%s): back in service", self.name, self.cfg.name)
            self._alarm = None
            self._emit(EventKind.ALARM, active=False, reason="")

    # --- connection -------------------------------------------------------------------------------
    def _try_open(self) -> None:
        try:
            self.io, usb_model = self._link.open(self.cfg.port, self._now)
        except ModemPortError as exc:
            self._raise_alarm("device", str(exc))
            return
        self.model = usb_model
        self.duplex = self.model.duplex if self.model else None
        self._reset_parser()
        self._set_state(LineState.INIT, f"opened {self.device}")
        self._chat.run(self._init_script, "init")

    def _go_offline(self, reason: str) -> None:
        """The device is gone or keeps failing: close it, end the call, reconnect later."""
        self._end_call_on_fault(reason)
        self._close_port()
        self._set_state(LineState.OFFLINE, reason)
        self._raise_alarm("device", reason)
        self.counters["reconnects"] += 1
        self._link.retry_later(self._now)

    def _close_port(self) -> None:
        if self.io is not None:
            self.io.close(linger=0.0)
            self.io = None
        self._link.release()
        self._chat.stop()
        self._keepalive_at = float("inf")
        self._dtr_up_at = None
        self._reset_parser()

    def _reset_parser(self) -> None:
        self._reader.reset()
        self.audio.reset()

    def _end_call_on_fault(self, reason: str) -> None:
        # The engine ends the call as failed on the ALARM that follows; only local state goes here.
        self._cid = v253.CallerIdReport()
        self._cid_at = None
        self._drop_test(f"{reason}; line test of {self.cfg.name} not completed")
        self._dial_deadline = None
        self._last_ringback = None
        self._seizing = self._glare = self._caller_on_line = False

    def _chat_failed(self, reason: str) -> None:
        self._fault(f"modem {self.name}: {reason}")

    def _fault(self, reason: str) -> None:
        """The modem stopped answering or refused a required command: reset it, or give up on it."""
        self._resets_in_row += 1
        if self._resets_in_row > MAX_RESETS:
            self._resets_in_row = 0
            self._go_offline(f"{reason}; no recovery after {MAX_RESETS} resets, reopening the port")
            return
        self.counters["resets"] += 1
        self._end_call_on_fault(reason)
        self._raise_alarm("device", reason)
        self._set_state(LineState.RESETTING, reason)
        self._chat.stop()
        self._keepalive_at = float("inf")
        self._reset_parser()
        if self.io is not None:
            self.io.set_dtr(False)
        self._dtr_up_at = self._now + DTR_DROP_S

    # --- what the chat reports ----------------------------------------------------------------------
    def _send(self, cmd: Cmd) -> None:
        if cmd.stops:
            self._reader.stop_sent()
        if self.io is not None:
            self.io.write(cmd.data)
        log.debug("modem %s <- %s", self.name, cmd.label)

    def _stream_started(self, stream: Stream) -> None:
        self._reader.start_stream(stream)
        if self.io is not None:
            self.audio.stream_started(stream, self.io.write)

    # --- command scripts --------------------------------------------------------------------------
    def _init_script(self) -> Script:
        cmd = Cmd("ATZ")
        require((yield cmd), cmd)
        # V.250: echo off, verbose result codes (mgetty detect.c sends ATE0 first).
        cmd = Cmd("ATE0V1")
        require((yield cmd), cmd)
        k0, a0 = yield Cmd("ATI0")
        k3, a3 = yield Cmd("ATI3")
        self.ati = (a0[0] if k0 == LineKind.OK and a0 else "", " ".join(a3) if k3 == LineKind.OK else "")
        if self.model is None:
            self.model = modem_quirks.by_ati(*self.ati, table=self.table) or modem_quirks.generic(self.table)
            self.duplex = self.model.duplex
        model = self.model
        cmd = Cmd("AT+FCLASS=8")
        kind, _ = yield cmd
        if kind == LineKind.ERROR:
            raise modem_chat.ChatFailed("not a voice modem (AT+FCLASS=8 refused)")
        require((kind, []), cmd)
        kind, lines = yield Cmd("AT+VSM=?")
        codecs = v253.parse_vsm_list(lines) if kind == LineKind.OK else []
        try:
            chosen = v253.choose_codec(codecs)
        except v253.V253Error as exc:
            # docs/standards.md §11.2: fall back to the modem's known id (mgetty probes AT+VSM=1,8000).
            log.warning("modem %s: %s; using +VSM %d (%s) from board/modems.toml", self.name, exc,
                        model.fallback_cml, model.fallback_codec.value)
            chosen = v253.VoiceCodec.known(model.fallback_cml, model.fallback_codec)
        short, long = f"AT+VSM={chosen.cml},{v253.RATE}", f"AT+VSM={chosen.cml},{v253.RATE},0,0"
        kind = LineKind.ERROR
        if not model.vsm_long:
            kind, _ = yield Cmd(short)
        if kind != LineKind.OK:
            # mgetty V253modem.c: on ERROR retry with silence compression and expansion off.
            cmd = Cmd(long)
            require((yield cmd), cmd)
        self.codec = chosen
        # docs/standards.md §11.5: the rest is best effort, each refusal a warning (modems differ).
        for text in ("AT+VLS=0", "AT+VCID=1", "AT+VIT=0", *model.init):
            cmd = Cmd(text)
            kind, _ = yield cmd
            if kind != LineKind.OK:
                log.warning("modem %s: %s answered %s; going on without it", self.name, text,
                            kind.value.upper() if kind else f"nothing in {cmd.seconds:.1f} s")
        self._ready("initialised")

    def _ready(self, why: str) -> None:
        self._resets_in_row = 0
        self._set_state(LineState.IDLE, why)
        self._clear_alarm("device")
        self._keepalive_at = self._now + KEEPALIVE_S

    def _keepalive_script(self) -> Script:
        cmd = Cmd("AT")
        kind, _ = yield cmd
        if kind is None:
            kind, _ = yield cmd
        require((kind, []), cmd)
        self._keepalive_at = self._now + KEEPALIVE_S

    def _start_stream(self) -> Script:
        if self.duplex is not False:
            kind, _ = yield Cmd("AT+VTR", stream=Stream.DUPLEX)
            if kind == LineKind.CONNECT:
                self.duplex = True
                return
            log.info("modem %s: AT+VTR answered %s: half duplex (AT+VRX/AT+VTX)", self.name,
                     kind.value.upper() if kind else "nothing")
            self.duplex = False
        cmd = Cmd("AT+VRX", stream=Stream.RX)
        require((yield cmd), cmd, LineKind.CONNECT)

    def _stop_cmd(self, abort: bool = False) -> Cmd:
        if self._stream == Stream.DUPLEX:
            return Cmd(v253.dle("^"), stops=True)             # V253modem.c duplex stop
        if self._stream == Stream.RX:
            return Cmd(v253.dle(self._model.stop_rx), stops=True)
        return Cmd(v253.ABORT_TX if abort else v253.END_TX, stops=True)

    @property
    def _model(self) -> ModemModel:
        """The modem's model once known (by USB id or ATI), else the generic one."""
        return self.model or modem_quirks.generic(self.table)

    def _answer_script(self) -> Script:
        self._caller_on_line = False
        self._set_state(LineState.ANSWERING)
        # mgetty V253 pick_phone: off-hook connected to the line, answer VCON or OK.
        cmd = Cmd("AT+VLS=1")
        require((yield cmd), cmd, LineKind.OK, LineKind.VCON)
        yield from self._start_stream()
        self.counters["calls"] += 1
        self._set_state(LineState.CONNECTED, f"{self._stream.value} stream")

    def _drop_test(self, detail: str) -> None:
        if self._test is not None:
            self._test["job"].finish(None, None, detail)
            self._test = None

    def _hangup_script(self) -> Script:
        self._set_state(LineState.HANGING_UP)
        self._drop_test(f"modem {self.name}: {self.cfg.name}: test stopped, the line was hung up")
        if self._stream != Stream.NONE:
            # A stream that will not stop is a modem that stopped answering: require resets it.
            cmd = self._stop_cmd(abort=True)
            require((yield cmd), cmd)
        cmd = Cmd("AT+VLS=0")
        kind, _ = yield cmd
        if kind != LineKind.OK:
            cmd = Cmd("ATH0")
            require((yield cmd), cmd)
        # docs/standards.md §11.4: USR forgets caller ID after mode switches; re-assert after every call.
        yield Cmd("AT+VCID=1")
        self._ready("on-hook")

    def _dial_script(self, number: str) -> Script:
        self._set_state(LineState.DIALING, f"dialing {number}")
        # ATD...; dials and returns to command state off-hook, so the box can listen to the progress.
        cmd = Cmd(f"ATD{number};", timeout=DIAL_TIMEOUT_S)
        self._seizing, self._glare = True, False
        kind, _ = yield cmd
        self._seizing = False
        if self._glare:
            self._glare = False
            self._taken_by_caller(kind)
            return
        self._dial_deadline = self._now + DIAL_TIMEOUT_S
        if kind == LineKind.NO_DIALTONE:
            self._emit(EventKind.PROGRESS, tone="no_dialtone")
            self._raise_alarm("line", f"modem {self.name}: line {self.cfg.name} dead: no dial tone when dialing")
        elif kind == LineKind.BUSY:
            self._emit(EventKind.PROGRESS, tone="busy")
        if kind not in (LineKind.OK, LineKind.VCON):
            self._dial_deadline = None
            self._emit(EventKind.CLEAR, reason=f"dial: {kind.value if kind else 'no answer to ATD'}")
            yield from self._hangup_script()
            return
        self._clear_alarm("line")
        yield from self._start_stream()
        self.counters["calls"] += 1
        if kind == LineKind.VCON:
            self._far_end_answered("VCON")

    def _taken_by_caller(self, kind: LineKind | None) -> None:
        """Glare: a call reached the line as the modem went off hook to dial (its RING or caller ID came
        while ATD ran). On an analog loop-start line the loop the modem closed answered that call (the
        exchange's ring trip), so the dialled number never went out: the modem heard the caller instead
        of a dial tone (NO DIALTONE, not a dead line: no alarm) and dropped the line, or, dialling
        blind, keyed the number into the caller's ear. The exchange will not ring the line again for
        an answered call, and lets it go only on a break longer than a hook flash. So the dialled leg
        ends here (CLEAR, GLARE: the engine dials it on another line) and the caller is reported as a
        call ringing that needs no more rings (RING, off_hook): the engine answers at once, and the
        answer takes the line back off hook (AT+VLS=1) one command delay after the modem dropped it,
        well inside the exchange's clearing time. If the engine lets the call go instead, the line is
        put on hook and the exchange clears it."""
        self._emit(EventKind.CLEAR, reason=GLARE, glare=True)
        log.warning("modem %s (%s): glare: an incoming call took the line as it went off hook to dial (%s)",
                    self.name, self.cfg.name, kind.value.upper() if kind else "no answer to ATD")
        self._caller_on_line = True
        self._last_ring = self._now
        self._set_state(LineState.RINGING, "glare: answered by going off hook")
        self._emit_pending_cid()
        self._emit(EventKind.RING, off_hook=True)

    def _test_script(self, seconds: float, job: LineTest, listener: DialToneListener) -> Script:
        self._set_state(LineState.TESTING, f"listening {seconds:.1f} s for dial tone")
        self._test = {"started": time.time(), "seconds": seconds, "modem_dialtone": False, "job": job,
                      "listener": listener}
        cmd = Cmd("AT+VLS=1")
        require((yield cmd), cmd, LineKind.OK, LineKind.VCON)
        cmd = Cmd("AT+VRX", stream=Stream.RX)
        require((yield cmd), cmd, LineKind.CONNECT)
        yield Wait(seconds)
        test, self._test = self._test, None
        assert test is not None, "a line test ends only by its own script or by _drop_test, which ends that"
        # The box's own detector judges, to the site's tone plan; the modem's dial tone report (V.253
        # <DLE>d, its own detector set for some country) is kept for the technician only.
        plan = listener.plan.name
        result = {"at": test["started"], "seconds": seconds, "plan": plan, "modem_dialtone": test["modem_dialtone"],
                  "level_dbm0": listener.level_dbm0, "dial_tone": listener.heard}
        self.last_test = result
        level = "no audio" if listener.level_dbm0 is None else f"{listener.level_dbm0:.1f} dBm0"
        if listener.heard:
            self._clear_alarm("line")
            job.finish(True, listener.level_dbm0,
                       f"modem {self.name}: {self.cfg.name}: {plan} dial tone heard (line at {level})")
        else:
            reason = f"modem {self.name}: line {self.cfg.name}: no {plan} dial tone in a {seconds:.1f} s line test"
            self._raise_alarm("line", reason)
            said = "; the modem reported a dial tone of its own" if test["modem_dialtone"] else ""
            job.finish(False, listener.level_dbm0, f"{reason} (line at {level}){said}")
        yield from self._hangup_script()

    # --- actions from the engine ------------------------------------------------------------------
    def answer(self) -> None:
        if self.state != LineState.RINGING:
            raise ChannelError(f"modem {self.name}: {self.cfg.name} is not ringing ({self.state.value})")
        self._emit_pending_cid()
        self._chat.request(self._answer_script, "answer")

    def hangup(self) -> None:
        if self.state == LineState.RINGING and self._caller_on_line:
            # A call answered by glare is let go by going on hook (the modem may still be off hook).
            self._caller_on_line = False
            self._chat.request(self._hangup_script, "hangup")
            return
        if self.state == LineState.RINGING:
            # An analog line cannot refuse a call: the rings of this one are no longer reported.
            self._ignore_rings_until = self._now + RING_GONE_S
            self._set_state(LineState.IDLE, "ringing call let go")
            return
        if self.state in (LineState.ANSWERING, LineState.CONNECTED, LineState.DIALING, LineState.TESTING):
            self._chat.request(self._hangup_script, "hangup")

    def dial(self, number: str) -> None:
        number = number or self.cfg.number
        if not number:
            raise ChannelError(f"modem {self.name}: {self.cfg.name} has no number to dial "
                               "(set `number` on the line in the board profile)")
        if any(c not in "0123456789*#ABCDabcd,W@!P" for c in number):
            raise ChannelError(f"modem {self.name}: {number!r} is not a dial string (V.250 D: 0-9 * # A-D , W @ ! P)")
        if self.state != LineState.IDLE:
            raise ChannelError(f"modem {self.name}: {self.cfg.name} is busy ({self.state.value})")
        # Going off hook on a line an incoming call rings would answer it: a call let go still rings,
        # and caller ID sent before the first ring (docs/standards.md §15) announces one.
        if self._now < self._ignore_rings_until:
            raise ChannelError(f"modem {self.name}: {self.cfg.name}: {GLARE} (a call let go still rings)")
        if self._cid and self._cid_at is not None and self._now - self._cid_at <= RING_GONE_S:
            raise ChannelError(f"modem {self.name}: {self.cfg.name}: {GLARE} (its caller ID came)")
        self._chat.request(lambda: self._dial_script(number), "dial")

    def test_line(self, seconds: float, plan: TonePlan) -> LineTest:
        if self.state != LineState.IDLE:
            raise ChannelError(f"modem {self.name}: {self.cfg.name} cannot be tested now ({self.state.value})")
        try:
            listener = DialToneListener(plan)
        except TonePlanError as exc:
            raise ChannelError(f"modem {self.name}: {self.cfg.name}: {exc}") from None
        needed = listener.seconds_needed + STREAM_START_S
        if seconds < needed:
            raise ChannelError(f"modem {self.name}: line test of {seconds} s: the {plan.name} plan's dial tone is "
                               f"told from its other tones in {needed:.2f} s; listen at least that long")
        job = LineTest(seconds)
        self._chat.request(lambda: self._test_script(seconds, job, listener), "test")
        return job

    # --- input ------------------------------------------------------------------------------------
    def _drain(self) -> None:
        io = self.io
        while io is not None:
            try:
                item = io.inbox.get_nowait()
            except queue.Empty:
                if not io.alive():
                    self._go_offline(f"modem {self.name}: its serial thread stopped")
                return
            if isinstance(item, BaseException):
                self._go_offline(f"modem {self.name}: lost ({item})")
                return
            data = item
            while data and self.io is not None:
                data = self._reader.feed(data)
            io = self.io

    def _on_long_line(self) -> None:
        self.counters["ignored_lines"] += 1
        log.warning("modem %s: line longer than %d bytes ignored", self.name, MAX_LINE)

    def _on_line(self, text: str) -> None:
        line = v253.parse_line(text)
        log.debug("modem %s -> %s", self.name, line.text)
        if line.kind == LineKind.RING:
            self._on_ring()
        elif line.kind == LineKind.CALLER_ID:
            self._on_cid(line)
        elif line.kind in (LineKind.CADENCE, LineKind.IGNORED):
            return
        elif line.kind == LineKind.RINGING and self.state == LineState.DIALING:
            self._emit(EventKind.PROGRESS, tone="ringback")
        elif self._chat.waiting and line.kind in v253.FINAL:
            self._chat.answer(line.kind)
        elif self._chat.waiting and line.kind == LineKind.TEXT:
            self._chat.text(line.text)
        elif line.kind == LineKind.NO_CARRIER and self.state in (LineState.CONNECTED, LineState.DIALING):
            self._far_end_clear("NO CARRIER")
        else:
            self.counters["ignored_lines"] += 1
            log.warning("modem %s: unexpected line %r in state %s ignored", self.name, line.text,
                        self.state.value)

    def _on_ring(self) -> None:
        self._last_ring = self._now
        if self._seizing and self.cfg.kind == ChannelKind.TRUNK:
            self._glare = True
        if self.cfg.kind == ChannelKind.STATION or self._now < self._ignore_rings_until:
            if self._now < self._ignore_rings_until:
                self._ignore_rings_until = self._now + RING_GONE_S
            return
        if self.state == LineState.IDLE:
            if self._cid_at is None or self._now - self._cid_at > RING_GONE_S:
                # Caller ID that came just before the first RING (pre-ring, docs/standards.md §15) belongs to it.
                self._cid = v253.CallerIdReport()
                self._cid_at = None
            self._clear_alarm("line")            # a ringing line is not dead
            self._set_state(LineState.RINGING)
        if self.state == LineState.RINGING:
            self._emit_pending_cid()
            self._emit(EventKind.RING)

    def _on_cid(self, line: v253.Line) -> None:
        if self.cfg.kind == ChannelKind.STATION:
            return
        if self._seizing:
            self._glare = True
            if self._cid_at is None or self._now - self._cid_at > RING_GONE_S:
                self._cid = v253.CallerIdReport()     # a fresh call's, not what an earlier one left
        self._cid.add(line)
        self._cid_at = self._now

    def _emit_pending_cid(self) -> None:
        if self._cid_at is None or not self._cid:
            return
        data = self._cid.event_data()
        self.last_caller_id = {**data, "at": time.time()}
        self._cid_at = None
        if self.state == LineState.RINGING:
            self._emit(EventKind.CALLER_ID, **data)

    def _on_dle(self, ev: v253.DleEvent) -> None:
        model = self._model
        if ev.code in model.ignore_dle:
            return
        name = model.event_name(ev.code, ev.name)
        state = self.state
        if name == "dtmf":
            self.counters["dtmf"] += 1
            if state in (LineState.CONNECTED, LineState.DIALING):
                self._emit(EventKind.DIGIT, digit=ev.code)
                if self._stream == Stream.TX:
                    self.audio.regenerate(ev.code)
            return
        if name == "rx_overrun":
            self.counters["overruns"] += 1
        elif name == "tx_underrun":
            self.counters["underruns"] += 1
        elif name == "dialtone" and self._test is not None:
            self._test["modem_dialtone"] = True
        elif name == "ring" and state == LineState.IDLE:
            self._on_ring()
        elif name == "packet":
            # Si2493 complex event report: caller ID lines inside <DLE>X ... <DLE>. (docs/standards.md §11.3).
            for text in ev.payload.decode("ascii", "replace").replace("\n", "\r").split("\r"):
                if text.strip():
                    self._on_line(text)
        elif name == "unknown":
            self.counters["ignored_lines"] += 1
            log.warning("modem %s: unknown shielded code <DLE>%r ignored", self.name, ev.code)
        if state == LineState.DIALING:
            self._on_dial_progress(name)
        elif state == LineState.CONNECTED and name in ("busy", "dialtone", "loop_drop"):
            # docs/standards.md §15: after the far end clears the line carries busy or dial tone, or loop
            # current drops. Silence (<DLE>s) is not taken as a hang-up: a caller on hold is silent.
            self._far_end_clear(name)
        elif name in ("fax_calling", "data_calling", "answer_tone", "sit", "call_waiting", "polarity_reversal"):
            self._emit(EventKind.PROGRESS, tone=name)

    def _on_dial_progress(self, name: str) -> None:
        if name == "ringback":
            self._last_ringback = self._now
            self._emit(EventKind.PROGRESS, tone="ringback")
        elif name in ("voice", "answer_tone"):
            self._far_end_answered(name)
        elif name in ("busy", "sit", "loop_drop"):
            self._emit(EventKind.PROGRESS, tone=name)
            self._far_end_clear(name)
        elif name == "dialtone":
            self._emit(EventKind.PROGRESS, tone="dialtone")

    def _far_end_answered(self, why: str) -> None:
        if self.state != LineState.DIALING:
            return
        self._dial_deadline = self._last_ringback = None
        self._set_state(LineState.CONNECTED, f"far end answered ({why})")
        self._emit(EventKind.ANSWER, reason=why)

    def _far_end_clear(self, why: str) -> None:
        self._dial_deadline = self._last_ringback = None
        self._emit(EventKind.CLEAR, reason=why)
        # The engine does not hang up a line the far end cleared: the driver goes on-hook itself.
        self._chat.request(self._hangup_script, "hangup")
        self._set_state(LineState.HANGING_UP, f"far end cleared ({why})")

    def _on_audio(self, data: bytes) -> None:
        samples = self.audio.decode(self._codec, data)
        if not samples.size:
            return
        if self._test is not None:
            self._test["listener"].feed(samples)
        elif self.state in (LineState.CONNECTED, LineState.DIALING):
            self.audio.jitter.push(samples)

    # --- output -----------------------------------------------------------------------------------
    @property
    def _codec(self) -> v253.Codec:
        # A stream starts only after the init chat chose a codec that names one (v253.choose_codec).
        assert self.codec is not None and self.codec.codec is not None, f"modem {self.name}: audio before a codec"
        return self.codec.codec

    def _frame(self, tx: npt.NDArray[np.int16]) -> bytes:
        return v253.shield(v253.encode_audio(self._codec, tx))

    def _audio(self, io: PortIO, tx: npt.NDArray[np.int16], rx: npt.NDArray[np.int16]) -> None:
        live = self.state in (LineState.CONNECTED, LineState.DIALING) and not self._reader.stopping
        self.audio.receive(rx, live and self._stream in (Stream.RX, Stream.DUPLEX))
        if self.state == LineState.ANSWERING:
            self.audio.hold(self._frame(tx))      # sent once the stream is up
        elif not live:
            return
        elif self._stream == Stream.DUPLEX:
            io.write(self._frame(tx))
        elif not self._chat.running and self._stream in (Stream.RX, Stream.TX):
            self._half_duplex(io, tx)
        else:
            self.audio.hold(self._frame(tx))      # a direction switch is under way

    def _half_duplex(self, io: PortIO, tx: npt.NDArray[np.int16]) -> None:
        if self._stream == Stream.TX:
            io.write(self._frame(tx))
            if self.audio.quiet_long_enough(tx):
                self._chat.request(self._to_rx_script, "to receive")
        elif self._stream == Stream.RX and self.audio.loud(tx):
            self.audio.hold(self._frame(tx))
            self._chat.request(self._to_tx_script, "to transmit")

    def _to_tx_script(self) -> Script:
        cmd = self._stop_cmd()
        require((yield cmd), cmd)
        cmd = Cmd("AT+VTX", stream=Stream.TX)
        require((yield cmd), cmd, LineKind.CONNECT)
        self.audio.turned_to_transmit()

    def _to_rx_script(self) -> Script:
        cmd = self._stop_cmd()
        require((yield cmd), cmd)
        self.audio.drop_held()
        cmd = Cmd("AT+VRX", stream=Stream.RX)
        require((yield cmd), cmd, LineKind.CONNECT)

    # --- the tick ---------------------------------------------------------------------------------
    def poll(self, now: float, tx: npt.NDArray[np.int16], rx: npt.NDArray[np.int16]) -> None:
        self._now = now
        if self.state == LineState.OFFLINE:
            if now >= self._link.retry_at:
                self._try_open()
            rx[:] = 0
            return
        self._drain()
        if self.io is None:
            rx[:] = 0
            return
        self._timers(now)
        if self.io is None:
            rx[:] = 0
            return
        self._chat.send_due()
        self._audio(self.io, tx, rx)

    def _timers(self, now: float) -> None:
        if self._dtr_up_at is not None and now >= self._dtr_up_at and self.io is not None:
            self._dtr_up_at = None
            self.io.set_dtr(True)
            self._set_state(LineState.INIT, "re-initialising after reset")
            self._chat.run(self._init_script, "init")
        overdue = self._chat.overdue()
        if overdue is not None:
            log.warning("modem %s: no answer to %s in %.1f s", self.name, overdue.label, overdue.seconds)
            self._chat.answer(None)
        self._chat.wake()
        if self.io is None:
            return
        if self._cid_at is not None and now - self._cid_at >= CID_SETTLE_S and self.state == LineState.RINGING:
            self._emit_pending_cid()
        if self.state == LineState.RINGING and now - self._last_ring >= RING_GONE_S:
            self._set_state(LineState.IDLE, f"no RING for {RING_GONE_S:.0f} s: the caller gave up")
            self._emit(EventKind.CLEAR, reason="rings stopped")
            if self._caller_on_line:           # glare, never answered: the line goes on hook
                self._caller_on_line = False
                self._chat.request(self._hangup_script, "hangup")
        if self.state == LineState.DIALING and self._stream != Stream.NONE:
            if self._dial_deadline is not None and now >= self._dial_deadline:
                self._emit(EventKind.PROGRESS, tone="no_answer")
                self._far_end_clear("no answer")
            elif self._last_ringback is not None and now - self._last_ringback >= RINGBACK_GONE_S:
                self._far_end_answered("ringback stopped")
        if self.state == LineState.IDLE and not self._chat.running and now >= self._keepalive_at:
            self._chat.run(self._keepalive_script, "keepalive")

    # --- status -----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        counters = dict(self.counters)
        counters["overruns"] += self.audio.jitter.overruns
        counters["underruns"] += self.audio.jitter.underruns
        counters["dropped_tx"] += self.audio.dropped_tx
        return {"line": self.cfg.name, "kind": self.cfg.kind.value, "driver": "voice_modem",
                "device": self.device, "port": self.cfg.port, "state": self.state.value,
                "model": self.model.id if self.model else None,
                "family": self.model.family if self.model else None,
                "ati": self.ati[0] or None,
                "codec": self.codec.codec.value if self.codec and self.codec.codec else None,
                "duplex": self.duplex, "stream": self._stream.value,
                "doing": self._chat.name if self._chat.running else None,
                "serial_number": self._link.identity.serial_number,
                "last_caller_id": self.last_caller_id,
                "alarm": self._alarm[1] if self._alarm else None,
                "counters": counters, "test": self.last_test}

    def close(self) -> None:
        if self.io is None:
            return
        if self._stream != Stream.NONE:
            self.io.write(self._stop_cmd(abort=True).data)
        # V.250 &D2: the DTR drop of closing the port hangs the modem up as well.
        self.io.write(b"\rATH0\r")
        self.io.close()
        self.io = None
        self._link.release()

