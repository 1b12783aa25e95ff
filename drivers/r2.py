"""MFC-R2 signalling for a span's channels: CAS line signalling and compelled register signalling, either side.

Both roles of a call are here: the called side (backward: it receives the address and answers with
group A and B signals) and the calling side (forward: it seizes and sends the digits). The box uses it
for its calls in and out (drivers/e1_span.py); the simulated exchange uses the same code for the far
end (drivers/e1_exchange.py). The signals' meanings are a variant's data (board/r2/*.toml).
"""
# Vectorised where the work is per sample: the tone pairs of every channel are detected by two
# dsp.mfr2.R2Receiver (forward and backward signals) over the whole span at once, and generated from
# one table by a gather; the per-channel logic runs only on what happened (a CAS change, a tone's start
# or end, a timer), never per sample. Time is passed in (`now`, seconds), so tests run on virtual time.
#
# The compelled cycle (ITU-T Q.442; openr2 acts on the backward tone's end): the forward side sends a
# signal until it hears the backward answer; the backward side sends that answer until the forward
# signal stops, then stops; the forward side acts on the backward signal once it has stopped.

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dsp import mfr2

from .r2_variant import FAILURE_TONE, FREE, R2Variant

log = logging.getLogger(__name__)

# mfr2's frequencies are all multiples of 60 Hz: every tone pair repeats after 400 samples (50 ms).
_TONE_PERIOD = 400
_DIRECTIONS = ("forward", "backward")
_TABLE = np.zeros((2, 16, _TONE_PERIOD), np.int16)
for _d, _name in enumerate(_DIRECTIONS):
    for _s in mfr2.SIGNALS:
        _TABLE[_d, _s] = mfr2.tone(_s, _name, _TONE_PERIOD)   # type: ignore[arg-type]
_FWD, _BWD = 0, 1
# docs/standards.md §6.3: at most 20 digits of each number are kept (openr2 OR2_MAX_DNIS / ANI are
# 80; a national number of China has at most 15 digits with its prefix).
MAX_DIGITS = 20


def digit_of(signal: int) -> str | None:
    """Q.441 group I: signals 1-9 are the digits 1-9 and 10 is 0."""
    return "0" if signal == 10 else str(signal) if 1 <= signal <= 9 else None


def signal_of(digit: str) -> int:
    if digit not in "0123456789" or len(digit) != 1:
        raise ValueError(f"R2: {digit!r} is not a digit")
    return 10 if digit == "0" else int(digit)


class R2State(str, enum.Enum):
    IDLE = "idle"
    BLOCKED = "blocked"            # the far end blocks the circuit
    IN_SEIZED = "in-seized"        # seized by the far end: receiving the address
    IN_OFFERED = "in-offered"      # subscriber free sent: the call waits for its answer
    IN_REJECTED = "in-rejected"    # busy or another refusal sent: waiting for the clear-forward
    IN_ANSWERED = "in-answered"
    IN_CLEARING = "in-clearing"    # clear-back sent: waiting for the clear-forward
    OUT_SEIZING = "out-seizing"    # seize sent: waiting for the seize-acknowledge
    OUT_DIALING = "out-dialing"    # sending the address
    OUT_ACCEPTED = "out-accepted"  # subscriber free received: waiting for the answer
    OUT_ANSWERED = "out-answered"
    RELEASING = "releasing"        # clear-forward sent: waiting for idle


INCOMING = frozenset({R2State.IN_SEIZED, R2State.IN_OFFERED, R2State.IN_REJECTED, R2State.IN_ANSWERED,
                      R2State.IN_CLEARING})
OUTGOING = frozenset({R2State.OUT_SEIZING, R2State.OUT_DIALING, R2State.OUT_ACCEPTED, R2State.OUT_ANSWERED})


class R2Error(Exception):
    """A signalling request that cannot be carried out on a channel; the message names it."""


