"""The tickets benchmark runs end to end on a small box: every page it times answers (timings are not judged)."""
from firmware.tools import bench_tickets


def test_bench_times_every_ticket_page_on_the_box_it_builds():
    lines = []
    results = bench_tickets.run(out=lines.append, tickets=400, requests=4)
    assert len(results) == len(lines) - 1 == 11
    assert all(name in line for (name, _), line in zip(results, lines[1:]))
    assert all(p95 > 0 for _, p95 in results)
    assert lines[0].startswith("Tickets (`python -m webui.server`, 2,000 calls, 400 customers, 400 tickets")
