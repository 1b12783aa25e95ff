"""A live box for the flow editor's tests: the engine in real time on the simulated board running
`<state>/config/flows/main.toml` (the stock flow, which the web edits), with callers arriving every
3 s who press 3 during the welcome prompt; until the menu offers 3 they are told it is invalid."""
from __future__ import annotations

from firmware.config.site import DEFAULTS_DIR
from scenario_builder import caller, run_section, scenario

STOCK = (DEFAULTS_DIR / "flows" / "main.toml").read_text()
# What the admin changes: 3 also reaches the service queue.
MENU_BEFORE = '"2" = "service" }'
MENU_AFTER = '"2" = "service", "3" = "service" }'
CALLERS_EVERY_S = 3.0
SCENARIO = scenario(
    run_section(3600, flow="state/config/flows/main.toml", trunks=12),
    # Nobody answers service: a caller who reaches it waits, then hangs up, freeing the line.
    *[caller(1.0 + CALLERS_EVERY_S * k, f"1380013{k:04d}", keys=[[2.0, "3"]], patience=12.0, talk=1.0)
      for k in range(200)],
)


def start(live_box, tmp_path):
    """(ScenarioRun, state dir) of the box running the stock flow from its state directory."""
    flows = tmp_path / "state" / "config" / "flows"
    flows.mkdir(parents=True)
    (flows / "main.toml").write_text(STOCK)
    return live_box(SCENARIO)


def reached_service_by_3(status: dict) -> list[dict]:
    """The calls in the engine's status that chose service with 3."""
    return [c for c in status["calls"] if c["queue"] == "service" and "3" in (c["digits"] or "")]