@dataclass(frozen=True)
class R2Out:
    """What happened on a channel, for the driver: `kind` is one of
    offered (dnis, ani, category), answered, accepted (meaning), failed (meaning, tone, reason),
    cleared (reason, glare), abandoned (reason: the far end left before the call was offered),
    blocked (active)."""
    channel: int
    kind: str
    data: dict = field(default_factory=dict)


@dataclass
class _Chan:
    state: R2State = R2State.IDLE
    rx: str = ""                 # the A B received last
    phase: str = ""              # the register stage: dnis, ka, ani, kd (in); dnis, ani, b (out)
    dnis: str = ""
    ani: str = ""
    category: int = 0
    category_b: int = 0
    index: int = 0               # out: digits of the current number sent
    category_sent: bool = False
    tone: int = 0                # the signal this side sends now (0: none)
    tone_at: float = 0.0         # when it is to start (slow answers: later than asked)
    heard: int = 0               # the other side's signal heard now (0: none)
    pending: int = 0             # out: the backward signal to act on once it ends
    after: str = ""              # in: what to do once the forward signal ends (offer, reject)
    reject: str = ""             # in: the B meaning sent when it was not "free"
    timer: str = ""
    deadline: float = float("inf")
    mf_deadline: float = float("inf")
    tone_end_at: float = 0.0     # in: when the B-signal ended (the answer waits answer_delay after it)
    answer_at: float | None = None
    slow_s: float = 0.0          # the delay before each tone this side answers with (a slow register)
    sent: list[int] = field(default_factory=list)   # the register signals this side sent on this call


# (dnis, ani, category) -> the group B meaning to answer with ("free_charge", "busy", ...).
Decide = Callable[[int, str, str, int], str]


