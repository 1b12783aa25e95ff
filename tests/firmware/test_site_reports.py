"""site.toml `[reports]`: one service-level target and short-abandon threshold for the engine's live figures,
the wallboard, the reports and staffing (docs/kpi.md), checked by the engine's reader."""
from __future__ import annotations

import pytest

from firmware.callcenter import settings
from firmware.config.site import DEFAULTS_DIR, read_site
from firmware.config.site_keys import REPORTS
from typed_toml import ConfigError

STOCK = (DEFAULTS_DIR / "site.toml").read_text()


def site_with(tmp_path, reports: str):
    path = tmp_path / "site.toml"
    path.write_text(STOCK + "\n[reports]\n" + reports)
    return read_site(path)


def test_the_defaults_are_r15s_20_s_and_a_5_s_short_abandon_where_the_file_says_nothing(tmp_path):
    site = read_site(DEFAULTS_DIR / "site.toml")
    assert (site.service_level_s, site.short_abandon_s) == (20, 5)
    # The web reads the same defaults from the keys' table (it may not import the call center).
    assert {k: v[0] for k, v in REPORTS.items()} == {"service_level_s": settings.SERVICE_LEVEL_S,
                                                     "short_abandon_s": settings.SHORT_ABANDON_S}


def test_a_site_sets_its_own_target_and_threshold(tmp_path):
    site = site_with(tmp_path, "service_level_s = 30\nshort_abandon_s = 0\n")
    assert (site.service_level_s, site.short_abandon_s) == (30, 0)


@pytest.mark.parametrize("reports, key", [
    ("service_level_s = 0\n", "service_level_s"),              # no target
    ("service_level_s = 601\n", "service_level_s"),
    ("short_abandon_s = 61\n", "short_abandon_s"),
    ("service_level_s = 10\nshort_abandon_s = 10\n", "short_abandon_s"),   # not less than the target
    ("service_level = 20\n", "service_level"),                 # unknown key
])
def test_a_bad_value_is_refused_naming_its_key(tmp_path, reports, key):
    with pytest.raises(ConfigError) as refused:
        site_with(tmp_path, reports)
    assert key in str(refused.value)
