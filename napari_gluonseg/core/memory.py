"""The memory guard: estimate a run's peak before it starts, refuse runs that would not fit.

A run killed by the kernel's OOM killer takes napari (and the user's unsaved labels) with it; a
clear refusal that names a setting that fits loses nothing. The estimate counts the arrays the run
allocates (see :mod:`napari_gluonseg.core.segment`) plus the network's runtime, calibrated on
FCN-ResNet50 (``benchmarks/bench_speed_memory.py`` measures the real peaks).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import GluonsegError

MiB = 1 << 20
# Python, numpy, mxnet/onnxruntime libraries and two copies of the weights (export + runtime).
RUNTIME_BASE_BYTES = 900 * MiB
# The network's activations per input pixel of one window (FCN-ResNet50, dilated, float32).
ACTIVATION_BYTES_PER_PIXEL = 3 * 1024


class InsufficientMemoryError(GluonsegError, MemoryError):
    """A run whose estimated peak memory exceeds what the machine has available."""


@dataclass(frozen=True)
class RunShape:
    """The sizes that decide a run's memory (all in pixels or counts)."""

    height: int
    width: int
    n_planes: int
    channels_in: int  # bytes per input pixel of the caller's array (e.g. 3 for RGB uint8)
    num_classes: int
    work: tuple[int, int]  # working size of the main pass
    passes: tuple[tuple[int, int], ...]  # every pass's working size (main pass first)
    window: tuple[int, int]  # largest window of any pass
    streaming: bool  # full-resolution rows handed on band by band (no class scores kept whole)
    n_maps: int  # full-resolution probability maps asked for
    label_bytes: int


def estimate_peak_bytes(s: RunShape) -> int:
    """Bytes the run is expected to need at its peak, beyond what the caller already holds."""
    c = s.num_classes
    full = s.height * s.width
    outputs = s.n_planes * full * (s.label_bytes + 4 + 4 * s.n_maps)
    # One plane of input as float32 (3, H, W), twice while it is converted; resized passes read
    # only the rows they need.
    biggest_pass = max(h * w for h, w in s.passes)
    plane_in = 2 * 3 * 4 * (full if s.work == (s.height, s.width) else biggest_pass)
    band = 4 * c * s.window[0] * max(w for _, w in s.passes)
    network = RUNTIME_BASE_BYTES + ACTIVATION_BYTES_PER_PIXEL * s.window[0] * s.window[1]
    if s.streaming:
        scores = 0
    else:
        # Probabilities at working size, one more pass at its own size when resized, and the
        # candidate masks of the upsampling.
        scores = 4 * c * s.work[0] * s.work[1]
        if len(s.passes) > 1:
            scores += 2 * 4 * c * biggest_pass
        scores += c * s.work[0] * s.work[1]
    strips = 4 * (64 * MiB)
    return int(outputs + plane_in + band + network + scores + strips)


def available_bytes() -> int | None:
    """Memory available to new allocations (Linux ``MemAvailable``); ``None`` where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil  # optional: macOS and Windows
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def format_bytes(n: float) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / MiB:.0f} MB"
