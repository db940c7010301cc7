"""Command line: segment images, files, folders or globs (here or on a Dask cluster); the demo;
the list of models and of the shipped label schemes; the model cache and portable ONNX model
files.

Exit codes: 0 done (every image segmented or skipped as already done), 1 some images failed
(each is named with its reason, and in OUT/summary.csv), 2 bad arguments (checked before any
image is read), 3 weights unavailable (e.g. offline), 130 stopped by Ctrl-C (rerun to resume).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from . import __version__
from .core.atomic import release_held_locks, written_path
from .core.batch.ctrl_c import stop_on_ctrl_c
from .core.batch.folder import BatchPlan, plan_batch, run_batch, summary_of
from .core.batch.inputs import BatchItem
from .core.batch.summary import SUMMARY_COLUMNS, BatchSummary, ImageReport, write_summary
from .core.errors import ExportError, ExportExistsError, GluonsegError, WeightsUnavailableError
from .core.events import Progress, Stage
from .core.files.export import existing_export_files, write_result
from .core.models.registry import DATASET_TITLES, DEFAULT_MODEL, model_info, model_names
from .core.provenance import weights_note
from .core.run.options import RunOptions
from .core.run.segment import ENGINES, iter_segment, run_to_end

EXIT_SOME_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NO_WEIGHTS = 3
EXIT_STOPPED = 130  # the shell's code for Ctrl-C


_SEGMENT_HELP = """Segment images into --out, one at a time (per worker).

Each image's results keep its path relative to the folder given, the glob's folders before
its first wildcard, or (a file) its own folder: photos/a/x.jpg -> OUT/a/x_labels.png with
x_classes.csv and x_provenance.json (x_overlay.png with --overlay, x_prob-class.png with --prob,
x_scores.npz with --keep-scores).
A bad image is reported and the batch goes on. A rerun skips the images whose results were
made from the same file (size, blake2b) with the same settings; --overwrite redoes them.
Ctrl-C stops after the running image(s); rerun to resume. OUT/{summary} has one row per
image: {columns}.

Exit codes: 0 all done, 1 some failed, 2 bad arguments, 3 weights unavailable, 130 stopped.
""".format(summary="summary.csv", columns=", ".join(SUMMARY_COLUMNS))


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default in --help, once; descriptions keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        """argparse's ``(default: ...)`` where the help does not say the default itself, and
        the default is a value: not None, a flag's False or an empty list."""
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, []):
            return text
        return super()._get_help_string(action)


def _scale(text: str) -> float | str:
    try:
        return text if text == "auto" else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a number; got {text!r}") from None


def _tile(text: str) -> int | str | None:
    if text in ("auto", "none"):
        return None if text == "none" else text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto', 'none' or an integer; got {text!r}"
        ) from None


def _factors(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, e.g. 0.75,1.25; got {text!r}"
        ) from None


class _ProgressLine:
    """Progress on one line: rewritten in place on a terminal; in a log (not a terminal),
    each new message once, on a line of its own."""

    def __init__(self) -> None:
        self._tty = sys.stdout.isatty()
        self._last = ""

    def show(self, text: str) -> None:
        if self._tty:
            print(f"\r{text:<72}", end="", flush=True)
        elif text != self._last:
            print(text, flush=True)
        self._last = text

    def note(self, text: str) -> None:
        """A line that stays: on a terminal it replaces the progress line, which the next
        :meth:`show` starts again below it."""
        if self._tty:
            print(f"\r{text:<72}", flush=True)
        else:
            print(text, flush=True)
        self._last = ""

    def end(self) -> None:
        """Close the line (on a terminal)."""
        if self._tty:
            print()


