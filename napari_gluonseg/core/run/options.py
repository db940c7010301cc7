"""Everything a run can be asked, declared once: :class:`RunOptions`.

Each field is declared with its :class:`Option`: the text for Python (this class's docstring),
for the command line (``--help``) and for the dock (a tooltip), how command-line text becomes a
value, the check of the value alone, and whether a batch's settings record keeps it. The command
line's parser and error spellings (:mod:`napari_gluonseg.cli`), the dock's tooltips, the batch
record written and read back (:mod:`..batch.settings`) and the docstring below are derived from
these declarations. :func:`~.plan.plan_options` adds the checks that need the model or the image
(classes, scheme, engine, sizes, memory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import Field, dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from .. import checks
from ..errors import OptionError
from ..models.learned import is_model_file, read_learned
from ..models.registry import DEFAULT_MODEL, model_info
from ..models.scheme import LabelScheme

AUTO = "auto"  # scale and tile_size: decided by the model and the memory available


class EngineChoice(StrEnum):
    """What may be asked to run the network; ``auto`` picks the model's first installed engine."""

    AUTO = "auto"
    MXNET = "mxnet"
    ONNXRUNTIME = "onnxruntime"


@dataclass(frozen=True)
class Option:
    """How one run option is said, parsed and checked everywhere.

    ``doc``: Python (the docstring); ``help``: the command line ("" = not on it); ``tooltip``:
    the dock ("" = not shown there); ``aliases``: older command-line spellings kept working;
    ``parse``: command-line text to value (``ValueError`` names what was expected);
    ``choices``: the closed set of values (an enum's); ``many``: repeatable on the command
    line; ``check``: ``(value, name) -> checked value`` for the value alone (``None``: checked
    with the image or the model, in the plan);
    ``recorded``: kept in a batch's settings record (what a rerun compares).
    """

    doc: str
    help: str = ""
    tooltip: str = ""
    aliases: tuple[str, ...] = ()
    parse: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    many: bool = False
    check: Callable[[Any, str], Any] | None = None
    recorded: bool = True


def _option(default: Any, **spec: Any) -> Any:
    return field(default=default, metadata={"option": Option(**spec)})


# -- command-line text to values (ValueError: the message says what was expected) ----------------


def parse_scale(text: str) -> float | str:
    try:
        return text if text == AUTO else float(text)
    except ValueError:
        raise ValueError(f"expected 'auto' or a number; got {text!r}") from None


def parse_tile(text: str) -> int | str | None:
    if text in (AUTO, "none"):
        return None if text == "none" else text
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected 'auto', 'none' or an integer; got {text!r}") from None


def parse_factors(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(
            f"expected numbers separated by commas, e.g. 0.75,1.25; got {text!r}"
        ) from None


def parse_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"expected LO,HI (two numbers); got {text!r}") from None
    return lo, hi


def parse_names(text: str) -> list[str]:
    return [c.strip() for c in text.split(";") if c.strip()]


# -- checks of one value -------------------------------------------------------------------------


def _model(value: Any, name: str) -> str:
    if is_model_file(value):  # a learned model, by its path
        return str(read_learned(value).path)
    if not isinstance(value, str):
        raise OptionError(f"{name} must be a model name (str); got {checks.shown(value)}.")
    return model_info(value).name  # UnknownModelError lists the names


def _weights(value: Any, name: str) -> str | os.PathLike | None:
    return checks.optional_path(value, name, "a .params or .onnx file")


def check_scale(value: Any, name: str) -> float | str:
    if isinstance(value, str) and value == AUTO:
        return value
    if checks.is_real(value) and 0 < float(value) <= 8:
        return float(value)
    raise OptionError(f"{name} must be 'auto' or a number in (0, 8]; got {checks.shown(value)}.")


def _tile(value: Any, name: str) -> int | str | None:
    if value is None or (isinstance(value, str) and value == AUTO):
        return value
    return checks.integer_at_least(value, name, 64, "'auto', None or ")


def _engine(value: Any, name: str) -> str:
    choices = ", ".join(EngineChoice)
    if isinstance(value, str) and value in tuple(EngineChoice):
        return str(value)
    raise OptionError(f"Unknown {name} {value!r}. Valid engines: {choices}.")


def _factors(value: Any, name: str) -> tuple[float, ...]:
    """Test-time factors; 1.0 is the main pass itself and is dropped."""
    return tuple(f for f in checks.factors(value, name, 0.25, 4) if f != 1.0)


def _classes(value: Any, name: str) -> tuple[str | int, ...] | None:
    return None if value is None else checks.names(value, name)


def _confidence(value: Any, name: str) -> float:
    return checks.real_in(value, name, 0, 1)


