"""Whole-number settings of one site.toml table as the web uses them: the wallboard's colours and the
service level's definition ([reports]); each key's default where the file has none."""
from __future__ import annotations

from firmware.config.site_keys import REPORTS

from .site_file import SiteFile, SiteFileError

# key -> (default, min, max), as firmware/config/site_keys.py gives them.
Spec = dict[str, tuple[int, int, int]]


def table_values(site: SiteFile, table: str, spec: Spec) -> dict[str, int]:
    """The engine checked the file when it was saved (firmware/config/site.py); a file it cannot read, or
    a value edited by hand out of range, leaves that key's default so every page still shows."""
    values = {key: default for key, (default, _lo, _hi) in spec.items()}
    try:
        data, _version = site.read()
    except SiteFileError:
        return values
    found = data.get(table)
    if isinstance(found, dict):
        for key, (_default, lo, hi) in spec.items():
            value = found.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:
                values[key] = value
    return values


def service_level(site: SiteFile) -> dict[str, int]:
    """`service_level_s` (the target) and `short_abandon_s` of [reports] (docs/kpi.md): what the engine's
    live figures count by, and the reports, the wallboard and staffing default to."""
    values = table_values(site, "reports", REPORTS)
    if values["short_abandon_s"] >= values["service_level_s"]:      # as the engine's reader refuses it
        values = {key: default for key, (default, _lo, _hi) in REPORTS.items()}
    return values
