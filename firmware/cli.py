"""The `branchline` command: run the box, the web process, control commands, scenarios, tools."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.core import logfiles
from firmware.store import StoreError

if TYPE_CHECKING:
    from firmware.tools.web_child import WebChild

DEFAULT_STATE = Path(os.environ.get("BRANCHLINE_STATE", "var"))
log = logging.getLogger("branchline")
# Errors a sub-command reports to the operator as one line (exit 2) rather than a traceback. Each
# sub-command imports only what it runs (`branchline web` and `hq pull` load no numpy, no engine), so
# an error class is looked for only in a module the command loaded: one not loaded raised nothing.
REFUSALS = (("typed_toml", "ConfigError"), ("firmware.callcenter.flows", "FlowError"),
            ("firmware.core.prompts", "PromptError"), ("firmware.store", "StoreError"),
            ("firmware.callcenter.acd", "AcdError"), ("firmware.store.backup", "BackupError"),
            ("firmware.store.restore", "RestoreError"), ("firmware.core.logfiles", "LogFileError"),
             ("firmware.core.scratch", "ScratchError"))


def _refusal(exc: Exception) -> bool:
    return any(isinstance(exc, getattr(sys.modules[module], name))
               for module, name in REFUSALS if module in sys.modules)


def _web_command(state: Path, host: str, port: int, parent: int | None = None,
                 https_port: int | None = None) -> list[str]:
    # The web process is its own program (docs/architecture.md §1): a crash there never drops a call.
    # With `parent` it ends when that process dies, even by SIGKILL (webui.server.die_with_parent).
    from firmware.tools.web_child import WEB_PYTHON_FLAGS

    cmd = [sys.executable, *WEB_PYTHON_FLAGS, "-m", "webui.server", "--state", str(state), "--host", host,
           "--port", str(port)]
    if https_port is not None:
        cmd += ["--https-port", str(https_port)]
    return cmd if parent is None else [*cmd, "--parent", str(parent)]


def _serve(engine, web: WebChild | None) -> int:
    from firmware.core.sdnotify import Watchdog

    def stop(signum, frame):
        engine.stop()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # systemd (board/systemd/branchline-engine.service, Type=notify): READY, then watchdog pings.
    watchdog = Watchdog(engine)
    watchdog.start()
    try:
        engine.run()
    finally:
        watchdog.stop()
        engine.close()
        if web is not None:
            web.stop()
    return 0


def cmd_run(args) -> int:
    from firmware.config.boards import build_board, load_profile
    from firmware.config.box import StatePaths, load_site, open_engine
    from firmware.core import scratch
    from firmware.tools.scenario import DEMO_SCENARIO, ScenarioRun, load_scenario
    from firmware.tools.web_child import WebChild

    state = Path(args.state)
    paths = StatePaths(state)
    # Before any database is opened (SQLite takes its scratch directory once): docs/architecture.md §30.
    scratch.use(state)
    _apply_restore(state)
    if args.demo:
        engine = ScenarioRun(load_scenario(args.scenario or DEMO_SCENARIO), state, clock="paced", control=True,
                             virtual_lines=True).engine
        print(f"branchline: demo traffic from {args.scenario or DEMO_SCENARIO} on the simulated board", flush=True)
    else:
        profile = load_profile(args.board)
        site = load_site(paths)
        site.answer_rings = max(site.answer_rings, profile.answer_rings)
        board = build_board(profile)
        engine = open_engine(paths, board, site, clock=profile.clock, board_name=profile.name,
                             gsm_port=profile.gsm_port)
        print(f"branchline: board {profile.name} with {len(board)} channels, state in {state}", flush=True)
    web = None
    if not args.no_web:
        # Started once the engine has created and migrated the database, so the web process never
        # migrates it itself (that would load sqlite_utils, and numpy with it, into the web process).
        # Started again when it dies, as its systemd unit would be (firmware/tools/web_child.py).
        web = WebChild(_web_command(state, args.host, args.port, parent=os.getpid(),
                                    https_port=args.https_port)).start()
        # The web process says where it serves HTTPS, if it does (webui/server.py https_port_for); the
        # engine does not load the web's modules to work it out.
        print(f"branchline: web UI at http://{args.host}:{args.port} "
              "(the first visit asks for the admin password)", flush=True)
    return _serve(engine, web)


def _apply_restore(state: Path) -> None:
    """A restore staged by `branchline restore` or the web page goes in before anything opens the store
    (docs/architecture.md §6): the engine is the only process left holding the database at its start."""
    import time

    from firmware.store.restore import apply_staged

    report = apply_staged(state, time.time())
    if report is not None:
        print(f"branchline: restored {report['archive']} (box {report['manifest']['box_id']}, made "
              f"{report['manifest']['created']}); changes continue from {report['counter']} "
              f"({report['rule']}); the previous database and configuration are in {state / report['kept']}",
              flush=True)


def cmd_web(args) -> int:
    from firmware.tools.web_child import web_environment

    os.execve(sys.executable, _web_command(Path(args.state), args.host, args.port, https_port=args.https_port),
              web_environment())
    return 0


def cmd_ctl(args) -> int:
    from firmware.config.box import StatePaths
    from firmware.core.control import ControlClient, ControlError

    client = ControlClient(StatePaths(args.state).control)
    cmd = args.command
    try:
        if cmd == "reload-flow":
            result = client.call("flow.reload")
            print(f"flow {result['flow']} reloaded: {result['nodes']} nodes, start {result['start']}")
            return 0
        if cmd == "reload-prompts":
            print(f"prompts reloaded: {client.call('prompts.reload')['prompts']}")
            return 0
        if cmd == "reload-site":
            result = client.call("site.reload")
            print(f"site reloaded: queues {', '.join(result['queues']) or 'none'}; "
                  f"agents {', '.join(result['agents']) or 'none'}; flow {result['flow']}")
            for what, ids in (("draining (no new callers, removed once empty)", result["draining"]),
                              ("leaving after their call", result["leaving"]),
                              ("changed, applied at the next start", result["restart"])):
                if ids:
                    print(f"  {what}: {', '.join(ids)}")
            return 0
        if cmd == "status":
            result = client.call("status")
            if args.json:
                print(json.dumps(result, indent=2))
            else:
                print(_format_status(result))
            return 0
        kwargs = {"agent": args.agent}
        if cmd == "not-ready":
            kwargs["reason"] = args.reason or "break"
        result = client.call(f"agent.{cmd.replace('-', '_')}", **kwargs)
        print(f"agent {result['id']}: {result['state']}" + (f" ({result['reason']})" if result.get("reason") else ""))
        return 0
    except ControlError as exc:
        print(f"branchline ctl: {exc}", file=sys.stderr)
        return 1


def _format_status(s: dict) -> str:
    t = s["ticks"]
    out = [(f"box {s['box']['id']} on board {s['box']['board']} ({s['box']['mode']}); "
            f"ticks {t['count']}, mean {t['mean_ms']} ms, p99 {t['p99_ms']} ms, overruns {t['overruns']}")]
    busy = [ln for ln in s["lines"] if ln["state"] != "idle"]
    out.append(f"lines: {len(s['lines'])}, in use {len(busy)}")
    for ln in busy:
        out.append(f"  {ln['name']:<10} {ln['state']:<14} {ln['number'] or ''}")
    out.append("queues:")
    for q in s["queues"]:
        out.append(f"  {q['name']:<10} waiting {q['waiting']:>3}  longest {q['longest_wait_s']:>6.1f} s  "
                   f"ready {q['agents_ready']}  offered {q['offered']}  answered {q['answered']}  "
                   f"abandoned {q['abandoned']}")
    out.append("agents:")
    for a in s["agents"]:
        out.append(f"  {a['id']:<6} {a['name']:<12} {a['state']:<10} calls {a['calls']:>3}  "
                   f"{a['number'] or ''}")
    if s.get("trunk_groups"):
        out.append("trunk groups:")
        for g in s["trunk_groups"]:
            cap = "-" if g["cap"] is None else g["cap"]
            out.append(f"  {g['name'] or '(none)':<10} in use {g['in_use']:>3}  guaranteed {g['guaranteed']:>3}  "
                       f"cap {cap:>3}  borrowed {g['borrowed']:>3}  refused {g['refused']}"
                       + ("  (claims its share)" if g["claim"] else ""))
    return "\n".join(out)


def cmd_scenario(args) -> int:
    from firmware.tools.scenario import run_scenario

    report = run_scenario(args.file, state_dir=args.state, fast=args.fast)
    text = json.dumps(report, indent=2)
    if args.report:
        Path(args.report).write_text(text)
    tot = report["totals"]
    print(f"{tot['calls']} calls: {tot['dispositions']}; service level {tot['service_level']}, "
          f"ASA {tot['asa_s']} s; digits pressed {tot['digits_pressed']}, detected {tot['digits_detected']}; "
          f"tick p99 {report['ticks']['p99_ms']} ms" + (f"; report in {args.report}" if args.report else ""))
    return 0


def cmd_dsp(args) -> int:
    from firmware.tools.dsp_cli import main_dtmf
    return main_dtmf([args.file])


def cmd_flow_schema(args) -> int:
    from firmware.callcenter.flows import schema_json
    print(json.dumps(schema_json(), indent=2, ensure_ascii=False))
    return 0


def _box_db(state) -> Path:
    from firmware.config.box import StatePaths
    db = StatePaths(state).db
    if not db.exists():
        raise StoreError(f"no box database at {db} (is --state the box's state directory?)")
    return db


def cmd_hq_token(args) -> int:
    import time

    from firmware.store import open_db
    from firmware.store.sync import SyncError, create_token, list_tokens, revoke_token

    db = open_db(_box_db(args.state))
    try:
        if args.action == "create":
            row, token = create_token(db.conn, args.name or "", time.time(), created_by=f"cli:{os.getuid()}")
            print(f"HQ token {row['id']} ({row['name']}) created. Give it to HQ now; it is not shown again:")
            print(token)
        elif args.action == "revoke":
            row = revoke_token(db.conn, args.id or "", time.time())
            print(f"HQ token {row['id']} ({row['name']}) revoked")
        else:
            for t in list_tokens(db.conn):
                state = "revoked" if t["revoked_at"] else "active"
                acked = "never acknowledged" if t["acked_seq"] is None else f"acknowledged up to {t['acked_seq']}"
                print(f"{t['id']}  {state:<8} {acked:<32} {t['name']}")
    except SyncError as exc:
        print(f"branchline hq-token: {exc}", file=sys.stderr)
        return 1
    finally:
        db.conn.close()
    return 0


def cmd_retention(args) -> int:
    import time

    from firmware.config.box import StatePaths
    from firmware.store import open_db
    from firmware.store.sync import SyncError, apply_retention

    db = open_db(_box_db(args.state))
    try:
        r = apply_retention(db.conn, StatePaths(args.state).recordings, args.days, time.time(), dry_run=args.dry_run,
                            keep_free=args.keep_free_mb * 1_000_000)
    except SyncError as exc:
        print(f"branchline retention: {exc}", file=sys.stderr)
        return 2
    finally:
        db.conn.close()
    verb = "would delete" if args.dry_run else "deleted"
    if r.acked is None:
        print("retention: no active HQ token, so HQ holds nothing yet: nothing deleted")
    print(f"retention: {verb} {r.deleted.get('recordings', 0)} recordings and {r.deleted.get('voicemails', 0)} "
          f"voicemails older than {args.days:g} days ({r.freed_bytes / 1e6:.1f} MB); "
          f"{r.kept_unacked} older ones kept until HQ acknowledges them")
    if r.for_space:
        print(f"retention: {r.for_space} of them younger, the oldest HQ holds, to keep {args.keep_free_mb} MB free")
    if r.short_of_space:
        print(f"retention: less than {args.keep_free_mb} MB free and nothing left that HQ holds: "
              "the card fills until HQ pulls", file=sys.stderr)
    return 0




def cmd_backup(args) -> int:
    import time

    from firmware.store import audit, connect
    from firmware.store.backup import DB_FILE, prepare

    out = Path(args.out)
    state = Path(args.state)
    with prepare(state, time.time(), recordings=args.recordings) as backup:
        if out.is_dir():
            out = out / backup.filename
        size = backup.write(out)
        m = backup.manifest
    conn = connect(state / DB_FILE)
    try:
        # As the page's downloads are: the backup page lists the last ones from the audit log.
        audit.append(conn, time.time(), f"cli:{os.getuid()}", "command line", "backup.create", out.name, {
            "latest_seq": m["latest_seq"], "schema": len(m["schema"]), "members": len(m["members"]) + 1,
            "recordings": args.recordings, "bytes": size, "path": str(out.resolve())})
    finally:
        conn.close()
    print(f"backup of box {m['box_id']} written to {out}: {size / 1e6:.1f} MB, {len(m['members'])} files, "
          f"latest change {m['latest_seq']}, schema {len(m['schema'])}"
          + ("" if args.recordings else "; recordings not included (HQ holds them; --recordings adds them)"))
    return 0


def cmd_restore(args) -> int:
    import time

    from firmware.store.restore import RestoreRefused, cancel, stage

    state = Path(args.state)
    if args.cancel:
        print("staged restore cancelled" if cancel(state) else "no restore was staged")
        return 0
    if not args.archive:
        print("branchline restore: name the archive to restore (or --cancel)", file=sys.stderr)
        return 2
    try:
        request = stage(Path(args.archive), state, args.override, f"cli:{os.getuid()}", time.time())
    except RestoreRefused as exc:
        for problem in exc.problems:
            lift = " (--override restores it anyway)" if problem["overridable"] else ""
            print(f"branchline restore: refused: {problem['message']}{lift}", file=sys.stderr)
        return 1
    m = request["manifest"]
    print(f"restore of box {m['box_id']} (made {m['created']}, latest change {m['latest_seq']}) staged: it is "
          "applied when the engine next starts (systemctl restart branchline-engine); calls in progress then "
          "end, and the current database and configuration are kept in before-restore-<time>/")
    return 0


def cmd_bench(args) -> int:
    from firmware.tools import bench
    return bench.main(quick=args.quick)


def cmd_soak(args) -> int:
    from firmware.tools import soak
    return soak.main(args.args)


def cmd_detect(args) -> int:
    from drivers.serial_ports import SerialPortError, Verdict, all_ports, probe, profile_text

    ports = args.ports or all_ports()
    if not ports:
        print("branchline detect: no serial ports found", file=sys.stderr)
        return 1
    try:
        probes = [probe(port, timeout=args.timeout) for port in ports]
    except SerialPortError as exc:
        print(f"branchline detect: {exc}", file=sys.stderr)
        return 2
    # The report is TOML comments over the profile, so the output is itself a usable profile file;
    # the known bugs of each model found (board/modems.toml) are there for the technician.
    report = ""
    for p in probes:
        report += f"# {p.summary()}\n"
        if p.verdict == Verdict.VOICE and p.model is not None:
            report += "".join(f"#   known: {bug}\n" for bug in p.model.bugs)
    if not any(p.verdict == Verdict.VOICE for p in probes):
        print(report + "# no voice modem answered: no profile to write", end="\n")
        return 1
    text = report + profile_text(probes, stations=args.stations)
    if args.output:
        Path(args.output).write_text(text)
        print(report + f"# profile written to {args.output}", end="\n")
    else:
        print(text, end="")
    return 0


def cmd_sms(args) -> int:
    """A technician's text or status straight through the modem's port (the engine must not hold it)."""
    import time

    from drivers.gsm_at import AtError
    from drivers.gsm_modem import GsmError, GsmModem
    from drivers.sms_pdu import PduError
    from firmware.store.phones import PhoneNumberError, normalize

    modem = GsmModem(args.port)
    try:
        status = modem.connect()
        if args.sms_cmd == "status":
            for key, value in status.as_dict().items():
                print(f"{key}: {'' if value is None else value}")
            return 0 if status.can_send else 1
        number = normalize(args.number, args.region)
        refs = modem.send(number, args.text, reference=int(time.time()) % 256)
        print(f"sent to {number}: {len(refs)} part(s), message references {', '.join(map(str, refs))}")
        waiting, deadline = set(refs), time.monotonic() + args.wait
        while waiting and time.monotonic() < deadline:
            for report in modem.incoming(0.5)[1]:
                if report.reference in waiting:
                    waiting.discard(report.reference)
                    print(f"part {report.reference}: {'delivered' if report.delivered else 'not delivered'}"
                          f" (TP-ST {report.status:#04x})")
        if waiting:
            print(f"no delivery report within {args.wait:g} s for {', '.join(map(str, sorted(waiting)))}")
        return 0
    except (GsmError, AtError, PduError, PhoneNumberError) as exc:
        print(f"branchline sms: {exc}", file=sys.stderr)
        return 2
    finally:
        modem.close()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="branchline", description="Branchline call-center appliance")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="start the engine (and the web process)")
    r.add_argument("--state", default=DEFAULT_STATE, help="state directory (database, recordings, config)")
    r.add_argument("--board", default="sim", help="board profile name or path (board/profiles/)")
    r.add_argument("--demo", action="store_true", help="simulated board with scripted demo traffic")
    r.add_argument("--scenario", help="scenario file for --demo (default: board/scenarios/demo.toml)")
    r.add_argument("--no-web", action="store_true", help="do not start the web process")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=8080)
    r.add_argument("--https-port", type=int, help="HTTPS port (default 8443 unless --host is loopback)")
    r.set_defaults(fn=cmd_run)

    w = sub.add_parser("web", help="start the web process only")
    w.add_argument("--state", default=DEFAULT_STATE)
    w.add_argument("--host", default="127.0.0.1")
    w.add_argument("--port", type=int, default=8080)
    w.add_argument("--https-port", type=int, help="HTTPS port (default 8443 unless --host is loopback)")
    w.set_defaults(fn=cmd_web)

    c = sub.add_parser("ctl", help="talk to the running engine")
    c.add_argument("--state", default=DEFAULT_STATE)
    c.add_argument("--json", action="store_true", help="print status as JSON")
    c.add_argument("command", choices=["status", "reload-flow", "reload-site", "reload-prompts", "login", "logout",
                                       "ready", "not-ready", "hangup"])
    c.add_argument("agent", nargs="?")
    c.add_argument("reason", nargs="?")
    c.set_defaults(fn=cmd_ctl)

    s = sub.add_parser("scenario", help="run a scenario file on the simulated board")
    s.add_argument("file")
    s.add_argument("--fast", action="store_true", help="as fast as possible instead of real time")
    s.add_argument("--report", help="write the JSON report here")
    s.add_argument("--state", help="state directory (default: a new temporary one)")
    s.set_defaults(fn=cmd_scenario)

    d = sub.add_parser("dsp", help="signal tools")
    dsub = d.add_subparsers(dest="tool", required=True)
    dt = dsub.add_parser("dtmf", help="print the DTMF digits of a WAV file")
    dt.add_argument("file")
    dt.set_defaults(fn=cmd_dsp)

    det = sub.add_parser("detect", help="probe serial ports for voice modems and print a board profile")
    det.add_argument("ports", nargs="*", help="ports to probe (any path pyserial opens); default: every serial port")
    det.add_argument("--stations", type=int, default=0,
                     help="make the last N voice modems agent legs (station lines) in the profile")
    det.add_argument("--timeout", type=float, default=1.0, help="s to wait for each answer")
    det.add_argument("--output", help="write the profile to this file")
    det.set_defaults(fn=cmd_detect)

    fs = sub.add_parser("flow-schema", help="print the IVR node schema (JSON) the flow editor uses")
    fs.set_defaults(fn=cmd_flow_schema)

    t = sub.add_parser("hq-token", help="create, list or revoke the tokens HQ pulls this box's records with")
    t.add_argument("action", choices=["create", "list", "revoke"])
    t.add_argument("id", nargs="?", help="the token to revoke")
    t.add_argument("--name", help="who the new token is for (e.g. \"HQ reporting\")")
    t.add_argument("--state", default=DEFAULT_STATE)
    t.set_defaults(fn=cmd_hq_token)

    rt = sub.add_parser("retention", help="delete old recordings and voicemails that HQ has acknowledged")
    rt.add_argument("--days", type=float, required=True, help="keep everything younger than this")
    rt.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    rt.add_argument("--keep-free-mb", type=int, default=0, metavar="MB",
                    help="then delete the oldest files HQ holds, whatever their age, until this much is free")
    rt.add_argument("--state", default=DEFAULT_STATE)
    rt.set_defaults(fn=cmd_retention)

    bk = sub.add_parser("backup", help="write the database, configuration and prompts to one zip archive")
    bk.add_argument("--state", default=DEFAULT_STATE)
    bk.add_argument("--out", required=True, help="the archive to write, or a directory to write it in")
    bk.add_argument("--recordings", action="store_true", help="include the recordings and voicemails")
    bk.set_defaults(fn=cmd_backup)

    rs = sub.add_parser("restore", help="check a backup and stage it for the next engine start")
    rs.add_argument("archive", nargs="?", help="a zip archive made by `branchline backup` or the web page")
    rs.add_argument("--state", default=DEFAULT_STATE)
    rs.add_argument("--override", action="store_true",
                    help="restore an archive of an older schema, another box or another database anyway")
    rs.add_argument("--cancel", action="store_true", help="drop the restore staged for the next start")
    rs.set_defaults(fn=cmd_restore)

    try:
        from hq.cli import add_commands as add_hq_commands
    except ImportError:
        pass   # a box: HQ's collector runs at head office and is not installed here
    else:
        hq = sub.add_parser("hq", help="HQ's collector")
        add_hq_commands(hq.add_subparsers(dest="hq_cmd", required=True))

    sm = sub.add_parser("sms", help="a GSM modem's state, or a test text, straight through its port")
    smsub = sm.add_subparsers(dest="sms_cmd", required=True)
    ss = smsub.add_parser("status", help="SIM, registration, signal and operator")
    ss.add_argument("--port", required=True, help="the modem's AT port, e.g. /dev/serial/by-id/...-if02")
    ss.set_defaults(fn=cmd_sms)
    sn = smsub.add_parser("send", help="send one text and wait for its delivery report")
    sn.add_argument("--port", required=True, help="the modem's AT port")
    sn.add_argument("--region", default="CN", help="country of a number without its code (default CN)")
    sn.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the delivery report")
    sn.add_argument("number")
    sn.add_argument("text")
    sn.set_defaults(fn=cmd_sms)

    b = sub.add_parser("bench", help="benchmarks: engine real-time factor and DSP throughput")
    b.add_argument("--quick", action="store_true", help="shorter runs")
    b.set_defaults(fn=cmd_bench)

    so = sub.add_parser("soak", help="day: 24 simulated hours of mixed traffic in fast time; lines: an hour on 120 "
                        "busy lines in real time; sampled (memory, descriptors, ticks, WAL) and judged",
                        add_help=False)
    so.add_argument("args", nargs=argparse.REMAINDER, help="day|lines [--seconds S] [--interval S] [--consoles N] "
                    "[--out DIR] [--keep-state]; branchline soak --help")
    so.set_defaults(fn=cmd_soak)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # `branchline soak` passes its options on to the soak's own parser (firmware/tools/soak.py).
    args, extra = parser.parse_known_args(argv)
    if args.cmd == "soak":
        args.args = [*args.args, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.cmd == "ctl" and args.command not in ("status", "reload-flow", "reload-site", "reload-prompts") \
            and not args.agent:
        print("branchline ctl: this command needs an agent id", file=sys.stderr)
        return 2
    try:
        # The engine also logs to <state>/logs/engine.log, for the technician's log tail in the browser.
        logfiles.configure(args.state if args.cmd == "run" else None, "engine",
                           logging.DEBUG if args.verbose else logging.INFO)
        return args.fn(args)
    except Exception as exc:
        if not _refusal(exc):
            raise
        print(f"branchline: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
