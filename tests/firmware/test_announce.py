"""Position and expected-wait announcements: said in words, and honest on a steady queue."""
import json
import statistics

from firmware.callcenter.center import CallCenter

STEADY = """
[run]
seconds = 3000
seed = 4
[[queues]]
name = "sales"
wrapup = 5.0
announce_every = 30.0
max_wait = 3600.0
[[queues]]
name = "service"
{agents}
[[traffic]]
per_hour = 150
keys = ["1"]
key_delay = 1.0
patience = 80000.0
talk = [40.0, 80.0]
"""


def agents(n):
    return "".join(f'[[agents]]\nid = "{i}"\nskills = {{ sales = 5 }}\nanswer_after = 2.0\ntalk = 1000.0\n'
                   for i in range(n))


def test_estimated_wait_is_honest_within_30_percent_on_a_steady_queue(run_inline):
    ran = run_inline(STEADY.format(agents=agents(3)))
    rows = {r["id"]: r for r in ran.db["calls"].rows}
    estimates, actual = [], []
    for e in ran.db["call_events"].rows_where("kind = 'queue:announce'"):
        call = rows[e["call_id"]]
        if call["connected_at"] is None or e["at"] < ran.report["calls"][0]["arrival"] + 600:
            continue   # skip the first ten minutes while the handle-time average learns
        estimates.append(json.loads(e["data"])["estimated_wait"])
        actual.append(call["connected_at"] - e["at"])
    assert len(actual) >= 100
    # The estimator (callers ahead / staffed agents x average handle time) is unbiased to within
    # 30 % over the run, and a typical single announcement is within 30 % of what happened.
    assert abs(sum(estimates) / sum(actual) - 1.0) <= 0.30
    errors = [abs(e - a) / a for e, a in zip(estimates, actual) if a >= 60.0]
    assert statistics.median(errors) <= 0.30


def test_announcement_words(run_inline, mocker):
    played = mocker.spy(CallCenter, "play")
    scenario = STEADY.format(agents="").replace("[[traffic]]\nper_hour = 150", "[[traffic]]\nper_hour = 0")
    scenario = scenario.replace("seconds = 3000", "seconds = 120")   # the one caller gives up at 101 s
    scenario += '[[callers]]\nat = 1.0\nnumber = "1"\nkeys = [[1.0, "1"]]\npatience = 100.0\n'
    run_inline(scenario)
    words = [c.args[2] for c in played.call_args_list if c.args[2] and c.args[2][0] == "you-are-caller"]
    # Alone in the queue with nobody staffed yet: caller number one; half the starting handle
    # time (120 s) for the first agent to free up: "about one minute".
    assert words[0] == ["you-are-caller", "n-1", "wait-about", "n-1", "minute"]