class _Notices:
    """What a run says on lines of their own (:attr:`Progress.notice`: a long run's estimate, a
    download, the one-time preparation of the weights), each once, named by its image; the
    demo and ``segment`` both say them, whatever else shows their progress."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._last = ""

    def __call__(self, stem: str, event: Progress) -> None:
        """Say ``event`` if it is a notice not just said."""
        if not event.notice:
            return
        text = f"{stem}: {event.message}"
        if text != self._last:  # a download or an export repeats its message per step
            self._write(text)
        self._last = text


def _intensity_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI (two numbers); got {text!r}") from None
    return lo, hi


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help="model name (see 'models')")
    p.add_argument(
        "--weights",
        type=Path,
        help="local .params file instead of the model zoo, or a .onnx file made by export-onnx "
        "(runs with onnxruntime alone)",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="onnxruntime's threads (MXNet's too); default: all cores",
    )
    p.add_argument(
        "--scale",
        type=_scale,
        default="auto",
        help="working resolution: 'auto' (the model's base size on the long side) "
        "or a factor of the image's own (1.0 = full resolution)",
    )
    p.add_argument(
        "--tile-size",
        type=_tile,
        default="auto",
        help="windows: 'auto' (the whole image up to 2 MP, else a few large windows on the "
        "network's grid, sized to the memory available), 'none' (whole image at once) or "
        "pixels (GluonCV's sliding windows of that size, 2/3 stride)",
    )
    p.add_argument("--flip", action="store_true", help="test-time augmentation: mirrored pass")
    p.add_argument(
        "--tta-scales",
        type=_factors,
        default=[],
        metavar="F,F",
        help="test-time augmentation: extra passes at these factors of the working size",
    )
    p.add_argument(
        "--engine",
        choices=["auto", *(e.value for e in ENGINES)],  # argparse's errors list them by repr
        default="auto",
        help="auto: onnxruntime when installed, else mxnet",
    )
    p.add_argument(
        "--scheme",
        type=Path,
        help="label scheme file (.yaml/.csv), or a shipped scheme's name (see 'schemes'): your "
        "labels from the classes",
    )
    p.add_argument(
        "--classes",
        type=lambda t: [c.strip() for c in t.split(";") if c.strip()],
        help="predict only among these classes ('wall;sky;floor')",
    )
    p.add_argument(
        "--intensity-range",
        type=_intensity_range,
        metavar="LO,HI",
        help="image values mapped to black and white for the network, e.g. 0,4095 for 12-bit "
        "data in uint16 (none: by type: 8-bit /255, 16-bit /65535, others min-max)",
    )
    p.add_argument(
        "--min-confidence", type=float, default=0.0, help="below it pixels stay unlabeled (0)"
    )
    p.add_argument(
        "--prob", action="append", default=[], metavar="CLASS", help="save P(CLASS) (repeatable)"
    )
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing results of the same name in the output folder (else: "
        "segment skips images done with the same file and settings, demo refuses)",
    )


def _add_batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image file, folder or glob (quoted); results keep the path relative to the "
        "folder, the glob's folders before its first wildcard, or a file's own folder",
    )
    p.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--overlay", action="store_true", help="also write the image with its labels")
    p.add_argument(
        "--keep-scores",
        action="store_true",
        help="also write the probabilities on the network's coarse grid (x_scores.npz, float16): "
        "the review dock then shows any class's probability and the doubtful places",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, metavar="N", help="run on a local Dask cluster of N processes"
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (tcp://host:port); its workers must see the input "
        "and output folders at the same paths",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="napari-gluonseg", description=__doc__, formatter_class=_HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    seg = sub.add_parser(
        "segment",
        help="segment image files, folders or globs into an output folder",
        description=_SEGMENT_HELP,
        formatter_class=_HelpFormatter,
    )
    _add_batch_options(seg)
    _add_run_options(seg)
    demo = sub.add_parser(
        "demo",
        help="open napari with the widget and a sample photo; headless: segment the sample",
        formatter_class=_HelpFormatter,
    )
    demo.add_argument("--headless", action="store_true", help="never open a window")
    _add_run_options(demo)
    sub.add_parser("models", help="list the models")
    sub.add_parser(
        "schemes", help="list the label schemes shipped with the package (--scheme NAME)"
    )
    cache = sub.add_parser("cache", help="list the model cache (ONNX exports, zoo weights)")
    cache.add_argument("--clear", action="store_true", help="remove the ONNX exports")
    cache.add_argument(
        "--all", action="store_true", help="with --clear: the downloaded zoo weights too"
    )
    export = sub.add_parser(
        "export-onnx", help="write a portable .onnx model file that runs without mxnet"
    )
    export.add_argument("model", help="model name (see 'models')")
    export.add_argument("--weights", type=Path, help="local .params file (default: the zoo's)")
    export.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file")
    export.add_argument("--overwrite", action="store_true", help="replace an existing file")
    export.add_argument(
        "--exporter",
        choices=("builder", "mxnet"),
        help="who makes the graph: napari-gluonseg's builder (any model, no MXNet) or MXNet's "
        "exporter (FCN models, the [mxnet] extra); default: $GLUONSEG_ONNX_EXPORTER, else builder",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Our own messages at INFO; other libraries' (Dask's scheduler logs a few dozen lines per
    # batch at INFO) only from WARNING up.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("napari_gluonseg").setLevel(logging.INFO)
    args = build_parser().parse_args(argv)
    if args.command == "models":
        for name in model_names():
            info = model_info(name)
            print(f"{name:36s} {DATASET_TITLES[info.dataset]}, {info.num_classes} classes")
        return 0
    if args.command == "schemes":
        return _schemes()
    if args.command == "segment":
        return _segment_batch(args)
    if args.command == "cache":
        return _cache(args.clear, args.all)
    if args.command == "demo" and not args.headless and os.environ.get("DISPLAY"):
        return _open_napari()
    try:
        if args.command == "export-onnx":
            return _export_onnx(
                args.model, args.weights, args.output, args.overwrite, args.exporter
            )
        from ._sample_data import SAMPLE_NAME, sample_image

        image = sample_image()
        _check_outputs(SAMPLE_NAME, args.out, args.overwrite)
        _segment_one(SAMPLE_NAME, image, args)
    except GluonsegError as exc:
        return _report(exc)
    return 0


# Options that the package's messages name as Python arguments (``engine='mxnet'``).
_AS_OPTIONS = (
    "engine",
    "scale",
    "tile_size",
    "weights",
    "threads",
    "min_confidence",
    "workers",
    "scheduler",
)


def cli_spelling(message: str) -> str:
    """A message in the command line's words: ``engine='mxnet'`` -> ``--engine mxnet``."""
    names = "|".join(_AS_OPTIONS)
    return re.sub(
        rf"(?<!Python: )\b({names})=(?:'([^']*)'|([\w.]+))",  # a Python line stays Python
        lambda m: f"--{m[1].replace('_', '-')} {m[2] if m[2] is not None else m[3]}",
        message,
    )


