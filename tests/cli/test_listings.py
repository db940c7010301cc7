"""``models``, ``schemes``, ``cache`` and ``export-onnx`` (napari_gluonseg/cli/listings.py)."""

import json

import numpy as np
import pytest
from PIL import Image

from napari_gluonseg import cli

from ..conftest import DATA
from .helpers import one_line_error


def test_models_lists_registry(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("fcn_resnet50_ade") and "150 classes" in out


def _fake_cache(home):
    models = home / "models"
    (models / "onnx").mkdir(parents=True)
    (models / "onnx" / "fcn_resnet50_ade-0123456789ab.onnx").write_bytes(b"x" * 3_000_000)
    (models / "fcn_resnet50_ade-3479525a.params").write_bytes(b"w" * 2_000_000)
    (models / "resnet50_v1s-25a187fa.params").write_bytes(b"o")  # another gluoncv program's
    return models


def test_cache_lists_exports_and_weights_with_sizes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    _fake_cache(tmp_path)
    assert cli.main(["cache"]) == 0
    out = capsys.readouterr().out
    assert (
        "onnx export" in out and "3 MB" in out and "onnx/fcn_resnet50_ade-0123456789ab.onnx" in out
    )
    assert "zoo weights" in out and "2 MB" in out and "fcn_resnet50_ade-3479525a.params" in out
    assert "resnet50_v1s" not in out
    assert "2 file(s), 5 MB in all." in out


def test_cache_clear_removes_exports_and_all_the_weights_too(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    models = _fake_cache(tmp_path)
    assert cli.main(["cache", "--clear"]) == 0
    assert "Downloaded weights are kept" in capsys.readouterr().out
    assert list((models / "onnx").iterdir()) == []
    assert (models / "fcn_resnet50_ade-3479525a.params").exists()
    assert cli.main(["cache", "--clear", "--all"]) == 0
    assert sorted(p.name for p in models.glob("*.params")) == ["resnet50_v1s-25a187fa.params"]
    assert cli.main(["cache", "--all"]) == cli.EXIT_BAD_INPUT


def test_export_onnx_writes_a_portable_file_that_runs(
    tmp_path, untrained_params, use_onnx_home, capsys
):
    out = tmp_path / "fcn.onnx"
    args = ["export-onnx", "fcn_resnet50_ade", "--weights", str(untrained_params), "-o", str(out)]
    assert cli.main(args) == 0, capsys.readouterr().err
    assert out.stat().st_size > 100e6
    assert cli.main(args) == cli.EXIT_BAD_INPUT  # never replaced without --overwrite
    res = tmp_path / "res"
    seg = ["segment", str(DATA / "dog.jpg"), "--weights", str(out), "--scale", "0.125"]
    assert cli.main([*seg, "--threads", "1", "--out", str(res)]) == 0, capsys.readouterr().err
    prov = json.loads((res / "dog_provenance.json").read_text())
    assert prov["engine"] == "onnxruntime" and prov["threads"] == 1
    assert prov["model_file"] == str(out.resolve())


@pytest.mark.usefixtures("fresh_model_cache")
def test_export_onnx_of_a_pyramid_pooling_model_runs_at_any_size(
    tmp_path, untrained_weights, capsys
):
    out = tmp_path / "psp.onnx"
    weights = str(untrained_weights("psp_resnet50_ade"))
    args = ["export-onnx", "psp_resnet50_ade", "--weights", weights, "-o", str(out)]
    assert cli.main(args) == 0, capsys.readouterr().err
    for scale in ("0.1", "0.125"):  # 58x77 and 72x96: two working sizes, one file
        res = tmp_path / f"res{scale}"
        seg = ["segment", str(DATA / "dog.jpg"), "--model", "psp_resnet50_ade", "--weights"]
        seg += [str(out), "--scale", scale]
        assert cli.main([*seg, "--out", str(res)]) == 0, capsys.readouterr().err
        prov = json.loads((res / "dog_provenance.json").read_text())
        assert prov["engine"] == "onnxruntime" and prov["model"] == "psp_resnet50_ade"


def test_export_onnx_by_mxnets_exporter_of_a_fixed_size_model_says_why_not(tmp_path, capsys):
    out = tmp_path / "psp.onnx"
    args = ["export-onnx", "psp_resnet101_voc", "--exporter", "mxnet", "-o", str(out)]
    assert cli.main(args) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "psp_resnet101_voc fixes its pooling sizes" in err and "fcn_*" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("missing/m.onnx", "The folder {parent} of the output file does not exist"),
        ("afile/m.onnx", "{parent} is a file, not a folder"),
        ("folder.onnx", "{out} is a folder"),
    ],
)
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_export_onnx_to_a_place_that_cannot_hold_the_file_is_refused_at_once(
    tmp_path, capsys, monkeypatch, where, said, overwrite
):
    """Each used to export for seconds, then end in a traceback (or say --overwrite for a
    folder, which then failed with IsADirectoryError)."""
    from napari_gluonseg.core.models import weights as weights_module

    def never(*args, **kwargs):
        raise AssertionError("the weights were resolved")

    monkeypatch.setattr(weights_module, "iter_resolve_weights", never)
    (tmp_path / "afile").write_text("kept")
    (tmp_path / "folder.onnx").mkdir()
    out = tmp_path / where
    args = ["export-onnx", "fcn_resnet50_ade", "-o", str(out), *overwrite]
    assert cli.main(args) == cli.EXIT_BAD_INPUT
    err = one_line_error(capsys.readouterr().err)
    assert said.format(parent=out.parent, out=out) in err
    assert (tmp_path / "afile").read_text() == "kept" and list(
        (tmp_path / "folder.onnx").iterdir()
    ) == []


