"""The E1 card's control protocol (docs/e1-card.md): framing, CRC, grammar, CAS values."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import e1_proto as proto
from drivers.e1_proto import E1ProtocolError, Kind, LineSplitter


def test_crc8_is_the_0x07_polynomial_check_value():
    # CRC-8 (poly 0x07, init 0, not reflected, no final xor): the catalogue's check value for "123456789".
    assert proto.crc8(b"123456789") == 0xF4
    assert proto.crc8(b"") == 0


@pytest.mark.parametrize("body, kind, number, word, args, values", [
    ("1 HELLO", Kind.COMMAND, 1, "HELLO", (), {}),
    ("42 CAS 5 1001", Kind.COMMAND, 42, "CAS", ("5", "1001"), {}),
    ("7 CONFIG framing=cas crc4=off", Kind.COMMAND, 7, "CONFIG", (), {"framing": "cas", "crc4": "off"}),
    ("7 OK ms=20", Kind.ANSWER, 7, "OK", (), {"ms": "20"}),
    ("9999 ERR forbidden-0000", Kind.ANSWER, 9999, "ERR", ("forbidden-0000",), {}),
    ("! 0 BOOT fw=1.0", Kind.EVENT, 0, "BOOT", (), {"fw": "1.0"}),
    ("! 65535 RX 17 0011 123", Kind.EVENT, 65535, "RX", ("17", "0011", "123"), {}),
])
def test_parse_table(body, kind, number, word, args, values):
    msg = proto.parse(body)
    assert (msg.kind, msg.number, msg.word, msg.args, msg.values) == (kind, number, word, args, values)
    assert proto.render(msg) == body


@pytest.mark.parametrize("body", ["", "HELLO", "0 HELLO", "10000 HELLO", "1 hello", "! x RX", "! 65536 RX",
                                  "1  HELLO", "! 3"])
def test_parse_refuses(body):
    with pytest.raises(E1ProtocolError):
        proto.parse(body)


def test_frame_and_unframe():
    line = proto.frame("1 HELLO")
    assert line.endswith(b"\n") and line[-4:-3] == b"*"
    assert proto.unframe(line[:-1]) == "1 HELLO"
    assert proto.unframe(line[:-1] + b"\r") == "1 HELLO"


@pytest.mark.parametrize("line", [b"1 HELLO", b"1 HELLO*00", b"1 HELLO*zz", b"*", b"1 H\xffLLO*00"])
def test_unframe_refuses_lines_without_a_valid_crc(line):
    with pytest.raises(E1ProtocolError):
        proto.unframe(line)


def test_lowercase_crc_is_refused():
    body = next(b for b in (f"{n} PING".encode() for n in range(1, 100)) if not ("%02X" % proto.crc8(b)).isdigit())
    assert proto.unframe(body + b"*%02X" % proto.crc8(body)) == body.decode()
    with pytest.raises(E1ProtocolError):
        proto.unframe(body + b"*%02x" % proto.crc8(body))


@given(st.binary(min_size=1, max_size=60))
def test_a_single_corrupted_byte_never_passes(data):
    body = "1 CAS 5 1001"
    line = bytearray(proto.frame(body)[:-1])
    pos = data[0] % len(line)
    flip = (data[-1] % 255) + 1
    line[pos] ^= flip
    try:
        got = proto.unframe(bytes(line))
    except E1ProtocolError:
        return
    # CRC-8 detects every single-byte error: a corrupted line never decodes to any body.
    raise AssertionError(f"corrupted line accepted as {got!r}")


@given(st.lists(st.binary(max_size=80), max_size=20))
def test_splitter_survives_any_bytes_and_keeps_good_lines(chunks):
    s = LineSplitter()
    garbage = b"".join(chunks).replace(b"\n", b"")
    out = s.feed(garbage + b"\n" + proto.frame("5 PING"))
    assert out[-1] is not None and proto.unframe(out[-1]) == "5 PING"


def test_splitter_drops_an_overlong_line_once_and_resumes():
    s = LineSplitter()
    assert s.feed(b"x" * 150) == []
    assert s.feed(b"x" * 150) == [None]
    assert s.feed(b"y" * 10) == []
    assert s.feed(b"z\n" + proto.frame("1 PING")) == [proto.frame("1 PING")[:-1]]


def test_frame_refuses_a_line_over_200_bytes():
    with pytest.raises(E1ProtocolError):
        proto.frame("1 X " + "a" * 200)


def test_abcd_0000_is_forbidden_it_imitates_the_multiframe_alignment():
    with pytest.raises(E1ProtocolError, match="0000"):
        proto.check_abcd("0000")
    for bad in ("101", "10012", "abcd"):
        with pytest.raises(E1ProtocolError):
            proto.check_abcd(bad)


def test_voice_timeslots_are_1_to_15_and_17_to_31():
    assert len(proto.VOICE_TIMESLOTS) == 30 and 16 not in proto.VOICE_TIMESLOTS and 0 not in proto.VOICE_TIMESLOTS
    for ts in (0, 16, 32):
        with pytest.raises(E1ProtocolError):
            proto.check_timeslot(ts)


def test_cas_list_packs_a_as_the_high_bit():
    values = ["1001"] * 29 + ["0011"]
    text = proto.pack_cas(values)
    assert text == "9" * 29 + "3"
    assert proto.unpack_cas(text) == values
    with pytest.raises(E1ProtocolError):
        proto.unpack_cas("0" + "9" * 29)


def test_defects_and_counters():
    assert proto.parse_defects(("NONE",)) == frozenset()
    assert proto.parse_defects(("LOS,AIS",)) == {"LOS", "AIS"}
    assert proto.render_defects({"AIS", "LOS"}) == "LOS,AIS"
    with pytest.raises(E1ProtocolError):
        proto.parse_defects(("LOS,FIRE",))
    assert proto.parse_counters({"bpv": "1", "crc": "2", "ebit": "3", "fas": "4", "slips": "5"})["slips"] == 5
    with pytest.raises(E1ProtocolError):
        proto.parse_counters({"bpv": "1"})
