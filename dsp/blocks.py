"""Input checks and fixed-length framing shared by the streaming detectors (block-size independence)."""

import numpy as np


def check_channels(channels, owner):
    """Return `channels` as an int >= 1 or raise ValueError naming `owner`."""
    if isinstance(channels, (bool, np.bool_)) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ValueError(f"{owner}: expected a channel count (int >= 1), got {channels!r}")
    return int(channels)


def check_block(block, channels, owner):
    """Raise ValueError unless `block` is an int16 array shaped (channels, n)."""
    if not isinstance(block, np.ndarray):
        raise ValueError(
            f"{owner}: expected a numpy int16 array (channels, samples), got {type(block).__name__}")
    if block.dtype != np.int16:
        raise ValueError(f"{owner}: expected dtype int16, got {block.dtype}")
    if block.ndim != 2:
        raise ValueError(f"{owner}: expected ndim 2 (channels, samples), got ndim {block.ndim}")
    if block.shape[0] != channels:
        raise ValueError(f"{owner}: expected {channels} channels (rows), got {block.shape[0]}")


def check_channel(channel, channels, owner):
    """Return `channel` as an int index in [0, channels) or raise ValueError."""
    if isinstance(channel, (bool, np.bool_)) or not isinstance(channel, (int, np.integer)):
        raise ValueError(f"{owner}: expected a channel index (int), got {channel!r}")
    if not 0 <= channel < channels:
        raise ValueError(f"{owner}: expected a channel in 0..{channels - 1}, got {channel}")
    return int(channel)


class Framer:
    """Cuts a stream of (channels, n) int16 blocks into (channels, frames, length) int16 frames.

    Frame boundaries are fixed on the stream (every `length` samples from the first), so a detector
    that decides per frame gives the same answers whatever block sizes the caller uses.
    """

    def __init__(self, channels, length, owner):
        self.channels = check_channels(channels, owner)
        self.length = int(length)
        self.owner = owner
        self.position = 0  # stream index of the first sample of the next frame
        self._pending = np.zeros((self.channels, 0), dtype=np.int16)

    def frames(self, block):
        """Return (frames, first) for the complete frames now available and the stream index of the first."""
        check_block(block, self.channels, self.owner)
        first = self.position
        if not self._pending.shape[1] and block.shape[1] == self.length:
            # The engine's tick is one frame: no copy.
            self.position += self.length
            return block.reshape(self.channels, 1, self.length), first
        if self._pending.shape[1]:
            block = np.concatenate((self._pending, block), axis=1)
        count = block.shape[1] // self.length
        used = count * self.length
        self._pending = block[:, used:].copy()
        self.position += used
        return block[:, :used].reshape(self.channels, count, self.length), first
