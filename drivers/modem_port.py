"""A voice modem's serial port: the thread that moves its bytes, and finding and reopening its device."""
# One thread per modem moves bytes between the serial port and two queues (Klipper serialhdl's split);
# the tick loop only drains and fills the queues. Finding the device again and the bounded back-off
# between attempts run in the loop, never a sleep.

from __future__ import annotations

import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from typing import NoReturn

import serial

from . import modem_quirks, serial_ports
from .modem_quirks import ModemModel
from .serial_ports import Identity, PortInfo

log = logging.getLogger(__name__)

PORT_ERRORS = serial_ports.PORT_ERRORS

# Bounded reconnect (docs/standards.md §12.2 daemon pattern): 1 s doubling to 30 s.
RECONNECT_MIN_S, RECONNECT_MAX_S = 1.0, 30.0


class ModemPortError(Exception):
    """A line's modem cannot be opened now; the message names the device and why."""


class PortIO:
    """The only code that touches an open port: reads into `inbox`, writes what the loop queued."""

    def __init__(self, port: serial.Serial, name: str):
        self.port, self.name = port, name
        # What was read, or the exception that lost the port (the last item).
        self.inbox: queue.SimpleQueue[bytes | BaseException] = queue.SimpleQueue()
        self._out: queue.SimpleQueue[bytes | tuple[str, bool]] = queue.SimpleQueue()  # bytes | ("dtr", on)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"modem-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"w")
        except BlockingIOError:   # the pipe is full: the thread is awake already
            pass

    def write(self, data: bytes) -> None:
        self._out.put(data)
        self._wake()

    def set_dtr(self, on: bool) -> None:
        self._out.put(("dtr", on))
        self._wake()

    def close(self, linger: float = 0.5) -> None:
        """Send what is queued (for up to `linger` s), stop the thread, close the port."""
        deadline = time.monotonic() + linger
        while not self._out.empty() and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        self._stop.set()
        self._wake()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(1.0)
        try:
            self.port.close()
        except PORT_ERRORS:
            pass
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _run(self) -> None:
        try:
            fd = self.port.fileno()
            while not self._stop.is_set():
                ready, _, _ = select.select([fd, self._wake_r], [], [], 0.5)
                if self._wake_r in ready:
                    os.read(self._wake_r, 4096)
                if self._stop.is_set():
                    return
                if fd in ready:
                    # timeout=0: what has arrived; an unplugged port raises "readiness ... no data".
                    data = self.port.read(4096)
                    if data:
                        self.inbox.put(data)
                while True:
                    try:
                        item = self._out.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(item, bytes):
                        self.port.write(item)
                    else:
                        self._dtr(item[1])
        except (*PORT_ERRORS, ValueError) as exc:      # ValueError: select on a descriptor closed under it
            if not self._stop.is_set():
                self.inbox.put(exc)

    def _dtr(self, on: bool) -> None:
        try:
            self.port.dtr = on
        except PORT_ERRORS as exc:
            # A pseudo-terminal has no modem-control lines (pyserial ignores EINVAL/ENOTTY on open too).
            log.debug("modem %s: DTR %s not set: %s", self.name, "on" if on else "off", exc)


class PortLink:
    """Which device is a line's modem: found by path, by USB identity or as the first known modem no
    other line holds; opened exclusively, and tried again with a bounded back-off after a failure."""

    def __init__(self, line: str, device: str, table: dict[str, ModemModel],
                 factory: Callable[..., serial.Serial], claimed: set[str], now: float):
        self.line, self.device, self.table = line, device, table
        self._factory, self._claimed = factory, claimed
        self.identity = Identity()
        self.retry_at = now
        self._backoff = RECONNECT_MIN_S
        self._last_error = ""

    @property
    def name(self) -> str:
        """The device as messages name it: ttyACM0, pts/3, serial/by-id/usb-..."""
        if self.device in ("", "auto"):
            return self.line
        return self.device[5:] if self.device.startswith("/dev/") else os.path.basename(self.device)

    def _resolve(self, spec: str) -> str | None:
        if spec == "auto":
            if self.identity:
                return serial_ports.find_again(self.identity)
            for info, _ in serial_ports.known_modems(self.table):
                if os.path.realpath(info.device) not in self._claimed:
                    return info.device
            return None
        if self.identity.serial_number:
            # The same modem may come back under another ttyACM number (docs/standards.md §12.3).
            again = serial_ports.find_again(self.identity)
            if again is not None:
                return again
        return spec if os.path.exists(spec) else None

    def open(self, spec: str, now: float) -> tuple[PortIO, ModemModel | None]:
        """Open the port `spec` names ("auto": a known modem) and start its thread: the PortIO and the
        model its USB id tells, if it does. ModemPortError if it cannot be opened now; the next attempt
        is then due at `retry_at`."""
        path = self._resolve(spec)
        if path is None:
            what = "no known voice modem found (board/modems.toml USB ids)" if spec == "auto" else "not found"
            self._failed(f"modem {self.name}: {what}", now)
        try:
            port = serial_ports.open_port(path, self._factory)
        except PORT_ERRORS as exc:
            why = ("busy: another program holds it (exclusive lock refused)" if serial_ports.is_busy(exc)
                   else str(exc))
            self.device = path
            self._failed(f"modem {self.name}: {why}", now)
        self.device = path
        info: PortInfo = serial_ports.port_info(path)
        if not self.identity:
            self.identity = serial_ports.identity_of(info)
        self._claimed.add(os.path.realpath(path))
        io = PortIO(port, self.name)
        io.start()
        self._backoff = RECONNECT_MIN_S
        self._last_error = ""
        return io, modem_quirks.by_usb(info.vid, info.pid, self.table)

    def _failed(self, reason: str, now: float) -> NoReturn:
        if reason != self._last_error:
            log.warning("%s; retrying every %.0f-%.0f s", reason, RECONNECT_MIN_S, RECONNECT_MAX_S)
            self._last_error = reason
        self.retry_later(now)
        raise ModemPortError(reason)

    def retry_later(self, now: float) -> None:
        """The next attempt waits the back-off, which doubles up to RECONNECT_MAX_S."""
        self.retry_at = now + self._backoff
        self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)

    def release(self) -> None:
        """The device is no longer this line's: an "auto" line may take it."""
        self._claimed.discard(os.path.realpath(self.device))
