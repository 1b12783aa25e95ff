"""sd_notify over the NOTIFY_SOCKET datagram socket, and the watchdog pings from the engine's loop."""
import os
import socket

import pytest

from firmware.core.sdnotify import SdNotifyError, Watchdog, notify, watchdog_interval


@pytest.fixture
def listener(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(1.0)
    yield path, sock
    sock.close()


def test_notify_reaches_a_path_socket(listener):
    path, sock = listener
    assert notify("READY=1\nSTATUS=ok", {"NOTIFY_SOCKET": path})
    assert sock.recv(1024) == b"READY=1\nSTATUS=ok"


def test_notify_reaches_an_abstract_socket():
    # sd_notify(3): "@name" is the abstract namespace, addressed with a leading NUL.
    name = f"branchline-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(1.0)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(64) == b"WATCHDOG=1"


def test_without_systemd_nothing_is_sent_and_bad_values_are_named():
    assert notify("READY=1", {}) is False
    with pytest.raises(SdNotifyError, match="NOTIFY_SOCKET='relative'"):
        notify("READY=1", {"NOTIFY_SOCKET": "relative"})
    assert watchdog_interval({}) is None
    # sd_watchdog_enabled(3): ping at half the interval; another process's watchdog is not ours.
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    with pytest.raises(SdNotifyError, match="WATCHDOG_USEC='abc'"):
        watchdog_interval({"WATCHDOG_USEC": "abc"})


class FakeEngine:
    """What the watchdog uses of the engine: timers on the loop, the board, the worker threads' status."""

    class _Status:
        def __init__(self, **values):
            self.values = {"alive": True, "fault": None, "waiting": None, **values}

        def status(self):
            return dict(self.values)

    def __init__(self):
        self.timers = []
        self.board = [0, 1]
        self.board_name = "sim-modems"
        self.alarms = {0: "modem ttyACM0: not found"}
        self.store = self._Status(committed=0, backlog=0)
        self.recorder = self._Status(backlog=0)
        self.queue_log = self._Status(backlog=0)

    def later(self, seconds, fn, *args):
        self.timers.append((seconds, fn))


def test_ready_then_pings_while_the_workers_are_alive(listener):
    path, sock = listener
    engine = FakeEngine()
    dog = Watchdog(engine, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    dog.start()
    assert sock.recv(1024) == b"READY=1\nSTATUS=board sim-modems: 2 channels, 1 in alarm"
    assert engine.timers[0][0] == 15.0
    engine.timers.pop(0)[1]()
    assert sock.recv(1024).startswith(b"WATCHDOG=1")
    # The journal thread died: no ping, systemd is told why and restarts the engine after WatchdogSec.
    engine.queue_log.values.update(alive=False, fault="journal-queue_log thread died (SystemExit: gone)")
    engine.timers.pop(0)[1]()
    assert (dog.pings, dog.withheld) == (1, 1)
    assert sock.recv(1024) == b"STATUS=watchdog ping withheld: journal-queue_log thread died (SystemExit: gone)"
    engine.queue_log.values.update(alive=True, fault=None)
    engine.timers.pop(0)[1]()
    assert dog.pings == 2 and len(engine.timers) == 1
    sock.recv(1024)
    dog.stop()
    assert sock.recv(1024) == b"STOPPING=1"


def test_a_writer_waiting_on_another_process_lock_keeps_the_pings_going(listener):
    """A 60 s foreign lock once withheld pings for 75 s: systemd would have killed an engine that
    carried calls fine. Waiting on someone else's lock is alive; only dead or stuck is not."""
    path, sock = listener
    engine = FakeEngine()
    dog = Watchdog(engine, {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    dog.start()
    sock.recv(1024)
    waiting = {"since": 1.0, "reason": "SQLITE_BUSY: database is locked"}
    for minute in range(4):   # an hour-long lock looks the same: the backlog grows, nothing commits
        engine.store.values.update(committed=10, backlog=50 + 100 * minute, waiting=waiting)
        engine.timers.pop(0)[1]()
        assert sock.recv(1024) == (b"WATCHDOG=1\nSTATUS=board sim-modems: 2 channels, 1 in alarm; "
                                   b"store waits: SQLITE_BUSY: database is locked")
    assert (dog.pings, dog.withheld) == (4, 0)


def test_a_dead_or_stuck_store_writer_withholds_the_ping(tmp_path):
    from firmware.store.writer import StoreWriter
    engine = FakeEngine()
    engine.store = StoreWriter(tmp_path / "b.db")
    dog = Watchdog(engine, {"WATCHDOG_USEC": "30000000"})
    engine.store.start()
    dog.start()
    engine.timers.pop(0)[1]()
    assert (dog.pings, dog.withheld) == (1, 0)
    now = [engine.store.heartbeat.monotonic()]
    engine.store.heartbeat.monotonic = lambda: now[0]
    engine.store.heartbeat.beat = lambda: None      # stuck: the thread no longer comes round
    now[0] += 60.0
    engine.timers.pop(0)[1]()
    assert (dog.pings, dog.withheld) == (1, 1)
    assert dog.faults() == ["store-writer thread stuck for 60 s"]
    engine.store.close(timeout=2.0)
    engine.timers.pop(0)[1]()                        # a thread that has ended is no better
    assert (dog.pings, dog.withheld) == (1, 2) and dog.faults() == ["store-writer thread stopped"]
