"""Caller ID: GR-30 / EN 300 659 messages, Bell 202 and V.23 FSK, DTMF caller ID, streaming receiver."""

import dataclasses

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dsp import callerid
from dsp.callerid import CallerIdReceiver, decode, fsk_burst
from dsp.callerid_message import DTMF_D_ABSENCE, encode_mdmf, encode_sdmf, parse_dtmf, parse_message
from dsp.levels import RATE, dbm0_to_amplitude
from dsp.tonegen import dtmf_string, to_int16

NUMBER = "13800138000"
NAME = "ZHANG SAN"
WHEN = "03141530"
STANDARDS = ("bell202", "v23")
# §4.2: 300 seizure bits and 180 mark bits precede the first start bit.
PREAMBLE = int(np.ceil(480 * RATE / 1200))


@pytest.fixture
def rng():
    return np.random.default_rng(20240314)


def line(*parts, lead=800, tail=2400):
    """int16 recording: silence, the float parts one after another, silence."""
    return to_int16(np.concatenate([np.zeros(lead), *parts, np.zeros(tail)]))


def fields(msg):
    return (msg.valid, msg.number, msg.name, msg.when, msg.absence, msg.name_absence)


def fsk_reference(message, mark, space, level_dbm0=-13.5, seizure=300, marks=180):
    """Independent FSK generator for the impairment tests: 8N1 LSB first, phase-continuous."""
    bits = [i % 2 for i in range(seizure)] + [1] * marks
    for byte in message:
        bits += [0] + [(byte >> i) & 1 for i in range(8)] + [1]
    bits += [1] * 5
    n = np.arange(int(np.ceil(len(bits) * RATE / 1200)))
    f = np.where(np.array(bits)[n * 1200 // RATE] == 1, mark, space)
    return dbm0_to_amplitude(level_dbm0) * np.sin(2 * np.pi * np.cumsum(f) / RATE)


# ------------------------------------------------------------------------------------ message layer

# docs/standards.md §4.3 self-constructed vectors (type, length, parameters, two's complement checksum).
VECTORS = [
    ("mdmf", dict(number=NUMBER, name=NAME, when=WHEN),
     ("80 22 01 08 30 33 31 34 31 35 33 30 02 0b 31 33 38 30 30 31 33 38 30 30 30 "
      "07 09 5a 48 41 4e 47 20 53 41 4e 05")),
    ("sdmf", dict(number="5551234567", when=WHEN),
     "04 12 30 33 31 34 31 35 33 30 35 35 35 31 32 33 34 35 36 37 4e"),
    ("mdmf", dict(when=WHEN, absence="P", name_absence="P"),
     "80 10 01 08 30 33 31 34 31 35 33 30 04 01 50 08 01 50 28"),
]


@pytest.mark.parametrize("kind, kwargs, hexbytes", VECTORS)
def test_encoder_reproduces_the_reference_vectors(kind, kwargs, hexbytes):
    encode = encode_mdmf if kind == "mdmf" else encode_sdmf
    assert encode(**kwargs) == bytes.fromhex(hexbytes)


@pytest.mark.parametrize("kind, kwargs, hexbytes", VECTORS)
def test_parser_reads_the_reference_vectors(kind, kwargs, hexbytes):
    msg = parse_message(bytes.fromhex(hexbytes), "bell202")
    assert msg.valid
    for key, value in kwargs.items():
        assert getattr(msg, key) == value


def test_checksum_byte_zero_is_valid():
    # ASTERISK-23488 (§8): a message whose sum is already 0 mod 256 has checksum 0x00, not 0x100.
    data = next(d for d in (encode_mdmf(name=chr(c)) for c in range(0x20, 0x7F)) if d[-1] == 0)
    assert parse_message(data, "v23").valid


@given(st.binary(min_size=3, max_size=40))
def test_parser_never_raises_and_never_trusts_a_bad_sum(data):
    msg = parse_message(data, "bell202")
    if msg is not None and msg.valid:
        assert sum(data) % 256 == 0 and data[1] == len(data) - 3


@pytest.mark.parametrize("bad", [
    b"\x80\x05\x02\x03123",  # no checksum byte (length says 5, body short)
    b"\x04\x02\x30\x31\xc9",  # SDMF without date and time
    b"\x80\x03\x02\x05\x31\x74",  # parameter length runs past the body
    b"\x80\x06\x02\x01\x31\x04\x01\x50\x21",  # a number and an absence reason at once
    b"\x80\x03\x04\x01\x58\x20",  # absence reason not 'O' or 'P'
    b"\x80\x0a\x01\x08\x31\x33\x33\x32\x32\x35\x36\x30\x9d",  # month 13
])
def test_malformed_messages_are_invalid_without_fields(bad):
    data = bad[:-1] + bytes(((-sum(bad[:-1])) & 0xFF,))
    msg = parse_message(data, "bell202")
    assert fields(msg) == (False, None, None, None, None, None)


def test_a_name_outside_printable_ascii_is_dropped_and_the_number_kept():
    # GR-30 names are ASCII; a national encoding (here GB2312 for 张三) must not cost the number.
    body = bytes((0x02, 0x03)) + b"110" + bytes((0x07, 0x04)) + "张三".encode("gb2312")
    data = bytes((0x80, len(body))) + body
    msg = parse_message(data + bytes(((-sum(data)) & 0xFF,)), "bell202")
    assert fields(msg) == (True, "110", None, None, None, None)


def test_other_message_types_with_good_sums_are_not_caller_id():
    # §4.3: 0x06 SDMF message waiting (0x42 x 3 = on) is well-formed but not a caller ID.
    body = bytes((0x06, 0x03, 0x42, 0x42, 0x42))
    assert parse_message(body + bytes(((-sum(body)) & 0xFF,)), "bell202") is None


@pytest.mark.parametrize("call, match", [
    (lambda: encode_sdmf(number="123"), "when"),
    (lambda: encode_sdmf(number="12345678901", when=WHEN), "digits"),
    (lambda: encode_sdmf(number="123", absence="P", when=WHEN), "exactly one"),
    (lambda: encode_mdmf(number="12a"), "number"),
    (lambda: encode_mdmf(absence="X"), "absence"),
    (lambda: encode_mdmf(name="ZHANG\u4e09"), "name"),
    (lambda: encode_mdmf(when="1399"), "when"),
    (lambda: encode_mdmf(name="x" * 300), "255"),
    (lambda: fsk_burst(b"\x00", standard="v21"), "standard"),
    (lambda: callerid.dtmf_callerid("12#"), "digits"),
])
def test_generator_rejects_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=200, deadline=None)
@given(number=st.text("0123456789", min_size=1, max_size=20),
       name=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=15),
       month=st.integers(1, 12), day=st.integers(1, 31), hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_mdmf_bytes_round_trip(number, name, month, day, hour, minute):
    when = f"{month:02d}{day:02d}{hour:02d}{minute:02d}"
    msg = parse_message(encode_mdmf(number=number, name=name, when=when), "v23")
    assert fields(msg) == (True, number, name, when, None, None)


# ------------------------------------------------------------------------------------ FSK round trips

@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("kind", ["sdmf", "mdmf"])
def test_round_trip(standard, kind):
    data = encode_sdmf(number="5551234567", when=WHEN) if kind == "sdmf" else \
        encode_mdmf(number=NUMBER, name=NAME, when=WHEN)
    (msg,) = decode(line(fsk_burst(data, standard)))
    assert msg.standard == standard
    assert msg.valid
    assert msg.number == ("5551234567" if kind == "sdmf" else NUMBER)
    assert msg.name == (None if kind == "sdmf" else NAME)
    assert msg.when == WHEN
    # The first start bit follows 300 seizure and 180 mark bits (§4.2).
    assert abs(msg.start - (800 + PREAMBLE)) <= 2


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("reason", ["O", "P"])
def test_absence_reasons(standard, reason):
    mdmf = encode_mdmf(when=WHEN, absence=reason, name_absence=reason)
    sdmf = encode_sdmf(when=WHEN, absence=reason)
    a, b = decode(line(fsk_burst(mdmf, standard), np.zeros(4000), fsk_burst(sdmf, standard)))
    assert fields(a) == (True, None, None, WHEN, reason, reason)
    assert fields(b) == (True, None, None, WHEN, reason, None)


@pytest.mark.parametrize("standard", STANDARDS)
def test_bad_checksum_is_reported_invalid_with_no_number(standard):
    data = bytearray(encode_mdmf(number=NUMBER, name=NAME, when=WHEN))
    data[-1] ^= 0x01
    (msg,) = decode(line(fsk_burst(bytes(data), standard)))
    assert (msg.standard, msg.valid, msg.number, msg.name) == (standard, False, None, None)


def test_a_corrupted_byte_never_yields_a_wrong_number(rng):
    data = encode_mdmf(number=NUMBER, name=NAME, when=WHEN)
    for _ in range(20):
        bad = bytearray(data)
        i = int(rng.integers(2, len(bad)))
        bad[i] ^= 1 << int(rng.integers(0, 8))
        (msg,) = decode(line(fsk_burst(bytes(bad))))
        assert not msg.valid and msg.number is None


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("keep_bits", [3, 40, 150, 300])
def test_truncated_burst_is_reported_invalid(standard, keep_bits):
    data = encode_mdmf(number=NUMBER, name=NAME, when=WHEN)
    burst = fsk_burst(data, standard)[:PREAMBLE + int(keep_bits * RATE / 1200)]
    (msg,) = decode(line(burst))
    assert (msg.valid, msg.number) == (False, None)


def test_burst_cut_before_the_message_reports_nothing():
    burst = fsk_burst(encode_mdmf(number=NUMBER), "bell202")[:PREAMBLE - 100]
    assert decode(line(burst)) == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_decodes_at_20_db_snr(standard, rng):
    data = encode_mdmf(number=NUMBER, name=NAME, when=WHEN)
    burst = fsk_burst(data, standard)
    sigma = np.sqrt(np.mean(burst ** 2) / 10 ** (20 / 10))
    for _ in range(10):
        x = np.concatenate([np.zeros(800), burst, np.zeros(2400)])
        (msg,) = decode(to_int16(x + rng.normal(0, sigma, x.size)))
        assert fields(msg) == (True, NUMBER, NAME, WHEN, None, None)


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("level", [0.0, -13.5, -25.0, -30.0, -38.0])
def test_level_range(standard, level):
    # GR-30 sends about -13.5 dBm0; spandsp's Bell 202 receiver goes down to -30 dBm0 (§4.1).
    data = encode_mdmf(number=NUMBER, when=WHEN)
    (msg,) = decode(line(fsk_burst(data, standard, level_dbm0=level)))
    assert (msg.valid, msg.number) == (True, NUMBER)


def test_below_the_carrier_floor_nothing_is_decoded():
    assert decode(line(fsk_burst(encode_mdmf(number=NUMBER), level_dbm0=-50.0))) == []


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("offset", [-0.01, 0.01])
def test_frequency_offset_of_one_percent(standard, offset):
    # YDN 069 via §4.1: 1200 +- 12 Hz and 2200 +- 22 Hz, i.e. +-1 %.
    mark, space = callerid.MODEMS[standard]
    data = encode_mdmf(number=NUMBER, name=NAME, when=WHEN)
    (msg,) = decode(line(fsk_reference(data, mark * (1 + offset), space * (1 + offset))))
    assert msg.standard == standard
    assert fields(msg) == (True, NUMBER, NAME, WHEN, None, None)


@pytest.mark.parametrize("standard", STANDARDS)
def test_short_preamble_off_hook_style(standard):
    # GR-30 off-hook (call waiting) data: no seizure and 80 mark bits (§4.2).
    data = encode_mdmf(number=NUMBER, when=WHEN)
    (msg,) = decode(line(fsk_burst(data, standard, seizure_bits=0, mark_bits=80)))
    assert (msg.valid, msg.number) == (True, NUMBER)


def test_hostile_audio_clipping_dc_and_full_scale_noise(rng):
    data = encode_mdmf(number=NUMBER, when=WHEN)
    burst = np.concatenate([np.zeros(800), fsk_burst(data, level_dbm0=0.0), np.zeros(2400)])
    (clipped,) = decode(to_int16(burst * 4.0))
    (offset,) = decode(to_int16(burst * 0.25 + 12000.0))
    assert clipped.number == offset.number == NUMBER
    assert decode(to_int16(rng.normal(0, 32768, 40000))) == []
    assert decode(np.full(8000, 32767, np.int16)) == []
    assert decode(np.zeros(0, np.int16)) == []


def test_speech_gives_no_message(speech):
    assert decode(to_int16(speech)) == []
    assert decode(to_int16(speech * 4.0)) == []


# ------------------------------------------------------------------------------------ DTMF caller ID

def test_dtmf_caller_id_round_trip():
    (msg,) = decode(line(callerid.dtmf_callerid(NUMBER)))
    assert (msg.standard, msg.valid, msg.number, msg.absence) == ("dtmf", True, NUMBER, None)
    assert abs(msg.start - 800) <= 40


@pytest.mark.parametrize("digits, number, absence", [
    ("A5551234C", "5551234", None),  # §4.4 variant 1
    ("A5551234#", "5551234", None),  # variant 2
    ("D5551234C", "5551234", None),  # variant 3 (Taiwan, Kuwait)
    ("D1#", None, "P"),  # variant 2: restricted
    ("D3#", None, "O"),  # variant 2: unavailable
    ("B10C", None, "P"),  # variant 1 information: restricted
    ("B00C", None, "O"),  # variant 1 information: not available
])
def test_dtmf_caller_id_variants(digits, number, absence):
    (msg,) = decode(line(dtmf_string(digits, on_s=0.05, off_s=0.055)))
    assert (msg.standard, msg.valid, msg.number, msg.absence) == ("dtmf", True, number, absence)


@pytest.mark.parametrize("digits", ["A5551234", "A555B10C", "AC", "D#"])
def test_dtmf_caller_id_malformed_or_unterminated_is_invalid(digits):
    (msg,) = decode(line(dtmf_string(digits, on_s=0.05, off_s=0.055)))
    assert (msg.standard, msg.valid, msg.number) == ("dtmf", False, None)


def test_plain_dialling_is_not_caller_id():
    assert decode(line(dtmf_string("0123456789*#", on_s=0.06, off_s=0.06))) == []


# ------------------------------------------------------------------------------------ streaming receiver

def feed(rx, x, sizes):
    events = []
    i = 0
    for n in sizes:
        events += rx.process(x[:, i:i + n])
        i += n
    return events + rx.process(x[:, i:])


def test_receiver_matches_decode_for_any_block_size(rng):
    recording = line(
        fsk_burst(encode_mdmf(number=NUMBER, name=NAME, when=WHEN), "v23"), np.zeros(6000),
        callerid.dtmf_callerid("5551234"), np.zeros(6000),
        fsk_burst(encode_sdmf(number="5551234567", when=WHEN), "bell202"), tail=8000)
    lead = int(rng.integers(0, 700))
    x = np.zeros((2, lead + recording.size), np.int16)
    x[0, lead:] = recording
    expected = [dataclasses.replace(m, start=m.start + lead) for m in decode(recording)]
    assert [m.standard for m in expected] == ["v23", "dtmf", "bell202"]
    results = []
    for sizes in ([160] * (x.shape[1] // 160), [1] * 5000, rng.integers(1, 1200, 200), [x.shape[1]]):
        events = feed(CallerIdReceiver(2), x, sizes)
        assert {e.channel for e in events} == {0}
        results.append([e.message for e in events])
    assert all(r == results[0] for r in results)
    assert [fields(m) for m in results[0]] == [fields(m) for m in expected]
    assert all(abs(a.start - b.start) <= 1 for a, b in zip(results[0], expected))


def test_receiver_channels_are_independent_and_idle_ones_stay_closed(rng):
    burst = line(fsk_burst(encode_mdmf(number=NUMBER, when=WHEN)), tail=6000)
    x = np.zeros((8, burst.size), np.int16)
    x[3] = burst
    x[5] = to_int16(rng.normal(0, 3000, burst.size))
    x[6] = np.roll(burst, 1234)
    rx = CallerIdReceiver(8)
    events = []
    for i in range(0, burst.size, 160):
        events += rx.process(x[:, i:i + 160])
        assert set(rx.status()["receiving"]) <= {3, 6}
    assert sorted((e.channel, e.message.number) for e in events) == [(3, NUMBER), (6, NUMBER)]


def test_receiver_reset_drops_a_burst_in_progress():
    burst = line(fsk_burst(encode_mdmf(number=NUMBER, when=WHEN)), tail=6000)[None, :]
    rx = CallerIdReceiver(1)
    cut = 800 + PREAMBLE + 800  # inside the message
    assert rx.process(burst[:, :cut]) == []
    assert rx.status()["receiving"] == [0]
    rx.reset(0)
    assert rx.status()["receiving"] == []
    assert all(not e.message.valid for e in rx.process(burst[:, cut:]))


@pytest.mark.parametrize("block, match", [
    (np.zeros((2, 160), np.float64), "int16"),
    (np.zeros(160, np.int16), "ndim"),
    (np.zeros((3, 160), np.int16), "2 channels"),
    ([[0] * 160] * 2, "numpy"),
])
def test_receiver_rejects_bad_blocks(block, match):
    with pytest.raises(ValueError, match=match):
        CallerIdReceiver(2).process(block)


@pytest.mark.parametrize("arg", [np.zeros(10), np.zeros((1, 10), np.int16), [1, 2, 3]])
def test_decode_rejects_anything_but_1d_int16(arg):
    with pytest.raises(ValueError, match="1-D int16"):
        decode(arg)


@pytest.mark.parametrize("channels", [0, -1, 1.5, True])
def test_receiver_rejects_bad_channel_counts(channels):
    with pytest.raises(ValueError, match="channel count"):
        CallerIdReceiver(channels)


def test_receiver_reset_rejects_bad_channel():
    with pytest.raises(ValueError, match="channel in 0..1"):
        CallerIdReceiver(2).reset(2)


# ------------------------------------------------------------------------------------ property

@settings(max_examples=25, deadline=None)
@given(number=st.text("0123456789", min_size=1, max_size=16),
       name=st.one_of(st.none(), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                                         min_size=1, max_size=15)),
       standard=st.sampled_from(STANDARDS),
       lead=st.integers(0, 2000))
def test_property_random_numbers_and_names_survive_the_line(number, name, standard, lead):
    data = encode_mdmf(number=number, name=name, when=WHEN)
    (msg,) = decode(line(fsk_burst(data, standard), lead=lead))
    assert fields(msg) == (True, number, name, WHEN, None, None)
    assert msg.standard == standard


def test_receiver_never_opens_on_speech_or_noise(speech, rng):
    # The gate's spectrum test (0.8 of the power in 1000-2400 Hz, three frames running) is what keeps
    # talking channels cheap: speech and white noise must never open a capture.
    n = speech.size // 160 * 160
    x = np.stack([to_int16(speech[:n]), to_int16(speech[:n] * 4.0), to_int16(rng.normal(0, 2000, n)),
                  to_int16(rng.normal(0, 30000, n))])
    rx = CallerIdReceiver(4)
    for i in range(0, n, 160):
        assert rx.process(x[:, i:i + 160]) == []
        assert rx.status()["receiving"] == []


def test_the_discriminator_band_pass_is_scipys_butterworth_design():
    from scipy import signal

    sos = signal.butter(callerid.BANDPASS_ORDER, callerid.BANDPASS_HZ, btype="bandpass", fs=RATE, output="sos")
    freqs, h = signal.sosfreqz(sos, worN=np.linspace(0.0, RATE / 2, 401), fs=RATE)
    assert np.abs(callerid.bandpass_power(freqs) - np.abs(h) ** 2).max() < 1e-9


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_the_discriminator_reads_the_frequency_a_filter_and_hilbert_reference_reads(standard):
    # Reference: the band-pass run forward and backward in time, then scipy's Hilbert transform.
    from scipy import signal

    rng = np.random.default_rng(3)
    burst = fsk_burst(encode_mdmf(number="13800138000", name="LIN WEI"), standard)
    x = np.concatenate((np.zeros(160), burst, np.zeros(160))) + rng.normal(0.0, 30.0, burst.size + 320)
    sos = signal.butter(callerid.BANDPASS_ORDER, callerid.BANDPASS_HZ, btype="bandpass", fs=RATE, output="sos")
    z = signal.hilbert(signal.sosfilt(sos, signal.sosfilt(sos, x)[::-1])[::-1])
    ref = np.angle(z[1:] * np.conj(z[:-1])) * (RATE / (2.0 * np.pi))
    ref = np.convolve(np.concatenate((ref[:1], ref)), np.ones(3) / 3.0, mode="same")
    inner = slice(320, x.size - 320)   # away from the ends, where the two treat the edge differently
    assert np.abs(callerid._discriminate(x)[inner] - ref[inner]).max() < 1.0


# --- fuzzing the DTMF message parser (docs/architecture.md §27) ---------------------------------------
DIGITS = st.text("0123456789", min_size=1, max_size=20)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from("ABD"), st.text("0123456789*#ABCD", max_size=24), st.sampled_from("C#"))
def test_any_dtmf_message_is_valid_with_one_field_or_invalid_with_none(first, body, end):
    msg = parse_dtmf(first + body + end, start=7)
    assert msg.standard == "dtmf" and msg.start == 7
    if msg.valid:
        assert (msg.number is None) != (msg.absence is None)
        assert msg.number is None or (msg.number.isascii() and msg.number.isdigit())
    else:
        assert (msg.number, msg.absence) == (None, None)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=24))
# Unicode digits are not DTMF digits: a superscript two is no number.
@example("A\u00b2C")
@example("D\u0663\u0664C")
def test_any_text_gives_a_message_whose_number_is_dtmf_digits(text):
    msg = parse_dtmf(text)
    assert msg.number is None or (msg.number.isascii() and msg.number.isdigit())


@settings(max_examples=100, deadline=None, derandomize=True)
@given(DIGITS)
def test_the_dtmf_forms_decode_to_their_number(number):
    # §4.4: variant 1 A<number>C (what dtmf_callerid sends) and variant 3 D<number>C.
    assert parse_dtmf("A" + number + "C").number == number
    assert parse_dtmf("D" + number + "C").number == number
    assert parse_dtmf("A" + number + "#").number == number


@pytest.mark.parametrize("code, absence", sorted(DTMF_D_ABSENCE.items()))
def test_a_d_code_ended_by_hash_is_the_absence_reason(code, absence):
    msg = parse_dtmf("D" + code + "#")
    assert msg.valid and msg.absence == absence and msg.number is None
