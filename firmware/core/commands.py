"""The control commands and their arguments: one table, checked on the socket's thread before a
command is queued for the loop, so no value the records cannot hold ever reaches a call or a writer.

The table checks what every value of an argument must be (its type, length or range, printable
text); what a value means (does agent 1001 exist, is line 3 on this box, may this agent dial now)
is the command's own check on the loop.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

# Ids and names come from site.toml (agents, supervisors, queues); 64 characters is far beyond any
# of them and bounds what a command can carry into a record or a queue_log line.
MAX_ID = 64
# A not-ready reason is a word or two ("lunch", "training").
MAX_REASON = 64
# A transfer or conference target: "agent:<id>", "queue:<name>" or a number.
MAX_TARGET = len("agent:") + MAX_ID
# Channels are numbered from 0; a box has tens of lines (a 4-span E1 card carries 120 voice
# timeslots), so this bounds the number without naming a board; the box's own count is the engine's.
MAX_CHANNEL = 1023
# Numbers the box dials: ITU-T E.164 caps a number at 15 digits; 5 more leave room for an access or
# international prefix (9, 00) and a PBX's * and # codes. Site configuration checks numbers against it.
MAX_DIAL = 20
# A wrap-up code is one word the agent picks ("sale", "complaint-2"); the agent commands check it too.
WRAPUP_CODE_MAX = 40
# A flow's text for checking (flow.validate). The request is one line of at most MAX_LINE (64 kB)
# bytes and clients escape JSON as ASCII, up to 6 bytes a character of the BMP (\u4e2d): 10,000 such
# characters fit. The stock flow is 600; a 40-node IVR with comments is about 6,000.
MAX_FLOW_TEXT = 10_000
# A flow's name is its file name under config/flows/ (a node name's characters).
MAX_FLOW_NAME = 64
_NOT_IN_DOCUMENT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# A load test's key choices: ten choices of a few keys each, separated by spaces.
MAX_LOADTEST_KEYS = 64
# A phone number as a person types it (firmware/store/phones.py MAX_TYPED) and a text's characters
# (firmware/callcenter/sms.py MAX_TEXT).
MAX_TYPED_NUMBER = 32
MAX_SMS_TEXT = 670
# A refused value is shown this far, so a refusal never echoes a whole line back.
SHOWN_CHARS = 40
# A site.toml sent to be checked: the control socket's lines are 64 KiB (control.py MAX_LINE), which
# holds 20,000 characters even all in Chinese (3 bytes each in UTF-8); a site of 100 agents is 8,000.
MAX_SITE_TEXT = 20_000


class CommandError(Exception):
    """A command, or one of its arguments, refused before it reaches the loop."""


@dataclass(frozen=True)
class Text:
    """A string of lo-hi printable characters: no control characters (a newline would split a
    journal line) and no lone surrogates (JSON's "\\ud800" decodes to one; UTF-8 cannot encode it).
    `lines`: a document (a flow's text), where line breaks and tabs are text too."""
    lo: int
    hi: int
    required: bool = True
    lines: bool = False

    @property
    def rule(self) -> str:
        what = "characters (no control characters but line breaks and tabs)" if self.lines \
            else "printable characters"
        return f"a string of {self.lo}-{self.hi} {what}"

    def accepts(self, value) -> bool:
        if not isinstance(value, str) or not self.lo <= len(value) <= self.hi:
            return False
        if self.lines:
            # Any character but C0 controls other than tab and line breaks, DEL and lone surrogates:
            # a Chinese comment's ideographic space (U+3000) is text, though not "printable".
            return _NOT_IN_DOCUMENT.search(value) is None
        return value.isprintable()


@dataclass(frozen=True)
class Integer:
    lo: int
    hi: int
    required: bool = True

    @property
    def rule(self) -> str:
        return f"an integer from {self.lo} to {self.hi}"

    def accepts(self, value) -> bool:
        # JSON true/false arrive as bool, which Python counts as an int.
        return isinstance(value, int) and not isinstance(value, bool) and self.lo <= value <= self.hi


@dataclass(frozen=True)
class Number:
    lo: float
    hi: float
    required: bool = True

    @property
    def rule(self) -> str:
        return f"a number from {self.lo:g} to {self.hi:g}"

    def accepts(self, value) -> bool:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value) and self.lo <= value <= self.hi)


@dataclass(frozen=True)
class Flag:
    required: bool = True
    rule = "true or false"

    def accepts(self, value) -> bool:
        return isinstance(value, bool)


@dataclass(frozen=True)
class Document:
    """A text file's contents: up to `hi` characters, lines and tabs allowed, no other control
    characters and no lone surrogates."""
    hi: int
    required: bool = True

    @property
    def rule(self) -> str:
        return f"a text of at most {self.hi} printable characters, newlines and tabs"

    def accepts(self, value) -> bool:
        return (isinstance(value, str) and len(value) <= self.hi
                and value.replace("\n", "").replace("\t", "").replace("\r", "").isprintable())


def optional(kind):
    return replace(kind, required=False)


ID = Text(1, MAX_ID)
AGENT = {"agent": ID}
# A command on the agent's call may name the call it means; the loop refuses it if that call is not the
# agent's now (firmware/callcenter/center.py ON_CALL).
ON_CALL = {**AGENT, "call": optional(ID)}
SUPERVISED = {"supervisor": ID, "agent": ID}
# A supervisor's action on the agent's call names the call the wallboard showed, checked as ON_CALL is.
SUPERVISED_CALL = {**SUPERVISED, "call": optional(ID)}

