"""The whole box on an emulated voice modem: ring, caller ID, the caller's DTMF picks a queue, an agent
answers, the caller hangs up, and the call's record is complete. Runs in real time (the modem does)."""
import json
import time
import wave

import numpy as np
import pytest

from drivers.channel import Board
from drivers.modem_emulator import ModemEmulator
from drivers.sim import SimCaller, SimDriver
from drivers.modem_line import LineState
from drivers.voice_modem import LineConfig, VoiceModemDriver
from dsp.levels import rms_dbm0
from firmware.config.box import StatePaths, load_site, open_engine
from firmware.config.site import DEFAULTS_DIR
from firmware.store import open_readonly

CALLER_HZ = 600


def _box(tmp_path, model):
    emu = ModemEmulator(model, serial_number="E2E1", link_dir=tmp_path / "by-id", ring_period_s=1.0).start()
    modem = VoiceModemDriver([LineConfig("line1", emu.link)])
    sim = SimDriver(trunks=0, stations=4)
    sim.handset(0).answer_after = 0.5
    paths = StatePaths(tmp_path / "state")
    site = load_site(paths)
    # docs/standards.md §11.4: a modem reports caller ID after the first ring, so the box answers on the second
    # (the site setting's own comment).
    site.answer_rings = 2
    engine = open_engine(paths, Board([modem, sim]), site, clock="paced", control=False, seed=1,
                         flow_path=DEFAULTS_DIR / "flows" / "main.toml")
    engine.observers.append(lambda name, data: emu.connected() if name == "call:bridged" else None)
    return emu, modem, engine, paths


@pytest.mark.parametrize("model", ["cx93010", "usr5637"])
def test_call_on_an_emulated_modem_leaves_a_complete_record(tmp_path, model):
    emu, modem, engine, paths = _box(tmp_path, model)
    try:
        t0 = time.monotonic()
        engine.run(until=lambda: modem.lines[0].state == LineState.IDLE or time.monotonic() - t0 > 10)
        assert modem.lines[0].state == LineState.IDLE
        engine.app.acd.cmd_login("1001")
        engine.app.acd.cmd_ready("1001")
        # The caller presses 1 (sales) 1 s after the box answers, during the welcome prompt (barge-in).
        caller = SimCaller("13800138000", "ZHAO LEI", keys=[(1.0, "1")], patience=30.0, talk=1.5,
                           voice_hz=CALLER_HZ)
        assert emu.place_call(caller)
        t0 = time.monotonic()
        engine.run(until=lambda: (caller.ended is not None and not engine.app.calls
                                  and modem.lines[0].state == LineState.IDLE) or time.monotonic() - t0 > 25)
        status = modem.status()["lines"][0]
    finally:
        engine.close()
        emu.stop()
    db = open_readonly(paths.db)
    [row] = list(db["calls"].rows)
    assert row["number"] == "13800138000" and row["name"] == "ZHAO LEI"
    assert row["digits"] == "1" and row["queue"] == "sales" and row["agent_id"] == "1001"
    assert row["disposition"] == "answered" and row["hangup_by"] == "caller"
    assert row["answered_at"] and row["connected_at"] and row["ended_at"] and row["talk"] > 1.0
    kinds = [e["kind"] for e in db["call_events"].rows_where("call_id = ?", [row["id"]], order_by="id")]
    for kind in ("call:callerid", "call:answered", "ivr:digit", "queue:enter", "queue:connect", "call:hangup"):
        assert kind in kinds, kinds
    assert kinds.index("call:callerid") < kinds.index("call:answered")
    assert caller.ended_by == "caller" and caller.pressed == "1" and emu.finished == [caller]
    # The box's audio reached the line: the prompts, as the modem played them (P.56 speech threshold).
    heard = emu.heard().astype(float)
    assert heard.size and rms_dbm0(heard) > -35.0
    # The modem's own digit report is the cross-check (counted), the box's detector the source.
    assert status["counters"]["dtmf"] >= 1 and status["counters"]["calls"] == 1
    assert status["last_caller_id"]["number"] == "13800138000" and status["state"] == "idle"
    # The caller's voice reached the recording's caller channel (left) through the modem stream.
    [rec] = list(db["recordings"].rows)
    with wave.open(str(paths.recordings / rec["path"])) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)[:, 0].astype(float)
    spectrum = np.abs(np.fft.rfft(audio[-4000:] * np.hanning(4000)))
    peak = np.fft.rfftfreq(4000, 1 / 8000)[np.argmax(spectrum)]
    assert abs(peak - CALLER_HZ) < 10, peak
    assert json.loads(row["path"])


