"""The web process's view of the engine over the control socket: live status, agent commands, line
tests, and the flow editor's checks and reloads."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from firmware.core.control import ControlClient, ControlError

# Every control command runs on the engine's real-time loop; a dozen wallboards polling each
# second share one status answer instead of each costing the loop a command.
STATUS_TTL = 0.5
# Seconds the web waits for the engine: long enough for a busy tick, short enough that a page
# still answers with "engine not reachable" before the user gives up.
CONTROL_TIMEOUT = 3.0

# The agent ids the web takes (link a user, send a command): site.toml's ids are short numbers or
# names, well inside the control socket's own limit (firmware/core/commands.py MAX_ID).
MAX_AGENT_ID = 32
# Every agent command the engine runs (firmware/core/commands.py), by the action name the web API uses.
AGENT_COMMANDS = {action: f"agent.{action}" for action in (
    "login", "logout", "ready", "not_ready", "hold", "resume", "transfer", "transfer_complete", "transfer_cancel",
    "conference", "dial", "hangup", "record", "pause_recording", "wrapup", "preview_dial", "preview_skip")}


class EngineUnavailable(Exception):
    """The control socket cannot be reached (engine stopped, starting, or restarting)."""


class CommandRefused(Exception):
    """The engine answered and refused the command; the message is the engine's."""


# A supervisor's actions on an agent (docs/requirements.md R6): the control command and its fixed
# arguments (firmware/callcenter/supervisors.py). Whisper and barge are the monitor command's modes.
SUPERVISOR_COMMANDS: dict[str, tuple[str, dict[str, str]]] = {
    "monitor": ("supervisor.monitor", {"mode": "monitor"}), "whisper": ("supervisor.monitor", {"mode": "whisper"}),
    "barge": ("supervisor.monitor", {"mode": "barge"}), "intercept": ("supervisor.intercept", {}),
    "stop": ("supervisor.stop", {}), "hangup": ("supervisor.hangup", {}),
    "force_ready": ("supervisor.force_ready", {}), "force_not_ready": ("supervisor.force_not_ready", {}),
    "force_logout": ("supervisor.force_logout", {})}


class Engine:
    """Cached `status` and agent commands; safe to share between server threads."""

    def __init__(self, control_path: str | Path, clock=time.monotonic):
        self.client = ControlClient(control_path, timeout=CONTROL_TIMEOUT)
        self.clock = clock
        self._lock = threading.Lock()
        self._status: dict = {}
        self._error: Exception | None = None
        self._fetched_at = float("-inf")

    def _call(self, cmd: str, **args) -> dict:
        try:
            return self.client.call(cmd, **args)
        except ControlError as exc:
            # ControlClient raises from the OSError when the socket itself fails; a refusal
            # from a running engine carries no cause.
            if isinstance(exc.__cause__, OSError):
                raise EngineUnavailable(str(exc)) from exc
            raise CommandRefused(str(exc)) from exc

    def status(self, fresh: bool = False) -> dict:
        """The engine's status, shared for STATUS_TTL; `fresh`: asked anew (a check before acting on it)."""
        with self._lock:
            if fresh or self.clock() - self._fetched_at > STATUS_TTL:
                # A failure is cached like an answer: with a hung engine, the pollers queued on
                # the lock then fail at once instead of each waiting out its own timeout.
                try:
                    self._status, self._error = self._call("status"), None
                except (EngineUnavailable, CommandRefused) as exc:
                    self._status, self._error = {}, exc
                self._fetched_at = self.clock()
            if self._error is not None:
                raise type(self._error)(str(self._error))
            return self._status

    def agent_command(self, agent: str, action: str, **args: object) -> dict:
        """Have the engine do `action` (a key of AGENT_COMMANDS) for `agent` with the action's `args`."""
        result = self._call(AGENT_COMMANDS[action], agent=agent, **args)
        self._forget_status()  # the next poll shows the agent's new state
        return result

    def supervisor_command(self, supervisor: str, action: str, agent: str | None = None,
                           reason: str | None = None, call: str | None = None) -> dict:
        """Have `supervisor` do `action` (a key of SUPERVISOR_COMMANDS) on `agent`; `stop` names no agent.
        `call`: the agent's call the page showed; the engine refuses the action once it is not theirs."""
        cmd, fixed = SUPERVISOR_COMMANDS[action]
        args: dict[str, str] = {"supervisor": supervisor, **fixed}
        if agent is not None:
            args["agent"] = agent
        if reason is not None:
            args["reason"] = reason
        if call is not None:
            args["call"] = call
        result = self._call(cmd, **args)
        self._forget_status()
        return result

    def dial(self, agent: str, number: str) -> dict:
        """Have `agent` call `number` out (the engine rings the agent's station, then dials)."""
        result = self._call("agent.dial", agent=agent, number=number)
        self._forget_status()
        return result

    def line_test(self, channel: int) -> dict:
        """Start a line test; the engine answers at once with the test's job record."""
        result = self._call("line.test", channel=channel)
        with self._lock:
            self._fetched_at = float("-inf")  # the next poll shows the line under test
        return result

    def command(self, cmd: str, **args) -> dict:
        """Any other control command (the load test's); the next status poll shows what it changed."""
        result = self._call(cmd, **args)
        with self._lock:
            self._fetched_at = float("-inf")
        return result

    def line_test_result(self, job: str) -> dict:
        return self._call("line.test_result", job=job)

    def validate_flow(self, text: str, name: str) -> dict:
        """The engine's check of a flow's text: {"valid", "problems", "graph", "running", "name"}."""
        return self._call("flow.validate", text=text, name=name)

    def flow_schema(self) -> dict:
        """Node type -> key -> {kind, doc, required, default, min, max, choices}."""
        return self._call("flow.schema")

    def reload_flow(self) -> dict:
        """Have the engine read its flow file again; CommandRefused if it is not valid."""
        result = self._call("flow.reload")
        self._forget_status()
        return result

    def reload_prompts(self) -> dict:
        return self._call("prompts.reload")

    def _forget_status(self) -> None:
        with self._lock:
            self._fetched_at = float("-inf")

    def validate_site(self, text: str) -> dict:
        """The engine's check of a site file not yet saved: {"valid", "errors": [{"field", "error"}], "restart"}."""
        return self._call("site.validate", text=text)

    def reload_site(self) -> dict:
        """Swap the saved site file into the running engine; CommandRefused says why not."""
        result = self._call("site.reload")
        self._forget_status()  # the next poll shows the new queues and agents
        return result

    def close(self) -> None:
        self.client.close()
