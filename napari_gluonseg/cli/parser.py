"""The command line's parser: sub-commands, and each run option's flag made from its
declaration (:mod:`napari_gluonseg.core.run.options`), so a new option needs no edit here.

:func:`cli_spelling` puts the package's messages, which name Python arguments
(``engine='mxnet'``), in the words of this parser (``--engine mxnet``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.batch.summary import SUMMARY_COLUMNS
from ..core.run.options import Option, RunOptions, declared

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

_LEARN_HELP = """Learn a model from the corrected results in RESULTS.

A new last classifier is fitted on the base network's features, from the results the Review
dock saved (or marked corrected_by_hand) and their images (--images), and written to --out: use
it with --model FILE.onnx, in the docks, or in Python. Prints what was learned and how well it
labels images it was not fitted on (leave-one-image-out). The results are only read.
"""

_EXPORT_HELP = """Write the results in RESULTS as a dataset that trainers and annotation tools read.

COCO (annotations/instances_{{split}}.json: a mask per class per image as RLE, or --polygons),
Pascal VOC (index PNGs in VOC's palette, 255 unlabeled, ImageSets lists), Cityscapes (labelIds,
instanceIds, color PNGs; label_colors.txt), CVAT's Segmentation mask 1.1 (colour PNGs,
labelmap.txt) or YOLO segmentation (a polygon per connected part, data.yaml). Images are split
into train and val by --seed, copied (or --link'ed); the scheme's names and colours go with
them. Written whole into --out or not at all; the results are only read.
"""

DESCRIPTION = """Segment images, files, folders or globs (here or on a Dask cluster); the demo;
the list of models and of the shipped label schemes; the model cache and portable ONNX model
files.

Exit codes: 0 done (every image segmented or skipped as already done), 1 some images failed
(each is named with its reason, and in OUT/summary.csv), 2 bad arguments (checked before any
image is read), 3 weights unavailable (e.g. offline), 130 stopped by Ctrl-C (rerun to resume).
"""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default in --help, once; descriptions keep their line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        """argparse's ``(default: ...)`` where the help does not say the default itself, and
        the default is a value: not None, a flag's False or an empty list."""
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, [], ()):
            return text
        return super()._get_help_string(action)


def flag_of(name: str) -> str:
    """A Python name's command-line flag: ``keep_scores`` -> ``--keep-scores``."""
    return "--" + name.replace("_", "-")


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` with argparse's error: the message says what was expected."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(parse, "__name__", "value")  # argparse names it in errors
    return convert


def _add_run_option(p: argparse.ArgumentParser, name: str, default: Any, spec: Option) -> None:
    kwargs: dict[str, Any] = {"dest": name, "help": spec.help}
    if spec.many:
        kwargs.update(action="append", default=[], metavar=spec.metavar)
    elif isinstance(default, bool):
        kwargs.update(action="store_true")
    else:
        kwargs.update(default=default, metavar=spec.metavar)
    if spec.choices:  # plain strings: argparse's errors list the choices by repr
        kwargs.update(choices=[str(c) for c in spec.choices], default=str(default))
    if spec.parse is not None:
        kwargs.update(type=_argument_type(spec.parse))
    p.add_argument(flag_of(name), *spec.aliases, **kwargs)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """Every run option that has command-line help, from its declaration."""
    for f, spec in declared():
        if spec.help:
            _add_run_option(p, f.name, f.default, spec)
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing results of the same name in the output folder (else: "
        "segment skips images done with the same file and settings, demo refuses)",
    )


def run_options(args: argparse.Namespace) -> RunOptions:
    """The options of a run from the command line (checked where the run is planned)."""
    return RunOptions(**{f.name: getattr(args, f.name) for f, spec in declared() if spec.help})


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
        prog="napari-gluonseg", description=DESCRIPTION, formatter_class=_HelpFormatter
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
    _add_learn(sub)
    _add_export(sub)
    return parser


def _add_export(sub: argparse._SubParsersAction) -> None:
    from ..core.datasets.export import DatasetFormat

    p = sub.add_parser(
        "export",
        help="write results as a COCO, VOC, Cityscapes, CVAT or YOLO dataset",
        description=_EXPORT_HELP,
        formatter_class=_HelpFormatter,
    )
    p.add_argument("results", help="the results folder of a batch")
    p.add_argument("--images", required=True, help="the image folder the batch read")
    p.add_argument("--format", required=True, choices=[f.value for f in DatasetFormat])
    p.add_argument("--out", required=True, help="the dataset folder to write (new or empty)")
    p.add_argument("--val", type=float, default=0.2, help="the share of images for validation")
    p.add_argument("--seed", type=int, default=0, help="the seed of the train/val split")
    p.add_argument("--link", action="store_true", help="link the images instead of copying")
    p.add_argument("--corrected-only", action="store_true",
                   help="only the images corrected by hand (the Review dock's saves)")  # fmt: skip
    p.add_argument("--polygons", action="store_true", help="COCO: polygons instead of RLE")
    p.add_argument("--short-names", action="store_true",
                   help="each class name up to its first comma, spaces as underscores (for "
                   "formats whose class lists cannot hold spaces: Cityscapes)")  # fmt: skip
    p.add_argument("--recursive", action="store_true", help="the batch read sub-folders")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")


def _add_learn(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "learn",
        help="learn a model from the images a review corrected (one .onnx file)",
        description=_LEARN_HELP,
        formatter_class=_HelpFormatter,
    )
    p.add_argument("results", help="the results folder of a batch, with corrections")
    p.add_argument("--images", required=True, help="the image folder the batch read")
    p.add_argument("--out", required=True, help="the learned model file to write (.onnx)")
    p.add_argument("--model", help="the base model (default: the one the results were made with)")
    p.add_argument(
        "--weights", help="the base model's .params file (default: the results' weights)"
    )
    p.add_argument("--recursive", action="store_true", help="the batch read sub-folders")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def _flags() -> dict[str, str]:
    """Each Python argument the ``segment`` command takes, by its flag."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_batch_options(parser)
    _add_run_options(parser)
    return {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings and a.dest}


def cli_spelling(message: str) -> str:
    """A message in the command line's words: ``engine='mxnet'`` -> ``--engine mxnet``."""
    flags = _flags()
    names = "|".join(sorted(flags, key=len, reverse=True))
    return re.sub(
        rf"(?<!Python: )\b({names})=(?:'([^']*)'|([\w.]+))",  # a Python line stays Python
        lambda m: f"{flags[m[1]]} {m[2] if m[2] is not None else m[3]}",
        message,
    )