def test_unplugging_a_modem_mid_call_fails_only_that_call_and_the_line_comes_back(tmp_path, monkeypatch):
    from drivers import modem_chat
    from firmware.config.boards import build_board, load_profile
    monkeypatch.setattr(modem_chat, "COMMAND_DELAY_S", 0.01)
    board = build_board(load_profile("sim-modems"))       # the whole box on emulated modems
    modem = board.drivers[0]
    paths = StatePaths(tmp_path / "state")
    site = load_site(paths)
    engine = open_engine(paths, board, site, clock="paced", control=False, seed=2)
    try:
        t0 = time.monotonic()
        engine.run(until=lambda: all(ln.state == LineState.IDLE for ln in modem.lines) or time.monotonic() - t0 > 10)
        emu = modem.emulators[0]
        assert emu.place_call(SimCaller("13900000001", patience=30.0))
        # Answered on the first ring (the site default), before the modem reports caller ID.
        engine.run(until=lambda: any(c.answered_at for c in engine.app.calls.values()) or time.monotonic() - t0 > 15)
        emu.unplug()
        engine.run(until=lambda: not engine.app.calls or time.monotonic() - t0 > 20)
        assert engine.alarms.get(0, "").startswith("modem ") and 1 not in engine.alarms
        lines = {ln["name"]: ln for ln in engine.status()["lines"]}
        assert lines["line1"]["state"] == "alarm" and lines["line2"]["state"] == "idle"
        emu.replug()
        engine.run(until=lambda: 0 not in engine.alarms or time.monotonic() - t0 > 30)
        assert 0 not in engine.alarms and modem.lines[0].state == LineState.IDLE
    finally:
        engine.close()
    db = open_readonly(paths.db)
    [row] = list(db["calls"].rows)
    # The call ends cleanly in the records: failed, ended by the box, with an end time.
    assert row["channel"] == "line1" and row["disposition"] == "failed" and row["hangup_by"] == "box"
    assert row["ended_at"] is not None


def test_glare_on_a_modem_line_the_caller_gets_a_record_and_the_number_goes_out_on_the_next_line(tmp_path):
    # Agent 1001 calls a customer out. The box seizes line1 to dial, and at that moment a caller's call
    # reaches line1 from the exchange's side: going off hook answered them (glare on an analog line).
    emus = [ModemEmulator("cx93010", serial_number=f"GLARE{i}", link_dir=tmp_path / "by-id").start()
            for i in (1, 2)]
    modem = VoiceModemDriver([LineConfig("line1", emus[0].link), LineConfig("line2", emus[1].link)])
    sim = SimDriver(trunks=0, stations=4)
    sim.handset(0).answer_after, sim.handset(0).talk = 0.5, 10.0
    paths = StatePaths(tmp_path / "state")
    site = load_site(paths)
    site.answer_rings = 2        # modems: caller ID comes after the first ring
    engine = open_engine(paths, Board([modem, sim]), site, clock="paced", control=False, seed=1,
                         flow_path=DEFAULTS_DIR / "flows" / "main.toml")
    alarms = []
    engine.observers.append(lambda name, data: alarms.append(data) if name == "line:alarm" else None)
    # Their key comes 4 s after the ring trip: once the modem's 2 s dial tone wait is over and the
    # box has the line and its audio.
    caller = SimCaller("13800138000", "ZHAO LEI", keys=[(4.0, "1")], patience=8.0)
    try:
        t0 = time.monotonic()
        engine.run(until=lambda: all(ln.state == LineState.IDLE for ln in modem.lines) or time.monotonic() - t0 > 10)
        engine.app.acd.cmd_login("1001")
        emus[0].arrive_on_dial(caller, caller_id_first=True)
        out_id = engine.app.transfers.cmd_dial("1001", "4008200000")["call_id"]
        t0 = time.monotonic()
        engine.run(until=lambda: (caller.ended is not None and not engine.app.calls
                                  and all(ln.state == LineState.IDLE for ln in modem.lines))
                   or time.monotonic() - t0 > 30)
        status = modem.status()["lines"]
    finally:
        engine.close()
        for emu in emus:
            emu.stop()
    # The number went out on line1 (where the caller was met), then on line2, where it was answered.
    assert emus[0].dialed == ["4008200000"] and emus[1].dialed == ["4008200000"]
    # No line was taken for dead.
    assert not alarms and [s["alarm"] for s in status] == [None, None]
    db = open_readonly(paths.db)
    rows = {r["direction"]: r for r in db["calls"].rows}
    assert set(rows) == {"inbound", "outbound"}
    inbound, outbound = rows["inbound"], rows["outbound"]
    # The caller has their own record on line1: caller ID, answered, the key they pressed for sales,
    # then, the only agent being on the call out, their hang-up in the queue.
    assert (inbound["channel"], inbound["number"], inbound["name"]) == ("line1", "13800138000", "ZHAO LEI")
    assert inbound["answered_at"] and inbound["digits"] == "1" and inbound["queue"] == "sales"
    assert (inbound["disposition"], inbound["hangup_by"]) == ("abandoned", "caller") and inbound["ended_at"]
    assert caller.answered is not None and caller.ended_by == "caller"
    # The agent's call went out on line2 and was answered there.
    assert outbound["id"] == out_id and (outbound["channel"], outbound["agent_id"]) == ("line2", "1001")
    assert outbound["connected_at"] and outbound["disposition"] == "answered"
    kinds = [e["kind"] for e in db["call_events"].rows_where("call_id = ?", [out_id], order_by="at, id")]
    assert "call:glare" in kinds and kinds.count("call:dial") == 2
