"""DSP throughput benchmark: channel-seconds of audio per CPU-second for the per-tick detectors and the
MFC-R2 receiver."""

import argparse
import glob
import os
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from scipy import signal

from dsp import mfr2, tonegen
from dsp.dtmf import DtmfDetector
from dsp.frontend import TICK, DetectorSet
from dsp.levels import RATE, dbm0_to_amplitude, rms_dbm0
from dsp.resample import to_8k
from firmware.config.tone_plans import DEFAULT_PLAN, load_plan
from firmware.tools import bench_peer

CHANNELS = (1, 30, 120, 1000)
LOADS = ("noise", "speech", "dialling")
# The MFC-R2 receiver on an E1's voice timeslots (30) and four spans (120): every channel in register
# signalling, in conversation (speech) and idle (silence).
R2_CHANNELS = (30, 120)
R2_LOADS = ("signalling", "conversation", "idle")
# Targets (DSP brief): at 120 channels the DTMF detector alone handles 16,000 channel-seconds per
# CPU-second on noise and on speech, the full per-tick set 8,000; one channel costs under 1 ms a tick.
TARGET_CHANNELS = 120
DTMF_TARGET = 16000.0
FULL_TARGET = 8000.0
TICK_MS_TARGET = 1.0
# Against spandsp on the same audio: at least twice its channel-seconds per CPU-second, on every load of
# the DTMF and the MFC-R2 receiver, where they work together: an E1 span's 30 channels, four spans' 120,
# and 1000. One channel is shown, not judged: its tick costs microseconds either way, mostly Python's
# call into the receiver, and TICK_MS_TARGET judges it.
PEER_TARGET = 2.0
PEER_CHANNELS = (30, 120, 1000)
# Audio levels: speech at the nominal active speech level (-19 dBm0, ITU-T G.169 via RFC 7874),
# noise at -20 dBm0 so every level gate opens, DTMF at spandsp's -10 dBm0 per tone.
SPEECH_DBM0 = -19.0
NOISE_DBM0 = -20.0
DTMF_DBM0 = -10.0
POOL_S = 30.0
REPEATS = 3
SPEECH_TEXT = (
    "Thank you for calling the branch. Your call is important to us. For account balances press one, "
    "for a new card press two. Please hold while we connect you to the next available agent. "
    "The quick brown fox jumps over the lazy dog. Could you spell your surname for me, please?")


def _speech_espeak(tmp):
    if not shutil.which("espeak-ng"):
        return []
    clips = []
    for i, voice in enumerate(("en", "en+f3", "en-us+m3")):
        path = Path(tmp) / f"speech{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), SPEECH_TEXT],
                       check=True, capture_output=True)
        clips.append(_read_wav(path))
    return clips


def _read_wav(path):
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            return np.zeros(0)
        a = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())[:, 0]
        return to_8k(a, w.getframerate())


def _formant_speech(rng, seconds):
    """Speech-like stand-in: a pitch pulse train through three moving formants, in 4 Hz syllables."""
    n = int(seconds * RATE)
    pitch = 110.0 + 40.0 * np.sin(2 * np.pi * 0.3 * np.arange(n) / RATE)
    pulses = np.diff(np.floor(np.cumsum(pitch) / RATE), prepend=0.0) + 0.05 * rng.standard_normal(n)
    out = np.zeros(n)
    syllable = RATE // 4
    for start in range(0, n, syllable):
        seg = pulses[start:start + syllable]
        voiced = np.zeros_like(seg)
        for formant, bw in zip(rng.uniform((300, 900, 2200), (800, 2200, 3200)), (80.0, 120.0, 200.0)):
            b, a = signal.iirpeak(formant, formant / bw, fs=RATE)
            voiced += signal.lfilter(b, a, seg)
        out[start:start + seg.size] = voiced * np.hanning(seg.size)
    return out


