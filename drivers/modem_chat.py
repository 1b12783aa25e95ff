"""AT command scripts: generators that yield commands and receive the modem's answers, stepped by the tick."""
# A chat never blocks the loop: a script yields a command (or a wait) and is resumed with the answer
# once it arrives or its time is up. Serial timeouts are real time: a modem answers on the wall clock
# whatever the pace of the tick clock.

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from . import v253
from .modem_reader import Stream
from .v253 import LineKind

COMMAND_TIMEOUT_S = 2.0
# mgetty default.h command_delay: 100 ms between a result and the next command.
COMMAND_DELAY_S = 0.1


class ChatFailed(Exception):
    """A command script met an answer it cannot go on from."""


@dataclass
class Cmd:
    """One command of a script: an AT command line, or raw bytes (a <DLE> sequence)."""
    text: str | bytes
    timeout: float | None = None     # None: COMMAND_TIMEOUT_S
    stream: Stream | None = None     # CONNECT starts this stream
    stops: bool = False              # ends the current stream first

    @property
    def seconds(self) -> float:
        return COMMAND_TIMEOUT_S if self.timeout is None else self.timeout

    @property
    def label(self) -> str:
        if isinstance(self.text, str):
            return self.text
        return "".join("<DLE>" if b == v253.DLE else "<ETX>" if b == v253.ETX else "<CAN>" if b == v253.CAN
                       else chr(b) for b in self.text)

    @property
    def data(self) -> bytes:
        """The bytes sent: a command line ends with CR (V.250 S3)."""
        return self.text.encode("ascii") + b"\r" if isinstance(self.text, str) else self.text


@dataclass
class Wait:
    seconds: float


# What a script is resumed with: the final result (None: no answer in time) and the lines before it.
Answer = tuple[LineKind | None, list[str]]
Script = Generator[Cmd | Wait, Answer, None]


def require(answer: Answer, cmd: Cmd, *ok: LineKind) -> None:
    """ChatFailed unless `answer` to `cmd` is one of `ok` (default OK)."""
    kind = answer[0]
    if kind is None:
        raise ChatFailed(f"no OK after {cmd.label} in {cmd.seconds:.1f} s")
    if kind not in (ok or (LineKind.OK,)):
        raise ChatFailed(f"{cmd.label} answered {kind.value.upper()}")


@dataclass
class _Step:
    cmd: Cmd
    send_at: float
    deadline: float | None = None          # set when sent
    info: list[str] = field(default_factory=list)


class Chat:
    """Runs one command script at a time for one modem: sends each command when due (COMMAND_DELAY_S
    after the last result), resumes the script with its answer or with None once its time is up, and
    lets a requested script take over from the running one between commands."""

    def __init__(self, clock: Callable[[], float], send: Callable[[Cmd], None],
                 connected: Callable[[Stream], None], failed: Callable[[str], None]):
        """`send` writes a command; `connected` is told the stream a CONNECT started; `failed` gets the
        reason a script gave up (the line resets the modem)."""
        self._clock, self._send, self._connected, self._failed = clock, send, connected, failed
        self._script: Script | None = None
        self.name = ""
        self._step: _Step | None = None
        self._wait_until: float | None = None
        self._preempt: tuple[Callable[[], Script], str] | None = None
        self._last_result = 0.0

    @property
    def running(self) -> bool:
        return self._script is not None

    @property
    def waiting(self) -> bool:
        """A command was sent and its final result has not come."""
        return self._step is not None and self._step.deadline is not None

    def run(self, factory: Callable[[], Script], name: str) -> None:
        self._script, self.name = factory(), name
        self._resume(None)

    def request(self, factory: Callable[[], Script], name: str) -> None:
        """Start a script now, or in place of the running one once its command is answered."""
        if self._script is None:
            self.run(factory, name)
        elif self._step is None or self._step.deadline is None:
            # Between commands (a Wait or a command not sent yet): the new script takes over now.
            self._script.close()
            self.run(factory, name)
        else:
            self._preempt = (factory, name)

    def stop(self) -> None:
        """Forget the script, its command and any request (the port closed, the modem is reset)."""
        self._script, self._step, self._wait_until, self._preempt = None, None, None, None

    def text(self, line: str) -> None:
        """An information line while a command is answered (the echo before ATE0 is not one)."""
        if self._step is not None and line != self._step.cmd.label:
            self._step.info.append(line)

    def answer(self, kind: LineKind | None) -> None:
        """The final result of the command sent (None: none came in time)."""
        step = self._step
        if step is None:
            return
        self._last_result = self._clock()
        if kind == LineKind.CONNECT and step.cmd.stream is not None:
            self._connected(step.cmd.stream)
        self._resume((kind, step.info))

    def send_due(self) -> None:
        step = self._step
        if step is None or step.deadline is not None or self._clock() < step.send_at:
            return
        self._send(step.cmd)
        step.deadline = self._clock() + step.cmd.seconds

    def overdue(self) -> Cmd | None:
        """The command sent whose time is up, if one is (the caller reports it and answers None)."""
        step = self._step
        if step is not None and step.deadline is not None and self._clock() >= step.deadline:
            return step.cmd
        return None

    def wake(self) -> None:
        """A wait that has ended resumes its script."""
        if self._wait_until is not None and self._clock() >= self._wait_until:
            self._resume(None)

    def _resume(self, value: Answer | None) -> None:
        self._step, self._wait_until = None, None
        if self._preempt is not None:
            factory, name = self._preempt
            self._preempt = None
            if self._script is not None:
                self._script.close()
            self.run(factory, name)
            return
        if self._script is None:
            return
        try:
            # A script starts, and goes on after a Wait, with nothing to receive.
            item = self._script.send(value) if value is not None else next(self._script)
        except StopIteration:
            self._script = None
            return
        except ChatFailed as exc:
            self._script = None
            self._failed(str(exc))
            return
        now = self._clock()
        if isinstance(item, Wait):
            self._wait_until = now + item.seconds
            return
        delay = COMMAND_DELAY_S if isinstance(item.text, str) else 0.0
        self._step = _Step(item, max(now, self._last_result + delay))