def _report(exc: GluonsegError) -> int:
    """Tell the user what went wrong; return the exit status it stands for."""
    print(f"error: {cli_spelling(str(exc))}", file=sys.stderr)
    if isinstance(exc, ExportExistsError):
        print("Use --overwrite to replace it.", file=sys.stderr)
    if isinstance(exc, WeightsUnavailableError):
        print("No segmentation was made (untrained weights are never used).", file=sys.stderr)
        return EXIT_NO_WEIGHTS
    return EXIT_BAD_INPUT


def _check_outputs(stem: str, out: Path, overwrite: bool) -> None:
    """Refuse, before the run, to replace earlier results (unless overwrite)."""
    existing = [] if overwrite else existing_export_files(out, stem)
    if existing:
        raise ExportExistsError(
            f"Results named {stem!r} are already in {out}: {', '.join(p.name for p in existing)}."
        )


def _run_options(args: argparse.Namespace) -> RunOptions:
    """The options of a run from the command line (checked where the run is planned)."""
    return RunOptions(
        model_name=args.model,
        weights=args.weights,
        scale=args.scale,
        tile_size=args.tile_size,
        engine=args.engine,
        flip=args.flip,
        tta_scales=args.tta_scales,
        scheme=args.scheme,
        classes=args.classes,
        min_confidence=args.min_confidence,
        probability_classes=args.prob,
        intensity_range=args.intensity_range,
        threads=args.threads,
    )


