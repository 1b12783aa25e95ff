"""V.253 parsers and codecs against docs/standards.md §11: every result line,
caller ID form, +VSM list and <DLE> code it names, and DLE shielding round trips."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers import v253
from drivers.v253 import Codec, DleDecoder, LineKind, parse_line

# --- result lines: §11.5 (mgetty command.c / analyze.c) ---------------------------------------------
RESULTS = [
    ("OK", LineKind.OK, "", ""),
    ("ERROR", LineKind.ERROR, "", ""),
    ("CONNECT", LineKind.CONNECT, "", ""),
    ("VCON", LineKind.VCON, "", ""),
    ("#VCON", LineKind.VCON, "", ""),
    ("VOICE", LineKind.VCON, "", ""),
    ("NO CARRIER", LineKind.NO_CARRIER, "", ""),
    ("BUSY", LineKind.BUSY, "", ""),
    ("NO DIALTONE", LineKind.NO_DIALTONE, "", ""),
    ("NO DIAL TONE", LineKind.NO_DIALTONE, "", ""),
    ("NO ANSWER", LineKind.NO_ANSWER, "", ""),
    ("RINGING", LineKind.RINGING, "", ""),
    ("RING", LineKind.RING, "", ""),
    *[(f"RING{c}", LineKind.RING, "", c) for c in "12345ABCDE"],
    ("DRON=5", LineKind.CADENCE, "DRON", "5"),
    ("DROF = 40", LineKind.CADENCE, "DROF", "40"),
    ("CPON=10", LineKind.CADENCE, "CPON", "10"),
    ("CPOF=10", LineKind.CADENCE, "CPOF", "10"),
    ("CWON=3", LineKind.CADENCE, "CWON", "3"),
    ("CWOF=3", LineKind.CADENCE, "CWOF", "3"),
    ("ASTB=1", LineKind.IGNORED, "", ""),
    ("SITT", LineKind.IGNORED, "", ""),
    ("Z 12", LineKind.IGNORED, "", ""),
    ("5601", LineKind.TEXT, "", ""),
    ("\x8f\xfe garbage", LineKind.TEXT, "", ""),
]


@pytest.mark.parametrize("text, kind, key, value", RESULTS)
def test_result_lines(text, kind, key, value):
    line = parse_line(text)
    assert (line.kind, line.key, line.value) == (kind, key, value)


def test_final_results_end_a_command_and_ring_does_not():
    # mgetty analyze.c: OK/ERROR/CONNECT/VCON and the call failures end a command; RING is unsolicited.
    assert parse_line("OK").kind in v253.FINAL and parse_line("NO ANSWER").kind in v253.FINAL
    assert parse_line("RING").kind not in v253.FINAL and parse_line("RINGING").kind not in v253.FINAL


# --- caller ID: §11.4 ---------------------------------------------------------------------------------
CALLER_ID = [
    ("DATE = 0321", "DATE", "0321"),     # IS-101: spaces both sides
    ("DATE=0321", "DATE", "0321"),       # what many modems send
    ("TIME = 1405", "TIME", "1405"),
    ("TIME=1405", "TIME", "1405"),
    ("NMBR = 13800138000", "NMBR", "13800138000"),
    ("NMBR=13800138000", "NMBR", "13800138000"),
    ("NMBR = P", "NMBR", "P"),
    ("NMBR=O", "NMBR", "O"),
    ("NAME = ZHAO LEI", "NAME", "ZHAO LEI"),
    ("NAME=ZHAO LEI", "NAME", "ZHAO LEI"),
    ('NAME = "Q" \x01X', "NAME", "Q   X"),   # mgetty cnd.c: quotes, non-printables -> space
    ("MESG = 060342", "MESG", "060342"),
    ("ERRM = 1", "ERRM", "1"),
    ("DDN_NMBR= 5551000", "DDN_NMBR", "5551000"),
    ("NDID=5551000", "NDID", "5551000"),
    ("CALLER NUMBER: 5551234", "NMBR", "5551234"),   # ZyXEL 1496
    ("CALLER NAME: SMITH", "NAME", "SMITH"),
    ("FM:5551234", "NMBR", "5551234"),               # ZyXEL 2864
    ("CallerID: 5551234", "NMBR", "5551234"),
    ("RING;5551234", "NMBR", "5551234"),             # ELSA
    ('+CLIP: "13800138000",129', "NMBR", "13800138000"),   # 3GPP 27.007
    ('+CLIP: "",128,"",0,"",1', "NMBR", "P"),        # CLI validity 1: withheld
    ('+CLIP: "",128,"",0,"",2', "NMBR", "O"),        # CLI validity 2: not available
]


@pytest.mark.parametrize("text, key, value", CALLER_ID)
def test_caller_id_lines(text, key, value):
    line = parse_line(text)
    assert (line.kind, line.key, line.value) == (LineKind.CALLER_ID, key, value)


def _report(*lines):
    r = v253.CallerIdReport()
    for text in lines:
        r.add(parse_line(text))
    return r.event_data()


def test_caller_id_report_full_and_partial():
    full = _report("DATE = 0321", "TIME = 1405", "NMBR = 13800138000", "NAME = ZHAO LEI")
    assert full == {"number": "13800138000", "name": "ZHAO LEI", "when": "03211405", "absence": None,
                    "name_absence": None, "called": None}
    # §11.4: partial caller ID is common (no NAME); it is still a report.
    partial = _report("NMBR=5551234")
    assert partial["number"] == "5551234" and partial["name"] is None and partial["when"] is None


@pytest.mark.parametrize("nmbr, name, absence, name_absence", [
    ("P", "P", "P", "P"), ("O", "O", "O", "O"), ("5551234", "O", None, "O"),
])
def test_caller_id_absence_codes(nmbr, name, absence, name_absence):
    # §11.4: P = private, O = out of area / unavailable (GR-30 letters, as dsp/callerid reports them).
    data = _report(f"NMBR = {nmbr}", f"NAME = {name}")
    assert (data["absence"], data["name_absence"]) == (absence, name_absence)
    assert data["number"] == (None if absence else nmbr)


def test_caller_id_with_an_error_report_has_no_number():
    assert _report("ERRM = 1")["number"] is None


# --- +VSM=?: §11.2 --------------------------------------------------------------------------------------
USR_56K = ['1,"UNSIGNED PCM",8,0,(7200,8000),(0),(0)', '128,"8-BIT LINEAR",8,0,(7200,8000),(0),(0)',
           '129,"ADPCM",4,0,(7200,8000),(0),(0)', '130,"UNSIGNED PCM",8,0,(7200,8000),(0),(0)',
           '131,"ULAW",8,0,(7200,8000),(0),(0)', '132,"ALAW",8,0,(7200,8000),(0),(0)',
           '133,"LINEAR",16,0,(7200,8000),(0),(0)']
ROCKWELL = ['1,"UNSIGNED PCM",8,0,(7200,8000,11025),(0),(0)', '129,"IMA ADPCM",4,0,(7200,8000,11025),(0),(0)',
            '130,"UNSIGNED PCM",8,0,(7200,8000,11025),(0),(0)', '140,"2-BIT ADPCM",2,0,(7200,8000,11025),(0),(0)',
            '141,"4-BIT ADPCM",4,0,(7200,8000,11025),(0),(0)']


@pytest.mark.parametrize("text, cml, name, bits, codec", [
    ('0,"SIGNED PCM",8,0,(8000),(0),(0)', 0, "SIGNED PCM", 8, Codec.S8),
    ('0,"SIGNED PCM",16,0,(8000),(0),(0)', 0, "SIGNED PCM", 16, Codec.S16LE),
    ('1,"UNSIGNED PCM",8,0,(7200,8000),(0),(0)', 1, "UNSIGNED PCM", 8, Codec.U8),
    ('128,"8-BIT LINEAR",8,0,(7200,8000),(0),(0)', 128, "8-BIT LINEAR", 8, Codec.U8),
    ('131,"ULAW",8,0,(7200,8000),(0),(0)', 131, "ULAW", 8, Codec.ULAW),
    ('132,"ALAW",8,0,(7200,8000),(0),(0)', 132, "ALAW", 8, Codec.ALAW),
    ('4,"G.711U",8,0,(8000),(0),(0)', 4, "G.711U", 8, Codec.ULAW),    # V.253 Table 17 numbering
    ('5,"G.711A",8,0,(8000),(0),(0)', 5, "G.711A", 8, Codec.ALAW),
    ('133,"LINEAR",16,0,(7200,8000),(0),(0)', 133, "LINEAR", 16, Codec.S16LE),
    ('2,"16-BIT LINEAR",16,0,7200-11025,0,0', 2, "16-BIT LINEAR", 16, Codec.S16LE),
    ('129,"IMA ADPCM",4,0,(7200,8000,11025),(0),(0)', 129, "IMA ADPCM", 4, None),
])
def test_vsm_entries_by_name(text, cml, name, bits, codec):
    c = v253.parse_vsm_line(text)
    assert (c.cml, c.name, c.bits, c.codec) == (cml, name, bits, codec)
    assert c.supports(8000)


def test_vsm_choice_is_by_name_not_by_number():
    # §11.2: the same number means different codecs on different chipsets.
    assert v253.choose_codec(v253.parse_vsm_list(USR_56K)).cml == 131          # ULAW
    assert v253.choose_codec(v253.parse_vsm_list(ROCKWELL)).cml == 1           # no G.711 there
    assert v253.choose_codec(v253.parse_vsm_list(["140,\"ALAW\",8,0,(8000),(0),(0)"])).codec == Codec.ALAW


def test_vsm_without_a_usable_codec_or_rate_is_an_error():
    with pytest.raises(v253.V253Error, match="129"):
        v253.choose_codec(v253.parse_vsm_list(['129,"IMA ADPCM",4,0,(8000),(0),(0)']))
    with pytest.raises(v253.V253Error):
        v253.choose_codec(v253.parse_vsm_list(['131,"ULAW",8,0,(7200),(0),(0)']))
    assert v253.parse_vsm_list(["OK", "garbage", ""]) == []


# --- sample formats ------------------------------------------------------------------------------------
def test_unsigned_8_bit_silence_is_0x80():
    # §11.2: "8-bit linear/unsigned PCM" = unsigned, silence 0x80 (callattendant).
    assert v253.encode_audio(Codec.U8, np.zeros(4, np.int16)) == b"\x80" * 4
    assert np.all(v253.decode_audio(Codec.U8, b"\x80" * 4) == 0)


def test_ulaw_digital_milliwatt_decodes_to_0_dbm0():
    # G.711 tables 5 and 6 (docs/standards.md §0): the digital milliwatt 1E 0B 0B 1E 9E 8B 8B 9E
    # decodes to -0.04 dBm0.
    from dsp.levels import rms_dbm0
    x = v253.decode_audio(Codec.ULAW, bytes.fromhex("1E0B0B1E9E8B8B9E") * 100)
    assert abs(rms_dbm0(x.astype(float)) - (-0.04)) < 0.05


@pytest.mark.parametrize("codec", list(Codec))
def test_encode_decode_round_trip(codec):
    x = (np.sin(np.arange(160) * 0.3) * 8000).astype(np.int16)
    y = v253.decode_audio(codec, v253.encode_audio(codec, x))
    tolerance = {Codec.S16LE: 0, Codec.ULAW: 300, Codec.ALAW: 300}.get(codec, 256)
    assert np.max(np.abs(y.astype(int) - x)) <= tolerance
    assert len(v253.encode_audio(codec, x)) == 160 * codec.width


# --- <DLE> codes: §11.3 -------------------------------------------------------------------------------
DCE_CODES = [
    ("b", "busy"), ("K", "busy"), ("d", "dialtone"), ("i", "dialtone"), ("s", "silence"), ("q", "quiet"),
    ("c", "fax_calling"), ("m", "fax_calling"), ("e", "data_calling"), ("f", "data_calling"),
    ("a", "answer_tone"), ("R", "ring"), ("r", "ringback"), ("h", "handset_onhook"),
    ("H", "handset_offhook"), ("p", "handset_onhook"), ("P", "handset_offhook"), ("l", "loop_drop"),
    ("L", "polarity_reversal"), ("J", "sit"), ("$", "bong"), ("w", "call_waiting"), ("t", "tdd"),
    ("v", "voice"), ("V", "voice"), ("o", "rx_overrun"), ("u", "tx_underrun"), ("T", "timing_mark"),
    ("E", "invalid_format"), ("Y", "lost_data"), ("Q", "xon"), ("S", "xoff"),
    *[(d, "dtmf") for d in "0123456789*#ABCD"],
]


@pytest.mark.parametrize("code, name", DCE_CODES)
def test_every_modem_to_host_code(code, name):
    audio, events, rest = DleDecoder().feed(b"\x80\x81" + v253.dle(code) + b"\x82")
    assert audio == b"\x80\x81\x82" and rest is None
    assert [(e.code, e.name) for e in events] == [(code, name)]


def test_literal_dle_sub_and_end_of_stream():
    dec = DleDecoder()
    # §11.3: <DLE><DLE> = one 0x10, <DLE><SUB> = two; <DLE><ETX> ends the data state, OK follows.
    audio, events, rest = dec.feed(b"\x01\x10\x10\x02\x10\x1a\x03\x10\x03\r\nOK\r\n")
    assert audio == b"\x01\x10\x02\x10\x10\x03"
    assert [e.name for e in events] == ["end"] and rest == b"\r\nOK\r\n"


def test_unknown_code_is_reported_as_unknown():
    _, events, _ = DleDecoder().feed(v253.dle("z"))
    assert [(e.code, e.name) for e in events] == [("z", "unknown")]


def test_dtmf_shielding_reports_only_the_first_digit():
    # §11.3: IS-101 repeats the digit about every 70 ms between <DLE>/ and <DLE>~; only the first counts.
    dec = DleDecoder()
    stream = v253.dle("/") + v253.dle("5") + b"\x80" + v253.dle("5") + v253.dle("5") + v253.dle("~")
    stream += v253.dle("/") + v253.dle("5") + v253.dle("~") + v253.dle("7")
    _, events, _ = dec.feed(stream)
    assert [e.code for e in events] == ["5", "5", "7"]


def test_complex_event_packet():
    # §11.3 (Si2493 ⚠): <DLE>X ... <DLE>. carries caller ID text, not audio.
    audio, events, _ = DleDecoder().feed(b"\x80" + v253.dle("X") + b"NMBR=5551234\r\n" + v253.dle(".") + b"\x81")
    assert audio == b"\x80\x81"
    assert [(e.name, e.payload) for e in events] == [("packet", b"NMBR=5551234\r\n")]


def test_host_to_modem_sequences():
    # §11.3: the modem side of <DLE><DLE>, <DLE><ETX>, <DLE>!, <DLE>^, <DLE><CAN>.
    dec = DleDecoder(v253.DTE_COMMANDS, frozenset({"\x03", "!", "^"}), shielding=False)
    audio, events, rest = dec.feed(v253.shield(b"\x10\x20") + v253.dle("\x18") + v253.END_TX + b"AT\r")
    assert audio == b"\x10\x20" and [e.name for e in events] == ["clear_tx", "end"] and rest == b"AT\r"
    for code in "!^":
        _, events, rest = DleDecoder(v253.DTE_COMMANDS, frozenset({"\x03", "!", "^"})).feed(v253.dle(code))
        assert events[0].code == code and rest == b""
    assert v253.ABORT_TX == b"\x10\x18\x10\x03"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=6))
def test_shielded_audio_survives_any_split(data, cuts):
    # §11.3: a read may split anywhere, also between <DLE> and its code.
    stream = v253.shield(data)
    dec = DleDecoder()
    out, events = b"", []
    bounds = sorted({0, len(stream), *[min(c, len(stream)) for c in cuts]})
    for a, b in zip(bounds, bounds[1:]):
        audio, evs, rest = dec.feed(stream[a:b])
        out += audio
        events += evs
        assert rest is None
    assert out == data and events == []


_ITEM = st.one_of(st.binary(min_size=1, max_size=40),
                  st.sampled_from(sorted(set(v253.DCE_EVENTS) - {"/", "~"}) + list(v253.DTMF_DIGITS)))


@settings(max_examples=200, deadline=None)
@given(st.lists(_ITEM, max_size=20), st.integers(1, 7))
def test_audio_and_events_interleaved_round_trip(items, chunk):
    stream = b"".join(v253.shield(i) if isinstance(i, bytes) else v253.dle(i) for i in items)
    stream += v253.END_TX + b"\r\nOK\r\n"
    dec = DleDecoder(shielding=False)
    audio, codes, rest = b"", [], None
    for k in range(0, len(stream), chunk):
        a, evs, r = dec.feed(stream[k:k + chunk])
        audio += a
        codes += [e.code for e in evs if e.name != "end"]
        if r is not None:
            rest = r + stream[k + chunk:]
            break
    assert audio == b"".join(i for i in items if isinstance(i, bytes))
    assert codes == [i for i in items if isinstance(i, str)]
    assert rest == b"\r\nOK\r\n"


# --- fuzzing (docs/architecture.md §27): a serial line delivers noise and half lines too ------------
LINE_TEXT = st.one_of(st.text(max_size=80),
                      st.sampled_from(["OK", "RING", "RING3", "NMBR = ", "+CLIP: \"", "DRON=", "CALLER NUMBER:"])
                      .flatmap(lambda head: st.text(max_size=40).map(lambda tail: head + tail)))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(LINE_TEXT)
def test_any_line_is_classified_and_caller_id_values_are_printable(text):
    line = parse_line(text)
    assert line.text == text.strip() and isinstance(line.kind, LineKind)
    if line.kind == LineKind.CALLER_ID:
        # mgetty cnd.c: quotes and non-printables never reach the number or name.
        assert all(" " <= ch <= "~" and ch != '"' for ch in line.value), line


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(st.text(max_size=60),
                 st.builds(lambda cml, name, rates: f'{cml},"{name}",8,0,{rates},(0),(0)',
                           st.integers(0, 255), st.sampled_from(["ULAW", "ALAW", "LINEAR"]),
                           st.text("0123456789,-() a", max_size=16))))
# Rate lists garbled on the line: left out of the list, not a crash of the modem's set-up.
@example('130,"ULAW",8,0,(8000-)')
@example('130,"ULAW",8,0,(8000,a)')
@example('130,"ULAW",8,0,1-2-3')
def test_any_vsm_line_is_a_codec_or_refused_by_name(text):
    try:
        codec = v253.parse_vsm_line(text)
    except v253.V253Error as exc:
        assert repr(text) in str(exc)
        assert v253.parse_vsm_list([text]) == []
    else:
        assert 0 <= codec.cml and codec.bits >= 0 and all(r >= 0 for r in codec.rates)
        assert v253.parse_vsm_list([text]) == [codec]


def feed_in_pieces(data: bytes, cuts: list[int]) -> tuple[bytes, list, bytes | None]:
    """What a DleDecoder makes of `data` read in pieces cut at `cuts`, as one feed() would answer."""
    dec = DleDecoder()
    bounds = sorted({0, len(data), *[min(c, len(data)) for c in cuts]})
    audio, events = b"", []
    for a, b in zip(bounds, bounds[1:]):
        got, evs, rest = dec.feed(data[a:b])
        audio, events = audio + got, events + evs
        if rest is not None:
            return audio, events, rest + data[b:]
    return audio, events, None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.binary(max_size=30), st.sampled_from([b"\x10", b"\x10X", b"\x10.", b"\x10/", b"\x10~"])),
                max_size=30).map(b"".join),
       st.lists(st.integers(0, 600), max_size=6))
@example(b"\x10X" + b"\x55" * 1500, [700])
def test_any_byte_stream_decodes_the_same_however_it_is_split(data, cuts):
    # §11.3: a read may split anywhere; the decoder is a state machine, not a line reader.
    assert feed_in_pieces(data, cuts) == DleDecoder().feed(data)


def test_a_packet_that_never_ends_gives_its_bytes_back_as_audio():
    # Noise made a <DLE>X in the audio: the call's audio must go on, not vanish into a packet forever.
    audio = bytes(range(0x20, 0x80)) * 40
    got, events, rest = DleDecoder().feed(b"\x10X" + audio)
    assert got == audio and [e.name for e in events] == ["unknown"] and rest is None
    got, events, _ = DleDecoder().feed(b"\x10XNMBR=5551234\r\n\x10.")
    assert got == b"" and events == [v253.DleEvent("X", "packet", b"NMBR=5551234\r\n")]
