"""The sync benchmark runs end to end on a small box and prints its figures."""
import pytest

from firmware.tools import bench_sync


def test_bench_builds_the_box_it_claims_and_pulls_all_of_it():
    lines = []
    result = bench_sync.run(out=lines.append, records=4000, calls=False)
    assert result["records"] == result["pulled"] == 4000
    assert result["records_per_s"] > 0 and result["web_cpu_s"] > 0
    assert lines[0].startswith("HQ sync: one box holding 4,000 records")
    assert any("records per second" in ln for ln in lines)


@pytest.mark.slow
def test_bench_with_calls_running_reports_the_engine_ticks():
    lines = []
    result = bench_sync.run(out=lines.append, records=20_000, calls=True)
    assert result["ticks_after"]["count"] > result["ticks_before"]["count"]
    assert "overruns during the pull" in lines[-1]
