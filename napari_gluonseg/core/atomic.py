"""Files that are never half-written and never read leniently.

Every file the package writes goes through :func:`write_files`: each one is written to a
temporary name in its own folder, flushed to disk, and only then renamed over its final name, so
an interrupted write (Ctrl-C, full disk, killed process) leaves the old files untouched. Temporary
names end in ``{pid}-{random}``, so :func:`remove_stale_temps` can tell a killed writer's
leftovers from those of a writer still running in another process.

A set of files that must change together (an export) goes through :func:`write_set`: its
temporaries are written first, then a journal naming them, then the renames. A set interrupted
between its renames is finished from its journal by :func:`finish_interrupted_sets`, so the
folder holds the whole old set (no journal yet) or the whole new one, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from .errors import ExportError

logger = logging.getLogger(__name__)

TEMP_MARK = ".tmp-"
# Writers touch their temporaries continuously (downloads time out after minutes of silence):
# one untouched this long is stale even if its pid is alive again (pids are reused).
STALE_AFTER_S = 3600
_OWNER_PID = re.compile(r"-([0-9]+)-\w{8}$")
# Process ids as files may give them: 1 up to what every platform's fit (0 and negatives name
# groups of processes to os.kill; a number beyond C's long made it raise OverflowError).
_PID_RANGE = range(1, 2**31)
JOURNAL_SUFFIX = ".journal.json"
_SET_JOURNAL_END = f"_set{JOURNAL_SUFFIX}"
# Journals this process is committing now: not to be finished by another thread meanwhile.
_COMMITTING: set[Path] = set()
_COMMITTING_LOCK = threading.Lock()


def temp_name(prefix: str) -> str:
    """``{prefix}{pid}-{random}``: a name no other writer uses, that says who wrote it."""
    return f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"


# What a temporary adds to its file's name: a dot, TEMP_MARK, a pid (Linux's are at most 7
# digits; 10 leaves room) and the random part. Any process must be able to rewrite the file.
_TEMP_EXTRA = len(f".{TEMP_MARK}{'9' * 10}-{secrets.token_hex(4)}")
_DEFAULT_NAME_MAX = 255  # bytes: Linux, macOS and Windows file systems alike


def longest_name(folder: Path) -> int:
    """The longest file name (in bytes of the file system's encoding) that
    :func:`write_files` can write into ``folder``: its temporary's name must fit too."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        limit = os.pathconf(existing, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer
        limit = _DEFAULT_NAME_MAX
    return (limit if limit > 0 else _DEFAULT_NAME_MAX) - _TEMP_EXTRA


def written_path(exc: OSError, paths: Iterable[Path]) -> Path | None:
    """Which of ``paths`` an error of :func:`write_files` or :func:`write_set` was about (it
    names the file's temporary, or the file), or None when it names none of them."""
    named = {Path(f).name for f in (exc.filename, exc.filename2) if f is not None}
    for path in paths:
        prefix = f".{path.name.lstrip('.')}{TEMP_MARK}"
        if path.name in named or any(name.startswith(prefix) for name in named):
            return path
    return None


def temp_dir(folder: Path, prefix: str) -> tempfile.TemporaryDirectory:
    """A scratch folder ``{prefix}{pid}-{random}`` in ``folder``, removed on exit."""
    return tempfile.TemporaryDirectory(dir=folder, prefix=f"{prefix}{os.getpid()}-")


def write_files(contents: Mapping[Path, bytes]) -> None:
    """Write a set of files so that it is either all new or all old, unless interrupted
    between its renames (use :func:`write_set` where that matters).

    All temporaries are written and synced first, then renamed in the mapping's order (put the
    file that vouches for the others last). On any failure, KeyboardInterrupt included, the
    temporaries are removed and the final names keep what they held.
    """
    temps = _write_temps(contents)
    try:
        for path, tmp in temps.items():
            os.replace(tmp, path)
    finally:
        _remove_temps(temps.values())
    for folder in {path.parent for path in contents}:
        sync_folder(folder)


def write_set(contents: Mapping[Path, bytes], journal: Path, remove: Iterable[Path] = ()) -> None:
    """Replace a set of files in ``journal``'s folder by ``contents``, removing ``remove``: all
    old or, once the journal is written, all new.

    The temporaries are written and synced, then ``journal`` (which names them) is written
    atomically, then the renames and removals follow. Interrupted before the journal, the old
    files stay; after it, :func:`finish_interrupted_sets` (here on failure, or by the next
    reader or writer) completes the new set.
    """
    folder = journal.parent
    if any(p.parent != folder for p in (*contents, *remove)):
        raise ValueError(f"a set's files must all be in {folder}")  # a bug, not a bad input
    temps = _write_temps(contents)
    record = {
        "pid": os.getpid(),
        "renames": [[tmp.name, path.name] for path, tmp in temps.items()],
        "remove": sorted({p.name for p in remove} - {p.name for p in contents}),
    }
    with _COMMITTING_LOCK:
        _COMMITTING.add(journal)
    committed = False
    try:
        try:
            write_files({journal: json.dumps(record, indent=1).encode()})
        finally:
            committed = journal.exists()  # even if interrupted after its rename
            if not committed:
                _remove_temps(temps.values())
        _commit(journal, record)
    except BaseException:
        if committed:
            with contextlib.suppress(Exception):  # e.g. Ctrl-C mid-way: the rest takes a moment
                _commit(journal, record)
        raise
    finally:
        with _COMMITTING_LOCK:
            _COMMITTING.discard(journal)


def set_journal(folder: Path, stem: str) -> Path:
    """The journal of the set ``stem`` in ``folder`` (see :func:`write_set`)."""
    return folder / f".{stem}{_SET_JOURNAL_END}"


def finish_interrupted_sets(
    folder: Path, holds: Callable[[str, str], bool] = lambda stem, name: True
) -> list[Path]:
    """Complete the sets whose writer was interrupted between renames in ``folder`` (its
    journal is there, its writer gone); returns their journals. A journal of a writer still
    at work (another process, another thread) is left to it.

    A journal is a file anyone could have put there: it may name only plain names in its own
    folder, ``{stem}_*`` files that ``holds(stem, name)`` (its set's own), renamed from their
    own temporaries (regular files, not links). Raises :class:`ExportError` naming a journal
    that cannot be read or names anything else; that journal is kept and nothing is changed.
    """
    finished = []
    for journal in sorted(folder.glob(f".*{JOURNAL_SUFFIX}")) if folder.is_dir() else ():
        with _COMMITTING_LOCK:
            if journal in _COMMITTING:
                continue
        try:
            record = json.loads(journal.read_text(encoding="utf-8"))
            owner = pid_of(record["pid"])
            if owner is None:
                raise ValueError(f"its 'pid', {record['pid']!r}, is not a process id")
            _check_record(journal, record, holds)
        except FileNotFoundError:
            continue  # finished meanwhile
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ExportError(
                f"Cannot read {journal}, the record of an interrupted export: {exc}; nothing "
                "was changed. Check the files it names in its folder, then remove it."
            ) from exc
        mine = owner == os.getpid()
        if not mine and _pid_alive(owner) and _age_s(journal) < STALE_AFTER_S:
            continue
        logger.info("Finishing the export interrupted in %s (%s).", folder, journal.name)
        try:
            _commit(journal, record)
        except OSError as exc:  # e.g. a folder now read-only
            raise ExportError(
                f"Cannot finish the export interrupted in {folder} ({journal.name}): {exc}"
            ) from exc
        finished.append(journal)
    return finished


def _check_record(journal: Path, record: dict, holds: Callable[[str, str], bool]) -> None:
    """Raises ValueError naming the first entry of ``record`` that reaches outside the set."""
    if not (journal.name.startswith(".") and journal.name.endswith(_SET_JOURNAL_END)):
        raise ValueError(f"not a set's journal name (.STEM{_SET_JOURNAL_END})")
    stem = journal.name[1 : -len(_SET_JOURNAL_END)]

    def own(name: object) -> None:
        if not (isinstance(name, str) and _is_plain_name(name)):
            raise ValueError(f"{name!r} is not a plain file name in its folder")
        if not (name.startswith(f"{stem}_") and holds(stem, name)):
            raise ValueError(f"{name!r} is not a file of the set {stem!r}")

    for tmp, name in record["renames"]:
        own(name)
        temporary = isinstance(tmp, str) and _is_plain_name(tmp)
        if not (temporary and tmp.startswith(f".{name}{TEMP_MARK}")):
            raise ValueError(f"{tmp!r} is not a temporary of {name!r}")
        if (journal.parent / tmp).is_symlink():
            raise ValueError(f"{tmp!r} is a link, not a file written for the set")
    for name in record["remove"]:
        own(name)


def _is_plain_name(name: str) -> bool:
    """A name of a file in the folder itself: no separator (either OS's), not . or .., no NUL."""
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def _commit(journal: Path, record: dict) -> None:
    """The renames and removals ``journal`` records, then the journal removed. Done twice
    (two readers finishing one set) it does no harm: what is done already is skipped."""
    folder = journal.parent
    for tmp, name in record["renames"]:
        with contextlib.suppress(FileNotFoundError):  # renamed already
            os.replace(folder / tmp, folder / name)
    for name in record["remove"]:
        (folder / name).unlink(missing_ok=True)
    sync_folder(folder)
    journal.unlink(missing_ok=True)
    sync_folder(folder)


def _write_temps(contents: Mapping[Path, bytes]) -> dict[Path, Path]:
    """Each file's bytes in a synced temporary beside it; none left behind on failure."""
    temps: dict[Path, Path] = {}
    try:
        for path, data in contents.items():
            # One leading dot: a journal's temporary (``.x_set...``) matches ``.x_*`` too.
            temps[path] = path.with_name(temp_name(f".{path.name.lstrip('.')}{TEMP_MARK}"))
            with open(temps[path], "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except OSError as exc:
        _remove_temps(temps.values())
        if exc.filename is None and temps:  # a full disk's write or fsync names no file
            exc.filename = str(list(temps.values())[-1])
        raise
    except BaseException:
        _remove_temps(temps.values())
        raise
    return temps


def _remove_temps(temps: Iterable[Path]) -> None:
    for tmp in temps:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def sync_file(path: Path) -> None:
    """Flush ``path`` to disk (before renaming it into place)."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def sync_folder(folder: Path) -> None:
    """Make renames in ``folder`` durable (where the platform can open a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temps(folder: Path, pattern: str) -> list[Path]:
    """Remove the temporaries matching the glob ``pattern`` in ``folder`` left by dead writers.

    A temporary is stale when the pid in its name is not running, or when nothing in it changed
    for ``STALE_AFTER_S`` (a reused pid, or a name without one). Returns what was removed.
    """
    removed = []
    for path in folder.glob(pattern) if folder.is_dir() else ():
        found = _OWNER_PID.search(path.name)  # no pid: unknown; one no process has: dead
        owner = pid_of(int(found.group(1))) if found else None
        owner_alive = found is None or (owner is not None and _pid_alive(owner))
        if owner_alive and _age_s(path) < STALE_AFTER_S:
            continue
        logger.info("Removing %s, left by an interrupted run.", path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        removed.append(path)
    return removed


LOCK_NAME = ".napari-gluonseg.lock"
_HELD_LOCKS: set[Path] = set()  # the folder locks this process holds now


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder`` for one writer: a second run into it is refused (two batches into one
    folder replaced each other's results). A lock left by a process that is gone is taken
    over. Raises :class:`ExportError` naming the process that holds it."""
    lock = folder / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is not None and _pid_alive(holder):
                raise ExportError(
                    f"Another run (process {holder}) is writing into {folder}: wait for it to "
                    f"end, or give another output folder. (If none is running, remove {lock}.)"
                ) from None
            logger.info("Taking over %s, left by a run that ended without removing it.", lock)
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        break
    else:
        raise ExportError(f"Could not take {lock}: another run keeps making it.")
    _HELD_LOCKS.add(lock)
    try:
        yield
    finally:
        _HELD_LOCKS.discard(lock)
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def release_held_locks() -> None:
    """Remove the folder locks this process holds, for a process about to end at once
    (a second Ctrl-C) without leaving its ``with folder_lock(...)`` blocks."""
    for lock in list(_HELD_LOCKS):
        if _lock_holder(lock) == os.getpid():
            with contextlib.suppress(OSError):
                lock.unlink()
        _HELD_LOCKS.discard(lock)


def _lock_holder(lock: Path) -> int | None:
    try:
        text = lock.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return pid_of(int(text)) if re.fullmatch(r"[0-9]+", text) else None


def pid_of(value: object) -> int | None:
    """``value`` as a process id (an int, not a bool, in :data:`_PID_RANGE`), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value in _PID_RANGE:
        return value
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # none, or none that can be
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _age_s(path: Path) -> float:
    try:
        newest = max([path.stat().st_mtime, *(p.stat().st_mtime for p in path.glob("*"))])
    except FileNotFoundError:
        return 0.0
    return time.time() - newest


@contextlib.contextmanager
def strict_image_reads() -> Iterator[None]:
    """PIL refuses truncated files inside this block, whatever another library set globally.

    gluoncv sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole process; a
    truncated labels PNG would then read with its missing rows as 0.
    """
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
