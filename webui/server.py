"""`branchline web`: the web UI on a threaded WSGI server (webui/front.py), stopped cleanly by SIGTERM or SIGINT."""
from __future__ import annotations

import ctypes
import getopt
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple, NoReturn

from firmware.core import logfiles, scratch

from .app import create_app
from .front import LOOPBACK, Limits, Server
from .mail_delivery import MailSender, SiteMail
from .care_calls import Reminders, SatisfactionAnswers
from .report_runner import ReportRunner
from .webhook_delivery import Deliverer, DeliveryThread

log = logging.getLogger(__name__)

# Each browser polls once a second over keep-alive; the front reads every connection on one loop
# and lends a thread only to a request that has arrived whole, so a small pool serves a branch's
# wallboards and consoles on a Pi-class CPU.
THREADS = 8
SHUTDOWN_TIMEOUT = 5.0
# How often the main thread looks for a stop signal or a database file replaced by a restore.
STOP_POLL_S = 0.2
BOX_LIMITS = Limits()
# The web process yields the CPU to the engine (setpriority(2): any process may lower its own priority):
# the engine's tick must finish within 20 ms while a burst of sign-ins (scrypt, webui/auth.py) or a month's
# report keeps the web process busy; at 10 the scheduler gives it about a tenth of the engine's share when
# both want the same core (CFS weights 110 against 1024, sched(7)).
NICE = 10
# linux/prctl.h: PR_SET_PDEATHSIG = 1.
PR_SET_PDEATHSIG = 1
# glibc malloc.h: mallopt(3) parameters.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
# Blocks from this size up are mmapped and given back to the kernel when freed (glibc's starting value,
# fixed so that it no longer climbs); the threads share the one heap instead of glibc's default of up to
# eight per core (two per core on a 32-bit board), each keeping what its threads freed: a second heap
# left the web process 1.3 MB larger after the memory benchmark's 1,000 views over HTTPS (42.3 against
# 41.0 MB, `python -m firmware.tools.bench_memory`). The threads mostly wait on the GIL, not on malloc.
MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 1


class WebServerError(Exception):
    """The web process cannot run as asked; the message says which part and why."""


def keep_heap_small() -> bool:
    """Have glibc's malloc give large freed blocks back at once; False where there is no mallopt(3).

    Checking a password costs scrypt 16 MiB (webui/auth.py, RFC 7914 parameters). glibc answers the
    first such block with mmap, but freeing it raises its mmap threshold past 16 MiB, so every later
    check takes the block from the heap of the thread that served it and that heap keeps it: each
    sign-in on another server thread left 16 MiB behind (measured: 30 MB at start, 47 MB after the
    first sign-in, 32-48 MiB more after four on other threads). A fixed threshold turns that
    adjustment off (mallopt(3)).
    """
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENA_MAX))


def _libc(use_errno: bool = False) -> ctypes.CDLL:
    """The C library's functions, as the process has them loaded (dlopen(3) of NULL). Not
    ctypes.util.find_library: it runs ldconfig in a child process and brings shutil, tempfile and the
    compressors into the web process (about 1 MB of its budget, docs/architecture.md "Memory")."""
    return ctypes.CDLL(None, use_errno=use_errno)


def die_with_parent(parent: int) -> None:
    """Have the kernel send SIGTERM when process `parent` (the engine that started us) dies.

    `branchline run` may be killed with SIGKILL, which it cannot pass on; a web process left behind
    would hold the port and make the next start's web process fail. PR_SET_PDEATHSIG is delivered
    by the kernel at the parent's death, with no polling and nothing to go wrong in the parent. It
    is set here, in the child, so the engine's fork stays free of preexec code (unsafe once threads
    run); that leaves a window before the prctl in which the parent may already have died, so the
    parent is checked once it is armed: a reparented process (getppid no longer the engine) stops.
    """
    prctl = getattr(_libc(use_errno=True), "prctl", None)
    if prctl is None:
        raise WebServerError(f"cannot follow the engine (pid {parent}): no prctl(2) on this system "
                             "(Linux only); start the engine with --no-web and run `branchline web`")
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise WebServerError(f"cannot follow the engine (pid {parent}): prctl(PR_SET_PDEATHSIG) failed: "
                             f"{os.strerror(ctypes.get_errno())}")
    if os.getppid() != parent:
        raise WebServerError(f"the engine (pid {parent}) that started the web UI is gone")


