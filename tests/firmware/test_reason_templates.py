"""The engine's reasons (typed_toml's, the site reader's, a flow's problems) carry an English
template and its params apart from the English text, for the web to translate; the English text
(`str(exc)`, `reason`, `message`) is the template filled with the params, so the CLI and logs read
as they always did."""
from __future__ import annotations

import pytest

from firmware.callcenter.flows import check_flow
from firmware.config.site import check_site
from firmware.config.site_reload import flow_problem

from typed_toml import ConfigError, fill, read_text

PROMPTS = {"welcome", "main-menu", "invalid", "no-input", "goodbye"}
BAD_FLOW = """\
[flow]
start = "welcome"
colour = "red"

[nodes.welcome]
type = "play"
prompts = ["welcome", "promo"]
next = "menu"
shout = true

[nodes.menu]
type = "menu"
prompts = ["main-menu"]
choices = { "1" = 5, "2" = "nowhere", "x" = "welcome" }
timeout = 0.5
retries = "three"
on_fail = "welcome"

[nodes.q]
type = "queue"
queue = "billing"

[nodes.c]
type = "collect"
prompts = ["welcome"]
var = "x"
min_digits = 5
max_digits = 2
next = "welcome"
on_fail = "welcome"

[nodes.odd]
type = "dance"
"""
BAD_SITE = """\
[box]
language = "fr"
answer_rings = 0

[[queue]]
name = "sales"
ring_timeout = 1.0
escalate = [[0, 12]]
on_full = "queue:nope"

[[queue]]
name = "sales"
max_waiting = "many"

[[agent]]
id = "1001"
station = "station9"
skills = { gold = 3 }

[[schedule]]
name = "office"
days = ["mon", "funday"]

[[schedule]]
name = "late"
open = "18:00"
close = "09:00"
"""


def test_every_problem_of_a_flow_has_a_template_that_gives_its_english():
    problems = check_flow(BAD_FLOW, "main.toml", PROMPTS, {"sales", "service"}).problems
    assert len(problems) >= 8
    for p in problems:
        assert p.template, p
        assert fill(p.template, p.params or {}) == p.message
        assert p.as_message()["text"] == str(p)
        assert flow_problem("main", p)["text"] == f"flow main: {p}"
        assert set(p.as_dict()) == {"node", "field", "message", "line", "template", "params"}
    nested = next(p for p in problems if p.message.startswith("'1': "))
    assert nested.template == "%(key)s: %(reason)s"
    assert nested.params["reason"] == {"text": "expected a string, got 5", "template": "expected a string, got %(value)s",
                                       "params": {"value": "5"}}


def test_every_error_of_the_site_reader_has_a_template_that_gives_its_english():
    _, errors = check_site(read_text(BAD_SITE, "site.toml"), {"station1"})
    assert len(errors) >= 5
    for exc in errors:
        assert exc.template, exc
        assert fill(exc.template, exc.params) == exc.reason
        assert str(exc) == f"site.toml: {exc.key}: {exc.reason}"
    ring = next(e for e in errors if e.key == "queue[0].ring_timeout")
    assert (ring.reason, ring.template, ring.params) == (
        "1.0 is below the minimum 3.0", "%(value)s is below the minimum %(min)s", {"value": "1.0", "min": "3.0"})


def test_a_whole_file_error_has_a_template_too_and_a_plain_reason_none():
    with pytest.raises(ConfigError) as err:
        read_text("[box\n", "site.toml")
    assert err.value.template == "%(file)s: not valid TOML: %(error)s"
    assert fill(err.value.template, err.value.params) == str(err.value) == err.value.reason
    plain = ConfigError("x: y: something", "y", "something")
    assert (plain.template, plain.params) == ("", {})
