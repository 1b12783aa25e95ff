"""The E1 bench runs end to end: a row per load and channel count, with the channels busy in that load."""
from firmware.tools import bench_e1


def test_bench_e1_prints_a_row_per_load_and_channel_count():
    lines = []
    rows = bench_e1.run(out=lines.append, seconds=0.6)
    assert [(r["load"], r["channels"]) for r in rows] == [("signalling", 30), ("signalling", 120),
                                                         ("conversation", 30), ("conversation", 120)]
    # Conversation: every channel answered; signalling: channels in register signalling (the rest
    # between two calls).
    assert all(r["busy"] == r["channels"] for r in rows if r["load"] == "conversation")
    assert all(r["busy"] > 0.5 * r["channels"] for r in rows if r["load"] == "signalling")
    assert all(r["tick_ms"] > 0 for r in rows) and len(lines) == 2 + len(rows) + 1