@pytest.mark.parametrize("fault", ["read-only", "full disk"])
def test_export_onnx_that_cannot_write_its_file_says_so_and_leaves_nothing(
    tmp_path, untrained_params, use_onnx_home, capsys, monkeypatch, fault
):
    """A read-only file system or a full disk ended in a traceback naming a temporary."""
    import errno
    import os

    from napari_gluonseg.core import atomic

    code = errno.EROFS if fault == "read-only" else errno.ENOSPC
    real_open = open

    def failing(path, mode="r", *args, **kwargs):
        if "x" in mode and os.path.dirname(path) == str(tmp_path):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(atomic, "open", failing, raising=False)
    out = tmp_path / "fcn.onnx"
    args = ["export-onnx", "fcn_resnet50_ade", "--weights", str(untrained_params), "-o", str(out)]
    assert cli.main(args) == cli.EXIT_BAD_INPUT
    err = one_line_error(capsys.readouterr().err.split("\r")[-1])
    assert f"Cannot write {out}: {os.strerror(code)}" in err and atomic.TEMP_MARK not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_shipped_schemes_are_listed_and_taken_by_name_from_any_folder(
    tmp_path, bicycle_params, capsys, monkeypatch
):
    """The docs' --scheme napari_gluonseg/schemes/street_ade20k.csv exists only in a clone."""
    from napari_gluonseg.core.models.scheme import EXAMPLES

    monkeypatch.chdir(tmp_path)
    assert cli.main(["schemes"]) == 0
    listed = capsys.readouterr().out
    assert "street_ade20k" in listed and str(EXAMPLES / "street_ade20k.csv") in listed
    assert "indoor_ade20k" in listed and "--scheme NAME" in listed
    args = ["segment", str(DATA / "dog.jpg"), "--weights", str(bicycle_params), "--scale", "0.125"]
    args += ["--engine", "onnxruntime", "--scheme", "street_ade20k", "--out", "out"]
    assert cli.main(args) == 0, capsys.readouterr().err
    provenance = json.loads((tmp_path / "out" / "dog_provenance.json").read_text())
    assert provenance["label_scheme"]["name"] == "street_ade20k"
    assert np.all(np.asarray(Image.open(tmp_path / "out" / "dog_labels.png")) == 12)  # bicycle


def test_links_in_the_cache_are_listed_and_cleared_never_followed(tmp_path, monkeypatch, capsys):
    """A dangling link named as an export crashed 'cache' (FileNotFoundError); a link to a file
    outside the cache is removed by --clear, the file it names is kept."""
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "home"))
    models = _fake_cache(tmp_path / "home")
    outside = tmp_path / "precious.onnx"
    outside.write_bytes(b"mine")
    (models / "onnx" / "dangling.onnx").symlink_to(tmp_path / "gone.onnx")
    (models / "onnx" / "outside.onnx").symlink_to(outside)
    assert cli.main(["cache"]) == 0
    listed = capsys.readouterr().out
    assert "onnx/dangling.onnx" in listed and "onnx/outside.onnx" in listed
    assert cli.main(["cache", "--clear"]) == 0
    assert sorted(p.name for p in (models / "onnx").iterdir()) == []
    assert outside.read_bytes() == b"mine"
