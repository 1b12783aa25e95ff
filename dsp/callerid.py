"""Caller ID (CLIP/CND): Bell 202 and V.23 FSK or DTMF bursts, GR-30 / EN 300 659 messages, both ways."""

import dataclasses

import numpy as np

from dsp import blocks, dtmf, tonegen
from dsp.levels import RATE, dbm0_to_amplitude

BAUD = 1200
SAMPLES_PER_BIT = RATE / BAUD

# Reference §4.1: (mark "1", space "0") in Hz. Bell 202 per Telcordia GR-30 (spandsp preset "Bell202",
# Asterisk CALLERID_MARK/SPACE); V.23 mode 2 per ETSI EN 300 659 (spandsp "V23 ch 1", Asterisk 1300/2100).
MODEMS = {"bell202": (1200.0, 2200.0), "v23": (1300.0, 2100.0)}
# Both modems put mark below and space above 1700 Hz, so one discriminator threshold decodes either;
# the mark frequency measured on the preamble tells them apart (1200 vs 1300 Hz, split at 1250). A
# run counts as marks only if its median frequency is within 100 Hz of one of them: YDN 069 asks
# +-1 % (+-12 Hz, §4.1), and silence or noise read by the discriminator is far outside.
CENTRE_HZ = 1700.0
MARK_SPLIT_HZ = 1250.0
MARK_BAND_HZ = (1100.0, 1400.0)

# Reference §4.3 message types and MDMF parameter codes (GR-30 / EN 300 659-3).
SDMF = 0x04
MDMF = 0x80
NOT_CALLER_ID = frozenset((0x06, 0x82, 0x86, 0x89))  # MWI, AOC, SMS: well-formed, not ours to report
P_DATETIME = 0x01
P_NUMBER = 0x02
P_NUMBER_ABSENT = 0x04
P_NAME = 0x07
P_NAME_ABSENT = 0x08
ABSENCE = frozenset("OP")  # 'O' unavailable / out of area, 'P' private (§4.3)
NUMBER_CHARS = frozenset("0123456789*#")
SDMF_MAX_DIGITS = 10  # §4.3: SDMF number is at most 10 digits

# §4.2 framing: channel seizure of 300 alternating bits, then 180 mark bits (80 off-hook), async 8N1
# LSB first; spandsp appends 5 mark bits after the last stop bit (postamble_ones_len).
POSTAMBLE_BITS = 5
# A message starts at the first start bit after a run of marks. spandsp restarts acquisition after
# more than 10 marks; we ask for 40, half the shortest specified mark (80 bits off-hook, §4.2), so a
# burst of speech or noise that merely looks like 1200 Hz for a few ms never opens a message.
MARK_MIN_BITS = 40
# Marks allowed between two characters of one message before it counts as cut short (restart rule
# of spandsp adsi_rx_put_bit, §4.2: more than 10 marks begin a new acquisition).
GAP_MAX_BITS = 10