def _segment_one(stem: str, image: np.ndarray, args: argparse.Namespace) -> None:
    line = _ProgressLine()
    notices = _Notices(line.note)

    def report(event: Progress) -> None:
        notices(stem, event)
        if event.notice:
            return
        if event.stage in (Stage.INFER, Stage.LOAD) or event.done == event.total:
            line.show(f"{stem}: {event.message}")

    events = iter_segment(image, _run_options(args))
    result = run_to_end(events, on_progress=report)
    line.end()
    try:
        paths = write_result(
            result, args.out, stem, image=image, overwrite=args.overwrite, probability_maps=True
        )
    except GluonsegError:  # ExportExistsError is an OSError too, with its own message
        raise
    except OSError as exc:  # a full disk, no permission, a file where the folder should be
        raise ExportError(f"Cannot write the results of {stem} into {args.out}: {exc}") from exc
    print(f"{stem}: results written to {args.out.resolve()}/")
    for kind, path in paths.items():
        print(f"  {kind:12s} {path.name}")
    print(weights_note(result.provenance))  # a local file is not vouched for as trained


def _segment_batch(args: argparse.Namespace) -> int:
    """``segment``: check everything, then run the images with a progress bar."""
    notices = _Notices(print)
    try:
        plan = plan_batch(
            args.inputs,
            args.out,
            recursive=args.recursive,
            workers=args.workers,
            scheduler=args.scheduler,
            overwrite=args.overwrite,
            overlay=args.overlay,
            keep_scores=args.keep_scores,
            on_weights=None if args.quiet else partial(notices, args.model),
            options=_run_options(args),
        )
        ended: list[ImageReport] = []
        started = time.perf_counter()

        def hard_stop() -> None:  # a second Ctrl-C inside a long call: the process ends now
            if ended:
                write_summary(summary_of(plan, ended, time.perf_counter() - started))
            release_held_locks()

        with stop_on_ctrl_c(hard_stop, EXIT_STOPPED) as stop:
            summary = _run_with_progress(plan, stop, args.quiet, ended.append)
    except GluonsegError as exc:
        return _report(exc)
    except KeyboardInterrupt:
        print("Stopped. Finished images are kept; rerun to resume.", file=sys.stderr)
        return EXIT_STOPPED
    if not args.quiet:
        _print_summary(summary)
    if summary.stopped:
        return EXIT_STOPPED
    return EXIT_SOME_FAILED if summary.count("failed") else 0


def _run_with_progress(
    plan: BatchPlan, stop: threading.Event, quiet: bool, ended: Callable[[ImageReport], None]
) -> BatchSummary:
    """The batch with a progress bar (a log's lines where stderr is not a terminal); ``ended``
    hears each image's report first."""
    if not quiet and not sys.stderr.isatty():
        return _run_with_log_lines(plan, stop, ended)
    from tqdm import tqdm

    with tqdm(total=len(plan.items), unit="image", disable=quiet, file=sys.stderr) as bar:
        notices = _Notices(partial(bar.write, file=sys.stdout))

        def on_image(report: ImageReport) -> None:
            ended(report)
            bar.update(1)
            if report.status == "failed":  # named even with --quiet: it needs attention
                bar.write(f"failed: {report.error}", file=sys.stderr)

        def on_progress(item: BatchItem, event: Progress) -> None:
            notices(item.key, event)

        return run_batch(
            plan,
            on_image=on_image,
            should_stop=stop.is_set,
            on_progress=None if quiet else on_progress,
        )


def _run_with_log_lines(
    plan: BatchPlan, stop: threading.Event, ended: Callable[[ImageReport], None]
) -> BatchSummary:
    """Not a terminal (a log, a pipe): a progress bar would be redrawn with carriage returns
    into one endless line; instead each image once, numbered, when it ends."""
    notices = _Notices(partial(print, flush=True))
    total, count = len(plan.items), 0

    def on_image(report: ImageReport) -> None:
        nonlocal count
        ended(report)
        count += 1
        failed = report.status == "failed"  # on stderr, as on a terminal: it needs attention
        why = f": {report.error}" if failed else f" ({report.seconds:.1f} s)"
        line = f"[{count}/{total}] {report.key}: {report.status}{why}"
        print(line, file=sys.stderr if failed else sys.stdout, flush=True)

    def on_progress(item: BatchItem, event: Progress) -> None:
        notices(item.key, event)

    return run_batch(plan, on_image=on_image, should_stop=stop.is_set, on_progress=on_progress)


