"""Recordings: stereo WAV written off the loop thread, playable to the last second after a crash."""
import hashlib
import wave

import numpy as np

from firmware.core.recorder import Recorder, repair, wav_header


def test_stereo_file_with_caller_left_and_agent_right(tmp_path):
    rec = Recorder(tmp_path)
    rec.start()
    rec.open("r1", "a/r1.wav")
    caller = np.full(160, 1000, np.int16)
    agent = np.full(160, -2000, np.int16)
    for _ in range(50):
        rec.frames(("r1",), np.stack([caller, agent])[None])
    rec.close("r1")
    rec.stop()
    fin = rec.finished()[0]
    with wave.open(str(tmp_path / "a/r1.wav")) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (2, 8000, 50 * 160)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    assert (frames[:, 0] == 1000).all() and (frames[:, 1] == -2000).all()
    assert fin.duration == 1.0
    assert fin.sha256 == hashlib.sha256((tmp_path / "a/r1.wav").read_bytes()).hexdigest()


def test_repair_keeps_whole_frames_after_a_crash(tmp_path):
    path = tmp_path / "crash.wav"
    # As a crash leaves it: header still says 0 bytes, 1.5 s of audio and half a frame written.
    path.write_bytes(wav_header(0) + b"\x01\x00\x02\x00" * 12000 + b"\x01\x00")
    assert repair(path)
    with wave.open(str(path)) as w:
        assert w.getnframes() == 12000 and w.getnchannels() == 2
    assert not repair(path)


def test_repair_restores_a_header_a_power_cut_left_as_zeros(tmp_path):
    # The file's audio reached the card and its header, written first but not yet synced, did not: a
    # card writing back out of order leaves those bytes as zeros. Only the recorder writes here, so
    # the header is ours to write again, and the audio before the cut plays.
    path = tmp_path / "cut.wav"
    path.write_bytes(bytes(44) + b"\x01\x00\x02\x00" * 8000)
    assert repair(path)
    with wave.open(str(path)) as w:
        assert w.getnframes() == 8000 and w.getnchannels() == 2
        assert w.readframes(1) == b"\x01\x00\x02\x00"
    mono = tmp_path / "message.wav"
    mono.write_bytes(bytes(44) + b"\x01\x00" * 8000)
    assert repair(mono, channels=1)
    with wave.open(str(mono)) as w:
        assert w.getnframes() == 8000 and w.getnchannels() == 1


def test_repair_ignores_files_that_are_not_wav(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"not a wav file at all, but long enough to have a header" * 2)
    assert not repair(path)


def test_header_synced_while_recording(tmp_path):
    import time
    rec = Recorder(tmp_path)
    rec.start()
    rec.open("r", "r.wav")
    rec.frames(("r",), np.zeros((1, 2, 160), np.int16))
    time.sleep(1.5)   # one sync period: the header now covers what was written
    with wave.open(str(tmp_path / "r.wav")) as w:
        assert w.getnframes() == 160
    rec.stop()


def test_a_garbled_channel_count_does_not_stop_the_start(tmp_path):
    # "RIFF" and nothing else of the header: a channel count of 0 divided by zero in the start-up
    # repair, and the box did not start. Such a file is not one the recorder wrote whole: left as it
    # is (recovery logs it and files no row).
    path = tmp_path / "2026" / "cut.wav"
    path.parent.mkdir()
    data = b"RIFF" + bytes(40) + b"\x01\x00\x02\x00" * 800
    path.write_bytes(data)
    assert Recorder(tmp_path).repair_all([path]) == []
    assert path.read_bytes() == data
