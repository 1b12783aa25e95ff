"""`branchline detect`: what answers on each port (voice modem and family, data-only, not a modem,
busy, missing) and a profile that loads."""
import serial

from drivers.modem_emulator import ModemEmulator
from drivers.serial_ports import Verdict, probe
from firmware import cli
from firmware.config.boards import load_profile


def test_probe_tells_what_answers(tmp_path):
    usr = ModemEmulator("usr5637", link_dir=tmp_path / "a").start()
    cx = ModemEmulator("cx93010", link_dir=tmp_path / "b").start()
    data = ModemEmulator("usr5637", link_dir=tmp_path / "c", answers={"fclass": "0,1,2"}).start()
    busy = ModemEmulator("cx93010", link_dir=tmp_path / "d").start()
    holder = serial.Serial(busy.link, exclusive=True)
    try:
        got = {p: probe(p, timeout=0.5) for p in (usr.link, cx.link, data.link, busy.link, "/dev/null",
                                                   str(tmp_path / "ttyACM7"))}
        # The probe restores data mode (AT+FCLASS=0) after reading the voice codecs.
        assert usr.commands()[-1] == "AT+FCLASS=0"
    finally:
        holder.close()
        for emu in (usr, cx, data, busy):
            emu.stop()
    assert (got[usr.link].verdict, got[usr.link].model.family, got[usr.link].codec.cml) == \
        (Verdict.VOICE, "usrobotics", 131)
    assert (got[cx.link].verdict, got[cx.link].model.family, got[cx.link].codec.cml) == (Verdict.VOICE, "conexant", 1)
    assert got[data.link].verdict == Verdict.DATA and "no class 8" in got[data.link].detail
    assert got[busy.link].verdict == Verdict.BUSY
    assert got["/dev/null"].verdict == Verdict.NOT_MODEM
    assert got[str(tmp_path / "ttyACM7")].verdict == Verdict.MISSING


def test_detect_prints_a_profile_that_loads(tmp_path, capsys):
    usr = ModemEmulator("usr5637", link_dir=tmp_path / "a").start()
    cx = ModemEmulator("cx93010", link_dir=tmp_path / "b").start()
    try:
        assert cli.main(["detect", usr.link, cx.link, "--stations", "1", "--timeout", "0.5"]) == 0
    finally:
        usr.stop()
        cx.stop()
    text = capsys.readouterr().out
    assert "voice modem, family usrobotics" in text and "voice modem, family conexant" in text
    path = tmp_path / "found.toml"
    path.write_text(text)
    profile = load_profile(path)
    [driver] = profile.drivers
    lines = driver.data["line"]
    assert [(ln["name"], ln["port"], ln.get("kind", "trunk")) for ln in lines] == \
        [("line1", usr.link, "trunk"), ("station1", cx.link, "station")]


def test_detect_with_nothing_that_answers(tmp_path, capsys):
    assert cli.main(["detect", "/dev/null", "--timeout", "0.2"]) == 1
    out = capsys.readouterr().out
    assert "/dev/null: not a modem" in out and "no voice modem answered" in out