def _print_summary(summary: BatchSummary) -> None:
    per_image = summary.seconds_per_image
    timing = f", {per_image:.2f} s per image" if per_image is not None else ""
    print(
        f"{summary.count('done')} done, {summary.count('skipped')} skipped, "
        f"{summary.count('failed')} failed of {summary.total} in {summary.seconds:.1f} s"
        f"{timing}; summary: {summary.summary_csv}"
    )
    if summary.stopped:
        print("Stopped early: rerun the same command to resume.")


def _schemes() -> int:
    from .core.models.scheme import shipped_schemes

    for path in shipped_schemes():
        print(f"{path.stem:24s} {path}")
    print("Use one with --scheme NAME (e.g. --scheme street_ade20k), or copy it to make yours.")
    return 0


def _open_napari() -> int:
    import napari

    from ._sample_data import load_sample
    from .qt.segment_widget import SegmentWidget

    viewer = napari.Viewer(title="napari-gluonseg")
    for data, kwargs, _ in load_sample():
        viewer.add_image(data, **kwargs)
    viewer.window.add_dock_widget(SegmentWidget(viewer), name="Semantic segmentation")
    napari.run()
    return 0


def _cache(clear: bool, everything: bool) -> int:
    from .core.models.cache import ZOO_WEIGHTS, cached_files, delete_cached_files
    from .core.models.weights import cache_dir
    from .core.run.memory import format_bytes

    if everything and not clear:
        print("error: --all goes with --clear", file=sys.stderr)
        return EXIT_BAD_INPUT
    if clear:
        removed = delete_cached_files(include_weights=everything)
        total = format_bytes(sum(f.size for f in removed))
        print(f"Removed {len(removed)} file(s), {total}, from {cache_dir()}.")
        if not everything and any(f.kind == ZOO_WEIGHTS for f in cached_files()):
            print("Downloaded weights are kept (--clear --all removes them too).")
        return 0
    files = cached_files()
    print(f"Model cache: {cache_dir()}")
    for f in files:
        print(f"  {f.kind:12s} {format_bytes(f.size):>8s}  {f.path.relative_to(cache_dir())}")
    print(f"{len(files)} file(s), {format_bytes(sum(f.size for f in files))} in all.")
    return 0


def _export_onnx(
    model: str, weights: Path | None, out: Path, overwrite: bool, exporter: str | None
) -> int:
    from .core.models.engines.onnx import check_portable, iter_export_model_file
    from .core.models.weights import iter_resolve_weights

    model_info(model)  # an unknown name fails before anything loads
    check_portable(model, exporter)
    _check_export_file(out, overwrite)

    def export() -> Generator[Progress, None, Path]:
        resolved = yield from iter_resolve_weights(model, weights)
        return (yield from iter_export_model_file(model, resolved, out, exporter))

    line = _ProgressLine()
    try:
        run_to_end(export(), on_progress=lambda event: line.show(event.message))
    except OSError as exc:  # a read-only file system, a full disk: written whole or not at all
        if written_path(exc, [out]) is None:
            raise
        raise ExportError(
            f"Cannot write {out}: {exc.strerror or exc}; nothing was written."
        ) from exc
    finally:
        line.end()
    print(f"{model} written to {out.resolve()}: run it with --weights {out}")
    return 0


def _check_export_file(out: Path, overwrite: bool) -> None:
    """Refuse, before the export, a file that cannot be written where asked."""
    if out.suffix.lower() != ".onnx":
        raise ExportError(f"The output file {out} must end in .onnx.")
    if out.is_dir():
        raise ExportError(
            f"{out} is a folder: give the .onnx file to write, e.g. {out / 'model.onnx'}."
        )
    parent = out.absolute().parent
    existing = next(p for p in (parent, *parent.parents) if p.exists())
    if not existing.is_dir():
        raise ExportError(f"{existing} is a file, not a folder: {out} cannot be written under it.")
    if existing != parent:
        raise ExportError(
            f"The folder {parent} of the output file does not exist: make it, or give another -o."
        )
    if out.exists() and not overwrite:
        raise ExportExistsError(f"{out} exists.")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:  # no permission, a read-only file system
        raise ExportError(f"Cannot write {out}: {exc.strerror or exc}.") from exc


if __name__ == "__main__":
    sys.exit(main())
