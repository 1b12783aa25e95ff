"""Assembles a box from a state directory: config, prompts, flow, store, recorder, control socket, the
engine (the tick loop) and the call center it drives."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from drivers.channel import Board

from firmware.callcenter.center import CallCenter
from firmware.callcenter.queue_log import QueueLog
from firmware.core.clock import CLOCKS
from firmware.core.control import ControlServer
from firmware.callcenter.customers import CustomerDirectory, LookupTables
from firmware.core.engine import Engine
from firmware.callcenter.flows import load_flow
from firmware.store.ids import id_seed, next_boot
from firmware.core.journal import Journal
from firmware.core.prompts import PromptSet
from firmware.core.recorder import Recorder
from firmware.callcenter.schedules import schedule_problems
from firmware.callcenter.campaign_reader import ContactReader, preparers as campaign_preparers
from firmware.callcenter.recovery import (RecoveryError, pending_callbacks, recover, recover_campaigns,
                                         unfiled_recordings)
from firmware.config.loadtest import LoadTest
from firmware.config.site import BOARD_DIR, ConfigError, SiteConfig, ensure_config, read_site
from firmware.config.site_reload import SiteReloader, flow_problem, queue_problems
from firmware.config.sms_box import open_sms
from firmware.store.writer import StoreWriter

log = logging.getLogger(__name__)


class StatePaths:
    """Where a box keeps its things under its state directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config = self.root / "config"
        self.site = self.config / "site.toml"
        self.db = self.root / "branchline.db"
        self.control = self.root / "control.sock"
        self.recordings = self.root / "recordings"
        self.queue_log = self.root / "queue_log"
        # The box's own prompt recordings, by language (uploaded from the web, over the stock ones).
        self.prompts = self.root / "prompts"
        # The load test's own records and recordings, never the box's (firmware/config/loadtest.py).
        self.loadtest = self.root / "loadtest"

    def flow(self, name: str) -> Path:
        return self.config / "flows" / f"{name}.toml"


def load_site(paths: StatePaths) -> SiteConfig:
    ensure_config(paths.config)
    return read_site(paths.site)


def open_engine(paths: StatePaths, board: Board, site: SiteConfig, clock: str = "paced",
                board_name: str = "sim", control: bool = True, seed: int | None = None,
                flow_path: Path | None = None, epoch: float | None = None, gsm_port: str = "") -> Engine:
    """Everything the engine needs, started; the caller runs `engine.run()` and then `engine.close()`."""
    paths.root.mkdir(parents=True, exist_ok=True)
    prompts = PromptSet(BOARD_DIR / "prompts" / site.language, paths.prompts / site.language)
    flow = load_flow(flow_path or paths.flow(site.flow), set(prompts.names()), {q.name for q in site.queues})
    problems = queue_problems(site, flow, set(prompts.names())) + [
        ("schedule", m["text"], m["template"], m["params"])
        for m in (flow_problem(flow.name, p) for p in schedule_problems(flow, set(site.schedules)))]
    if problems:
        raise ConfigError(f"{paths.site}: {problems[0][0]}: {problems[0][1]}", *problems[0])
    store = StoreWriter(paths.db)
    boot = next_boot(store.db.conn)
    recorder = Recorder(paths.recordings)
    journal = Journal(paths.queue_log, "queue_log")
    # Before the writer, the recorder and the journal start: nothing of this boot is mixed in.
    try:
        unfiled = unfiled_recordings(store.db.conn, paths.recordings)
        for path in recorder.repair_all(unfiled):
            log.warning("recording %s was left open by a crash and has been repaired", path)
        recover(store.db.conn, paths.recordings, journal, time.time() if epoch is None else epoch, unfiled)
    except RecoveryError as exc:
        # The box answers calls regardless; the next start tries again.
        log.error("%s: the calls and recordings a crash left stay as they are for now", exc)
    try:
        callbacks = pending_callbacks(store.db.conn)
    except RecoveryError as exc:
        log.error("%s: they are taken up at the next start", exc)
        callbacks = []
    try:
        campaigns = recover_campaigns(store.db.conn, time.time() if epoch is None else epoch)
    except RecoveryError as exc:
        log.error("%s: they are taken up at the next start", exc)
        campaigns = []
    store.start()
    customers = CustomerDirectory(paths.db, site.region)
    customers.start()
    lookups = LookupTables(paths.db)
    lookups.start()
    recorder.start()
    journal.start()
    server = None
    if control:
        server = ControlServer(paths.control)
        server.start()
    board.start()
    engine = Engine(board, CLOCKS[clock](epoch), site.tones, prompts, store, recorder, site.box_id,
                    board_name=board_name, control=server,
                    seed=None if seed is None else id_seed(seed, site.box_id, boot), queue_log=journal)
    contacts = ContactReader(paths.db, engine.clock.time).start()
    engine.on_close.append(contacts.close)
    center = CallCenter(engine.services, site, flow, customers=customers, lookups=lookups, callbacks=callbacks,
                        contacts=contacts, campaigns=campaigns)
    engine.drive(center)
    if server is not None:
        server.prepare.update(campaign_preparers(paths.db))
        # site.reload / site.validate read the file off the loop, as flow.reload does.
        server.prepare.update(SiteReloader(paths.site, paths.config / "flows", center, board).preparers())
    engine.observers.append(QueueLog(engine.clock, journal))
    if board.virtual is not None:
        load_test = LoadTest(engine, center, paths.loadtest)
        engine.add_commands(load_test.commands(), load_test.preparers())
    open_sms(engine, center, gsm_port, paths.db, paths.site, site.region, paths.root / "dev")
    return engine
