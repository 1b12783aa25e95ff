"""SMS PDUs (3GPP TS 23.040, TS 23.038): published PDUs decode and encode to the octet, and every text
survives the round trip through the parts it is cut into, in the default alphabet and in UCS-2."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers import sms_pdu
from drivers.sms_pdu import PduError

CN = dt.timezone(dt.timedelta(hours=8))


def user_data_octets(part: sms_pdu.SubmitPart, number: str) -> int:
    """TP-UD's octets: the TPDU less first octet, TP-MR, TP-DA, TP-PID, TP-DCS, TP-VP and TP-UDL."""
    return part.length - (2 + len(sms_pdu.encode_address(number)) + 4)


def test_the_published_deliver_pdu_decodes():
    # The SMS-DELIVER example of "SMS messages and the PDU format" (dreamfabric.com, reproduced widely):
    # from +31641600986 through the SMSC +31624000000, "How are you?", sent 2002-08-26 19:37:41.
    pdu = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
    found = sms_pdu.decode(pdu)
    assert isinstance(found, sms_pdu.Deliver)
    assert (found.sender, found.smsc, found.text) == ("+31641600986", "+31624000000", "How are you?")
    assert found.timestamp.replace(tzinfo=None) == dt.datetime(2002, 8, 26, 19, 37, 41)


def test_the_published_submit_pdu_is_encoded_to_the_octet():
    # The same source's SMS-SUBMIT: "hellohello" to +46708251358, relative validity 0xAA (4 days), no report.
    (part,) = sms_pdu.encode_submit("+46708251358", "hellohello", status_report=False, validity=0xAA)
    assert part.pdu == "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    assert part.length == 23              # TS 27.005 §3.5.1: the TPDU's octets, without the SMSC octet


def test_a_status_report_names_its_message_and_says_delivered():
    stamp = dt.datetime(2026, 12, 7, 9, 31, 5, tzinfo=CN)
    report = sms_pdu.decode(sms_pdu.encode_status_report(57, "+8613800138000", 0x00, stamp, stamp))
    assert isinstance(report, sms_pdu.StatusReport)
    assert (report.reference, report.recipient, report.delivered, report.final) == (57, "+8613800138000", True, True)
    assert report.discharged == stamp
    pending = sms_pdu.decode(sms_pdu.encode_status_report(57, "+8613800138000", 0x20, stamp, stamp))
    failed = sms_pdu.decode(sms_pdu.encode_status_report(57, "+8613800138000", 0x41, stamp, stamp))
    assert not pending.delivered and not pending.final          # §9.2.3.15: the SC still tries
    assert not failed.delivered and failed.final


@pytest.mark.parametrize(("text", "parts", "dcs"), [
    ("a" * 160, 1, sms_pdu.DCS_GSM7),          # §9.2.3.16: 160 septets in one
    ("a" * 161, 2, sms_pdu.DCS_GSM7),          # then 153 a part
    ("a" * 306, 2, sms_pdu.DCS_GSM7),
    ("a" * 307, 3, sms_pdu.DCS_GSM7),
    ("€" * 80, 1, sms_pdu.DCS_GSM7),           # §6.2.1.1: each extension character is two septets
    ("€" * 81, 2, sms_pdu.DCS_GSM7),
    ("您" * 70, 1, sms_pdu.DCS_UCS2),          # 70 UCS-2 characters in one, then 67 a part
    ("您" * 71, 2, sms_pdu.DCS_UCS2),
    ("您" * 134, 2, sms_pdu.DCS_UCS2),
    ("您" * 135, 3, sms_pdu.DCS_UCS2),
])
def test_texts_are_cut_at_the_standard_sizes(text, parts, dcs):
    found_dcs, cut = sms_pdu.split_text(text)
    assert (len(cut), found_dcs) == (parts, dcs)
    submits = sms_pdu.encode_submit("13800138000", text, 200)
    assert all(user_data_octets(p, "13800138000") <= sms_pdu.MAX_OCTETS for p in submits)


def test_an_escape_pair_is_never_split_between_parts():
    text = "a" * 152 + "€" + "b" * 10        # 164 septets: two parts; the € would straddle 153
    septets = sms_pdu.split_text(text)[1]
    assert [len(p) for p in septets] == [152, 12]


@pytest.mark.parametrize("number", ["", "+", "12ab", "1" * 21, "+86 138"])
def test_a_number_that_does_not_parse_is_refused(number):
    with pytest.raises(PduError):
        sms_pdu.encode_submit(number, "hi")


@pytest.mark.parametrize("pdu", ["", "zz", "0791", "07911326040000F004", "0791132604000000F3"])
def test_garbage_pdus_are_refused_not_crashed_on(pdu):
    with pytest.raises(PduError):
        sms_pdu.decode(pdu)


