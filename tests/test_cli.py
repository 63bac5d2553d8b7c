import subprocess
import sys

from human3d import __version__
from human3d.cli import build_parser, main
from human3d.errors import Human3DError


def test_version_and_help(capsys):
    parser = build_parser()
    assert parser.prog == "human3d"
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_module_entry_point_prints_version():
    result = subprocess.run([sys.executable, "-m", "human3d", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.strip() == f"human3d {__version__}"


def test_error_message_names_the_file():
    assert str(Human3DError.for_path("a/b.png", "not an image")) == "a/b.png: not an image"


def test_device_names_are_checked():
    import pytest
    import torch

    from human3d.commands import check_device

    assert check_device("cpu") == "cpu"
    with pytest.raises(Human3DError, match=r"^unknown device 'gpu' \(use cpu, cuda or cuda:N\)$"):
        check_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(Human3DError, match=r"^--device cuda:1: CUDA is not available on this machine"):
            check_device("cuda:1")
    assert main(["densepose", "x.png", "--checkpoint", "c.pkl", "--device", "tpu"]) == 1


def test_building_the_parser_and_help_import_no_torch():
    import os

    code = ("import contextlib, io, sys\n"
            "from human3d.cli import build_parser, main\n"
            "build_parser()\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "assert 'prepare-scans' in out.getvalue() and 'synth-preview' in out.getvalue()\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['weights'])\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_command_with_deferred_options_still_parses_and_shows_help(capsys):
    import pytest

    args = build_parser().parse_args(["densepose", "in.png", "--show", "iuv,boxes", "--batch-size", "2"])
    assert args.show == {"iuv", "boxes"} and args.batch_size == 2 and callable(args.func)
    with pytest.raises(SystemExit):
        main(["train", "pifuhd", "--help"])
    assert "--background-points" in capsys.readouterr().out


def test_the_command_lets_torch_use_huge_pages_unless_told_otherwise(monkeypatch):
    import os

    from human3d.cli import use_huge_pages

    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
    assert main([]) == 2  # any run of the command, before a subcommand imports torch
    assert os.environ["THP_MEM_ALLOC_ENABLE"] == "1"
    monkeypatch.setenv("THP_MEM_ALLOC_ENABLE", "0")
    use_huge_pages()
    assert os.environ["THP_MEM_ALLOC_ENABLE"] == "0"  # the user's choice is kept
