"""A device emulated on a pseudo-terminal for tests: the real driver opens it through pyserial by a stable
link, as udev's /dev/serial/by-id, and the device can be unplugged and plugged in again."""
# What the emulators share (drivers/modem_emulator.py, drivers/e1_emulator.py): the pseudo-terminal, the
# link re-pointed to it on every plug, the emulator's thread with its select loop, and the pipe that
# wakes that thread. What the device says and does is theirs, through the hooks of PtyDevice.

from __future__ import annotations

import abc
import os
import select
import shutil
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import Self


class PtyDevice(abc.ABC):
    """One emulated device on one pseudo-terminal; public methods are safe from any thread.

    A subclass names the device (`link`, `_thread_name`, `DIR_PREFIX`), gives its state after power-on
    (`_power_on`, again after an unplug) and handles the bytes the host sends (`_from_host`) and the
    passing of time (`_tick`) on the emulator's thread; it also hears of a plug (`_plugged`), an unplug
    (`_unplugging`) and a lost write (`_write_lost`). All but the names run under the device's lock."""

    # The temporary directory made for the link when none is given.
    DIR_PREFIX = "branchline-pty-"
    # How long the thread waits for the host's bytes before its next _tick.
    POLL_S = 0.01

    def __init__(self, serial_number: str, link_dir: str | Path | None) -> None:
        self.serial_number = serial_number
        self._own_dir = link_dir is None
        self.link_dir = Path(link_dir) if link_dir is not None else None
        self._lock = threading.RLock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._cut_after: int | None = None
        self.unplugs = 0
        self.path = ""

    # --- what differs between devices -------------------------------------------------------------
    @property
    @abc.abstractmethod
    def link(self) -> str:
        """The stable name the driver opens, like /dev/serial/by-id/usb-<vendor>_<model>_<serial>-if00."""

    @abc.abstractmethod
    def _thread_name(self) -> str:
        """The emulator thread's name."""

    @abc.abstractmethod
    def _power_on(self) -> None:
        """The device's state after power-on."""

    @abc.abstractmethod
    def _from_host(self, data: bytes) -> None:
        """Bytes the host wrote to the port."""

    @abc.abstractmethod
    def _tick(self, now: float) -> None:
        """Time passes (time.monotonic() `now`): about every POLL_S, and at once after a wake."""

    @abc.abstractmethod
    def _write_lost(self, exc: OSError) -> None:
        """Writing to the port failed (a full buffer, say): the bytes are lost."""

    @abc.abstractmethod
    def _plugged(self) -> None:
        """The device has just been plugged in (a new pseudo-terminal, the link pointing to it)."""

    @abc.abstractmethod
    def _unplugging(self) -> None:
        """The device is about to be unplugged (then it is in its state after power-on again)."""

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> Self:
        if self.link_dir is None:
            self.link_dir = Path(tempfile.mkdtemp(prefix=self.DIR_PREFIX))
        self.link_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._plug()
        self._thread = threading.Thread(target=self._run, name=self._thread_name(), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(2.0)
        with self._lock:
            self._unplug_fds()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        if self._own_dir and self.link_dir is not None:
            shutil.rmtree(self.link_dir, ignore_errors=True)

    def unplug(self) -> None:
        with self._lock:
            self.unplugs += 1
            self._unplugging()
            self._unplug_fds()
            self._power_on()

    def replug(self) -> None:
        with self._lock:
            if self._master is None:
                self._plug()
        self._wake()

    def inject(self, data: bytes) -> None:
        """Bytes on the wire from the device's side that the device never meant (line noise, a half
        line, a flood), written between its own (nothing, if it is plugged out)."""
        with self._lock:
            self._write(data)

    def cut_after(self, n: int) -> None:
        """Unplugged once the host has written `n` more bytes (the cable pulled in the middle of a write):
        the device takes those `n` and the rest goes nowhere. Stays plugged out until `replug`."""
        if n < 0:
            raise ValueError(f"cut_after: {n} bytes")
        with self._lock:
            self._cut_after = n

    def _plug(self) -> None:
        master, slave = os.openpty()
        # Raw from the start, so nothing written before the driver opens the port is echoed back;
        # the slave stays open here (docs/standards.md §12.4: reading a master with no slave open gives EIO).
        tty.setraw(slave)
        self._master, self._slave = master, slave
        os.set_blocking(master, False)
        self.path = os.ttyname(slave)
        tmp = self.link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(self.path, tmp)
        os.replace(tmp, self.link)
        self._plugged()

    def _unplug_fds(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self.link_dir is not None and os.path.lexists(self.link):
            os.unlink(self.link)

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"w")
        except OSError:
            pass

    # --- the emulator's thread --------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                fds = [self._wake_r] + ([self._master] if self._master is not None else [])
            ready, _, _ = select.select(fds, [], [], self.POLL_S)
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
            with self._lock:
                if self._master is not None and self._master in ready:
                    try:
                        data = os.read(self._master, 4096)
                    except OSError:
                        data = b""
                    if self._cut_after is not None:
                        data = self._cut(data)
                    if data:
                        self._from_host(data)
                self._tick(time.monotonic())

    def _cut(self, data: bytes) -> bytes:
        """The bytes the device takes before `cut_after` unplugs it (then it is plugged out)."""
        assert self._cut_after is not None
        n = self._cut_after
        if len(data) < n:
            self._cut_after = n - len(data)
            return data
        self._cut_after = None
        if n:
            self._from_host(data[:n])
        self.unplug()
        return b""

    def _write(self, data: bytes) -> None:
        if self._master is None:
            return
        try:
            os.write(self._master, data)
        except OSError as exc:
            self._write_lost(exc)