# Burst detection per 20 ms frame (one tick), judged on the frame's first 10 ms with DFT bins 100 Hz
# apart. Level: spandsp's Bell 202 preset receives down to -30 dBm0 (§4.1); we open 10 dB lower for
# line loss. Spectrum: an FSK burst keeps >= 0.9 of its power in 1000-2400 Hz (both modems; checked
# in tests/dsp/test_callerid.py), white noise 0.35, speech frames 0.8 at most (espeak-ng speech).
FRAME = blocks.FRAME
HALF = blocks.HALF
CARRIER_MIN_DBM0 = -40.0
FSK_BAND_HZ = (1000.0, 2400.0)
FSK_BAND_MIN = 0.8
# DTMF caller ID opens with 'A', 'B' or 'D' (§4.4): column tone 1633 Hz, row tone 697-941 Hz (Q.23,
# §1.1). The pair must hold 0.8 of the power (spandsp's DTMF receiver asks -0.85 dB, §2.1), and the
# weaker tone its share at the 8 dB twist limit (Q.24 via §1.2). While a burst is held open, frames
# with 0.8 of their power in the DTMF band 650-1700 Hz count as part of it.
DTMF_ROW_BAND_HZ = (650.0, 1000.0)
DTMF_A_COLUMN_HZ = (1575.0, 1725.0)
DTMF_BAND_HZ = (650.0, 1700.0)
DTMF_PAIR_MIN = 0.8
DTMF_TONE_MIN = DTMF_PAIR_MIN / (1.0 + 10.0 ** (8.0 / 10.0))
# A burst opens on its third FSK frame in a row (60 ms; the preamble alone lasts 400 ms) or its
# second DTMF-marker frame (40 ms, the DTMF minimum of §1.2): speech gives single frames, rarely
# pairs [measured on espeak-ng speech, firmware/tools/bench_dsp.py]. The capture keeps the frames before.
FSK_OPEN_FRAMES = 3
DTMF_OPEN_FRAMES = 2
PREROLL_FRAMES = 3
# A burst closes after 0.3 s without signal: longer than the 55 ms DTMF pause (spandsp, §1.1) and
# the inter-character marks of FSK; it is cut at 3.2 s, the longest MDMF (300 + 180 + 258 x 10 bits
# = 2.55 s) with margin.
CLOSE_FRAMES = 15
MAX_CAPTURE_FRAMES = 160

# DTMF caller ID (§4.4): start markers, terminators, and spandsp's 10 s message timeout.
DTMF_START = frozenset("ABD")
DTMF_END = frozenset("C#")
DTMF_TIMEOUT = 10 * RATE
DTMF_INFO = {"00": "O", "10": "P"}  # variant 1: B00 number not available, B10 restricted
# Variant 2: D1# restricted, D2# international, D3# unavailable.
DTMF_D_ABSENCE = {"1": "P", "2": "O", "3": "O"}
# spandsp DTMF generator defaults (§1.1): -10 dBm0 per tone, 50 ms on, 55 ms off.
DTMF_LEVEL_DBM0 = -10.0
DTMF_ON_S = 0.05
DTMF_OFF_S = 0.055

# Discriminator front end: a band-pass over both modems' tones and their 600 Hz keying sidebands, a
# 3rd-order Butterworth (maximally flat in the band) designed through the bilinear transform.
BANDPASS_ORDER = 3
BANDPASS_HZ = (800.0, 2600.0)


def _gate_basis():
    # DFT bins of each half frame (100 Hz apart) as cos / -sin column pairs, and a matrix that sums
    # their powers per band (FSK, DTMF row, DTMF 'A' column, DTMF, and row + column), scaled so a
    # band's share of the half frame's energy comes out (Parseval: a bin's |X|^2 counts twice out of
    # HALF * energy).
    bands = (FSK_BAND_HZ, DTMF_ROW_BAND_HZ, DTMF_A_COLUMN_HZ, DTMF_BAND_HZ)
    step = RATE / HALF
    bins = np.arange(int(np.ceil(min(b[0] for b in bands) / step)), int(max(b[1] for b in bands) / step) + 1)
    n = np.arange(HALF)
    basis = np.ones((HALF, bins.size, 2), np.float32)
    basis[..., 0] = np.cos(2.0 * np.pi * np.outer(n, bins) / HALF)
    basis[..., 1] = -np.sin(2.0 * np.pi * np.outer(n, bins) / HALF)
    member = np.array([(bins * step >= lo) & (bins * step <= hi) for lo, hi in bands], np.float32).T
    member = np.hstack((member, member[:, 1:2] + member[:, 2:3]))
    return basis.reshape(HALF, -1), np.repeat(member, 2, axis=0) * np.float32(2.0 / HALF)


