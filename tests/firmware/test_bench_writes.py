"""`make bench`'s SD-card figures (firmware/tools/bench_writes.py): the database's writes are replayed in
the batches the writer makes in real time, and the recordings' bytes are what 8 kHz 16-bit stereo takes."""
from firmware.store.writer import BATCH_OPS
from firmware.tools.bench_writes import batches, replay, report, run_day


def test_batches_are_the_writers_real_time_windows():
    ops = [(0.0, "a"), (0.1, "b"), (0.24, "c"), (0.25, "d"), (3.0, "e"), (3.2, "f")]
    # From the first operation waiting, everything within the window: then the next batch starts.
    assert batches(ops, 0.25) == [["a", "b", "c"], ["d"], ["e", "f"]]
    assert batches(ops, 1.0) == [["a", "b", "c", "d"], ["e", "f"]]
    many = [(0.0, i) for i in range(BATCH_OPS + 1)]
    assert [len(b) for b in batches(many, 0.25)] == [BATCH_OPS, 1]


def test_a_short_stretch_of_the_day_is_measured_and_reported(tmp_path):
    day = run_day(tmp_path, hours=0.01)
    assert day.calls > 0 and day.recordings > 0 and day.ops
    # 8,000 frames a second of two 16-bit channels (docs/architecture.md §6), a 44-byte header each.
    assert abs(day.audio_bytes - 44 * day.recordings - 32_000 * day.recorded_s) < 0.01 * day.audio_bytes
    now, longer = replay(day, tmp_path, 0.25), replay(day, tmp_path, 5.0)
    assert now.commits > longer.commits > 0 and now.io.wchar > longer.io.wchar > 0
    lines = []
    figures = report(day, [now, longer], out=lines.append)
    assert figures["per_day_bytes"] > figures["audio_per_day_bytes"] > figures["db_per_day_bytes"] > 0
    assert any(line.startswith("database (WAL, checkpoints)") for line in lines)