GSM7_TEXT = st.text(alphabet=st.sampled_from([c for c in sms_pdu.GSM7_BASIC if c != "\x1b"]
                                             + list(sms_pdu.GSM7_EXTENSION)), min_size=1, max_size=700)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=400)
NUMBERS = st.from_regex(r"\+?[0-9]{3,15}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(GSM7_TEXT, ANY_TEXT), number=NUMBERS, reference=st.integers(0, 255))
def test_submit_parts_decode_to_the_text(text, number, reference):
    parts = sms_pdu.encode_submit(number, text, reference)
    decoded = [sms_pdu.decode_submit(p.pdu) for p in parts]
    assert "".join(d[1] for d in decoded) == text
    assert all(d[0] == number and d[3] for d in decoded)
    if len(parts) > 1:
        assert [d[2] for d in decoded] == [(reference, len(parts), i) for i in range(1, len(parts) + 1)]
    assert all(user_data_octets(p, number) <= sms_pdu.MAX_OCTETS for p in parts)


@settings(max_examples=100, deadline=None)
@given(text=st.one_of(GSM7_TEXT, ANY_TEXT), sender=NUMBERS, reference=st.integers(0, 255),
       minutes=st.integers(-48, 56).map(lambda q: q * 15))
def test_deliver_parts_decode_to_the_text_sender_and_time(text, sender, reference, minutes):
    stamp = dt.datetime(2026, 12, 7, 23, 59, 58, tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
    found = [sms_pdu.decode(p) for p in sms_pdu.encode_deliver(sender, text, stamp, reference, smsc="+8613800100500")]
    assert all(isinstance(f, sms_pdu.Deliver) for f in found)
    assert "".join(f.text for f in found) == text                         # type: ignore[union-attr]
    assert {(f.sender, f.timestamp, f.smsc) for f in found} == {(sender, stamp, "+8613800100500")}  # type: ignore[union-attr]


@given(st.lists(st.integers(0, 127), max_size=200), st.integers(0, 6))
def test_septet_packing_round_trips_with_any_fill(septets, fill):
    assert sms_pdu.unpack_septets(sms_pdu.pack_septets(septets, fill), len(septets), fill) == septets


# --- fuzzing (docs/architecture.md §27): a PDU comes off a serial line from a modem and a network ----
# A concatenation element whose header is cut short (a DELIVER of 160 octets whose UDH claims 3 octets
# of reference, count and part number, and carries 2), found by tests/coverage_fuzz.py.
SHORT_UDH = "00440B813108108300F0000062101000000000A0050003AB02"
# The first of two parts renumbered 0: no part (§9.2.3.24.1), so the text stands alone.
PART_ZERO = sms_pdu.encode_deliver("13800138000", "x" * 200, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                                   0xAB)[0].replace("050003AB0201", "050003AB0200")


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.one_of(st.binary(max_size=180).map(lambda b: b.hex().upper()), st.text(max_size=40)),
       st.booleans())
@example(SHORT_UDH, True)
@example(PART_ZERO, True)
def test_any_incoming_pdu_is_a_message_or_refused_as_a_pdu(pdu, with_smsc):
    try:
        found = sms_pdu.decode(pdu, with_smsc=with_smsc)
    except PduError as exc:
        assert str(exc)
    else:
        assert isinstance(found, (sms_pdu.Deliver, sms_pdu.StatusReport))
        if isinstance(found, sms_pdu.Deliver) and found.concat is not None:
            # TS 23.040 §9.2.3.24.1: part numbers run from 1 to the count; any other is no part.
            _, count, seq = found.concat
            assert 1 <= seq <= count


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.binary(max_size=180).map(lambda b: b.hex().upper()))
@example("07095D019151 21F751010009519101215D290000000001000000010000000000000300".replace(" ", ""))
def test_any_outgoing_pdu_is_a_submit_or_refused_as_a_pdu(pdu):
    try:
        number, text, _, _ = sms_pdu.decode_submit(pdu)
    except PduError as exc:
        assert str(exc)
    else:
        assert isinstance(number, str) and isinstance(text, str)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(reference=st.integers(0, 255), recipient=NUMBERS, status=st.integers(0, 255),
       minutes=st.integers(-48, 56).map(lambda q: q * 15), smsc=st.sampled_from(["", "+8613800100500"]))
def test_a_status_report_decodes_to_its_message_and_outcome(reference, recipient, status, minutes, smsc):
    # TS 23.040 §9.2.2.3: TP-MR ties the report to the message; TP-DT and TP-ST say when and how it ended.
    zone = dt.timezone(dt.timedelta(minutes=minutes))
    sent, done = dt.datetime(2026, 12, 7, 9, 0, 0, tzinfo=zone), dt.datetime(2026, 12, 7, 9, 0, 5, tzinfo=zone)
    found = sms_pdu.decode(sms_pdu.encode_status_report(reference, recipient, status, sent, done, smsc))
    assert found == sms_pdu.StatusReport(reference, recipient, status, done, smsc)