GATE_BASIS, _GATE_BANDS = _gate_basis()
# Share of the half frame's energy each band must hold (the columns of _GATE_BANDS).
_GATE_SHARES = np.array([FSK_BAND_MIN, DTMF_TONE_MIN, DTMF_TONE_MIN, DTMF_PAIR_MIN, DTMF_PAIR_MIN],
                        np.float32)
# Each band's power over its share: at least the half frame's energy where the band holds its share.
_GATE_TESTS = _GATE_BANDS / _GATE_SHARES
_GATE = blocks.Analyser(GATE_BASIS)
_MIN_ENERGY = HALF * dbm0_to_amplitude(CARRIER_MIN_DBM0) ** 2 / 2.0


@dataclasses.dataclass(frozen=True)
class CallerIdMessage:
    """One caller ID message; when `valid` is False every field but `standard` and `start` is None."""

    standard: str  # 'bell202', 'v23' or 'dtmf'
    valid: bool
    number: str | None = None
    name: str | None = None
    when: str | None = None  # MMDDHHMM
    absence: str | None = None  # why the number is missing: 'O' unavailable, 'P' private
    name_absence: str | None = None
    start: int = 0  # sample index of the message's first start bit or digit


@dataclasses.dataclass(frozen=True)
class CallerIdEvent:
    channel: int
    message: CallerIdMessage


# ---------------------------------------------------------------- message layer (GR-30 / EN 300 659-3)

def _checksum(body):
    # §4.2: two's complement of the modulo-256 sum, so that all bytes including it sum to 0 mod 256.
    return (-sum(body)) & 0xFF


def _check_when(when):
    if not (isinstance(when, str) and len(when) == 8 and when.isascii() and when.isdigit()):
        return False
    month, day, hour, minute = (int(when[i:i + 2]) for i in range(0, 8, 2))
    return 1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59


def _check_number(number, max_len):
    return isinstance(number, str) and 0 < len(number) <= max_len and set(number) <= NUMBER_CHARS


def _check_name(name):
    return isinstance(name, str) and 0 < len(name) and all(0x20 <= ord(c) <= 0x7E for c in name)


def _one_of(number, absence, what):
    if (number is None) == (absence is None):
        raise ValueError(f"{what}: expected exactly one of number or absence ('O' or 'P')")
    if absence is not None and absence not in ABSENCE:
        raise ValueError(f"{what}: expected absence 'O' or 'P', got {absence!r}")


def _frame_message(kind, body, what):
    if len(body) > 255:
        raise ValueError(f"{what}: message body is {len(body)} bytes, expected at most 255")
    head = bytes((kind, len(body))) + body
    return head + bytes((_checksum(head),))


def encode_sdmf(number=None, when=None, absence=None):
    """GR-30 SDMF (0x04) bytes: MMDDHHMM, then the number or 'O'/'P', then the checksum."""
    _one_of(number, absence, "encode_sdmf")
    if not _check_when(when):
        raise ValueError(f"encode_sdmf: expected when='MMDDHHMM' (SDMF always carries it), got {when!r}")
    if number is not None and not (_check_number(number, SDMF_MAX_DIGITS) and number.isdigit()):
        raise ValueError(f"encode_sdmf: expected 1-{SDMF_MAX_DIGITS} digits, got {number!r}")
    return _frame_message(SDMF, (when + (number or absence)).encode("ascii"), "encode_sdmf")


