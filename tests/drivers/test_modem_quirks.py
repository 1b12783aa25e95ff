"""The table of known modems (board/modems.toml): read with checks, matched by USB id and ATI, and the
board's udev rules in step with it."""
import re
from pathlib import Path

import pytest

from drivers import modem_quirks, v253
from drivers.modem_quirks import ModemTableError, by_ati, by_usb, load_table
from drivers.v253 import Codec

ROOT = Path(__file__).resolve().parents[2]


def test_the_two_vendor_families_and_the_generic_entry():
    table = load_table()
    assert {m.family for m in table.values()} >= {"usrobotics", "conexant", "generic"}
    # docs/standards.md §11.6: USR5637 0baf:0303, ATI0 5601; CX93010 0572:1329/1340/1349, ATI0 56000 (Zoom 3095).
    assert by_usb(0x0BAF, 0x0303).id == "usr5637" and by_ati("5601").id == "usr5637"
    assert {by_usb(0x0572, pid).id for pid in (0x1329, 0x1340, 0x1349)} == {"cx93010"}
    assert by_ati("56000").id == "cx93010" and by_ati("33600 BPS MODEM") is None
    assert by_usb(0x1234, 0x5678) is None and by_usb(None, None) is None
    # §11.6: Conexant stops receive with <DLE>^ and needs AT+VSD=0,50; USR uses <DLE>! and AT+VSD=128,50.
    assert (table["cx93010"].stop_rx, table["usr5637"].stop_rx) == ("^", "!")
    assert "AT+VSD=0,50" in table["cx93010"].init and "AT+VSD=128,50" in table["usr5637"].init
    # §11.3: Conexant's +VSD silence detection "doesn't work": its <DLE>s/<DLE>q are ignored.
    assert table["cx93010"].ignore_dle == {"s", "q"}


@pytest.mark.parametrize("model", ["usr5637", "cx93010"])
def test_recorded_answers_give_a_codec_by_name(model):
    answers = load_table()[model].answers
    chosen = v253.choose_codec(v253.parse_vsm_list(list(answers.vsm)))
    # §11.2: the USR 56K list offers ULAW (131); the Conexant controller list only unsigned PCM (1).
    assert (chosen.cml, chosen.codec) == {"usr5637": (131, Codec.ULAW), "cx93010": (1, Codec.U8)}[model]


@pytest.mark.parametrize("entry, message", [
    ('id = "x"\nfamily = "f"\nname = "n"\nfallback_codec = "gsm"', "modem[0].fallback_codec: 'gsm' is not one of"),
    ('id = "x"\nfamily = "f"\nname = "n"\nusb = ["0BAF:0303"]', "modem[0].usb: '0BAF:0303' is not a lower-case"),
    ('id = "x"\nfamily = "f"\nname = "n"\nstop_rx = "?"', "modem[0].stop_rx"),
    ('id = "x"\nfamily = "f"\nname = "n"\nwheels = 4', "modem[0].wheels: unknown key"),
    ('id = "x"\nfamily = "f"', "modem[0].name: required key is missing"),
    ('id = "x"\nfamily = "f"\nname = "n"\ndle_aliases = { t = "dancing" }', "modem[0].dle_aliases"),
    ('id = "x"\nfamily = "f"\nname = "n"\nvit_units_s = "1"', "modem[0].vit_units_s: expected float"),
])
def test_a_bad_table_entry_names_file_entry_and_key(tmp_path, entry, message):
    path = tmp_path / "modems.toml"
    path.write_text(f'[[modem]]\n{entry}\n[[modem]]\nid = "v253"\nfamily = "generic"\nname = "g"\n')
    with pytest.raises(ModemTableError) as err:
        load_table(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_table_without_the_generic_entry_is_refused(tmp_path):
    path = tmp_path / "modems.toml"
    path.write_text('[[modem]]\nid = "x"\nfamily = "f"\nname = "n"\n')
    with pytest.raises(ModemTableError, match="generic entry"):
        load_table(path)


def test_udev_rules_cover_every_usb_id_in_the_table():
    # The rules give every known modem to dialout and keep ModemManager off it (docs/standards.md §16).
    rules = (ROOT / "board/udev/70-branchline-modems.rules").read_text()
    pairs = set(re.findall(r'ATTRS\{idVendor\}=="(\w{4})", ATTRS\{idProduct\}=="(\w{4})"', rules))
    table_ids = {tuple(u.split(":")) for m in modem_quirks.known().values() for u in m.usb}
    assert pairs == table_ids
    assert 'ENV{ID_MM_DEVICE_IGNORE}="1"' in rules and 'GROUP="dialout"' in rules
