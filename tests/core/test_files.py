"""Atomic sets of files and the cleanup of temporaries left by killed writers."""

import os
import subprocess

import pytest

from napari_gluonseg.core import files


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_set_interrupted_mid_write_leaves_the_old_files_and_no_temp(tmp_path, monkeypatch, error):
    a, b = tmp_path / "a.png", tmp_path / "b.csv"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")
    calls = []

    def full_disk(fd):  # the second file's bytes are in the temp file when the disk fills up
        calls.append(fd)
        if len(calls) == 2:
            raise error

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(type(error)):
        files.write_files({a: b"new a", b: b"new b" * 1000})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.csv"]
    assert a.read_bytes() == b"old a" and b.read_bytes() == b"old b"
    monkeypatch.undo()
    files.write_files({a: b"new a", b: b"new b"})
    assert a.read_bytes() == b"new a" and b.read_bytes() == b"new b"


def test_only_temporaries_of_dead_or_silent_writers_are_removed(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    killed = tmp_path / f".x.png{files.TEMP_MARK}{dead.pid}-0123abcd"
    running = tmp_path / files.temp_name(f".x.png{files.TEMP_MARK}")
    silent = tmp_path / ".x.png.tmp-legacy"  # no pid in the name: judged by age
    for path in (killed, running, silent):
        path.write_bytes(b"partial")
    os.utime(silent, (0, 0))
    removed = files.remove_stale_temps(tmp_path, f".x.png{files.TEMP_MARK}*")
    assert sorted(removed) == sorted([killed, silent]) and running.exists()