def encode_mdmf(number=None, name=None, when=None, absence=None, name_absence=None):
    """GR-30 / EN 300 659-3 MDMF (0x80) bytes: date/time, number or its absence, name or its absence."""
    params = []
    if when is not None:
        if not _check_when(when):
            raise ValueError(f"encode_mdmf: expected when='MMDDHHMM', got {when!r}")
        params.append((P_DATETIME, when))
    if number is not None and absence is not None:
        raise ValueError("encode_mdmf: expected a number or an absence reason, not both")
    if number is not None:
        if not _check_number(number, 255):
            raise ValueError(f"encode_mdmf: expected a number of digits, '*' or '#', got {number!r}")
        params.append((P_NUMBER, number))
    if absence is not None:
        if absence not in ABSENCE:
            raise ValueError(f"encode_mdmf: expected absence 'O' or 'P', got {absence!r}")
        params.append((P_NUMBER_ABSENT, absence))
    if name is not None and name_absence is not None:
        raise ValueError("encode_mdmf: expected a name or a name absence reason, not both")
    if name is not None:
        if not _check_name(name):
            raise ValueError(f"encode_mdmf: expected a name of printable ASCII, got {name!r}")
        params.append((P_NAME, name))
    if name_absence is not None:
        if name_absence not in ABSENCE:
            raise ValueError(f"encode_mdmf: expected name_absence 'O' or 'P', got {name_absence!r}")
        params.append((P_NAME_ABSENT, name_absence))
    if sum(2 + len(value) for _, value in params) > 255:
        raise ValueError("encode_mdmf: parameters exceed the 255-byte message body")
    body = b"".join(bytes((code, len(value))) + value.encode("ascii") for code, value in params)
    return _frame_message(MDMF, body, "encode_mdmf")


def _ascii(raw):
    return raw.decode("ascii") if all(0x20 <= b <= 0x7E for b in raw) else None


def _parse_sdmf(body):
    text = _ascii(body)
    if text is None or len(text) < 9 or not _check_when(text[:8]):
        return None
    rest = text[8:]
    if rest in ABSENCE:
        return {"when": text[:8], "absence": rest}
    if _check_number(rest, SDMF_MAX_DIGITS) and rest.isdigit():
        return {"when": text[:8], "number": rest}
    return None


def _parse_mdmf(body):
    fields = {}
    i = 0
    while i < len(body):
        if i + 2 > len(body) or i + 2 + body[i + 1] > len(body):
            return None
        code, value = body[i], body[i + 2:i + 2 + body[i + 1]]
        i += 2 + body[i + 1]
        text = _ascii(value)
        if code == P_DATETIME:
            key, ok = "when", text is not None and _check_when(text)
        elif code == P_NUMBER:
            key, ok = "number", text is not None and _check_number(text, 255)
        elif code == P_NUMBER_ABSENT:
            key, ok = "absence", text in ABSENCE
        elif code == P_NAME:
            # GR-30 names are printable ASCII; other bytes (a GB2312 name, say) drop the name only.
            if text is None or not _check_name(text):
                continue
            key, ok = "name", True
        elif code == P_NAME_ABSENT:
            key, ok = "name_absence", text in ABSENCE
        else:
            continue  # §4.3 lists more parameters (redirect, qualifier, call type ...): not ours
        if not ok or key in fields:
            return None
        fields[key] = text
    if ("number" in fields and "absence" in fields) or ("name" in fields and "name_absence" in fields):
        return None
    return fields


def parse_message(data, standard, start=0):
    """CallerIdMessage from the bytes type, length, body, checksum; None for a non caller ID type."""
    if len(data) < 3 or len(data) != data[1] + 3 or sum(data) & 0xFF:
        return CallerIdMessage(standard, False, start=start)
    if data[0] in NOT_CALLER_ID:
        return None
    body = bytes(data[2:-1])
    fields = _parse_sdmf(body) if data[0] == SDMF else _parse_mdmf(body) if data[0] == MDMF else None
    if fields is None:
        return CallerIdMessage(standard, False, start=start)
    return CallerIdMessage(standard, True, start=start, **fields)


# ---------------------------------------------------------------- FSK physical layer

def _check_standard(standard, what):
    if standard not in MODEMS:
        raise ValueError(f"{what}: expected standard 'bell202' or 'v23', got {standard!r}")


