"""napari-gluonseg: pre-annotate images in napari with GluonCV semantic segmentation.

Importing the package loads neither mxnet nor Qt; the network is imported on first use.
"""

from .core.batch import segment_folder
from .core.batch_summary import BatchSummary
from .core.errors import (
    ExportError,
    ExportExistsError,
    GluonsegError,
    ImageError,
    InsufficientMemoryError,
    NetworkError,
    OptionError,
    SchemeError,
    SegmentationCancelled,
    UnknownModelError,
    WeightsError,
    WeightsUnavailableError,
)
from .core.estimate import RunEstimate
from .core.events import Progress
from .core.export import read_export, write_labels, write_result
from .core.merge import merged
from .core.registry import DEFAULT_MODEL, model_info, model_names
from .core.result import SegmentationResult
from .core.scheme import LabelScheme, load_scheme
from .core.segment import estimate_run, iter_segment_image, segment_image

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "BatchSummary",
    "ExportError",
    "ExportExistsError",
    "GluonsegError",
    "ImageError",
    "InsufficientMemoryError",
    "LabelScheme",
    "NetworkError",
    "OptionError",
    "Progress",
    "RunEstimate",
    "SchemeError",
    "SegmentationCancelled",
    "SegmentationResult",
    "UnknownModelError",
    "WeightsError",
    "WeightsUnavailableError",
    "estimate_run",
    "iter_segment_image",
    "load_scheme",
    "merged",
    "model_info",
    "model_names",
    "read_export",
    "segment_folder",
    "segment_image",
    "write_labels",
    "write_result",
]
