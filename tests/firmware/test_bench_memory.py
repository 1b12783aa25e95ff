"""The memory benchmark measures the processes it claims: the web process over page views, the engine busy."""
from firmware.tools import bench_memory


def test_web_figures_come_from_a_signed_in_session_over_demo_records():
    figures = bench_memory.web_rss(views=20, demo_s=120.0)
    assert figures["calls"] > 0 and figures["views"] == 20
    assert 0 < figures["start_mb"] and 0 < figures["signed_in_mb"] and 0 < figures["end_mb"]


def test_engine_figure_is_taken_with_every_line_in_a_call():
    figures = bench_memory.engine_rss(lines=4, seconds=2.0)
    assert figures["lines"] == figures["busy"] == 4 and figures["rss_mb"] > 0
