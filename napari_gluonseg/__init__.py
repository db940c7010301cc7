"""napari-gluonseg: pre-annotate images in napari with GluonCV semantic segmentation.

Importing the package loads neither mxnet nor Qt; the network is imported on first use.
"""

from .core.errors import (
    GluonsegError,
    GluonsegWarning,
    ImageError,
    SegmentationCancelled,
    UnknownModelError,
    WeightsError,
    WeightsUnavailableError,
)
from .core.events import Progress
from .core.registry import DEFAULT_MODEL, model_info, model_names
from .core.result import SegmentationResult
from .core.segment import iter_segment_image, segment_image

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "GluonsegError",
    "GluonsegWarning",
    "ImageError",
    "Progress",
    "SegmentationCancelled",
    "SegmentationResult",
    "UnknownModelError",
    "WeightsError",
    "WeightsUnavailableError",
    "iter_segment_image",
    "model_info",
    "model_names",
    "segment_image",
]