class R2Span:
    """MFC-R2 on `channels` circuits of one span, driven by `cas()`, `tick()` and the call requests."""

    def __init__(self, channels: int, variant: R2Variant, set_cas: Callable[[int, str], None],
                 dnis_digits: int = 4, max_ani: int = MAX_DIGITS, decide: Decide | None = None,
                 name: str = "span", yield_on_glare: bool = True):
        if not 1 <= dnis_digits <= MAX_DIGITS:
            raise R2Error(f"R2 {name}: dnis_digits {dnis_digits} is outside 1-{MAX_DIGITS}")
        self.n, self.variant, self.name = channels, variant, name
        self._set_cas = set_cas
        self.dnis_digits, self.max_ani = dnis_digits, max_ani
        # Glare: the box gives way to the exchange's call; the exchange (the simulator) keeps its own.
        self.yield_on_glare = yield_on_glare
        self.decide: Decide = decide or (lambda ch, dnis, ani, cat: "free_charge")
        self.chans = [_Chan() for _ in range(channels)]
        self.last_sent: list[list[int]] = [[] for _ in range(channels)]   # the last call's signals sent
        self._rx_fwd = mfr2.R2Receiver(channels, "forward")    # what a called side hears
        self._rx_bwd = mfr2.R2Receiver(channels, "backward")   # what a calling side hears
        self._in_mf = np.zeros(channels, bool)
        self._dir = np.zeros(channels, np.intp)                 # the direction this side sends in
        self._sig = np.zeros(channels, np.intp)
        self._pos = np.zeros(channels, np.intp)
        # The earliest time each channel has something to do (a timer, a delayed answer), and when a
        # slow register's tone is to start: the tick looks only at channels that are due.
        self._due = np.full(channels, np.inf)
        self._start_at = np.full(channels, np.inf)
        self._ar = np.arange(160)
        self._out: list[R2Out] = []
        self.now = 0.0
        self.counters = {"offered": 0, "answered": 0, "outgoing": 0, "failed": 0, "abandoned": 0,
                         "glare": 0, "timeouts": 0, "protocol_errors": 0, "forced_idle": 0}

    # --- naming and the line ----------------------------------------------------------------------
    def _tx(self, ch: int, line_signal: str) -> None:
        self._set_cas(ch, self.variant.abcd(line_signal))

    def _set_state(self, ch: int, state: R2State, why: str = "") -> None:
        c = self.chans[ch]
        if c.state != state:
            log.debug("R2 %s ch%d: %s -> %s%s", self.name, ch, c.state.value, state.value, f" ({why})" if why else "")
            c.state = state

    def _emit(self, ch: int, kind: str, **data: object) -> None:
        self._out.append(R2Out(ch, kind, dict(data)))

    def _arm(self, ch: int, timer: str) -> None:
        c = self.chans[ch]
        c.timer, c.deadline = timer, self.now + self.variant.timers_s[timer]
        self._sync_due(ch)

    def _disarm(self, ch: int) -> None:
        c = self.chans[ch]
        c.timer, c.deadline = "", float("inf")
        self._sync_due(ch)

    def _sync_due(self, ch: int) -> None:
        c = self.chans[ch]
        self._due[ch] = min(c.deadline, c.mf_deadline, float("inf") if c.answer_at is None else c.answer_at)

    def _mf(self, ch: int, on: bool, direction: int = _FWD) -> None:
        """Register signalling starts or ends on `ch`: its receiver starts afresh, its voice is muted."""
        c = self.chans[ch]
        self._in_mf[ch] = on
        c.tone = c.heard = c.pending = 0
        self._sig[ch] = 0
        self._start_at[ch] = np.inf
        if on:
            self._dir[ch] = direction
            (self._rx_bwd if direction == _FWD else self._rx_fwd).reset(ch)
            c.mf_deadline = self.now + self.variant.timers_s["mf_fwd_safety"]
        else:
            c.mf_deadline = float("inf")
        self._sync_due(ch)

    def _send(self, ch: int, signal: int) -> None:
        c = self.chans[ch]
        if signal and len(c.sent) < 4 * MAX_DIGITS:
            c.sent.append(signal)
        c.tone = signal
        c.tone_at = self.now + c.slow_s if signal else self.now
        self._sig[ch] = signal if not c.slow_s else 0
        self._start_at[ch] = c.tone_at if signal and c.slow_s else np.inf
        self._pos[ch] = 0

    def _idle(self, ch: int, why: str) -> None:
        self._mf(ch, False)
        self._disarm(ch)
        c = self.chans[ch]
        slow = c.slow_s
        if c.sent:
            self.last_sent[ch] = c.sent
        self.chans[ch] = _Chan(rx=c.rx, slow_s=slow)
        self._sync_due(ch)
        self._tx(ch, "idle")
        self._set_state(ch, R2State.IDLE, why)
        if c.rx == self.variant.line["blocked"]:
            self._set_state(ch, R2State.BLOCKED, "the far end blocks it")

    # --- requests ---------------------------------------------------------------------------------
    def seize(self, ch: int, dnis: str, ani: str = "", category: int | None = None) -> None:
        """Call out on `ch`: seize it and send `dnis`, then `ani` when asked."""
        c = self.chans[ch]
        if c.state != R2State.IDLE:
            raise R2Error(f"R2 {self.name} ch{ch}: cannot seize, it is {c.state.value}")
        if not dnis or not all(d in "0123456789" for d in dnis + ani):
            raise R2Error(f"R2 {self.name} ch{ch}: the number {dnis!r} (calling {ani!r}) is not digits")
        c.dnis, c.ani = dnis[:MAX_DIGITS], ani[:MAX_DIGITS]
        c.category = self.variant.forward["category"] if category is None else category
        c.category_b = self.variant.forward["category_b"]
        self.counters["outgoing"] += 1
        self._tx(ch, "seize")
        self._set_state(ch, R2State.OUT_SEIZING, f"calling {dnis}")
        self._arm(ch, "seize")

    def answer(self, ch: int) -> None:
        c = self.chans[ch]
        if c.state == R2State.IN_ANSWERED:
            return
        if c.state != R2State.IN_OFFERED:
            raise R2Error(f"R2 {self.name} ch{ch}: nothing to answer, it is {c.state.value}")
        # openr2 r2_answer_delay: the far end must have heard the B-signal end before the answer.
        c.answer_at = max(self.now, c.tone_end_at + self.variant.timers_s["answer_delay"])
        self._sync_due(ch)
        if c.answer_at <= self.now:
            self._answer_now(ch)

    def _answer_now(self, ch: int) -> None:
        c = self.chans[ch]
        c.answer_at = None
        self._disarm(ch)          # also takes the answer off the channel's due time
        self._tx(ch, "answer")
        self.counters["answered"] += 1
        self._set_state(ch, R2State.IN_ANSWERED, "answered")

    def hangup(self, ch: int) -> None:
        """End the call on `ch` from this side: clear-back if it came in, clear-forward if it went out."""
        c = self.chans[ch]
        if c.state in (R2State.IDLE, R2State.BLOCKED, R2State.RELEASING, R2State.IN_CLEARING):
            return
        self._mf(ch, False)
        if c.state in INCOMING:
            self._tx(ch, "clear_back")
            self._set_state(ch, R2State.IN_CLEARING, "cleared back")
        else:
            self._tx(ch, "idle")      # clear-forward
            self._set_state(ch, R2State.RELEASING, "cleared forward")
        self._arm(ch, "release_guard")

    def reset_all(self, why: str) -> None:
        """The span went down: every circuit back to idle at once (calls are ended by the alarm)."""
        for ch in range(self.n):
            self.chans[ch].rx = ""
            self._idle(ch, why)

    def set_slow(self, ch: int, seconds: float) -> None:
        """This side answers each register signal `seconds` late (a slow register, for the simulator)."""
        self.chans[ch].slow_s = seconds

    def status(self, ch: int) -> dict:
        c = self.chans[ch]
        return {"r2": c.state.value, "dnis": c.dnis, "ani": c.ani, "tone": c.tone, "heard": c.heard,
                "sent": list(c.sent)}

    # --- the line signals -------------------------------------------------------------------------
    def cas(self, ch: int, abcd: str) -> None:
        """The card reports (debounced) ABCD `abcd` received on `ch`."""
        v = self.variant
        c = self.chans[ch]
        ab = abcd[:2]
        if ab == c.rx:
            return
        c.rx = ab
        line = v.line
        st = c.state
        if st == R2State.IDLE:
            if ab == line["seize"]:
                self._incoming(ch)
            elif ab == line["blocked"]:
                self._set_state(ch, R2State.BLOCKED, "the far end blocks it")
                self._emit(ch, "blocked", active=True)
        elif st == R2State.BLOCKED:
            if ab == line["idle"]:
                self._set_state(ch, R2State.IDLE, "unblocked")
                self._emit(ch, "blocked", active=False)
            elif ab == line["seize"]:
                self._emit(ch, "blocked", active=False)
                self._incoming(ch)
        elif st == R2State.OUT_SEIZING:
            if ab == line["seize_ack"]:
                self._disarm(ch)
                self._set_state(ch, R2State.OUT_DIALING, "seize acknowledged")
                self._mf(ch, True, _FWD)
                c.phase = "dnis"
                self._send(ch, signal_of(c.dnis[0]))
                c.index = 1
                self._arm(ch, "mf_back_cycle")
            elif ab == line["seize"] and self.yield_on_glare:
                # Glare (Q.422 double seizure): the box gives way to the exchange's call.
                self.counters["glare"] += 1
                self._emit(ch, "cleared", reason="glare: the far end seized the circuit too", glare=True)
                self._incoming(ch)
        elif st in (R2State.OUT_DIALING, R2State.OUT_ACCEPTED):
            if ab == line["answer"]:
                self._mf(ch, False)
                self._disarm(ch)
                self._set_state(ch, R2State.OUT_ANSWERED, "answered")
                self._emit(ch, "answered")
            elif ab == line["idle"]:
                self._fail(ch, "congestion", "the far end released the circuit")
        elif st == R2State.OUT_ANSWERED:
            if ab == line["clear_back"]:
                self._emit(ch, "cleared", reason="far end cleared")
                self._tx(ch, "idle")
                self._set_state(ch, R2State.RELEASING, "clear-back")
                self._arm(ch, "release_guard")
            elif ab == line["idle"]:
                self._emit(ch, "cleared", reason="far end released")
                self._idle(ch, "far end idle")
        elif st == R2State.RELEASING:
            if ab == line["idle"]:
                self._idle(ch, "released")
        elif st in INCOMING:
            if ab == line["idle"]:   # clear-forward
                if st == R2State.IN_SEIZED:
                    self.counters["abandoned"] += 1
                    self._emit(ch, "abandoned", reason="far end cleared during the address")
                elif st in (R2State.IN_OFFERED, R2State.IN_ANSWERED):
                    self._emit(ch, "cleared", reason="far end cleared")
                self._idle(ch, "clear-forward")

    def _incoming(self, ch: int) -> None:
        old = self.chans[ch]
        self._disarm(ch)
        c = self.chans[ch] = _Chan(rx=old.rx, slow_s=old.slow_s)   # after glare: nothing of the call out
        self._tx(ch, "seize_ack")
        self._set_state(ch, R2State.IN_SEIZED, "seized")
        self._mf(ch, True, _BWD)
        c.phase = "dnis"
        self._arm(ch, "mf_back_cycle")

    def _fail(self, ch: int, meaning: str, reason: str) -> None:
        """An outgoing call fails: the engine hears why (a call-progress tone), the circuit is cleared."""
        self.counters["failed"] += 1
        self._emit(ch, "failed", meaning=meaning, tone=FAILURE_TONE.get(meaning, "congestion"), reason=reason)
        self._mf(ch, False)
        if self.chans[ch].state == R2State.OUT_SEIZING:
            self._idle(ch, reason)
            return
        self._tx(ch, "idle")
        self._set_state(ch, R2State.RELEASING, reason)
        self._arm(ch, "release_guard")

    # --- the tick ---------------------------------------------------------------------------------
    def tick(self, rx: np.ndarray, tx: np.ndarray, now: float) -> list[R2Out]:
        """One tick: hear the register signals in `rx` (n, 160), put this side's into `tx` (muting the
        voice of channels in register signalling), run the timers. Returns what happened."""
        self.now = now
        if self._in_mf.any():
            mf = np.flatnonzero(self._in_mf)
            calling = mf[self._dir[mf] == _FWD]
            called = mf[self._dir[mf] == _BWD]
            if calling.size:
                for ev in self._rx_bwd.process(rx):
                    if self._in_mf[ev.channel] and self._dir[ev.channel] == _FWD:
                        self._heard(ev.channel, ev.signal or 0)
            if called.size:
                for ev in self._rx_fwd.process(rx):
                    if self._in_mf[ev.channel] and self._dir[ev.channel] == _BWD:
                        self._heard(ev.channel, ev.signal or 0)
        start = np.flatnonzero(self._start_at <= now)
        for ch in start:          # a slow register's tone starts now
            self._sig[ch] = self.chans[ch].tone
        self._start_at[start] = np.inf
        self._timers(now)
        mf = np.flatnonzero(self._in_mf)
        if mf.size:
            sig = self._sig[mf]
            tx[mf] = _TABLE[self._dir[mf, None], sig[:, None], (self._pos[mf, None] + self._ar) % _TONE_PERIOD]
            self._pos[mf] = (self._pos[mf] + 160) % _TONE_PERIOD
        out, self._out = self._out, []
        return out

    def _timers(self, now: float) -> None:
        for due in np.flatnonzero(self._due <= now):
            ch = int(due)
            c = self.chans[ch]
            if c.answer_at is not None and now >= c.answer_at and c.state == R2State.IN_OFFERED:
                self._answer_now(ch)
            if now >= c.deadline or now >= c.mf_deadline:
                timer = c.timer if now >= c.deadline else "mf_fwd_safety"
                self._expired(ch, timer)

    def _expired(self, ch: int, timer: str) -> None:
        c = self.chans[ch]
        self.counters["timeouts"] += 1
        seconds = self.variant.timers_s[timer]
        reason = {"seize": f"no seize-acknowledge in {seconds:g} s",
                  "mf_back_cycle": f"register signalling stalled for {seconds:g} s",
                  "mf_fwd_safety": f"register signalling not done in {seconds:g} s",
                  "answer": f"no answer in {seconds:g} s",
                  "release_guard": f"the far end not idle {seconds:g} s after the clear"}[timer]
        log.warning("R2 %s ch%d (%s): %s", self.name, ch, c.state.value, reason)
        self._disarm(ch)
        if timer == "release_guard":
            self.counters["forced_idle"] += 1
            self._idle(ch, reason)
        elif c.state in OUTGOING:
            self._fail(ch, "congestion", reason)
        elif c.state in INCOMING:
            if c.state == R2State.IN_SEIZED:
                self.counters["abandoned"] += 1
                self._emit(ch, "abandoned", reason=reason)
            else:
                self._emit(ch, "cleared", reason=reason)
            self.hangup(ch)
        else:
            self._idle(ch, reason)

    # --- the register signals ---------------------------------------------------------------------
    def _heard(self, ch: int, signal: int) -> None:
        c = self.chans[ch]
        if signal and c.heard and signal != c.heard:
            self._heard(ch, 0)        # a new signal with no gap ends the one before (mfr2 §6.2)
        if signal == c.heard:
            return
        c.heard = signal
        if self._dir[ch] == _BWD:
            self._called_heard(ch, signal)
        else:
            self._calling_heard(ch, signal)

    # The called side: answer each forward signal, stop when it stops.
    def _called_heard(self, ch: int, signal: int) -> None:
        c = self.chans[ch]
        if signal:
            if c.tone:
                return
            answer = self._answer_to(ch, signal)
            if answer:
                self._send(ch, answer)
                self._arm(ch, "mf_back_cycle")
            return
        if not c.tone:
            return
        self._send(ch, 0)
        after, c.after = c.after, ""
        if after == "offer":
            c.tone_end_at = self.now
            self._mf(ch, False)
            self._disarm(ch)
            self._set_state(ch, R2State.IN_OFFERED, "offered")
            self.counters["offered"] += 1
            self._emit(ch, "offered", dnis=c.dnis, ani=c.ani, category=c.category)
        elif after == "reject":
            self._mf(ch, False)
            self._set_state(ch, R2State.IN_REJECTED, c.reject)
            self._arm(ch, "release_guard")
        else:
            self._arm(ch, "mf_back_cycle")

    def _answer_to(self, ch: int, signal: int) -> int:
        """The backward signal that answers forward `signal` at this stage of the address."""
        c, fwd, a = self.chans[ch], self.variant.forward, self.variant.backward_a
        digit = digit_of(signal)
        if c.phase == "dnis":
            if digit is not None:
                c.dnis += digit
                if len(c.dnis) < self.dnis_digits:
                    return a["next_dnis"]
            elif not (fwd["end_of_dnis"] and signal == fwd["end_of_dnis"]):
                return self._protocol_error(ch, signal)
            c.phase = "ka"
            return a["category"]
        if c.phase == "ka":
            c.category, c.phase = signal, "ani"
            return a["next_ani"]
        if c.phase == "ani":
            if digit is not None and signal not in (fwd["end_of_ani"], fwd["ani_restricted"]):
                c.ani += digit
                if len(c.ani) < self.max_ani:
                    return a["next_ani"]
            elif signal not in (fwd["end_of_ani"], fwd["ani_restricted"]):
                return self._protocol_error(ch, signal)
            c.phase = "kd"
            return a["change_to_b"]
        if c.phase == "kd":
            c.category_b = signal
            meaning = self.decide(ch, c.dnis, c.ani, c.category)
            b = self.variant.backward_b.get(meaning, 0)
            if not b:
                b, meaning = self.variant.backward_b["congestion"], "congestion"
            if meaning in FREE:
                c.after = "offer"
            else:
                c.after, c.reject = "reject", meaning
            return b
        return 0

    def _protocol_error(self, ch: int, signal: int) -> int:
        self.counters["protocol_errors"] += 1
        log.warning("R2 %s ch%d: forward signal %d unexpected in stage %s", self.name, ch, signal,
                    self.chans[ch].phase)
        return self.variant.backward_a["congestion"]

    # The calling side: stop on the backward answer, act when it ends.
    def _calling_heard(self, ch: int, signal: int) -> None:
        c = self.chans[ch]
        if signal:
            if c.tone:
                self._send(ch, 0)
            c.pending = signal
            self._arm(ch, "mf_back_cycle")
            return
        pending, c.pending = c.pending, 0
        if pending:
            self._act(ch, pending)

    def _act(self, ch: int, s: int) -> None:
        c, v = self.chans[ch], self.variant
        a, fwd = v.backward_a, v.forward
        if c.phase == "b":
            meaning = v.b_meaning(s) or "congestion"
            if meaning in FREE:
                self._mf(ch, False)
                self._set_state(ch, R2State.OUT_ACCEPTED, meaning)
                self._arm(ch, "answer")
                self._emit(ch, "accepted", meaning=meaning)
            else:
                self._fail(ch, meaning, f"group B {s}: {meaning}")
            return
        nxt = 0
        if s == a["category"] and not c.category_sent:
            c.category_sent, c.phase, c.index = True, "ani", 0
            nxt = c.category
        elif c.phase == "ani" and s == a["next_ani"]:
            if c.index < len(c.ani):
                nxt = signal_of(c.ani[c.index])
                c.index += 1
            else:
                nxt = fwd["end_of_ani"]
        elif c.phase == "dnis" and s == a["next_dnis"]:
            if c.index < len(c.dnis):
                nxt = signal_of(c.dnis[c.index])
                c.index += 1
            else:
                nxt = fwd["end_of_dnis"]      # 0 in China: nothing more to send, the far end decides
        elif c.phase == "dnis" and s in [a[f"dnis_minus_{k}"] for k in (1, 2, 3) if a[f"dnis_minus_{k}"]]:
            # Q.441: the digit before the last one sent (n-1), or two or three before; the
            # address goes on from there.
            back = 1 + [a[f"dnis_minus_{k}"] for k in (1, 2, 3)].index(s) + 1
            c.index = max(0, c.index - back)
            nxt = signal_of(c.dnis[c.index])
            c.index += 1
        elif s == a["change_to_b"]:
            c.phase = "b"
            nxt = c.category_b
        elif a["address_complete_charge"] and s == a["address_complete_charge"]:
            self._mf(ch, False)
            self._set_state(ch, R2State.OUT_ACCEPTED, "address complete")
            self._arm(ch, "answer")
            self._emit(ch, "accepted", meaning="address_complete_charge")
            return
        elif s == a["congestion"]:
            self._fail(ch, "congestion", f"group A {s}: congestion")
            return
        else:
            self.counters["protocol_errors"] += 1
            self._fail(ch, "congestion", f"group A {s} unexpected while sending the {c.phase}")
            return
        if nxt:
            self._send(ch, nxt)
            self._arm(ch, "mf_back_cycle")
        else:
            self._arm(ch, "mf_back_cycle")
