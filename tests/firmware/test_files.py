"""Configuration files replaced atomically, the replaced version kept as `<name>.prev`."""
import os

import pytest

from firmware.core.files import FileWriteError, previous_of, write_atomic


def test_a_new_file_is_written_and_a_replaced_one_is_kept(tmp_path):
    path = tmp_path / "flows" / "main.toml"
    write_atomic(path, b"one")
    assert path.read_bytes() == b"one" and not previous_of(path).exists()
    write_atomic(path, b"two")
    write_atomic(path, b"three")
    assert path.read_bytes() == b"three" and previous_of(path).read_bytes() == b"two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["main.toml", "main.toml.prev"]


def test_without_keeping_the_previous_version_it_is_left_alone(tmp_path):
    path = tmp_path / "main.toml"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    write_atomic(path, b"one", keep_previous=False)
    assert path.read_bytes() == b"one" and previous_of(path).read_bytes() == b"one"


def test_a_failed_replace_leaves_the_old_file_whole_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "main.toml"
    write_atomic(path, b"old")
    real_replace = os.replace

    def failing(src, dst):
        if str(dst) == str(path):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(FileWriteError, match="main.toml: not written: No space left on device"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.toml", "main.toml.prev"]
