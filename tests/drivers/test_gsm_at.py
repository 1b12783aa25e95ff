"""The GSM modem's AT channel (3GPP TS 27.005 / 27.007) against scripted modem output: answers, errors,
the +CMGS prompt, and unsolicited codes that arrive in the middle of anything, set aside whole."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.gsm_at import AtChannel, AtError, PortLost, Unsolicited


class ScriptedPort:
    """A pyserial stand-in: each write of a command is answered with the bytes scripted for it."""

    def __init__(self, answers: dict[bytes, bytes], lost_after: bytes | None = None):
        self.answers, self.lost_after = answers, lost_after
        self.pending = b""
        self.written: list[bytes] = []
        self.timeout = 0.0

    def write(self, data: bytes) -> None:
        self.written.append(data)
        if self.lost_after is not None and data.startswith(self.lost_after):
            self.pending = None  # type: ignore[assignment]
            return
        self.pending += self.answers.get(data, b"")

    def flush(self) -> None:
        pass

    @property
    def in_waiting(self) -> int:
        return len(self.pending or b"")

    def read(self, n: int) -> bytes:
        if self.pending is None:
            raise OSError(5, "Input/output error")
        chunk, self.pending = self.pending[:n], self.pending[n:]
        return chunk


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.5          # each look at the clock is half a second: timeouts come without waiting
        return self.t


CDS_PDU = "0006390D91683108108300F0621270138153236212701381532300"


@pytest.mark.parametrize(("answer", "info", "codes"), [
    (b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n", ["+CSQ: 20,99"], []),
    (b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n", ["+CSQ: 20,99"], []),                   # the echo before ATE0
    (b'\r\n+CMTI: "SM",3\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n', ["+CSQ: 20,99"],
     [Unsolicited('+CMTI: "SM",3')]),
    (b"\r\n+CDS: 25\r\n" + CDS_PDU.encode() + b"\r\n\r\n+CSQ: 9,99\r\n\r\nOK\r\n", ["+CSQ: 9,99"],
     [Unsolicited("+CDS: 25", CDS_PDU)]),
    (b"\r\n+CMT: ,24\r\n" + CDS_PDU.encode() + b"\r\n+CSQ: 9,99\r\nOK\r\n", ["+CSQ: 9,99"],
     [Unsolicited("+CMT: ,24", CDS_PDU)]),
    (b"\r\n^RSSI: 17\r\nRING\r\n+CSQ: 31,0\r\nOK\r\n", ["+CSQ: 31,0"], [Unsolicited("^RSSI: 17"), Unsolicited("RING")]),
])
def test_answers_and_the_codes_around_them(answer, info, codes):
    at = AtChannel(ScriptedPort({b"AT+CSQ\r": answer}), "ttyUSB2", clock=Clock())
    assert at.command("AT+CSQ") == info
    assert at.poll() == codes


@pytest.mark.parametrize(("answer", "code"), [
    (b"\r\nERROR\r\n", ""), (b"\r\n+CME ERROR: 10\r\n", "10"), (b"\r\n+CMS ERROR: 500\r\n", "500"),
    (b"\r\n+CME ERROR: SIM not inserted\r\n", "SIM not inserted"),
])
def test_errors_carry_their_code(answer, code):
    at = AtChannel(ScriptedPort({b"AT+CPIN?\r": answer}), "ttyUSB2", clock=Clock())
    with pytest.raises(AtError) as err:
        at.command("AT+CPIN?")
    assert err.value.code == code and not err.value.unknown and "ttyUSB2" in str(err.value)


def test_no_answer_is_an_error_naming_the_command():
    at = AtChannel(ScriptedPort({}), "ttyUSB2", clock=Clock())
    with pytest.raises(AtError, match="no answer to AT in time"):
        at.command("AT")


def test_a_pdu_goes_at_the_prompt_and_its_reference_comes_back():
    port = ScriptedPort({b"AT+CMGS=23\r": b"\r\n+CDS: 25\r\n" + CDS_PDU.encode() + b"\r\n\r\n> ",
                         b"PDU\x1a": b"\r\n+CMGS: 57\r\n\r\nOK\r\n"})
    at = AtChannel(port, "ttyUSB2", clock=Clock())
    assert at.send_pdu(23, "PDU") == 57
    assert at.poll() == [Unsolicited("+CDS: 25", CDS_PDU)]     # the report before the prompt is kept


def test_a_refusal_after_the_pdu_is_known_not_sent():
    port = ScriptedPort({b"AT+CMGS=23\r": b"\r\n> ", b"PDU\x1a": b"\r\n+CMS ERROR: 38\r\n"})
    with pytest.raises(AtError) as err:
        AtChannel(port, "ttyUSB2", clock=Clock()).send_pdu(23, "PDU")
    assert err.value.code == "38" and not err.value.unknown


def test_no_prompt_cancels_with_esc_and_nothing_went():
    port = ScriptedPort({})
    with pytest.raises(AtError, match="no prompt") as err:
        AtChannel(port, "ttyUSB2", clock=Clock()).send_pdu(23, "PDU")
    assert port.written[-1] == b"\x1b" and not err.value.unknown


@pytest.mark.parametrize("lost", [True, False])
def test_silence_or_a_lost_port_after_the_pdu_leaves_the_send_unknown(lost):
    port = ScriptedPort({b"AT+CMGS=23\r": b"\r\n> "}, lost_after=b"PDU" if lost else None)
    with pytest.raises(PortLost if lost else AtError) as err:
        AtChannel(port, "ttyUSB2", clock=Clock()).send_pdu(23, "PDU")
    assert err.value.unknown


class ChunkedPort(ScriptedPort):
    """Gives the scripted answer back in the chunks given, one read at a time (a USB modem's bytes come
    in pieces that split lines anywhere)."""

    def __init__(self, cmd: bytes, chunks: list[bytes]):
        super().__init__({})
        self.cmd, self.chunks = cmd, chunks

    def write(self, data: bytes) -> None:
        self.written.append(data)
        if data == self.cmd:
            self.pending = b""

    @property
    def in_waiting(self) -> int:
        return len(self.chunks[0]) if self.chunks else 0

    def read(self, n: int) -> bytes:
        if not self.chunks:
            return b""
        chunk = self.chunks[0][:n]
        self.chunks[0] = self.chunks[0][n:]
        if not self.chunks[0]:
            self.chunks.pop(0)
        return chunk


# Answers of the commands the driver sends (never an unsolicited code's name).
INFO = st.lists(st.from_regex(r"\+(CSQ|CREG|CEREG|COPS|CPIN|CMGS|CMGR): [0-9,]{1,12}", fullmatch=True), max_size=4)
CODES = st.lists(st.sampled_from([('+CMTI: "SM",1', ""), ("+CDS: 25", CDS_PDU), ("RING", ""), ("^RSSI: 9", "")]),
                 max_size=3)


@settings(max_examples=200, deadline=None)
@given(info=INFO, codes=CODES, where=st.lists(st.integers(0, 5), max_size=3), cuts=st.lists(st.integers(1, 400)))
def test_codes_anywhere_in_an_answer_cut_anywhere_are_set_aside_whole(info, codes, where, cuts):
    units = [[line] for line in info]            # a code and its PDU line arrive together
    for n, (line, pdu) in enumerate(codes):
        at = min(where[n] if n < len(where) else 0, len(units))
        units.insert(at, [line] + ([pdu] if pdu else []))
    lines = [line for unit in units for line in unit]
    data = b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines) + b"\r\nOK\r\n"
    chunks, start = [], 0
    for cut in sorted({c for c in cuts if c < len(data)}) + [len(data)]:
        chunks.append(data[start:cut])
        start = cut
    # Time stands still: every chunk is there to read, however many there are.
    at = AtChannel(ChunkedPort(b"AT+X\r", [c for c in chunks if c]), "ttyUSB2", clock=lambda: 0.0)
    assert at.command("AT+X") == info
    assert sorted(at.poll(), key=repr) == sorted((Unsolicited(line, pdu) for line, pdu in codes), key=repr)
