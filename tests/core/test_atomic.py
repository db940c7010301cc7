"""Atomic sets of files and the cleanup of temporaries left by killed writers."""

import json
import os
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_gluonseg.core import atomic as files
from napari_gluonseg.core.errors import ExportError


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


def test_a_set_is_finished_from_its_journal_only_once_its_writer_is_gone(tmp_path):
    """A reader must not rename a live writer's files under it; a dead writer's it finishes."""
    (tmp_path / "a_labels.png").write_bytes(b"old a")
    (tmp_path / "a_gone.csv").write_bytes(b"old, not in the new set")
    (tmp_path / ".a_labels.png.tmp-1-0123abcd").write_bytes(b"new a")
    journal = tmp_path / f".a_set{files.JOURNAL_SUFFIX}"
    writer = subprocess.Popen(["sleep", "60"])
    try:
        record = {"pid": writer.pid, "renames": [[".a_labels.png.tmp-1-0123abcd", "a_labels.png"]]}
        journal.write_text(json.dumps({**record, "remove": ["a_gone.csv"]}))
        assert files.finish_interrupted_sets(tmp_path) == []
        assert (tmp_path / "a_labels.png").read_bytes() == b"old a"
    finally:
        writer.kill()
        writer.wait()
    assert files.finish_interrupted_sets(tmp_path) == [journal]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_labels.png"]
    assert (tmp_path / "a_labels.png").read_bytes() == b"new a"


def test_a_set_interrupted_just_after_its_journal_is_written_is_finished(tmp_path, monkeypatch):
    """Its temporaries are kept while its journal stands, so that finishing it renames them into
    place; without them it would remove the old set's extra files (kept scores, overlay) and
    rename nothing."""
    a, extra = tmp_path / "a_labels.png", tmp_path / "a_scores.npz"
    a.write_bytes(b"old a")
    extra.write_bytes(b"old scores")
    real_sync, calls = files.sync_folder, []

    def interrupted(folder):  # the first sync is the journal's, just after its rename
        if not calls:
            calls.append(folder)
            raise KeyboardInterrupt
        real_sync(folder)

    monkeypatch.setattr(files, "sync_folder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_set({a: b"new a"}, tmp_path / f".a_set{files.JOURNAL_SUFFIX}", remove=[extra])
    monkeypatch.undo()
    files.finish_interrupted_sets(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_labels.png"]
    assert a.read_bytes() == b"new a"


_PIECES = ["a_", "b_", "..", "/", "\\", ".", "labels.png", "x", "\0", "outside", ".tmp-1-0123abcd"]
_NAMES = st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)


@settings(max_examples=150, deadline=None)
@given(renames=st.lists(st.tuples(_NAMES, _NAMES), max_size=3), remove=st.lists(_NAMES, max_size=3))
def test_whatever_a_journal_names_nothing_outside_its_set_changes(
    tmp_path_factory, renames, remove
):
    root = tmp_path_factory.mktemp("j")
    folder = root / "set"
    folder.mkdir()
    outside = [root / "outside", folder / "b_labels.png"]  # beyond the folder; another set's
    for path in outside:
        path.write_bytes(b"keep")
    (folder / ".a_labels.png.tmp-1-0123abcd").symlink_to(root / "outside")
    journal = folder / f".a_set{files.JOURNAL_SUFFIX}"
    journal.write_text(json.dumps({"pid": _dead_pid(), "renames": renames, "remove": remove}))
    try:
        files.finish_interrupted_sets(folder)
    except ExportError as exc:
        assert journal.name in str(exc) and journal.exists()  # refused, kept, named
    assert all(path.read_bytes() == b"keep" for path in outside)


def _dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


# Numbers a crafted file may give where a process id is read: os.kill raised OverflowError for
# the first (out of C's range), and 0, -1 or true named this process's group, every process or
# init, alive for ever.
_NOT_PIDS = ["99999999999999999999", "0", "-1", "true", "1.5", '"12"', '"١٢"']


@pytest.mark.parametrize("pid", _NOT_PIDS)
def test_a_journal_whose_pid_is_not_a_process_id_is_refused_naming_it(tmp_path, pid):
    (tmp_path / "a_labels.png").write_bytes(b"old a")
    (tmp_path / ".a_labels.png.tmp-1-0123abcd").write_bytes(b"new a")
    journal = tmp_path / f".a_set{files.JOURNAL_SUFFIX}"
    renames = [[".a_labels.png.tmp-1-0123abcd", "a_labels.png"]]
    journal.write_text(f'{{"pid": {pid}, "renames": {json.dumps(renames)}, "remove": []}}')
    with pytest.raises(ExportError, match=rf"{journal}.*pid"):
        files.finish_interrupted_sets(tmp_path)
    assert (tmp_path / "a_labels.png").read_bytes() == b"old a" and journal.exists()


@pytest.mark.parametrize("pid", ["99999999999999999999", "0", "١٢"])
def test_a_lock_whose_pid_is_not_a_process_id_is_taken_over(tmp_path, pid):
    """A crafted lock must neither crash the batch (OverflowError) nor hold the folder for ever."""
    (tmp_path / files.LOCK_NAME).write_text(pid)
    with files.folder_lock(tmp_path):
        assert (tmp_path / files.LOCK_NAME).read_text() == str(os.getpid())
    assert not (tmp_path / files.LOCK_NAME).exists()


def test_a_temporary_whose_name_holds_no_process_id_is_judged_by_age(tmp_path):
    """A temporary named with a pid beyond any process must not crash exports into the folder."""
    huge = tmp_path / f".x.png{files.TEMP_MARK}99999999999999999999-0123abcd"
    other = tmp_path / f".x.png{files.TEMP_MARK}١٢-0123abcd"  # not ASCII digits
    for path in (huge, other):
        path.write_bytes(b"partial")
    assert files.remove_stale_temps(tmp_path, f".x.png{files.TEMP_MARK}*") == [huge]
    os.utime(other, (0, 0))
    assert files.remove_stale_temps(tmp_path, f".x.png{files.TEMP_MARK}*") == [other]