# Every command the control socket accepts, with its arguments; the engine runs each by the same name.
COMMANDS: dict[str, dict] = {
    "status": {},
    # Turns the connection into the stream of the loop's live events (firmware/core/events.py).
    "events.subscribe": {},
    "flow.reload": {},
    "flow.validate": {"text": Text(0, MAX_FLOW_TEXT, lines=True), "name": optional(Text(1, MAX_FLOW_NAME))},
    "flow.schema": {},
    "prompts.reload": {},
    "site.reload": {},
    # A site file to check before the web saves it: a 64 KiB control line holds it (MAX_SITE_TEXT).
    "site.validate": {"text": optional(Document(MAX_SITE_TEXT))},
    "agent.login": AGENT,
    "agent.logout": AGENT,
    "agent.ready": AGENT,
    "agent.not_ready": {**AGENT, "reason": optional(Text(1, MAX_REASON))},
    "agent.hangup": ON_CALL,
    "agent.hold": ON_CALL,
    "agent.resume": ON_CALL,
    "agent.transfer": {**ON_CALL, "to": Text(1, MAX_TARGET), "blind": optional(Flag())},
    "agent.transfer_complete": ON_CALL,
    "agent.transfer_cancel": ON_CALL,
    "agent.conference": {**ON_CALL, "to": Text(1, MAX_TARGET)},
    "agent.dial": {**AGENT, "number": Text(1, MAX_DIAL)},
    "agent.wrapup": {**ON_CALL, "code": Text(1, WRAPUP_CODE_MAX)},
    "agent.record": ON_CALL,
    "agent.pause_recording": {**ON_CALL, "paused": optional(Flag())},
    "supervisor.monitor": {**SUPERVISED_CALL, "mode": optional(Text(1, len("whisper")))},
    "supervisor.stop": {"supervisor": ID},
    "supervisor.intercept": SUPERVISED_CALL,
    "supervisor.hangup": SUPERVISED_CALL,
    "supervisor.force_ready": SUPERVISED,
    "supervisor.force_not_ready": {**SUPERVISED, "reason": optional(Text(1, MAX_REASON))},
    "supervisor.force_logout": SUPERVISED,
    # A technician's line test listens 0.5-60 s (engine.LINE_TEST_S by default).
    "line.test": {"channel": Integer(0, MAX_CHANNEL), "seconds": optional(Number(0.5, 60.0))},
    "line.test_result": {"job": Text(1, MAX_ID)},
    # The load test (firmware/config/loadtest.py checks what the box can carry now): callers and
    # agents are bounded here by the channel numbering, keys are "1 2"-style choices.
    "loadtest.start": {"callers": Integer(1, MAX_CHANNEL), "duration": Number(1.0, 86400.0),
                       "agents": optional(Integer(0, MAX_CHANNEL)), "talk": optional(Number(0.0, 86400.0)),
                       "keys": optional(Text(1, MAX_LOADTEST_KEYS))},
    "loadtest.status": {},
    "loadtest.stop": {},
    # A text through the GSM modem (firmware/callcenter/sms.py checks the number and the length again:
    # 670 characters are 10 parts in Chinese). The number as typed: spaces and dashes allowed.
    "sms.send": {"number": Text(1, MAX_TYPED_NUMBER), "text": Text(1, MAX_SMS_TEXT, lines=True),
                 "purpose": optional(Text(1, 20)), "requested_by": optional(Text(1, MAX_ID)),
                 # What the text is about: a reply 1-5 is stored as the answer on this call or ticket.
                 "call_id": optional(Text(1, MAX_ID)), "ticket_id": optional(Text(1, MAX_ID))},
    "sms.status": {},
    # Outbound campaigns (firmware/callcenter/dialer.py): a campaign's id is the web's record id.
    "campaign.start": {"id": ID},
    "campaign.pause": {"id": ID},
    "campaign.stop": {"id": ID},
    "campaign.status": {"id": optional(ID)},
    "agent.preview_dial": {**AGENT, "contact": ID},
    "agent.preview_skip": {**AGENT, "contact": ID},
    "sms.resend": {"id": Text(1, MAX_ID)},
}


def shown(value) -> str:
    """A refused value as a refusal shows it: short, and ASCII-safe for any string."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = ascii(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def check(cmd: str, args: dict) -> None:
    """CommandError naming the command, the argument and the rule unless `args` fit `cmd`."""
    spec = COMMANDS.get(cmd)
    if spec is None:
        raise CommandError(f"unknown command {shown(cmd)} (commands: {', '.join(sorted(COMMANDS))})")
    takes = f"arguments: {', '.join(spec)}" if spec else "no arguments"
    for name in args:
        if name not in spec:
            raise CommandError(f"{cmd}: bad arguments: unknown argument {shown(name)} ({takes})")
    for name, kind in spec.items():
        if name not in args:
            if kind.required:
                raise CommandError(f"{cmd}: bad arguments: {name} is required ({takes})")
        elif not kind.accepts(args[name]):
            raise CommandError(f"{cmd}: {name} must be {kind.rule}, got {shown(args[name])}")
