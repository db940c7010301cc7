"""The command line's parser and how it speaks (napari_gluonseg/cli/parser.py, exits.py): flags
made from the run options' declarations, defaults in --help, bad values refused with exit 2,
the package's messages in the command line's words."""

import argparse
import re

import pytest

from napari_gluonseg import __version__, cli
from napari_gluonseg.cli import demo as cli_demo
from napari_gluonseg.core.batch import folder as batch
from napari_gluonseg.core.batch import image as batch_image
from napari_gluonseg.core.batch.settings import BatchSettings
from napari_gluonseg.core.run.options import RunOptions

from ..conftest import DATA


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["segment", "missing.png"], "No such file"),
        (["segment", "{dog}", "--workers", "0"], "workers must be"),
        (["segment", "{dog}", "--model", "nope"], "Valid models"),
        (["segment", "{dog}", "--scale", "0.001"], "use scale >="),
        (["segment", "{dog}", "--intensity-range", "5,1"], "intensity_range must be"),
    ],
)
def test_bad_input_exit_2_with_message(tmp_path, capsys, args, message):
    notimage = tmp_path / "notes.txt"
    notimage.write_text("hello")
    args = [a.format(notimage=notimage, dog=DATA / "dog.jpg") for a in args]
    assert cli.main([*args, "--out", str(tmp_path / "o")]) == cli.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("text", ["5", "a,b", "1,2,3"])
def test_intensity_range_option_needs_two_numbers(capsys, text):
    with pytest.raises(SystemExit) as caught:
        cli.main(["segment", "x.png", "--intensity-range", text])
    assert caught.value.code == 2 and "LO,HI" in capsys.readouterr().err


def test_only_the_package_errors_are_caught(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug, not a bad input")

    monkeypatch.setattr(cli_demo, "iter_segment", broken)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["demo", "--headless", "--out", str(tmp_path / "o")])
    monkeypatch.setattr(batch_image, "iter_segment", broken)
    monkeypatch.setattr(
        batch, "prepare_settings", lambda *a: BatchSettings(RunOptions(), False, {})
    )
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["segment", str(DATA / "dog.jpg"), "--out", str(tmp_path / "o")])


def test_help_gives_every_default_and_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["segment", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: fcn_resnet50_ade)", "(default: auto)", "(default: out)"):
        assert default in text
    assert "summary.csv has one row per image: input, outputs, status" in text
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == f"napari-gluonseg {__version__}"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--tile-size", "foo", "--tile-size: expected 'auto', 'none' or an integer; got 'foo'"),
        ("--tta-scales", "0.75,x", "--tta-scales: expected numbers separated by commas"),
        ("--scale", "big", "--scale: expected 'auto' or a number; got 'big'"),
    ],
)
def test_bad_option_values_say_what_is_expected(option, value, message, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["segment", str(DATA / "dog.jpg"), option, value])
    assert caught.value.code == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and "invalid _" not in err


def test_errors_name_options_as_the_command_line_spells_them():
    message = "engine='mxnet': MXNet is not installed; use engine='onnxruntime' or scale=0.5."
    assert cli.cli_spelling(message) == (
        "--engine mxnet: MXNet is not installed; use --engine onnxruntime or --scale 0.5."
    )
    assert cli.cli_spelling("Python: weights=PATH.") == "Python: weights=PATH."
    # Every option the command takes, by the parser's own flag; a Python-only one stays.
    said = "tile_size=64, model_name='x', workers=2 and rgb=False"
    assert cli.cli_spelling(said) == "--tile-size 64, --model-name x, --workers 2 and rgb=False"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_no_option_says_its_default_twice_or_says_none(command):
    """--threads said 'default: all cores (default: None)': argparse's defaults formatter
    added its own to a help that gave one."""
    text = _subcommands()[command].format_help()
    options = re.split(r"\n  (?=-)", text.split("options:", 1)[1])
    for option in options:
        said = " ".join(option.split())
        assert len(re.findall(r"default", said, re.I)) <= 1, said
        assert "(default: None)" not in said and "(default: False)" not in said, said
    if command == "segment":
        assert "(default: fcn_resnet50_ade)" in " ".join(text.split())