def make_server(app, host: str, port: int, limits: Limits = BOX_LIMITS, clock=time.monotonic) -> Server:
    """A server for `app` bound to `host`:`port` (0: any free), listening once prepare() is called."""
    return Server(app, host, port, threads=THREADS, ident="branchline", limits=limits, clock=clock,
                  shutdown_timeout=SHUTDOWN_TIMEOUT)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


# The box's HTTPS port when it listens beyond loopback (board/systemd/branchline-web.service): 8443 beside
# 8080, since the service user cannot bind ports under 1024 (ip(7)).
HTTPS_PORT = 8443


def https_port_for(host: str, asked: int | None) -> int | None:
    """The HTTPS port to listen on: the one asked for; by default HTTPS_PORT when `host` reaches beyond the
    box (passwords must not cross the LAN in clear, docs/security.md), none when only loopback is served."""
    if asked is not None:
        return asked
    return None if host in LOOPBACK or host == "localhost" else HTTPS_PORT


def _upstream(host: str, port: int) -> tuple[str, int]:
    """Where the HTTPS relay reaches the server: its own address, or loopback for a wildcard one."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host), port


def start_https(state: Path, server: Server, host: str, port: int, now: float):
    """The HTTPS listener (webui/tls_front.py TlsFront) relaying to `server`, with the box's certificate (made
    at first start); the server's app is wrapped so that relayed requests are HTTPS and others off the box
    are sent there. Imported here: a web process serving loopback only loads no ssl (§1 "Memory")."""
    from . import tls
    from .tls_front import Certificates, Entry, TlsFront, TlsFrontError

    try:
        info = tls.ensure(state, now)
        front = TlsFront(host, port, _upstream(*server.bind_addr), Certificates(tls.server_pem(state)),
                         connections=server.limits.connections)
    except (tls.TlsError, TlsFrontError) as exc:
        raise WebServerError(f"cannot serve HTTPS: {exc}") from None
    server.application = Entry(server.application, front, front.bind_addr[1])
    log.info("HTTPS on %s:%d, certificate SHA-256 fingerprint %s", *front.bind_addr, info.fingerprint_sha256)
    return front


def serve(state_dir: str | Path, host: str = "127.0.0.1", port: int = 8080, https_port: int | None = None) -> None:
    """Serve the web UI for the engine whose state directory is `state_dir` until SIGTERM/SIGINT; HTTPS too
    on `https_port` if given (0: any free port)."""
    state = Path(state_dir)
    # bottle spools a large request body (a restore's archive) to temporary files, a report's workbook is
    # written to one, and SQLite sorts a long report in one: on the box `/` is read-only and /tmp may be
    # memory, so they go to the card, under the state directory.
    scratch.use(state)
    app = create_app(state / "branchline.db", state / "control.sock")
    opened = _identity(state / "branchline.db")
    # The webhook outbox is sent from this process, never the engine's: no receiver can slow a call.
    webhooks = DeliveryThread(Deliverer(state / "branchline.db")).start()
    # Mail likewise: a slow or unreachable SMTP server holds mail, never a page or a call.
    mail = DeliveryThread(MailSender(state / "branchline.db", SiteMail(state / "config" / "site.toml")),
                          name="mail").start()
    # The scheduled reports: a month's workbook takes seconds of this process, never the engine's.
    reports = DeliveryThread(ReportRunner(state / "branchline.db", state / "reports"), name="reports").start()
    # The satisfaction calls' answers recorded on their tickets (webui/care_calls.py).
    satisfaction = DeliveryThread(SatisfactionAnswers(state / "branchline.db"), name="satisfaction").start()
    # The reminder rules' customers added to their campaigns each day (webui/care_calls.py).
    reminders = DeliveryThread(Reminders(state / "branchline.db"), name="reminders").start()
    server = make_server(app, host, port)
    # The handler only appends to a list, which takes no lock: a handler runs in the main thread
    # between two of its bytecodes, and one that set a threading.Event there could wait for ever on
    # the Event's own lock, held by the main thread inside Event.wait (seen: a web process left
    # serving, deaf to SIGTERM, after its engine was killed).
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _: stopping.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    front = None
    relay: threading.Thread | None = None
    try:
        if https_port is not None:
            front = start_https(state, server, host, https_port, time.time())
            relay = threading.Thread(target=front.serve, name="web-https")
            relay.start()
        server.prepare()
        bound_host, bound_port = server.bind_addr[:2]
        log.info("web UI listening on http://%s:%d/", bound_host, bound_port)
        thread = threading.Thread(target=server.serve, name="web-server")
        thread.start()
        # The main thread only waits, so the signal handler runs here and never inside a request.
        replaced = False
        while not stopping and thread.is_alive():
            time.sleep(STOP_POLL_S)
            # A restore replaces the database file at the engine's start (firmware/store/restore.py);
            # this process's connections would go on with the old one. It exits; its unit starts it again.
            if replaced := _identity(state / "branchline.db") != opened:
                break
        server.stop()
        thread.join(SHUTDOWN_TIMEOUT)
        if replaced:
            raise WebServerError("the database file was replaced (a restore at the engine's start): "
                                 "exiting so that the next start opens the new one")
        if not stopping:
            raise RuntimeError("the web server thread ended on its own")
        log.info("web UI stopped")
    finally:
        if front is not None and relay is not None:
            front.stop()
            relay.join(SHUTDOWN_TIMEOUT)
            front.close()
        webhooks.stop()
        mail.stop()
        reports.stop()
        satisfaction.stop()
        reminders.stop()
        app.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
USAGE = """usage: branchline web --state DIR [--host ADDR] [--port N] [--https-port N]

