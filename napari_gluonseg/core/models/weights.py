"""Where network weights come from: GluonCV's model zoo (cached, sha1-checked) or a local file.

We follow gluoncv's own conventions (``$MXNET_HOME/models``, ``$MXNET_GLUON_REPO`` mirrors,
``{name}-{sha1[:8]}.params`` inside ``{name}-{sha1[:8]}.zip``) but download ourselves, so that
progress reaches the UI and a partial or corrupt download never lands under the final name.
A download ends with an error past an overall deadline or below a minimum rate (see
:class:`DownloadLimits`), and folders left by killed downloads are removed by the next one.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Generator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..atomic import remove_stale_temps, sync_file, temp_dir
from ..errors import WeightsError, WeightsUnavailableError
from ..events import Progress, Stage
from .card import model_row
from .registry import model_info

logger = logging.getLogger(__name__)

APACHE_REPO_URL = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"
READ_TIMEOUT_S = 30  # one connect or read; the limits below bound the whole download
_CHUNK_BYTES = 1 << 20
_DOWNLOAD_PREFIX = ".download-"


@dataclass(frozen=True)
class DownloadLimits:
    """When a download gives up.

    Attributes
    ----------
    deadline_s : float
        Longest a whole download may take (``$GLUONSEG_DOWNLOAD_TIMEOUT``, default 3600 s:
        ~160 MB at 45 kB/s). 0 = no deadline.
    min_rate : float
        Slowest average rate, in bytes/s, over each ``grace_s`` window after the first
        (``$GLUONSEG_DOWNLOAD_MIN_RATE``, default 10000). 0 = no minimum.
    grace_s : float
        The window (``$GLUONSEG_DOWNLOAD_GRACE``, default 30 s): a mirror that trickles a byte
        every few seconds ends after it; one that sends nothing, after ``READ_TIMEOUT_S``.
        While ``min_rate`` is on, the response headers must all come within one window too
        (a mirror trickling header lines would otherwise hold the download to ``deadline_s``).
    """

    deadline_s: float = 3600.0
    min_rate: float = 10_000.0
    grace_s: float = 30.0

    @classmethod
    def from_env(cls) -> DownloadLimits:
        """The defaults, with the ``GLUONSEG_DOWNLOAD_*`` environment variables applied."""
        defaults = cls()
        values: dict[str, float] = {}
        for field in fields(cls):
            name = _LIMIT_VARIABLES[field.name]
            text = os.environ.get(name, "").strip()
            try:
                values[field.name] = float(text) if text else getattr(defaults, field.name)
            except ValueError:
                values[field.name] = -1.0
            if not values[field.name] >= 0:  # also refuses nan
                raise WeightsError(f"{name} must be a number >= 0; got {text!r}.")
        return cls(**values)


_LIMIT_VARIABLES = {
    "deadline_s": "GLUONSEG_DOWNLOAD_TIMEOUT",
    "min_rate": "GLUONSEG_DOWNLOAD_MIN_RATE",
    "grace_s": "GLUONSEG_DOWNLOAD_GRACE",
}


@dataclass(frozen=True)
class ResolvedWeights:
    """A weights file on disk, its sha1 and where it came from (``"zoo"`` or ``"file"``)."""

    path: Path
    sha1: str
    source: str


def cache_dir() -> Path:
    """GluonCV's model cache: ``$MXNET_HOME/models``, by default ``~/.mxnet/models``."""
    home = os.environ.get("MXNET_HOME")
    base = Path(home) if home else Path("~/.mxnet")
    return (base / "models").expanduser()


def repo_url() -> str:
    """The zoo's base URL: ``$MXNET_GLUON_REPO`` if set, else Apache's S3 bucket."""
    url = os.environ.get("MXNET_GLUON_REPO") or APACHE_REPO_URL
    return url if url.endswith("/") else url + "/"


def zoo_sha1(model_name: str) -> str:
    """The sha1 of the pretrained weights (GluonCV's model store, vendored in the model card)."""
    model_info(model_name)  # unknown names fail here, with the list of valid ones
    return model_row(model_name).sha1


def zoo_file_name(model_name: str) -> str:
    """``fcn_resnet50_ade-3479525a.params``: the file name gluoncv caches the weights under."""
    return f"{model_name}-{zoo_sha1(model_name)[:8]}.params"


def zoo_url(model_name: str) -> str:
    return f"{repo_url()}gluon/models/{Path(zoo_file_name(model_name)).stem}.zip"


