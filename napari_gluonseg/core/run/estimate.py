"""How long a run will take: the multiply-accumulates of its windows at this machine's speed.

A Cityscapes model at scale "auto" enlarges a 300x400 photo to 1536x2048, 26x its pixels: minutes
on a laptop, with no word beforehand. The estimate lets the widget and the CLI say so first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..models.card import model_row
from ..models.engines import Engine

# Effective speed of each engine's forward pass as a fraction of the float32 GEMM probe's.
# onnxruntime's convolutions run close to the GEMM peak (FCN-ResNet50: about 105 GMAC/s on 2
# cores, benchmarks/bench_speed_memory.py); MXNet's at ~40% of that (FCN, and
# psp_resnet101_citys: 7.1 TMAC in 170 s). benchmarks/calibrate_estimate.py measures both
# against the probe; its figures hold only on an idle machine. An estimate, meant to tell
# seconds from minutes from hours.
ENGINE_EFFICIENCY = {Engine.ONNXRUNTIME: 1.0, Engine.MXNET: 0.4}
# A run is "long" (and says so before it starts) from this many seconds, or when the network
# sees this many times the image's own pixels.
LONG_RUN_SECONDS = 20.0
# The full-resolution outputs (labels, confidence: upsampling among the candidate classes), per
# pixel of the image, whatever the network saw: 150-300 ns on this 2-core machine (a peaked
# 150-class grid into 3000x4000, loaded and idle). A 40000x40000 image: minutes, not seconds.
OUTPUT_SECONDS_PER_PIXEL = 200e-9
LARGE_WORK_RATIO = 2.0
_PROBE_SIDE = 1024


@dataclass(frozen=True)
class RunEstimate:
    """A run's size and expected time, before anything loads.

    work_size: the working image (main pass); windows: network forward passes in all
    (planes, windows, test-time passes, flips); gmac: their multiply-accumulates (10^9);
    seconds: at this machine's measured speed.
    """

    image_size: tuple[int, int]
    work_size: tuple[int, int]
    windows: int
    gmac: float
    seconds: float

    @property
    def pixel_ratio(self) -> float:
        """The working image's pixels over the image's own."""
        (h, w), (wh, ww) = self.image_size, self.work_size
        return wh * ww / (h * w)

    @property
    def long(self) -> bool:
        return self.seconds >= LONG_RUN_SECONDS or self.pixel_ratio >= LARGE_WORK_RATIO

    @property
    def message(self) -> str:
        """e.g. 'working size 1536x2048 (26.2x the image's pixels), 1 window, about 3 min on
        this machine'."""
        wh, ww = self.work_size
        windows = f"{self.windows} window{'s' if self.windows != 1 else ''}"
        return (
            f"working size {wh}x{ww} ({self.pixel_ratio:.1f}x the image's pixels), {windows}, "
            f"about {format_seconds(self.seconds)} on this machine"
        )


def format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def model_gmac(model_name: str, height: int, width: int) -> float:
    """Multiply-accumulates (10^9) of one forward pass of model_name at (height, width), from
    the model card's counts (``core.models.card``)."""
    return model_row(model_name).gmac(height, width)


def activation_scale(model_name: str) -> float:
    """How many times FCN-ResNet50's activations per pixel the model holds, from its work per
    pixel (FCN-ResNet50 under MXNet measured ~0.85 KB per window pixel; a process holding two
    1.7 MP ResNet101 PSP windows reached 10.3 GB, i.e. roughly 1.5 KB per pixel each)."""
    reference = model_row("fcn_resnet50_ade").gmac_per_mp
    return max(1.0, model_row(model_name).gmac_per_mp / reference)


@cache
def machine_gmacs() -> float:
    """This machine's float32 GEMM speed in GMAC/s, measured once per process (~0.2 s)."""
    a = np.random.default_rng(0).random((_PROBE_SIDE, _PROBE_SIDE), np.float32)
    a @ a  # warm-up: threads, caches
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return _PROBE_SIDE**3 / max(best, 1e-9) / 1e9


def estimate_windows(
    model_name: str,
    engine: Engine,
    image_size: tuple[int, int],
    work_size: tuple[int, int],
    window_sizes: list[tuple[int, int]],
    planes: int = 1,
) -> RunEstimate:
    """The estimate for a run whose forward passes see window_sizes (padded) inputs and that
    writes ``planes`` planes of outputs at ``image_size``."""
    gmac = sum(model_gmac(model_name, h, w) for h, w in window_sizes)
    seconds = gmac / (machine_gmacs() * ENGINE_EFFICIENCY[engine])
    seconds += planes * image_size[0] * image_size[1] * OUTPUT_SECONDS_PER_PIXEL
    return RunEstimate(image_size, work_size, len(window_sizes), gmac, seconds)
