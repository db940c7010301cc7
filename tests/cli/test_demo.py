"""``napari-gluonseg demo`` (napari_gluonseg/cli/demo.py)."""

from napari_gluonseg import cli


def test_demo_offline_says_what_to_do_and_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    rc = cli.main(["demo", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == cli.EXIT_NO_WEIGHTS
    assert "fcn_resnet50_ade-3479525a.params" in err and "MXNET_HOME" in err
    assert "MXNET_GLUON_REPO" in err and "--weights" in err
    assert "untrained weights are never used" in err
    assert not (tmp_path / "out").exists()


def test_demo_with_a_local_weights_file_says_it_is_not_the_zoos(tmp_path, untrained_params, capsys):
    """make run WEIGHTS=FILE: an untrained file's output is never presented as the model's."""
    args = ["demo", "--headless", "--weights", str(untrained_params), "--out", str(tmp_path)]
    assert cli.main([*args, "--scale", "0.25"]) == 0, capsys.readouterr().err
    assert "not the zoo's pretrained weights" in capsys.readouterr().out