def speech_pool(rng, seconds=POOL_S):
    """(name of the source, float64 speech at 8 kHz scaled to SPEECH_DBM0)."""
    with tempfile.TemporaryDirectory(prefix="bench-dsp-") as tmp:
        clips, source = _speech_espeak(tmp), "espeak-ng"
    if not clips:
        clips = [c for c in map(_read_wav, sorted(glob.glob("/usr/share/sounds/alsa/*.wav"))) if c.size]
        source = "ALSA test sounds"
    if not clips:
        clips, source = [_formant_speech(rng, seconds)], "formant-filtered pulses"
    pool = np.concatenate(clips)
    pool = np.tile(pool, int(np.ceil(seconds * RATE / pool.size)))[:int(seconds * RATE)]
    active = pool[np.abs(pool) > 0.01 * np.abs(pool).max()]
    return source, pool * 10 ** ((SPEECH_DBM0 - rms_dbm0(active)) / 20)


def dialling_pool(rng, seconds=POOL_S):
    """Back-to-back random DTMF strings: digits 40-100 ms on, 40-100 ms off (Q.24 limits,
    docs/standards.md §1.2)."""
    parts = []
    total = 0
    while total < seconds * RATE:
        on_s, off_s = rng.uniform(0.04, 0.1, 2)
        digit = "0123456789*#"[rng.integers(12)]
        parts += [tonegen.dtmf_digit(digit, on_s, DTMF_DBM0), np.zeros(int(off_s * RATE))]
        total += parts[-2].size + parts[-1].size
    return np.concatenate(parts)[:int(seconds * RATE)]


def signalling_pool(rng, seconds=POOL_S):
    """Forward R2 signals back to back as a compelled cycle sends them: each 60-200 ms at Q.454's level,
    then 40-100 ms of silence while the backward signal ends (docs/standards.md §6)."""
    parts = []
    total = 0
    while total < seconds * RATE:
        on_s, off_s = rng.uniform(0.06, 0.2), rng.uniform(0.04, 0.1)
        parts += [mfr2.tone(int(rng.integers(1, 16)), "forward", int(on_s * RATE)).astype(np.float64),
                  np.zeros(int(off_s * RATE))]
        total += parts[-2].size + parts[-1].size
    return np.concatenate(parts)[:int(seconds * RATE)]


def streams(pool, channels, ticks, rng):
    """int16 (channels, ticks * TICK): each channel reads the pool from its own random offset."""
    n = ticks * TICK
    offsets = rng.integers(0, pool.size, channels)
    idx = (offsets[:, None] + np.arange(n)) % pool.size
    return np.clip(np.rint(pool[idx]), -32768, 32767).astype(np.int16)


def measure(make, audio, channels, repeats=REPEATS):
    """(channel-seconds per CPU-second, mean CPU ms per tick) of feeding `audio` tick by tick, as the
    engine does: one `make(channels).process` call per TICK samples.

    The best of `repeats` fresh runs: other processes on the box only ever add time."""
    ticks = audio.shape[1] // TICK
    best = np.inf
    for _ in range(repeats):
        det = make(channels)
        det.process(audio[:, :TICK])  # first call: imports, caches
        start = time.process_time()
        for i in range(1, ticks):
            det.process(audio[:, i * TICK:(i + 1) * TICK])
        best = min(best, time.process_time() - start)
    cpu = max(best, 1e-9)
    return channels * (ticks - 1) * TICK / RATE / cpu, 1000.0 * cpu / (ticks - 1)


def _ticks(channels, seconds):
    # Every configuration processes about the same number of channel-seconds, between 50 ticks and
    # a minute of audio, so a full run stays near a fixed budget.
    return min(3000, max(50, int(seconds * TARGET_CHANNELS * RATE / TICK / channels)))


