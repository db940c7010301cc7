"""napari-gluonseg: pre-annotate images in napari with GluonCV semantic segmentation.

Importing the package loads neither mxnet nor Qt; the network is imported on first use.
"""

from .core.batch.folder import segment_folder
from .core.batch.settings import options_of
from .core.batch.summary import BatchSummary
from .core.datasets.export import LabelledImage, export_dataset, write_dataset
from .core.datasets.items import Classes
from .core.datasets.opened import open_dataset
from .core.edits.merge import merged
from .core.errors import (
    DatasetError,
    ExportError,
    ExportExistsError,
    GluonsegError,
    ImageError,
    InsufficientMemoryError,
    LearningError,
    NetworkError,
    OptionError,
    SchemeError,
    SegmentationCancelled,
    UnknownModelError,
    WeightsError,
    WeightsUnavailableError,
)
from .core.events import Progress
from .core.files.export import write_labels, write_result
from .core.files.read_export import read_export
from .core.learn.corrected import learn_from_folder
from .core.models.registry import DEFAULT_MODEL, model_info, model_names
from .core.models.scheme import LabelScheme, load_scheme
from .core.run.estimate import RunEstimate
from .core.run.result import SegmentationResult
from .core.run.segment import estimate_run, iter_segment_image, segment_image

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "BatchSummary",
    "Classes",
    "DatasetError",
    "ExportError",
    "ExportExistsError",
    "GluonsegError",
    "ImageError",
    "InsufficientMemoryError",
    "LabelScheme",
    "LabelledImage",
    "LearningError",
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
    "export_dataset",
    "iter_segment_image",
    "learn_from_folder",
    "load_scheme",
    "merged",
    "model_info",
    "model_names",
    "open_dataset",
    "options_of",
    "read_export",
    "segment_folder",
    "segment_image",
    "write_dataset",
    "write_labels",
    "write_result",
]
