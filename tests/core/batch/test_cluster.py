"""The same batch on Dask: a local cluster of processes, and a scheduler in another process."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("distributed")

from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.run.options import RunOptions

RUN = {"scale": 1.0, "engine": "onnxruntime"}
START_TIMEOUT_S = 60


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    for n, rel in enumerate(["a/x.png", "b/x.png", "c/z.png"]):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(n).integers(0, 255, (64, 80, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / rel)
    (root / "c" / "broken.png").write_bytes(b"not a png")
    return root


def labels_bytes(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*_labels.png")}


def test_a_local_cluster_gives_the_plain_loops_results_byte_for_byte(
    photos, tmp_path, untrained_params
):
    here = segment_folder(
        photos, tmp_path / "here", recursive=True, weights=untrained_params, **RUN
    )
    two = segment_folder(
        photos, tmp_path / "two", recursive=True, weights=untrained_params, workers=2, **RUN
    )
    assert [r.status for r in two.reports] == [r.status for r in here.reports]
    assert [r.status for r in two.reports].count("done") == 3
    assert labels_bytes(tmp_path / "two") == labels_bytes(tmp_path / "here")
    assert len(labels_bytes(tmp_path / "here")) == 3


def test_a_workers_notices_reach_the_caller_named_by_their_image(
    photos, tmp_path, untrained_params, fresh_model_cache
):
    """A cold cache: the worker process builds the network first (seconds); its one-time
    preparation notice reaches ``on_progress`` with the image it came with, so the caller
    hears of the wait."""
    from napari_gluonseg.core.batch.folder import plan_batch, run_batch

    heard = []
    options = RunOptions(weights=untrained_params, **RUN)
    plan = plan_batch([photos / "a"], tmp_path / "out", options, workers=1)
    summary = run_batch(plan, on_progress=lambda item, event: heard.append((item.key, event)))
    assert [r.status for r in summary.reports] == ["done"]
    notices = [(key, event.message) for key, event in heard if event.notice]
    assert ("x", "building the network for onnxruntime (once per weights)") in notices, heard


@pytest.fixture
def scheduler(tmp_path):
    """A dask scheduler and one worker, each its own process on 127.0.0.1; its address."""
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"),
                *("--port", "0", "--scheduler-file", str(scheduler_file), *common),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "distributed.cli.dask_worker", address),
                    # One process (no nanny), so that killing it leaves nothing behind.
                    *("--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", *common),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        _wait_for_workers(address, 1)
        yield address
    finally:
        # A worker that ran MXNet can take many seconds to end on SIGTERM (8 s with a nanny, and
        # 15 s without one on a busy machine): the test's own worker is killed, the scheduler
        # asked to stop.
        if len(procs) > 1:
            procs[1].kill()
        procs[0].terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _wait_for_workers(address, n):
    from distributed import Client

    with Client(address, timeout=START_TIMEOUT_S) as client:
        client.wait_for_workers(n, timeout=START_TIMEOUT_S)


def test_a_scheduler_in_another_process_gives_the_same_results(
    photos, tmp_path, untrained_params, scheduler
):
    here = segment_folder(
        photos, tmp_path / "here", recursive=True, weights=untrained_params, **RUN
    )
    there = segment_folder(
        photos,
        tmp_path / "there",
        recursive=True,
        weights=untrained_params,
        scheduler=scheduler,
        **RUN,
    )
    assert [r.status for r in there.reports] == [r.status for r in here.reports]
    assert labels_bytes(tmp_path / "there") == labels_bytes(tmp_path / "here")
    assert len(labels_bytes(tmp_path / "there")) == 3
