"""Site settings changed while the box runs: `site.validate` and `site.reload` read and check site.toml
off the loop (control-socket preparers), so the loop only ever swaps in a whole, valid set.

The check is the one a start makes (firmware/config/site.py `check_site`), plus what only the running
box knows: its board's stations, and that the flow the settings name sends callers only to queues
that exist. What a reload cannot change in a running box (`RESTART_KEYS`) is accepted and reported.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from drivers.channel import Board, ChannelKind

from firmware.callcenter.center import CallCenter
from firmware.callcenter.flows import Flow, FlowError, Problem, load_flow
from firmware.callcenter.surveys import load_surveys
from firmware.callcenter.schedules import schedule_problems
from firmware.callcenter.settings import SiteConfig
from firmware.config.site import check_site
from firmware.core.control import ControlError

from typed_toml import N_, ConfigError, Section, message, read_file, read_text

log = logging.getLogger(__name__)

# Settings the running engine was built on: the box's name at HQ seeds its record ids, and the prompt
# language picks the prompt set loaded at start (the tone plan is swapped in: CallCenter._retune).
RESTART_KEYS = ("box.id", "box.language")


class SiteReloader:
    """The preparers of `site.validate` and `site.reload` for one running box."""

    def __init__(self, path: Path, flows_dir: Path, center: CallCenter, board: Board):
        self.path, self.flows_dir, self.center, self.board = path, flows_dir, center, board

    def preparers(self) -> dict[str, Any]:
        return {"site.validate": self.prepare_validate, "site.reload": self.prepare_reload}

    def check(self, top: Section) -> tuple[SiteConfig, Flow | None, list[dict], list[str], dict[str, Flow]]:
        """(settings, the flow they name if it is not the running one, [{field, error}], keys that
        take a restart, the survey flows the queues name); the settings may be applied only when the
        errors are none."""
        stations = {c.name for c in self.board.by_kind(ChannelKind.STATION)}
        trunks = {c.name for c in self.board.by_kind(ChannelKind.TRUNK)}
        site, errors = check_site(top, stations, trunks)
        fields = [_field(exc) for exc in errors]
        flow = None
        surveys: dict[str, Flow] = {}
        if not fields:
            for i, q in enumerate(site.queues):
                if q.survey and q.survey not in surveys:
                    try:
                        surveys.update(load_surveys(self.flows_dir, {q.survey}, set(self.center.prompts.names())))
                    except FlowError as exc:
                        fields += [_flow_field(f"queue[{i}].survey", q.survey, p) for p in exc.problems]
            queues = {q.name for q in site.queues}
            # Another flow named: loaded and checked now. The same: the running one (which may have
            # been reloaded since, or given apart from the settings, as a scenario's is) must fit.
            other = site.flow != self.center.site.flow
            try:
                if other:
                    flow = load_flow(self.flows_dir / f"{site.flow}.toml", set(self.center.prompts.names()), queues)
                else:
                    _check_queues(self.center.flow, queues)
            except FlowError as exc:
                key = "box.flow" if other else "queue"
                fields += [_flow_field(key, site.flow, p) for p in exc.problems]
            fields += [_error(k, message(template, params)) for k, _, template, params
                       in queue_problems(site, flow or self.center.flow, set(self.center.prompts.names()))]
            fields += [_flow_field("schedule", site.flow, p)
                       for p in schedule_problems(flow or self.center.flow, set(site.schedules))]
        now = self.center.site
        was = {"box.id": now.box_id, "box.language": now.language}
        new = {"box.id": site.box_id, "box.language": site.language}
        restart = [k for k in RESTART_KEYS if was[k] != new[k]]
        return site, flow, fields, restart, surveys

    def prepare_validate(self, args: dict) -> dict:
        """`text`: a site file to check before it is saved; without it, the file on disk."""
        try:
            top = read_text(args["text"], str(self.path)) if "text" in args else read_file(self.path)
        except ConfigError as exc:
            return {"errors": [_field(exc)]}
        _, _, errors, restart, _ = self.check(top)
        return {"errors": errors, "restart": tuple(restart)}

    def prepare_reload(self, args: dict) -> dict:
        try:
            site, flow, errors, restart, surveys = self.check(read_file(self.path))
        except ConfigError as exc:
            errors, restart = [_field(exc)], []
        if errors:
            raise ControlError("site not reloaded, the running settings stay: "
                               + "; ".join(f"{e['field']}: {e['error']}" if e["field"] else e["error"]
                                           for e in errors))
        if restart:
            log.warning("site reloaded; %s change only at the next start", ", ".join(restart))
        return {"site": site, "flow": flow, "restart": tuple(restart), "surveys": surveys}


def queue_problems(site: SiteConfig, flow: Flow, prompts: set[str]) -> list[tuple[str, str, str, dict]]:
    """(key, reason, reason template, its params) for what the queues name in the flow and the prompt
    set: an overflow to a node the flow lacks, a prompt the box does not have."""
    out = []
    for i, q in enumerate(site.queues):
        for key in ("on_full", "on_timeout"):
            kind, _, name = getattr(q, key).partition(":")
            if kind == "node" and name not in flow.nodes:
                out.append(_problem(f"queue[{i}].{key}", N_("flow %(flow)s has no node %(node)s"),
                                    {"flow": flow.name, "node": repr(name)}))
        for key in ("overflow_prompts", "announce_prompts"):
            missing = [p for p in getattr(q, key) if p not in prompts]
            if missing:
                out.append(_problem(f"queue[{i}].{key}", N_("no prompt named %(prompt)s"),
                                    {"prompt": ", ".join(map(repr, missing))}))
    for i, g in enumerate(site.trunk_groups):
        kind, _, name = g.overflow.partition(":")
        if kind == "node" and name not in flow.nodes:
            out.append(_problem(f"trunk_group[{i}].overflow", N_("flow %(flow)s has no node %(node)s"),
                                {"flow": flow.name, "node": repr(name)}))
        missing = [p for p in g.overflow_prompts if p not in prompts]
        if missing:
            out.append(_problem(f"trunk_group[{i}].overflow_prompts", N_("no prompt named %(prompt)s"),
                                {"prompt": ", ".join(map(repr, missing))}))
    return out


def flow_problem(flow: str, problem: Problem) -> dict:
    """A flow's problem as a reason of the site settings: "flow <name>: node ...", as a message."""
    return message(N_("flow %(flow)s: %(problem)s"), {"flow": flow, "problem": problem.as_message()})


def _problem(key: str, template: str, params: dict) -> tuple[str, str, str, dict]:
    return key, message(template, params)["text"], template, params


def _error(key: str, reason: dict) -> dict:
    """One `{field, error}` of site.validate, with the reason's `template` and `params` for the web."""
    return {"field": key, "error": reason["text"], "template": reason["template"], "params": reason["params"]}


def _flow_field(key: str, flow: str, problem: Problem) -> dict:
    return _error(key, flow_problem(flow, problem))


def _field(exc: ConfigError) -> dict:
    return _error(exc.key, exc.reason_message())


def _check_queues(flow: Flow, queues: set[str]) -> None:
    """FlowError if the running flow sends callers to a queue the new settings no longer have."""
    problems = [Problem.of(node.name, "queue", N_("sends callers to queue %(queue)s, which the settings remove "
                                                  "(queues: %(queues)s); change the flow first"),
                           {"queue": repr(node.opts["queue"]), "queues": ", ".join(sorted(queues))})
                for node in flow.nodes.values() if node.opts.get("queue") and node.opts["queue"] not in queues]
    if problems:
        raise FlowError(flow.path, problems)
