"""Exceptions and warnings raised by napari-gluonseg; messages are meant for the user."""


class GluonsegError(Exception):
    """Base class of every error napari-gluonseg raises on purpose."""


class OptionError(GluonsegError, ValueError):
    """An argument value a function cannot use; the message names the argument and the value."""


class UnknownModelError(GluonsegError, ValueError):
    """A model name that is not in the registry."""


class ImageError(GluonsegError, ValueError):
    """Image data the network cannot be run on."""


class WeightsError(GluonsegError):
    """Weights that cannot be fetched, read, or do not fit the model."""


class WeightsUnavailableError(WeightsError):
    """Pretrained weights are neither in the cache nor downloadable (offline, or a download
    that brought no usable weights: cut, not the archive, not matching the zoo's sha1)."""


class EngineError(GluonsegError):
    """An engine that cannot run a model as asked (e.g. a graph the ONNX exporter cannot
    express); the message names the model and the engine that can."""


class NetworkError(GluonsegError):
    """A network that cannot be built or run (the framework's own error, with model and size)."""


class InsufficientMemoryError(GluonsegError, MemoryError):
    """A run whose estimated peak memory exceeds what the machine has available."""


class SchemeError(GluonsegError, ValueError):
    """A label scheme file that cannot be used; the message says where and why."""


class ExportError(GluonsegError, ValueError):
    """An export that cannot be written as asked, or a set of export files that cannot be
    trusted on reading (truncated, edited, or mixed from two exports)."""


class ExportExistsError(GluonsegError, FileExistsError):
    """An export would replace existing files; pass ``overwrite=True`` to allow it."""


class SegmentationCancelled(GluonsegError):
    """The run was cancelled before it finished."""


class RunSetupError(GluonsegError, ValueError):
    """Choices that cannot run together (e.g. in the widget); nothing was started."""


class LearningError(GluonsegError, ValueError):
    """Corrected labels that cannot teach a new head (none, one class only, of another size
    or model, images missing); the message names the file or the class."""


class DatasetError(GluonsegError, ValueError):
    """A dataset that cannot be written in a format as asked (a class it cannot hold, no
    image), or one that cannot be read back (a mask of another size, an image missing); the
    message names the file, class or value."""
