"""Everything a run can be asked, in one frozen object: :class:`RunOptions`.

:func:`~.segment.segment_image`, :func:`~.segment.iter_segment_image`,
:func:`~.plan.plan_run` and :func:`~.batch.segment_folder` take these as keyword arguments;
the CLI and the widget build them. :func:`~.plan.plan_run` checks them all at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from ..errors import OptionError
from ..models.registry import DEFAULT_MODEL
from ..models.scheme import LabelScheme


@dataclass(frozen=True)
class RunOptions:
    """The options of a run, as given (checked by :func:`~.plan.plan_run`).

    Attributes
    ----------
    model_name : str
        A registry name (:func:`napari_gluonseg.model_names`).
    weights : path, optional
        ``None``: the model zoo's pretrained weights (downloaded into ``$MXNET_HOME/models`` if
        missing); otherwise a local ``.params`` file, or a ``.onnx`` file made by
        ``napari-gluonseg export-onnx`` (runs with onnxruntime alone, without mxnet).
    scale : float or "auto"
        Working resolution: ``"auto"`` (default) resizes the long side to the model's
        ``base_size`` (520 for ADE20K), as GluonCV evaluates; a number is a factor on the image's
        own size (1.0 = as is). Outputs always have the image's full resolution.
    tile_size : int, "auto" or None
        ``"auto"`` (default): the whole working image up to 2 MP, beyond it a few large windows
        on the network's stride-8 grid sized by the memory guard (:mod:`.layout`); an int:
        GluonCV's sliding windows of that size at 2/3 stride (480 is its crop size); ``None``:
        the whole working image at once (the reference workflow: memory grows with the image).
    engine : str
        ``"auto"`` (default: onnxruntime when installed, else MXNet), ``"mxnet"`` or
        ``"onnxruntime"`` (exported once per weights file, for every image size, in a child
        process; PSP, DeepLab and other models with fixed pooling sizes once per size, the last
        four kept; cached in ``$MXNET_HOME/models/onnx``).
    flip : bool
        Test-time augmentation: also run the mirrored image and average the probabilities.
    tta_scales : iterable of float
        Test-time augmentation: extra passes at these factors of the working size (e.g.
        ``(0.75, 1.25)``), probabilities averaged with the main pass at the working size.
    probability_classes : iterable of str or int
        Classes (names, first synonyms or indices) whose probability maps to return.
    classes : iterable of str or int, optional
        Predict only among these classes: their probabilities are renormalized over them, no
        other class appears in the labels.
    min_confidence : float
        Pixels whose top probability is below this are left unlabeled (0), for the annotator.
    scheme : path or LabelScheme, optional
        The user's own labels (:mod:`~..models.scheme`): each label's probability is
        the sum of its classes'; labels, names, colours and probability maps follow the scheme,
        and pixels won by classes outside it stay unlabeled.
    rgb : bool, optional
        Whether the last axis is colour; guessed when ``None`` (a (3|4, H, W) array is refused
        then: pass it channels last, or ``rgb=False`` for a stack of planes).
    intensity_range : (float, float), optional
        Values mapped to black and white for the network (clipped), for any dtype: e.g. a
        viewer's contrast limits, or ``(0, 4095)`` for 12-bit data stored as uint16. ``None``
        scales by dtype (uint8 /255, uint16 /65535, floats in [0, 1] as is, else min-max).
    check_memory_first : bool
        Estimate the peak memory first and raise :class:`InsufficientMemoryError` (with a setting
        that fits) rather than start a run the machine cannot finish.
    threads : int, optional
        onnxruntime's intra-op threads (MXNet's OpenMP threads for the process); ``None``: all
        cores. Set it when several runs share a machine.
    """

    model_name: str = DEFAULT_MODEL
    weights: str | os.PathLike | None = None
    scale: float | str = "auto"
    tile_size: int | str | None = "auto"
    engine: str = "auto"
    flip: bool = False
    tta_scales: Iterable[float] = ()
    probability_classes: Iterable[str | int] = ()
    classes: Iterable[str | int] | None = None
    min_confidence: float = 0.0
    scheme: str | os.PathLike | LabelScheme | None = None
    rgb: bool | None = None
    intensity_range: tuple[float, float] | None = None
    check_memory_first: bool = True
    threads: int | None = None

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