def file_sha1(path: Path) -> str:
    """The file's sha1, remembered per (path, size, mtime): hashing 100+ MB costs ~0.1 s a run."""
    st = os.stat(path)
    return _sha1_of(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha1_of(path: str, _size: int, _mtime_ns: int) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def offline_help(model_name: str) -> str:
    """How to get the pretrained weights onto this machine by hand."""
    home = os.environ.get("MXNET_HOME", "not set")
    repo = os.environ.get("MXNET_GLUON_REPO", "not set")
    return (
        f"  needed file:  {zoo_file_name(model_name)} (sha1 {zoo_sha1(model_name)})\n"
        f"  cache folder: {cache_dir()} (MXNET_HOME, now {home}, moves it to $MXNET_HOME/models)\n"
        f"  download URL: {zoo_url(model_name)}\n"
        f"                (MXNET_GLUON_REPO, now {repo}, points it at a mirror)\n"
        f"To work offline, download the .zip elsewhere and unzip it: it holds "
        f"{zoo_file_name(model_name)}; copy that file into the cache folder, or use it as a "
        "local weights file:\n"
        f"  command line: napari-gluonseg segment IMAGE --model {model_name} --weights PATH\n"
        "  napari: the widget's 'weights file'\n"
        "  Python: weights=PATH"
    )


def resolve_local_weights(path: str | os.PathLike) -> ResolvedWeights:
    """Check that a user-given weights file exists and is readable; hash it for provenance."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise WeightsError(
            f"Weights file {p} does not exist or is not a file. "
            "Give the path of a .params file saved by gluon (net.save_parameters)."
        )
    try:
        sha1 = file_sha1(p)
    except OSError as exc:
        raise WeightsError(f"Cannot read weights file {p}: {exc}") from exc
    return ResolvedWeights(path=p.resolve(), sha1=sha1, source="file")


def iter_zoo_weights(
    model_name: str, limits: DownloadLimits | None = None
) -> Generator[Progress, None, ResolvedWeights]:
    """Find the pretrained weights in the cache, downloading them if needed.

    Yields download progress in bytes; returns the checked file. A cached file whose sha1 does
    not match is downloaded again; on any failure nothing is left under the final file name.
    ``limits`` (default: :meth:`DownloadLimits.from_env`) bound the download's time and rate.
    """
    limits = limits or DownloadLimits.from_env()
    model_info(model_name)  # unknown names fail here, with the list of valid ones
    expected = zoo_sha1(model_name)
    target = cache_dir() / zoo_file_name(model_name)
    if target.is_file():
        if file_sha1(target) == expected:
            return ResolvedWeights(target, expected, "zoo")
        logger.warning("Cached weights %s fail their sha1 check; downloading again.", target)
    elif target.exists():  # the download would end on it, replacing nothing
        raise WeightsUnavailableError(
            f"{target} is a folder, where the weights file goes: move it out of the way (it "
            "is never removed for you), or set MXNET_HOME to another cache.\n"
            + offline_help(model_name)
        )

    url = zoo_url(model_name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):  # read-only: say so before downloading
            pass
    except OSError as exc:
        raise WeightsUnavailableError(
            f"Cannot write into the weights cache folder {target.parent}: {exc}\n"
            + offline_help(model_name)
        ) from exc
    remove_stale_temps(target.parent, f"{_DOWNLOAD_PREFIX}*")
    with temp_dir(target.parent, _DOWNLOAD_PREFIX) as tmp:
        zip_path = Path(tmp) / "weights.zip"
        try:
            yield from _download(url, zip_path, model_name, limits)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            _raise_if_disk_full(exc, target.parent, model_name)
            reason = getattr(exc, "reason", exc)
            raise WeightsUnavailableError(
                f"Could not download the pretrained weights of {model_name} from {url}: "
                f"{reason}\n" + offline_help(model_name)
            ) from exc
        params = _extract_params(zip_path, target.name, url, model_name)
        got = file_sha1(params)
        if got != expected:  # unavailable as surely as a refused connection
            raise WeightsUnavailableError(
                f"The weights downloaded from {url} have sha1 {got}, expected {expected}: "
                "the download or the mirror is corrupt. Nothing was saved; try again, or set "
                "MXNET_GLUON_REPO to another mirror.\n" + offline_help(model_name)
            )
        sync_file(params)
        os.replace(params, target)  # atomic: the final name only ever holds checked weights
    return ResolvedWeights(target, expected, "zoo")


def _download(
    url: str, dest: Path, model_name: str, limits: DownloadLimits
) -> Generator[Progress, None, None]:
    start = window_start = time.monotonic()
    done = window_done = 0
    response = _open_within(url, limits)
    with response, open(dest, "wb") as f:
        total = int(response.headers.get("Content-Length") or 0)
        # read1: whatever has arrived, so a trickle cannot hold one read open for ever.
        while chunk := response.read1(_CHUNK_BYTES):
            f.write(chunk)
            done += len(chunk)
            now = time.monotonic()
            if limits.deadline_s and now - start > limits.deadline_s:
                raise TimeoutError(
                    f"gave up after {now - start:.0f} s with {done} of {total or '?'} bytes "
                    f"(GLUONSEG_DOWNLOAD_TIMEOUT={limits.deadline_s:g} s)"
                )
            if now - window_start >= limits.grace_s:
                rate = (done - window_done) / (now - window_start)
                if rate < limits.min_rate:
                    raise TimeoutError(
                        f"too slow: {rate:.0f} bytes/s over {now - window_start:.0f} s "
                        f"(GLUONSEG_DOWNLOAD_MIN_RATE={limits.min_rate:g} bytes/s)"
                    )
                window_start, window_done = now, done
            message = f"downloading {model_name} weights"
            yield Progress(Stage.WEIGHTS, done, total, message, notice=True)
    if total and done != total:
        raise ValueError(f"connection closed after {done} of {total} bytes")


def _header_wait(limits: DownloadLimits) -> tuple[float, str]:
    """How long the connection and the response headers may take (0: no limit), and the
    setting that says so: the body's stall window while the minimum rate is on."""
    waits = [(limits.deadline_s, f"GLUONSEG_DOWNLOAD_TIMEOUT={limits.deadline_s:g} s")]
    if limits.min_rate and limits.grace_s:
        waits.append((limits.grace_s, f"GLUONSEG_DOWNLOAD_GRACE={limits.grace_s:g} s"))
    return min((w for w in waits if w[0]), default=(0.0, ""))


def _open_within(url: str, limits: DownloadLimits) -> Any:
    """``urlopen(url)`` whose connection and headers come within :func:`_header_wait`: each
    header line only has to come within the read timeout, so a mirror that trickles them would
    hold the download for ever. The opening runs in a helper thread that is left to its
    socket's timeout if the wait passes."""
    wait_s, setting = _header_wait(limits)
    outcome: list[Any] = []

    def open_url() -> None:
        try:
            outcome.append(urllib.request.urlopen(url, timeout=READ_TIMEOUT_S))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    opener = threading.Thread(target=open_url, daemon=True)
    opener.start()
    opener.join(wait_s or None)
    if not outcome:
        raise TimeoutError(f"no complete response headers within {wait_s:g} s ({setting})")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _extract_params(zip_path: Path, member: str, url: str, model_name: str) -> Path:
    try:
        with (
            zipfile.ZipFile(zip_path) as zf,
            zf.open(member) as src,
            open(zip_path.with_suffix(".params"), "wb") as dst,
        ):
            shutil.copyfileobj(src, dst, _CHUNK_BYTES)
    except (zipfile.BadZipFile, KeyError, EOFError, OSError) as exc:
        _raise_if_disk_full(exc, zip_path.parent.parent, model_name)  # the cache folder
        raise WeightsUnavailableError(
            f"The file downloaded from {url} is not a complete weights archive "
            f"containing {member} ({exc}). Nothing was saved; try again.\n"
            + offline_help(model_name)
        ) from exc
    return zip_path.with_suffix(".params")


def _raise_if_disk_full(exc: BaseException, folder: Path, model_name: str) -> None:
    """Say a full disk as such: it is neither the mirror's fault nor cured by trying again."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise WeightsUnavailableError(
            f"The disk is full: no space left for the weights in {folder} ({exc.strerror}). "
            "Nothing was saved; free some space there, or set MXNET_HOME to a folder on "
            "another disk.\n" + offline_help(model_name)
        ) from exc


def iter_resolve_weights(
    model_name: str, weights: str | os.PathLike | None
) -> Generator[Progress, None, ResolvedWeights]:
    """``weights=None``: the zoo's pretrained weights; otherwise a local ``.params`` file."""
    if weights is None:
        return (yield from iter_zoo_weights(model_name))
    yield Progress(Stage.WEIGHTS, 0, 1, f"reading {Path(weights).name}")
    return resolve_local_weights(weights)
