"""Coverage-guided fuzzing (atheris, libFuzzer) of the byte-level parsers: the modem's DLE stream and
result lines, SMS PDUs, caller ID messages and the sync API's Range header (docs/architecture.md §27).

Each target states the parser's contract, as the hypothesis tests do; atheris mutates inputs toward
new branches, which finds what a random generator does not (a length byte that points just past the
end). `make fuzz` runs every target for FUZZ_SECONDS; by hand, from the top of the tree (PYTHONPATH=.
so that this tree's modules are the ones fuzzed):

    PYTHONPATH=. python tests/coverage_fuzz.py dle_stream -max_total_time=60

A failure stops with the input written as crash-<sha1>: keep it as an @example of the parser's
hypothesis test, fix the parser, and run again."""
from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from drivers import sms_pdu, v253
from dsp.callerid_message import parse_message
from firmware.store.sync import FileRefused


def dle_stream(data: bytes) -> None:
    """V.253 §11.3: a read may split anywhere; the decoder answers the same for any split."""
    if not data:
        return
    cut = data[0] % len(data)
    whole = v253.DleDecoder().feed(data)
    dec = v253.DleDecoder()
    audio, events, rest = dec.feed(data[:cut])
    if rest is not None:
        rest += data[cut:]
    else:
        more, later, rest = dec.feed(data[cut:])
        audio, events = audio + more, events + later
    assert (audio, events, rest) == whole, (data, cut)
    for event in whole[1]:
        assert len(event.payload) <= v253.MAX_PACKET


def modem_line(data: bytes) -> None:
    """Any line from the modem is classified; a caller ID value is printable ASCII (mgetty cnd.c)."""
    text = data.decode("latin-1")
    line = v253.parse_line(text)
    assert line.text == text.strip()
    if line.kind == v253.LineKind.CALLER_ID:
        assert all(" " <= ch <= "~" and ch != '"' for ch in line.value), line
    try:
        v253.parse_vsm_line(text)
    except v253.V253Error:
        pass


def sms_incoming(data: bytes) -> None:
    """An incoming PDU (TS 23.040) is a DELIVER or a STATUS-REPORT, or refused as a PDU."""
    if not data:
        return
    try:
        found = sms_pdu.decode(data[1:].hex(), with_smsc=bool(data[0] & 1))
    except sms_pdu.PduError:
        pass
    else:
        if isinstance(found, sms_pdu.Deliver) and found.concat is not None:
            assert 1 <= found.concat[2] <= found.concat[1], found     # §9.2.3.24.1
    try:
        sms_pdu.decode_submit(data.hex())
    except sms_pdu.PduError:
        pass


def callerid_message(data: bytes) -> None:
    """GR-30 / EN 300 659: a message is trusted only with a good length and checksum."""
    msg = parse_message(data, "bell202")
    if msg is not None and msg.valid:
        assert len(data) == data[1] + 3 and sum(data) % 256 == 0


def byte_range(data: bytes) -> None:
    """RFC 9110 §14: a Range header is the whole file, a span inside it, or unsatisfiable."""
    from webui.sync import _byte_range      # the web process's module: imported only by this target
    if len(data) < 2:
        return
    size = int.from_bytes(data[:2], "big") % 2000
    try:
        span = _byte_range(data[2:].decode("latin-1"), size)
    except FileRefused:
        return
    if span is not None:
        assert 0 <= span[0] <= span[1] < size, (data, span)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "dle_stream": dle_stream, "modem_line": modem_line, "sms_incoming": sms_incoming,
    "callerid_message": callerid_message, "byte_range": byte_range,
}
# A start for each target: libFuzzer mutates these rather than only empty input.
SEEDS: dict[str, list[bytes]] = {
    "dle_stream": [b"\x03ab\x10\x10cd\x10/\x101\x10~\x10Xx\x10.\x10\x03OK", b"\x01\x10X" + b"U" * 40],
    "modem_line": [b"NMBR = 5551234", b'+CLIP: "13800138000",129,,,,0', b'130,"ULAW",8,0,(8000),(0),(0)',
                   b"RING2", b"DRON=5"],
    "sms_incoming": [bytes.fromhex("0007911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"),
                     bytes.fromhex("0100000B915121551532F40000")],
    "callerid_message": [bytes.fromhex("04123031303131323030353535313233343536C8"),
                         bytes.fromhex("80100108303130313132303002073535353132333400")],
    "byte_range": [b"\x4e\x20bytes=100-", b"\x00\x64bytes=-10", b"\x00\x00bytes=0-"],
}


def main(argv: list[str]) -> None:
    if argv[1:] == ["--list"]:
        print(" ".join(TARGETS))
        return
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{--list,{','.join(TARGETS)}}} [libFuzzer options]")
    import atheris

    name = argv[1]
    # The seeds as a corpus directory of their own: libFuzzer adds what it finds there, not to the tree.
    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    for i, seed in enumerate(SEEDS[name]):
        (corpus / f"seed-{i}").write_bytes(seed)
    atheris.instrument_all()
    atheris.Setup([argv[0], *argv[2:], str(corpus)], TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
