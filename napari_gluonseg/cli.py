"""Command line: batch segmentation, the demo (main job), and the list of models.

Exit codes: 0 done, 2 bad arguments or input (an existing export without --overwrite too),
3 weights unavailable (e.g. offline).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .core.errors import (
    ExportError,
    ExportExistsError,
    GluonsegError,
    ImageError,
    WeightsUnavailableError,
)
from .core.events import Progress
from .core.export import existing_export_files, write_result
from .core.registry import (
    DATASET_TITLES,
    DEFAULT_MODEL,
    model_info,
    model_names,
)
from .core.segment import ENGINES, iter_segment_image, run_to_end

EXIT_BAD_INPUT = 2
EXIT_NO_WEIGHTS = 3


def _scale(text: str) -> float | str:
    return text if text == "auto" else float(text)


def _tile(text: str) -> int | str | None:
    if text in ("auto", "none"):
        return None if text == "none" else text
    return int(text)


def _factors(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def _intensity_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI (two numbers); got {text!r}") from None
    return lo, hi


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=DEFAULT_MODEL, help="model name (see 'models')")
    p.add_argument("--weights", type=Path, help="local .params file instead of the model zoo")
    p.add_argument(
        "--scale",
        type=_scale,
        default="auto",
        help="working resolution: 'auto' (default, the model's base size on the long side) "
        "or a factor of the image's own (1.0 = full resolution)",
    )
    p.add_argument(
        "--tile-size",
        type=_tile,
        default="auto",
        help="sliding-window size: 'auto' (default: whole image when small, else the model's "
        "crop size), 'none' (whole image at once) or pixels",
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
        choices=["auto", *ENGINES],
        default="auto",
        help="auto (default): onnxruntime when installed, else mxnet",
    )
    p.add_argument(
        "--scheme", type=Path, help="label scheme file (.yaml/.csv): your labels from the classes"
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
        "data in uint16 (default: by type: 8-bit /255, 16-bit /65535, others min-max)",
    )
    p.add_argument(
        "--min-confidence", type=float, default=0.0, help="below it pixels stay unlabeled (0)"
    )
    p.add_argument(
        "--prob", action="append", default=[], metavar="CLASS", help="save P(CLASS) (repeatable)"
    )
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing results of the same name in the output folder (default: refuse)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="napari-gluonseg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    seg = sub.add_parser("segment", help="segment image files into an output folder")
    seg.add_argument("images", nargs="+", type=Path)
    _add_run_options(seg)
    demo = sub.add_parser(
        "demo",
        help="open napari with the widget and a sample photo; headless: segment the sample",
    )
    demo.add_argument("--headless", action="store_true", help="never open a window")
    _add_run_options(demo)
    sub.add_parser("models", help="list the models")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "models":
        for name in model_names():
            info = model_info(name)
            print(f"{name:36s} {DATASET_TITLES[info.dataset]}, {info.num_classes} classes")
        return 0
    if args.command == "demo" and not args.headless and os.environ.get("DISPLAY"):
        return _open_napari()
    try:
        if args.command == "demo":
            from ._sample_data import SAMPLE_NAME, sample_image

            inputs = [(SAMPLE_NAME, sample_image())]
        else:
            inputs = [(p.stem, _read_image(p)) for p in args.images]
        _check_outputs([stem for stem, _ in inputs], args.out, args.overwrite)
        for stem, image in inputs:
            _segment_one(stem, image, args)
    except ExportExistsError as exc:
        print(f"error: {exc}\nUse --overwrite to replace it.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except WeightsUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("No segmentation was made (untrained weights are never used).", file=sys.stderr)
        return EXIT_NO_WEIGHTS
    except GluonsegError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def _check_outputs(stems: list[str], out: Path, overwrite: bool) -> None:
    """Refuse, before any run, outputs that would replace each other or (unless overwrite)
    earlier results."""
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twice:
        raise ValueError(
            f"Several inputs are named {', '.join(twice)}: their results would replace each "
            "other in one output folder. Rename them or run them separately."
        )
    for stem in stems if not overwrite else ():
        existing = existing_export_files(out, stem)
        if existing:
            raise ExportExistsError(
                f"Results named {stem!r} are already in {out}: "
                f"{', '.join(p.name for p in existing)}."
            )


def _read_image(path: Path):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from .core.files import strict_image_reads

    try:
        with strict_image_reads(), Image.open(path) as im:
            im.load()  # a truncated file is an error, never rows of grey
            return np.asarray(im)
    except UnidentifiedImageError as exc:
        raise ImageError(f"{path} is not an image file PIL can read") from exc
    except (OSError, Image.DecompressionBombError) as exc:  # missing, unreadable, truncated
        raise ImageError(f"Cannot read {path}: {exc}") from exc


def _segment_one(stem: str, image, args: argparse.Namespace) -> None:
    def report(event: Progress) -> None:
        if event.stage == "plan":  # a long run: working size and estimated time, kept on screen
            print(f"{stem}: {event.message}", flush=True)
        elif event.stage in ("infer", "load") or event.done == event.total:
            line = f"{stem}: {event.message}"
            print(f"\r{line:<72}", end="", flush=True)

    events = iter_segment_image(
        image,
        args.model,
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
    )
    result = run_to_end(events, on_progress=report)
    print()
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


if __name__ == "__main__":
    sys.exit(main())