def run(out=print, seconds=8.0, channels=CHANNELS):
    """Print the throughput table; `seconds` of audio per configuration at 120 channels (scaled)."""
    rng = np.random.default_rng(1)
    source, speech = speech_pool(rng)
    pools = {"noise": rng.normal(0.0, dbm0_to_amplitude(NOISE_DBM0) / np.sqrt(2), int(POOL_S * RATE)),
             "speech": speech, "dialling": dialling_pool(rng)}
    plan = load_plan(DEFAULT_PLAN)
    sets = (("dtmf", DtmfDetector), ("full", lambda c: DetectorSet(c, plan)))
    out(f"DSP throughput: channel-seconds of audio per CPU-second (time.process_time), {TICK}-sample ticks")
    out(f"loads: white noise at {NOISE_DBM0:g} dBm0; speech from {source} at {SPEECH_DBM0:g} dBm0; "
        "random DTMF strings on every channel")
    out(f"dtmf: dsp.dtmf.DtmfDetector.process; full: dsp.frontend.DetectorSet.process ({DEFAULT_PLAN} plan) = shared "
        "front end + DTMF + call progress + caller ID receiver + fax tones + energy meter + VAD + answer screening "
        "(idle until a dialled number answers)")
    spandsp = bench_peer.load()
    out("spandsp: " + ("libspandsp's dtmf_rx and r2_mf_rx through ctypes, one call per channel per tick, on the "
                       "same audio; x: our rate over its" if spandsp else "not installed (libspandsp2), no ratio"))
    # Other processes on the box slow the detectors down (caches, memory bandwidth): say how busy it was.
    out("load average at start (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    out("")
    out(f"{'load':<9} {'set':<5} {'channels':>8} {'ch-s/CPU-s':>11} {'ms/tick':>8}  target")
    verdicts = []
    ratios: dict[tuple[str, str], dict[int, float]] = {}
    for load in LOADS:
        for name, make in sets:
            for c in channels:
                audio = streams(pools[load], c, _ticks(c, seconds), rng)
                rate, tick_ms = measure(make, audio, c)
                peer = _peer(spandsp, "dtmf", audio, c, rate, ratios.setdefault(("dtmf", load), {})) \
                    if name == "dtmf" else ""
                del audio
                target = ""
                if c == TARGET_CHANNELS and (name == "full" or load != "dialling"):
                    goal = DTMF_TARGET if name == "dtmf" else FULL_TARGET
                    ok = rate >= goal
                    target = f">= {goal:,.0f}  {'PASS' if ok else 'BELOW'}"
                    verdicts.append(ok)
                elif c == 1:
                    ok = tick_ms < TICK_MS_TARGET
                    target = f"< {TICK_MS_TARGET:g} ms/tick  {'PASS' if ok else 'BELOW'}"
                    verdicts.append(ok)
                out(f"{load:<9} {name:<5} {c:>8} {rate:>11,.0f} {tick_ms:>8.3f}  {target}{peer}")
    out("")
    run_supervision(out, seconds, rng, plan, speech)
    out("")
    run_r2(out, seconds, rng, {"signalling": signalling_pool(rng), "conversation": speech,
                               "idle": np.zeros(int(POOL_S * RATE))}, spandsp, ratios)
    out("")
    peer_summary(out, ratios if spandsp else None)
    out("")
    out("load average at end (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    out(f"targets met: {sum(verdicts)} of {len(verdicts)}")
    return all(verdicts)


def _peer(spandsp, kind, audio, channels, rate, ratios=None):
    """'  spandsp RATE (x RATIO)' for spandsp's receiver of `kind` on the same audio, or '' without it;
    the ratio also into `ratios` by channel count."""
    if spandsp is None:
        return ""
    peer, _ = measure(lambda n: bench_peer.Receivers(spandsp, kind, n), audio, channels)
    if ratios is not None:
        ratios[channels] = rate / peer
    return f"  spandsp {peer:,.0f}  x {rate / peer:.2f}"


def peer_summary(out, ratios):
    """The ratios over spandsp by receiver, load and channel count, each against PEER_TARGET; `ratios`
    None: say that spandsp is not there to compare with. Returns (met, judged)."""
    out(f"Against spandsp: our channel-seconds per CPU-second over spandsp's on the same audio "
        f"(goal: at least {PEER_TARGET:g}x on every load at " + ", ".join(map(str, PEER_CHANNELS))
        + " channels; other counts shown)")
    if ratios is None:
        out("  not measured: libspandsp is not installed on this machine (Debian: libspandsp2), "
            "so there is no side-by-side figure")
        return 0, 0
    counts = sorted({c for by in ratios.values() for c in by})
    out(f"  {'receiver':<8} {'load':<13}" + "".join(f" {f'{c} ch':>13}" for c in counts))
    met = judged = 0
    for (kind, load), by in ratios.items():
        cells = []
        for c in counts:
            if c not in by:
                cells.append(f" {'-':>13}")
                continue
            if c not in PEER_CHANNELS:
                cells.append(f" {by[c]:>6.2f}x {'':>5}")
                continue
            ok = by[c] >= PEER_TARGET
            met, judged = met + ok, judged + 1
            cells.append(f" {by[c]:>6.2f}x {'ok' if ok else 'BELOW':>5}")
        out(f"  {kind:<8} {load:<13}" + "".join(cells))
    out(f"  at or above {PEER_TARGET:g}x: {met} of {judged}")
    return met, judged


# Answered lines the far end left with its busy tone (disconnect supervision counts the periods), and
# dialled lines being screened (answering-machine detection and V.21 flags), out of TARGET_CHANNELS.
SUPERVISED_LINES = (0, 8, 30)
SCREENED_LINES = (0, 8, 30)
# A screened line listens until its verdict (at most dsp.amd.TOTAL_S); here it is armed afresh this often.
REARM_TICKS = 100
LINE_NOISE_DBM0 = -65.0


class _Screening:
    """The full detector set with its first `n` channels screened, armed again every REARM_TICKS."""

    def __init__(self, plan, channels, n):
        self.set, self.n, self.ticks = DetectorSet(channels, plan), n, 0

    def process(self, block):
        if self.ticks % REARM_TICKS == 0:
            for ch in range(self.n):
                self.set.screen(ch)
        self.ticks += 1
        return self.set.process(block)


def run_supervision(out, seconds, rng, plan, speech):
    """Print what far-end supervision and answer screening cost the full set per tick at TARGET_CHANNELS,
    over quiet lines (line noise) with a number of them carrying busy tone, or screened on speech."""
    c = TARGET_CHANNELS
    ticks = _ticks(c, seconds)
    quiet = rng.normal(0.0, dbm0_to_amplitude(LINE_NOISE_DBM0) / np.sqrt(2), int(POOL_S * RATE))
    spec = next(t for t in plan.tones if t.name == "busy")
    busy = np.tile(np.concatenate([tonegen.tone(sorted(f), -10.0, int(round(d * RATE))) if f
                                   else np.zeros(int(round(d * RATE))) for f, d in spec.segments]), 50)
    out(f"far-end supervision and answer screening: the full set at {c} channels of line noise "
        f"({LINE_NOISE_DBM0:g} dBm0); busy: that many lines carry the {plan.name} busy tone (each period "
        f"reported, dsp.tones repeat); screened: that many lines of speech under dsp.amd + dsp.v21")
    out(f"{'case':<10} {'lines':>5} {'ms/tick':>8} {'x quiet':>8}")
    base = None
    for case, counts in (("busy", SUPERVISED_LINES), ("screened", SCREENED_LINES)):
        for n in counts:
            audio = streams(quiet, c, ticks, rng)
            if n:
                audio[:n] = streams(busy if case == "busy" else speech, n, ticks, rng)
            _, tick_ms = measure(lambda k: _Screening(plan, k, n if case == "screened" else 0), audio, c)
            base = tick_ms if base is None else base
            out(f"{case:<10} {n:>5} {tick_ms:>8.3f} {tick_ms / base:>8.2f}")


def run_r2(out, seconds, rng, pools, spandsp=None, ratios=None):
    """Print the MFC-R2 receiver's rows: per load and channel count, its throughput and tick cost (and
    spandsp's on the same audio, with the ratio, where it is installed, also into `ratios`)."""
    out("r2: dsp.mfr2.R2Receiver(channels, 'forward').process; signalling: forward R2 signals back to back; "
        "conversation: the speech above; idle: silence")
    out(f"{'load':<13} {'channels':>8} {'ch-s/CPU-s':>11} {'ms/tick':>8}")
    for load in R2_LOADS:
        for c in R2_CHANNELS:
            audio = streams(pools[load], c, _ticks(c, seconds), rng)
            rate, tick_ms = measure(lambda n: mfr2.R2Receiver(n, "forward"), audio, c)
            peer = _peer(spandsp, "r2-forward", audio, c, rate,
                         None if ratios is None else ratios.setdefault(("r2", load), {}))
            out(f"{load:<13} {c:>8} {rate:>11,.0f} {tick_ms:>8.3f}{peer}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m firmware.tools.bench_dsp", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="seconds of audio per configuration at 120 channels (default 8)")
    args = parser.parse_args(argv)
    run(seconds=args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
