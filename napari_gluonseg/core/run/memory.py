"""The memory guard: estimate a run's peak before it starts, refuse runs that would not fit.

A run killed by the kernel's OOM killer takes napari (and the user's unsaved labels) with it; a
clear refusal that names a setting that fits loses nothing. The estimate counts the arrays the run
allocates (see :mod:`napari_gluonseg.core.run.segment`) plus the network's runtime, calibrated on
FCN-ResNet50 with onnxruntime (``benchmarks/bench_speed_memory.py`` measures the real peaks:
605 MB at 576x768 whole, 586 MB for 3000x4000 at scale "auto", 2744 MB at scale 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1 << 20
# Python, numpy, the engine's libraries and one copy of the weights (measured: ~350 MB).
RUNTIME_BASE_BYTES = 600 * MiB
# The network's activations per input pixel of a window (FCN-ResNet50, float32, measured with
# onnxruntime): logits at the network's own resolution, or upsampled to the window in the graph.
NATIVE_BYTES_PER_PIXEL = 800
UPSAMPLED_BYTES_PER_PIXEL = 2 * 1024
STRIPS_BYTES = 4 * 64 * MiB  # temporaries of the strip-wise postprocessing


@dataclass(frozen=True)
class RunShape:
    """The sizes that decide a run's memory (all in pixels or counts)."""

    height: int
    width: int
    n_planes: int
    num_classes: int
    work: tuple[int, int]  # working size of the main pass
    passes: tuple[tuple[int, int], ...]  # every pass's working size (main pass first)
    window: tuple[int, int]  # largest window of any pass
    native: bool  # every pass gives its logits on the network's stride-8 grid (whole or grid)
    streaming: bool  # tiled at full resolution: rows handed on band by band
    n_maps: int  # full-resolution probability maps asked for
    label_bytes: int
    # The model's activations per pixel against FCN-ResNet50's (deeper networks hold more).
    activation_scale: float = 1.0


def estimate_peak_bytes(s: RunShape) -> int:
    """Bytes the run is expected to need at its peak (calibrated by the benchmark's runs)."""
    c = s.num_classes
    full = s.height * s.width
    outputs = s.n_planes * full * (s.label_bytes + 4 + 4 * s.n_maps)
    # One pass's input as float32 (3, h, w), twice while it is converted; a resized pass reads
    # only the rows it needs.
    biggest_pass = max(h * w for h, w in s.passes)
    plane_in = 2 * 3 * 4 * (full if s.work == (s.height, s.width) else biggest_pass)
    window = s.window[0] * s.window[1]
    per_pixel = NATIVE_BYTES_PER_PIXEL if s.native else UPSAMPLED_BYTES_PER_PIXEL
    network = RUNTIME_BASE_BYTES + int(per_pixel * s.activation_scale) * window
    if s.native:
        scores = 3 * 4 * c * biggest_pass // 64  # probabilities, logits, one more pass
    else:
        # Logits of one band of windows; probabilities at the working size unless streaming.
        scores = 4 * c * s.window[0] * max(w for _, w in s.passes)
        if not s.streaming:
            scores += 4 * c * (s.work[0] * s.work[1] + (biggest_pass if len(s.passes) > 1 else 0))
    kept = s.n_planes * 2 * c * -(-s.work[0] // 8) * -(-s.work[1] // 8)  # float16 score grids
    return int(outputs + plane_in + network + scores + kept + STRIPS_BYTES)


def available_bytes() -> int | None:
    """Memory available to new allocations: Linux ``MemAvailable``, or less where a cgroup
    (container, batch job) limits this process; ``None`` where unknown."""
    system = _system_available()
    limited = _cgroup_available()
    if system is None or limited is None:
        return system if limited is None else limited
    return min(system, limited)


def _cgroup_available() -> int | None:
    """Limit minus usage of this process's cgroup (v2, else v1); None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:
            return None
        return max(0, int(limit) - usage)
    return None


def _system_available() -> int | None:
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
