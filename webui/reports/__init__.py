"""Reports over a date range (docs/kpi.md): the registry of report families, their typed tables, and the
page, API and exports (JSON, CSV, Excel with native charts) in webui/reports/web.py."""
from __future__ import annotations

from ..i18n import N_
from .registry import REPORTS, Report, register

# Supervisors and admins read every report; an agent reads the agents' report for themself.
MANAGERS = ("admin", "supervisor")

register(Report("calls", N_("Calls"), "calls:report", MANAGERS))
register(Report("ivr", N_("IVR"), "ivr:report", MANAGERS))
register(Report("agents", N_("Agents"), "agents:report", MANAGERS, agents_own=True))
register(Report("tickets", N_("Tickets"), "tickets:report", MANAGERS))
register(Report("complaints", N_("Complaints"), "complaints:report", MANAGERS))
register(Report("campaigns", N_("Campaigns"), "campaigns:report", MANAGERS))
register(Report("call_details", N_("Calls in detail"), "details:call_details", MANAGERS, paged=True))
register(Report("ticket_details", N_("Tickets in detail"), "details:ticket_details", MANAGERS, paged=True))

__all__ = ["REPORTS", "MANAGERS", "Report", "register"]
