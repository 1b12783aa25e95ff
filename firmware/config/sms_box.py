"""The GSM modem of a box: its SMS service started beside the engine (board profile `[gsm] port`), its
control commands, and the callback requests its texts make, taken up on the loop."""
from __future__ import annotations

import logging
from pathlib import Path

from drivers.gsm_emulator import GsmEmulator
from firmware.callcenter.center import CallCenter
from firmware.callcenter.sms import SmsError, SmsService, TextRules
from firmware.config.messaging import read_sms
from firmware.core.control import ControlError
from firmware.core.engine import Engine

from typed_toml import ConfigError, read_file

log = logging.getLogger(__name__)

# The port name of the emulated modem (drivers/gsm_emulator.py) on the simulated boards.
EMULATOR = "emulator"
# How often the loop takes up the callback requests texts made: a request waits in a queue for minutes.
TAKE_UP_S = 1.0


COMMANDS = ("sms.send", "sms.status", "sms.resend")


class SiteRules:
    """site.toml's [sms] as TextRules, read again when the file changes (on the SMS thread, never the
    loop); a bad table keeps the rules last read (the configuration page shows the error)."""

    def __init__(self, path: Path, queues: list[str]):
        self.path, self.queues = path, queues
        self._stamp: tuple[int, int] | None = None
        self._rules = TextRules()

    def __call__(self) -> TextRules:
        try:
            info = self.path.stat()
        except OSError:
            return self._rules
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                config = read_sms(read_file(self.path))
            except ConfigError as exc:
                log.warning("sms: %s; the rules read before stay", exc)
                return self._rules
            # The queue named if the site has it, else the first: a texted request always waits somewhere.
            queue = config.callback_queue if config.callback_queue in self.queues else \
                (self.queues[0] if self.queues else "")
            self._rules = TextRules(queue, config.callback_keywords, config.after_call)
        return self._rules


def open_sms(engine: Engine, center: CallCenter, port: str, db_path: Path, site_path: Path, region: str,
             dev_dir: Path) -> SmsService | None:
    """Start the SMS service on `port` ("emulator": an emulated modem under `dev_dir`), add its control
    commands and have the loop take up its callback requests; all stopped when the engine closes. With
    no port the commands say so."""
    if not port:
        def refuse(args: dict) -> dict:
            raise ControlError("this box has no GSM modem: name its port in the board profile ([gsm] port)")
        engine.add_commands({name: lambda result: result for name in COMMANDS}, dict.fromkeys(COMMANDS, refuse))
        return None
    if port == EMULATOR:
        emulator = GsmEmulator(link_dir=dev_dir).start()
        engine.on_close.append(emulator.stop)
        port = emulator.link
    queues = [q.name for q in center.site.queues]
    service = SmsService(port, db_path, region, rules=SiteRules(site_path, queues)).start()
    engine.on_close.insert(0, service.stop)

    def refusing(fn):
        def prepare(args: dict) -> dict:
            try:
                return {"result": fn(**args)}
            except SmsError as exc:
                raise ControlError(str(exc)) from None
        return prepare

    # The work is done off the loop, on the control connection's thread (the outbox row written, the
    # status copied); the loop only hands the result back.
    engine.add_commands({name: lambda result: result for name in COMMANDS}, {
        "sms.send": refusing(lambda number, text, purpose="test", requested_by="", call_id=None, ticket_id=None:
                             service.queue_text(number, text, purpose, requested_by, call_id, ticket_id)),
        "sms.status": refusing(service.status),
        "sms.resend": refusing(lambda id: service.send_again(id)),
    })

    def take_up() -> None:
        found = service.take_callbacks()
        if found:
            center.callbacks.restore(found)
        engine.later(TAKE_UP_S, take_up)
    engine.later(TAKE_UP_S, take_up)
    return service


__all__ = ["COMMANDS", "EMULATOR", "SiteRules", "open_sms"]
