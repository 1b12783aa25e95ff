"""Settings of site.toml as the web uses them: the wallboard's colours, the service level's definition
([reports]), the wrap-up codes and not-ready reasons; each key's default where the file has none."""
from __future__ import annotations

from firmware.config.site_keys import REPORTS, STOCK_NOT_READY_REASONS, STOCK_WRAPUP_CODES

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


def _words(value: object) -> tuple[str, ...] | None:
    return tuple(value) if isinstance(value, list) and value and all(isinstance(v, str) for v in value) else None


def console_lists(site: SiteFile) -> tuple[dict[str, str], dict[str, list[str]], tuple[str, ...]]:
    """([box] wrapup_codes as code -> English label, each queue's own codes, [box] not_ready_reasons), as
    the engine's reader takes them (firmware/config/site.py read_codes, read_reasons); the stock lists
    where the file names none. A stock code's label is the catalogue's; a site's own code shows as written."""
    box: object = {}
    queues: object = []
    try:
        data, _version = site.read()
        box, queues = data.get("box", {}), data.get("queue", [])
    except SiteFileError:
        pass
    box = box if isinstance(box, dict) else {}
    codes = _words(box.get("wrapup_codes")) or tuple(STOCK_WRAPUP_CODES)
    own = {q["name"]: list(c) for q in (queues if isinstance(queues, list) else [])
           if isinstance(q, dict) and isinstance(q.get("name"), str) and (c := _words(q.get("wrapup_codes")))}
    reasons = _words(box.get("not_ready_reasons")) or STOCK_NOT_READY_REASONS
    return {code: STOCK_WRAPUP_CODES.get(code, code) for code in codes}, own, reasons
