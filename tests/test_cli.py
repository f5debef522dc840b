"""The `studio` command line: every sub-command documents itself; bad input gets one clear line."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

from gaitdata import GaitSequence, write_pkl_sequence
from studio.cli import _command_modules, build_parser, main


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for module in _command_modules():
        assert module.NAME in out


@pytest.mark.parametrize("name", [m.NAME for m in _command_modules()])
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
    assert "usage: studio " + name in capsys.readouterr().out


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "studio.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "gait-studio" in out.stdout


def test_inspect_a_dataset_counts_what_it_skips(tmp_path, capsys):
    write_pkl_sequence(tmp_path, GaitSequence(np.full((3, 64, 64), 255, np.uint8), "001", "nm-01", "090"))
    bad = tmp_path / "001" / "nm-02" / "090"
    bad.mkdir(parents=True)
    (bad / "090.pkl").write_bytes(pickle.dumps({"not": "an array"}))
    assert main(["inspect", "--dataset", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 sequences read, 1 skipped" in out and "holds a dict" in out


def test_bad_input_is_one_line_naming_the_file(tmp_path, capsys):
    path = tmp_path / "broken.pkl"
    path.write_bytes(b"\x80\x04garbage")
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "broken.pkl" in err and "Traceback" not in err


def test_parser_builds_without_heavy_imports():
    # `studio --help` must stay fast: command modules import torch/gradio only inside run().
    code = "import sys; from studio.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    assert build_parser().prog == "studio"
