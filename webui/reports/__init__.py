"""Reports over a date range (docs/kpi.md): the registry of report families, their typed tables, and the
page, API and exports (JSON, CSV, Excel with native charts) in webui/reports/web.py."""
from __future__ import annotations

from ..i18n import N_
from . import agents, calls
from .registry import REPORTS, Report, register

# Supervisors and admins read every report; an agent reads the agents' report for themself.
MANAGERS = ("admin", "supervisor")

register(Report("calls", N_("Calls"), calls.report, MANAGERS))
register(Report("agents", N_("Agents"), agents.report, MANAGERS, agents_own=True))

__all__ = ["REPORTS", "MANAGERS", "Report", "register"]
