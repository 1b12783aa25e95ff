"""The post-call surveys: flow files beside the main flow whose survey nodes ask the questions and store
the answers on the call (survey_answers); a queue's `survey` or an agent's transfer sends a caller there."""
from __future__ import annotations

from pathlib import Path

from firmware.callcenter.flows import Flow, load_flow


def load_surveys(flows_dir: Path, names: set[str], prompts: set[str]) -> dict[str, Flow]:
    """Every survey flow in `names`, read from `<flows_dir>/<name>.toml` and checked (FlowError for the
    first that is missing or wrong). A survey sends nobody to a queue: it ends the call."""
    return {name: load_flow(flows_dir / f"{name}.toml", prompts, set()) for name in sorted(names)}