def _threads(value: Any, name: str) -> int | None:
    """None (all cores) or 1..the cores: onnxruntime starts as many threads as asked, and a
    million of them take all memory."""
    if value is None:
        return None
    count = checks.integer_at_least(value, name, 1, "None or ")
    cores = os.cpu_count() or 1
    if count > cores:
        raise OptionError(
            f"{name} must be None or an integer from 1 to {cores} (this machine's cores); "
            f"got {count}."
        )
    return count


@dataclass(frozen=True)
class RunOptions:
    # The docstring is made from the declarations below (see the end of this module).
    model_name: str = _option(
        DEFAULT_MODEL,
        doc="A registry name (:func:`napari_gluonseg.model_names`), or the path of a learned "
        "model file (``napari-gluonseg learn``).",
        help="model name (see 'models'), or a learned model's .onnx file",
        tooltip="GluonCV model; the suffix is its training set (ade = ADE20K, 150 classes)",
        aliases=("--model",),
        check=_model,
    )
    weights: str | os.PathLike | None = _option(
        None,
        doc="``None``: the model zoo's pretrained weights (downloaded into "
        "``$MXNET_HOME/models`` if missing); otherwise a local ``.params`` file, or a ``.onnx`` "
        "file made by ``napari-gluonseg export-onnx`` (runs with onnxruntime alone, without "
        "mxnet).",
        help="local .params file instead of the model zoo, or a .onnx file made by export-onnx "
        "(runs with onnxruntime alone)",
        tooltip="Empty: the model zoo's pretrained weights (downloaded once into "
        "$MXNET_HOME/models). Or a .params file of the chosen model, or a .onnx file "
        "made by 'napari-gluonseg export-onnx' (runs with onnxruntime alone).",
        parse=Path,
        check=_weights,
        recorded=False,  # the record keeps the weights' sha1: the same file anywhere matches
    )
    scale: float | str = _option(
        AUTO,
        doc="Working resolution: ``'auto'`` (default) resizes the long side to the model's "
        "``base_size`` (520 for ADE20K), as GluonCV evaluates, and is a learned model's own "
        "scale (the one its images were run at); a number is a factor on the image's own size "
        "(1.0 = as is). Outputs always have the image's full resolution.",
        help="working resolution: 'auto' (the model's base size on the long side; a learned "
        "model's own scale) or a factor of the image's own (1.0 = full resolution)",
        tooltip="auto: the network sees the image at the model's own size (fast, bounded "
        "memory; a learned model: the scale it learned at); outputs always have the image's "
        "full size. full: every pixel, in a few large windows beyond 2 MP.",
        parse=parse_scale,
        check=check_scale,
    )
    tile_size: int | str | None = _option(
        AUTO,
        doc="``'auto'`` (default): the whole working image up to 2 MP, beyond it a few large "
        "windows on the network's stride-8 grid sized by the memory guard (:mod:`.layout`); an "
        "int: GluonCV's sliding windows of that size at 2/3 stride (480 is its crop size); "
        "``None``: the whole working image at once (the reference workflow: memory grows with "
        "the image).",
        help="windows: 'auto' (the whole image up to 2 MP, else a few large windows on the "
        "network's grid, sized to the memory available), 'none' (whole image at once) or "
        "pixels (GluonCV's sliding windows of that size, 2/3 stride)",
        parse=parse_tile,
        check=_tile,
    )
    engine: str = _option(
        EngineChoice.AUTO,
        doc="``'auto'`` (default: onnxruntime when installed, else MXNet), ``'mxnet'`` or "
        "``'onnxruntime'`` (exported once per weights file, for every image size, in a child "
        "process; PSP, DeepLab and other models with fixed pooling sizes once per size, the "
        "last four kept; cached in ``$MXNET_HOME/models/onnx``). An :class:`EngineChoice`.",
        help="auto: onnxruntime when installed, else mxnet",
        tooltip="auto = onnxruntime: every model, its graph built once per weights file "
        "(~2.6x faster than MXNet on CPU). mxnet: GluonCV's own network, with the [mxnet] "
        "extra (Python 3.11).",
        choices=tuple(EngineChoice),
        check=_engine,
    )
    flip: bool = _option(
        False,
        doc="Test-time augmentation: also run the mirrored image and average the probabilities.",
        help="test-time augmentation: mirrored pass",
        check=checks.flag,
    )
    tta_scales: Iterable[float] = _option(
        (),
        doc="Test-time augmentation: extra passes at these factors of the working size (e.g. "
        "``(0.75, 1.25)``), probabilities averaged with the main pass at the working size.",
        help="test-time augmentation: extra passes at these factors of the working size",
        tooltip="Test-time augmentation: probabilities averaged over mirrored and rescaled "
        "passes (steadier, 2-6x slower)",
        parse=parse_factors,
        metavar="F,F",
        check=_factors,
    )
    probability_classes: Iterable[str | int] = _option(
        (),
        doc="Classes (names, first synonyms or indices) whose probability maps to return.",
        help="save P(CLASS) (repeatable)",
        aliases=("--prob",),
        metavar="CLASS",
        many=True,
        check=checks.names,
    )
    classes: Iterable[str | int] | None = _option(
        None,
        doc="Predict only among these classes: their probabilities are renormalized over them, "
        "no other class appears in the labels.",
        help="predict only among these classes ('wall;sky;floor')",
        tooltip="Labels only among the picked classes, probabilities renormalized over them",
        parse=parse_names,
        check=_classes,
    )
    min_confidence: float = _option(
        0.0,
        doc="Pixels whose top probability is below this are left unlabeled (0), for the annotator.",
        help="below it pixels stay unlabeled (0)",
        tooltip="Pixels whose top probability is below this stay unlabeled (0), to label by hand",
        parse=float,
        check=_confidence,
    )
    scheme: str | os.PathLike | LabelScheme | None = _option(
        None,
        doc="The user's own labels (:mod:`~..models.scheme`): a .yaml or .csv file, a shipped "
        "scheme's name or a LabelScheme; each label's probability is the sum of its classes'; "
        "labels, names, colours and probability maps follow the scheme, and pixels won by "
        "classes outside it stay unlabeled.",
        help="label scheme file (.yaml/.csv), or a shipped scheme's name (see 'schemes'): your "
        "labels from the classes",
        tooltip="Your own labels as groups of the model's classes (YAML or CSV), or the "
        "name of a shipped one (street_ade20k, indoor_ade20k; 'napari-gluonseg schemes' "
        "lists them). Empty: the model's classes.",
        parse=Path,
    )
    rgb: bool | None = _option(
        None,
        doc="Whether the last axis is colour; guessed when ``None`` (a (3|4, H, W) array is "
        "refused then: pass it channels last, or ``rgb=False`` for a stack of planes).",
    )
    intensity_range: tuple[float, float] | None = _option(
        None,
        doc="Values mapped to black and white for the network (clipped), for any dtype: e.g. a "
        "viewer's contrast limits, or ``(0, 4095)`` for 12-bit data stored as uint16. ``None`` "
        "scales by dtype (uint8 /255, uint16 /65535, floats in [0, 1] as is, else min-max).",
        help="image values mapped to black and white for the network, e.g. 0,4095 for 12-bit "
        "data in uint16 (none: by type: 8-bit /255, 16-bit /65535, others min-max)",
        tooltip="Off (default): for images that are not 8-bit, the network sees what napari "
        "shows, the layer's contrast limits mapped to black..white. On: uint16 / 65535, other "
        "types their min..max.",
        parse=parse_range,
        metavar="LO,HI",
    )
    check_memory_first: bool = _option(
        True,
        doc="Estimate the peak memory first and raise :class:`InsufficientMemoryError` (with a "
        "setting that fits) rather than start a run the machine cannot finish.",
        check=checks.flag,
        recorded=False,
    )
    threads: int | None = _option(
        None,
        doc="onnxruntime's intra-op threads (MXNet's OpenMP threads for the process); "
        "``None``: all cores. Set it when several runs share a machine.",
        help="onnxruntime's threads (MXNet's too); default: all cores",
        parse=int,
        check=_threads,
        recorded=False,  # the same labels with any number of threads
    )

    @classmethod
    def of(cls, model_name: str = DEFAULT_MODEL, **options: Any) -> RunOptions:
        """The options from keyword arguments; :class:`OptionError` names any unknown one."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise OptionError(
                f"Unknown option(s) {', '.join(unknown)}; the options are: "
                f"{', '.join(sorted(known - {'model_name'}))}."
            )
        return cls(model_name, **options)

    def image_options(self) -> dict[str, Any]:
        """What says how the image reaches the network (colour axis, intensity window, working
        resolution): what learning from an image must take as this run does."""
        return {"rgb": self.rgb, "intensity_range": self.intensity_range, "scale": self.scale}

    def checked(self) -> RunOptions:
        """Each value checked alone and in its one form (``OptionError`` names the option and
        value); what needs the model or the image is checked by the plan."""
        changes = {}
        for f, spec in declared():
            if spec.check is not None:
                changes[f.name] = spec.check(getattr(self, f.name), f.name)
        return replace(self, **changes)


def declared() -> Iterator[tuple[Field[Any], Option]]:
    """Every run option's field and declaration, in the order of :class:`RunOptions`."""
    for f in fields(RunOptions):
        yield f, f.metadata["option"]


def option_of(name: str) -> Option:
    """The declaration of the run option ``name``."""
    return next(spec for f, spec in declared() if f.name == name)


def _docstring() -> str:
    """numpydoc attributes from the declarations: one text for Python, beside the command
    line's and the dock's."""
    lines = [
        "The options of a run, as given (checked by :func:`~.plan.plan_options`).",
        "",
        "Attributes",
        "----------",
    ]
    for f, spec in declared():
        lines += [f"{f.name} : {f.type}", f"    {spec.doc}"]
    return "\n".join(lines)


RunOptions.__doc__ = _docstring()