Serve the Branchline web UI.

  --state DIR       the engine's state directory (holds branchline.db and control.sock)
  --host ADDR       address to listen on (default %s)
  --port N          TCP port (default %d; 0 picks a free one)
  --https-port N    HTTPS port (default %d unless --host is loopback, then none; 0 picks a free one)
""" % (DEFAULT_HOST, DEFAULT_PORT, HTTPS_PORT)
PROG = "branchline web"


class Options(NamedTuple):
    state: Path
    host: str
    port: int
    https_port: int | None
    parent: int | None   # only `branchline run` passes it: the web unit of systemd must outlive its starter


def parse_options(argv: list[str]) -> Options:
    """The web process's command line, as `branchline web` and `branchline run` build it (firmware/cli.py
    _web_command). Read with getopt, not argparse: argparse and what it loads would stay in the web
    process's memory (0.3 MB of its 40 MB, docs/architecture.md "Memory") for one parse at start.
    A bad command line prints the usage and exits with status 2, as argparse does."""
    try:
        pairs, rest = getopt.getopt(argv, "h", ["state=", "host=", "port=", "https-port=", "parent=", "help"])
    except getopt.GetoptError as exc:
        _usage_error(str(exc))
    given = dict(pairs)
    if "-h" in given or "--help" in given:
        sys.stdout.write(USAGE)
        raise SystemExit(0)
    if rest:
        _usage_error(f"unrecognized arguments: {' '.join(rest)}")
    if "--state" not in given:
        _usage_error("the following arguments are required: --state")
    numbers = {}
    for flag in ("--port", "--https-port", "--parent"):
        if flag in given:
            try:
                numbers[flag] = int(given[flag])
            except ValueError:
                _usage_error(f"argument {flag}: invalid int value: {given[flag]!r}")
    options = Options(Path(given["--state"]), given.get("--host", DEFAULT_HOST), numbers.get("--port", DEFAULT_PORT),
                      numbers.get("--https-port"), numbers.get("--parent"))
    if not options.state.is_dir():
        _usage_error(f"state directory {options.state} does not exist")
    if not 0 <= options.port <= 65535:
        _usage_error(f"port {options.port} is not between 0 and 65535")
    return options


def _usage_error(message: str) -> NoReturn:
    sys.stderr.write(f"{USAGE.splitlines()[0]}\n{PROG}: error: {message}\n")
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    args = parse_options(sys.argv[1:] if argv is None else argv)
    try:
        # Also to <state>/logs/web.log, which the technician's log tail reads (webui/logs.py).
        logfiles.configure(args.state, "web")
    except logfiles.LogFileError as exc:
        _usage_error(str(exc))
    if not keep_heap_small():
        log.info("no mallopt(3) here: the C library's own heap policy applies")
    os.nice(NICE)   # before any thread starts: the threads inherit it
    try:
        if args.parent is not None:
            die_with_parent(args.parent)
        serve(args.state, args.host, args.port, https_port_for(args.host, args.https_port))
    except OSError as exc:
        log.error("web UI cannot listen on %s:%d: %s", args.host, args.port, exc)
        return 1
    except (RuntimeError, WebServerError, scratch.ScratchError) as exc:
        log.error("web UI: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
