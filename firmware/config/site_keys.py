"""The choices and limits of site.toml's keys that both its reader (site.py) and the web's configuration
pages need; kept apart from the reader so the web process loads no numpy (docs/architecture.md §4)."""
from __future__ import annotations

from pathlib import Path

from typed_toml import N_

# How a queue picks among the ready agents who have its skill (docs/standards.md §20.1).
STRATEGIES = ("longest_idle", "round_robin", "ring_all", "fewest_calls", "least_talk", "skill_first")
RECORDING = ("all", "none", "on_demand")
# Skill levels 1 (learning) to 10 (expert); an agent listed by queue name alone gets DEFAULT_LEVEL.
MAX_LEVEL = 10
DEFAULT_LEVEL = 5
DIAL_CHARS = frozenset("0123456789*#")
# What a queue's announcement says (`announce`): the caller's place, the expected wait.
ANNOUNCE = ("position", "wait")
# Where an overflowing caller goes (`on_full`, `on_timeout`): "queue:<name>", "node:<name>" or "hangup".
OVERFLOW_KINDS = ("queue", "node")
HANGUP = "hangup"
# Where a call over its trunk group's cap goes (`[[trunk_group]] overflow`): "node:<name>" (a node of the
# running flow, such as voicemail), "hangup" after overflow_prompts, or "" (hung up at once: on an analog
# line the caller then hears their exchange's busy tone). Not another queue: that would hold the trunk.
GROUP_OVERFLOW_KINDS = ("node",)
# Trunks a group may be guaranteed or capped at: 8 E1 spans of 30 voice channels (ITU-T G.704), more
# than any board profile carries; the board's own count bounds them once it is known.
MAX_TRUNKS = 240
# The networks' call-progress tones (board/tones/<name>.toml; read by firmware/config/tone_plans.py).
PLAN_DIR = Path(__file__).resolve().parents[2] / "board" / "tones"
# How the branch's exchange sends caller ID (`[box] callerid`): the box decodes every scheme, but one
# sent after the first ring is only heard if that ring is let pass (firmware/callcenter/settings.py).
CALLER_ID_SCHEMES = ("bell202", "v23", "dtmf", "none")
LANGUAGES = ("en", "zh")
# The wallboard's colours (`[wallboard]`): key -> (default, min, max). A queue's longest wait in seconds
# turns amber at `longest_wait_warn` and red at `longest_wait_alarm`; its service level today (percent
# answered within the R15 target of 20 s) turns amber below `service_level_warn` and red below
# `service_level_alarm`. The defaults are the common 80/20 target's (docs/standards.md §20.3) with a
# margin; a wait of an hour is past any queue's maximum wait worth colouring.
WALLBOARD = {"longest_wait_warn": (30, 1, 3600), "longest_wait_alarm": (60, 1, 3600),
             "service_level_warn": (80, 0, 100), "service_level_alarm": (60, 0, 100)}
# The stock wrap-up codes an agent gives a call and the stock reasons for not ready (`[box] wrapup_codes`,
# `not_ready_reasons` replace them): English code words and reasons, one vocabulary for the records and
# HQ, shown translated where the catalogue has them (a site's own are shown as written). A code is a word
# of letters, digits, - and _ up to firmware/core/commands.py WRAPUP_CODE_MAX; a reason up to MAX_REASON.
STOCK_WRAPUP_CODES = {"resolved": N_("Resolved"), "information": N_("Information given"), "sale": N_("Sale"),
                      "complaint": N_("Complaint"), "follow-up": N_("Follow-up needed"),
                      "callback": N_("Callback promised"), "wrong-number": N_("Wrong number")}
STOCK_NOT_READY_REASONS = (N_("Break"), N_("Lunch"), N_("Meeting"), N_("Training"), N_("Coaching"),
                           N_("Back-office work"))
# An agent picks from the list by eye and by key: a few dozen at most.
MAX_LIST = 30
# A not-ready reason is a word or two; the engine takes up to 64 (firmware/core/commands.py MAX_REASON),
# the pages and the API up to this.
REASON_MAX = 40
# The service level's definition (`[reports]`, docs/kpi.md): key -> (default, min, max). The defaults
# are the engine's (firmware/callcenter/settings.py, tests/firmware/test_site_reports.py keeps them
# equal): R15's 20 s, and 5 s, the common short-abandon threshold. A target beyond 10 minutes is no
# service level; a caller who waited a minute did not dial wrongly.
REPORTS = {"service_level_s": (20, 1, 600), "short_abandon_s": (5, 0, 60)}
# Disconnect supervision (firmware/callcenter/far_end.py). Tone: whole busy/congestion periods heard on
# an answered call before it ends; Asterisk's busydetect waits for `busycount` tones (3 in the usual
# analog-line settings) and a longer count trades a later clear for fewer false ones, hence up to 10.
MAX_HANGUP_TONE_CYCLES = 10
# Silence: a caller thinking or listening to a long prompt is silent for tens of seconds, so the least
# is well above ITU-T P.56's pauses between words (well under a second); an hour bounds a forgotten line.
MIN_HANGUP_SILENCE_S = 30.0
MAX_HANGUP_SILENCE_S = 3600.0


def plan_names() -> list[str]:
    """The tone plans under board/tones, by name, sorted."""
    return sorted(p.stem for p in PLAN_DIR.glob("*.toml"))
# `[outbound]` (firmware/callcenter/dialer.py): trunks kept for incoming calls and calls all campaigns
# may have at once. The channel numbering bounds both (firmware/core/commands.py MAX_CHANNEL: a 4-span
# E1 card is 120 timeslots); 1 reserved trunk is the default so a campaign never takes a small box's last.
MAX_OUTBOUND_LINES = 1023