def fsk_burst(message_bytes, standard="bell202", level_dbm0=-13.5, seizure_bits=300, mark_bits=180):
    """Phase-continuous FSK samples (float64, 8 kHz) of seizure, marks, 8N1 characters and postamble."""
    _check_standard(standard, "fsk_burst")
    if int(seizure_bits) < 0 or int(mark_bits) < 0:
        raise ValueError("fsk_burst: expected seizure_bits >= 0 and mark_bits >= 0")
    data = np.frombuffer(bytes(message_bytes), dtype=np.uint8)
    chars = np.unpackbits(data[:, None], axis=1, bitorder="little")
    framed = np.hstack((np.zeros((data.size, 1), np.uint8), chars, np.ones((data.size, 1), np.uint8)))
    bits = np.concatenate((
        np.arange(int(seizure_bits)) % 2,  # §4.2 channel seizure 0101...
        np.ones(int(mark_bits), np.int64),
        framed.ravel(),
        np.ones(POSTAMBLE_BITS, np.int64),
    ))
    n = int(np.ceil(bits.size * SAMPLES_PER_BIT))
    mark, space = MODEMS[standard]
    freq = np.where(bits[np.arange(n) * BAUD // RATE] == 1, mark, space)
    phase = 2.0 * np.pi * np.cumsum(freq) / RATE
    return dbm0_to_amplitude(level_dbm0) * np.sin(phase - phase[0])


def _carrier(analysis):
    """Per-frame flags (fsk, dtmf_start, dtmf_like), each (channels, frames), of an Analysis.

    Judged on each frame's first half: bursts last far longer than 10 ms, and the halved work is
    what lets every idle or talking channel carry the gate."""
    energy = analysis.half_ac_energy
    z = analysis.product(GATE_BASIS, "CallerIdReceiver").reshape(-1, GATE_BASIS.shape[1])
    # Shares of the AC energy (a DC offset is not a carrier); a quiet frame passes no test.
    floor = np.where(energy >= _MIN_ENERGY, energy, np.inf).reshape(-1, 1)
    held = (np.square(z) @ _GATE_TESTS >= floor).reshape(*energy.shape, _GATE_SHARES.size)
    return held[..., 0], held[..., 1] & held[..., 2] & held[..., 4], held[..., 3]


def bandpass_power(freqs):
    """|H(f)|^2 of the discriminator's band-pass at `freqs` Hz: the band-pass prototype's
    1 / (1 + u^2N) at the bilinear transform's warped frequency, the response of the filter that
    scipy.signal.butter(BANDPASS_ORDER, BANDPASS_HZ, "bandpass", fs=RATE) designs."""
    lo, hi = (2.0 * RATE * np.tan(np.pi * f / RATE) for f in BANDPASS_HZ)
    w = 2.0 * RATE * np.tan(np.pi * np.abs(np.asarray(freqs, dtype=np.float64)) / RATE)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        u = (w * w - lo * hi) / (w * (hi - lo))
        power = 1.0 / (1.0 + u ** (2 * BANDPASS_ORDER))
    return np.nan_to_num(power)   # 0 at DC and at half the sample rate, where u is infinite


def _discriminate(x):
    """Instantaneous frequency (Hz) of the band-passed signal, lightly smoothed; len(x) samples."""
    # The band-pass run forward and backward (zero phase, so edges are not delayed) and the Hilbert
    # transform as one spectrum: |H|^2 on the positive frequencies, doubled, none on the negative
    # ones gives the analytic signal of the filtered stretch. Zero-padded to twice its length so the
    # filter's tails do not wrap around; the stretch carries a frame of margin either side for them.
    size = 2 * x.size
    half = np.fft.rfft(x, size) * (2.0 * bandpass_power(np.fft.rfftfreq(size, 1.0 / RATE)))
    z = np.fft.ifft(np.concatenate((half, np.zeros(size - half.size))))[:x.size]
    freq = np.angle(z[1:] * np.conj(z[:-1])) * (RATE / (2.0 * np.pi))
    freq = np.concatenate((freq[:1], freq))
    return np.convolve(freq, np.ones(3) / 3.0, mode="same")


class _Bits:
    """UART reading of one demodulated stretch: soft value > 0 is mark."""

    def __init__(self, freq):
        self.freq = freq
        self.soft = CENTRE_HZ - freq
        mark = self.soft > 0
        self.falls = np.flatnonzero(mark[:-1] & ~mark[1:]) + 1
        rises = np.flatnonzero(~mark[:-1] & mark[1:]) + 1
        # Length of the mark run that ends at each falling edge.
        prev = np.searchsorted(rises, self.falls, side="right") - 1
        run_start = np.where(prev >= 0, rises[np.maximum(prev, 0)], 0)
        self.run = self.falls - run_start

    def edge(self, i):
        # Sub-sample position of the zero crossing just before sample i.
        a, b = self.soft[i - 1], self.soft[i]
        return i - 1 + a / (a - b)

    def sample(self, edge, count):
        idx = np.rint(edge + (np.arange(count) + 0.5) * SAMPLES_PER_BIT).astype(np.int64)
        return None if idx[-1] >= self.soft.size else self.soft[idx]

    def next_fall(self, at):
        k = np.searchsorted(self.falls, int(np.ceil(at)))
        return None if k >= self.falls.size else int(self.falls[k])

    def byte(self, edge):
        """(value, ok) of the character whose start bit begins at `edge`; None past the end."""
        v = self.sample(edge, 10)
        if v is None:
            return None
        value = int(np.dot(v[1:9] > 0, 1 << np.arange(8)))
        return value, bool(v[0] < 0 and v[9] > 0)

    def standard_before(self, fall):
        """'bell202' or 'v23' from the frequency of the marks before `fall`; None if they are not marks."""
        median = np.median(self.freq[fall - self.run[np.searchsorted(self.falls, fall)]:fall])
        if not MARK_BAND_HZ[0] <= median <= MARK_BAND_HZ[1]:
            return None
        return "bell202" if median < MARK_SPLIT_HZ else "v23"


def _read_message(bits, fall):
    """(bytes read, complete, end sample) of the message whose first start bit falls at `fall`."""
    data = []
    edge = bits.edge(fall)
    while True:
        got = bits.byte(edge)
        if got is None or not got[1]:
            return data, False, int(edge)
        data.append(got[0])
        if len(data) >= 2 and len(data) == data[1] + 3:
            return data, True, int(edge + 10 * SAMPLES_PER_BIT)
        nxt = bits.next_fall(edge + 9.5 * SAMPLES_PER_BIT)
        if nxt is None or nxt - (edge + 10 * SAMPLES_PER_BIT) > GAP_MAX_BITS * SAMPLES_PER_BIT:
            return data, False, int(edge + 10 * SAMPLES_PER_BIT)
        edge = bits.edge(nxt)


def _fsk_messages(x, offset):
    """Messages in one carrier stretch `x` (float64) that starts at sample `offset`."""
    bits = _Bits(_discriminate(x))
    out = []
    cursor = 0
    candidates = bits.falls[bits.run >= MARK_MIN_BITS * SAMPLES_PER_BIT]
    for fall in candidates:
        if fall < cursor:
            continue
        standard = bits.standard_before(fall)
        if standard is None:
            continue
        # spandsp checks the start bit at mid-bit: a click inside the marks is a false start, skip it.
        while fall is not None:
            v = bits.sample(bits.edge(fall), 1)
            if v is None or v[0] < 0:
                break
            fall = bits.next_fall(fall + 1)
        if fall is None or bits.sample(bits.edge(fall), 1) is None:
            continue
        data, complete, cursor = _read_message(bits, fall)
        start = int(offset + bits.edge(fall))
        if complete:
            msg = parse_message(bytes(data), standard, start)
            if msg is not None:
                out.append(msg)
        else:
            out.append(CallerIdMessage(standard, False, start=start))
    return out


def _stretches(flags):
    """(first, end) frame ranges of runs of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], flags, [False])).astype(np.int8)))
    return list(zip(edges[0::2], edges[1::2]))


# ---------------------------------------------------------------- DTMF caller ID (§4.4)

def dtmf_callerid(number):
    """DTMF caller ID samples (float64) in the 'A<number>C' form (§4.4 variant 1)."""
    if not (isinstance(number, str) and number and number.isascii() and number.isdigit()):
        raise ValueError(f"dtmf_callerid: expected a string of digits, got {number!r}")
    return tonegen.dtmf_string("A" + number + "C", DTMF_ON_S, DTMF_OFF_S, DTMF_LEVEL_DBM0)


def _parse_dtmf(text, start):
    fields = {}
    key = None
    for ch in text[:-1]:
        if ch in "ABD":
            if ch in fields:
                return CallerIdMessage("dtmf", False, start=start)
            key = ch
            fields[key] = ""
        elif ch.isdigit():
            fields[key] += ch
        else:
            return CallerIdMessage("dtmf", False, start=start)
    number = absence = None
    if fields.get("A"):
        number = fields["A"]
    elif "A" in fields:
        return CallerIdMessage("dtmf", False, start=start)
    elif "D" in fields and text[-1] == "#" and fields["D"] in DTMF_D_ABSENCE:
        absence = DTMF_D_ABSENCE[fields["D"]]
    elif fields.get("D"):
        number = fields["D"]  # variant 3: D<number>C
    if "B" in fields:
        if fields["B"] not in DTMF_INFO or number is not None:
            return CallerIdMessage("dtmf", False, start=start)
        absence = DTMF_INFO[fields["B"]]
    if number is None and absence is None:
        return CallerIdMessage("dtmf", False, start=start)
    return CallerIdMessage("dtmf", True, number=number, absence=absence, start=start)


def _dtmf_messages(events):
    out = []
    text = ""
    start = last = 0
    for ev in events:
        if text and ev.start - last > DTMF_TIMEOUT:
            out.append(CallerIdMessage("dtmf", False, start=start))
            text = ""
        if not text:
            if ev.digit in DTMF_START:
                text, start = ev.digit, ev.start
        else:
            text += ev.digit
            if ev.digit in DTMF_END:
                out.append(_parse_dtmf(text, start))
                text = ""
        last = ev.start
    if text:
        out.append(CallerIdMessage("dtmf", False, start=start))
    return out


# ---------------------------------------------------------------- receivers

def _decode(x):
    """All messages in float64 samples `x`, by start."""
    fsk, start, _ = _carrier(_GATE.analyse(x[None, :x.size // FRAME * FRAME]))
    fsk, start = fsk[0], start[0]
    out = []
    for first, end in _stretches(fsk):
        # One frame either side: the burst's ragged ends share frames with silence.
        a = max(first - 1, 0) * FRAME
        b = min((end + 1) * FRAME, x.size)
        out += _fsk_messages(x[a:b], a)
    if start.any():
        events = dtmf.DtmfDetector(1).process(np.clip(np.rint(x), -32768, 32767).astype(np.int16)[None, :])
        out += _dtmf_messages(events)
    return sorted(out, key=lambda m: m.start)


def decode(samples):
    """Caller ID messages in a 1-D int16 array at 8 kHz (Bell 202, V.23 or DTMF, found automatically)."""
    if not isinstance(samples, np.ndarray) or samples.dtype != np.int16 or samples.ndim != 1:
        got = (f"{samples.dtype} ndim {samples.ndim}" if isinstance(samples, np.ndarray)
               else type(samples).__name__)
        raise ValueError(f"callerid.decode: expected a 1-D int16 array, got {got}")
    return _decode(samples.astype(np.float64))


class CallerIdReceiver:
    """Streaming caller ID for many channels: a level and spectrum gate opens a capture per channel,
    and a capture is decoded whole once the line falls quiet, so idle channels cost almost nothing."""

    def __init__(self, channels):
        self._framer = blocks.Framer(channels, FRAME, "CallerIdReceiver")
        self._ring = np.zeros((self._framer.channels, PREROLL_FRAMES, FRAME), np.int16)
        self._slot = 0
        self._fsk_run = np.zeros(self._framer.channels, np.int64)  # FSK-like frames in a row
        self._start_run = np.zeros(self._framer.channels, np.int64)  # DTMF-marker frames in a row
        self._counting = False  # any run above 0
        self._captures = {}  # channel -> [first sample, quiet frames, [frames]]

    @property
    def channels(self):
        return self._framer.channels

    def reset(self, channel):
        """Forget any burst in progress on `channel`."""
        ch = blocks.check_channel(channel, self.channels, "CallerIdReceiver.reset")
        self._captures.pop(ch, None)
        self._fsk_run[ch] = 0
        self._start_run[ch] = 0

    def process(self, block):
        """Feed int16 (channels, n); returns a CallerIdEvent per message in each burst that ended."""
        frames, first = self._framer.frames(block)
        if not frames.shape[1]:
            return []
        return self._detect(_GATE.analyse(frames), first)

    def process_tick(self, analysis):
        """Feed one tick analysed by the shared front end; returns the same events as process()."""
        blocks.check_analysis(analysis, self.channels, "CallerIdReceiver.process_tick")
        return self._detect(analysis, self._framer.tick())

    def _detect(self, analysis, first):
        fsk, start, like = _carrier(analysis)
        frames = analysis.samples.reshape(self.channels, -1, FRAME)
        count = frames.shape[1]
        events = []
        # Without a run going and a frame flagged, no run grows and no burst opens: most ticks.
        idle = not self._counting and not np.count_nonzero(fsk | start)
        opening = np.zeros(fsk.shape, bool) if idle else self._openings(fsk, start)
        if not self._captures and (idle or not np.count_nonzero(opening)):
            for f in range(max(count - PREROLL_FRAMES, 0), count):
                self._push(frames[:, f])
            return events
        for f in range(count):
            for ch in opening[:, f].nonzero()[0].tolist():
                if ch not in self._captures:
                    older = self._ring[ch, (self._slot + np.arange(PREROLL_FRAMES)) % PREROLL_FRAMES]
                    self._captures[ch] = [first + (f - PREROLL_FRAMES) * FRAME, 0, list(older)]
            for ch in list(self._captures):
                capture = self._captures[ch]
                capture[1] = 0 if fsk[ch, f] or like[ch, f] else capture[1] + 1
                capture[2].append(frames[ch, f].copy())
                if capture[1] >= CLOSE_FRAMES or len(capture[2]) >= MAX_CAPTURE_FRAMES:
                    del self._captures[ch]
                    for msg in _decode(np.concatenate(capture[2]).astype(np.float64)):
                        msg = dataclasses.replace(msg, start=capture[0] + msg.start)
                        events.append(CallerIdEvent(ch, msg))
            self._push(frames[:, f])
        return events

    def _openings(self, fsk, start):
        """(channels, frames) bool: a burst opens there, by the runs of FSK and DTMF-marker frames."""
        opening = np.empty(fsk.shape, bool)
        for f in range(fsk.shape[1]):
            self._fsk_run = (self._fsk_run + 1) * fsk[:, f]
            self._start_run = (self._start_run + 1) * start[:, f]
            opening[:, f] = (self._fsk_run >= FSK_OPEN_FRAMES) | (self._start_run >= DTMF_OPEN_FRAMES)
        self._counting = np.count_nonzero(self._fsk_run) + np.count_nonzero(self._start_run) > 0
        return opening

    def _push(self, frame):
        # The ring keeps the last PREROLL_FRAMES frames of every channel; _slot is the oldest.
        self._ring[:, self._slot] = frame
        self._slot = (self._slot + 1) % PREROLL_FRAMES

    def status(self):
        return {"channels": self.channels, "receiving": sorted(self._captures)}
