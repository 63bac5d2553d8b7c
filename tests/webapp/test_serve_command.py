"""``human3d serve``'s options: bad values and a port in use get one line and exit 1; which hosts only this
machine can reach."""

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from human3d.cli import main
from human3d.webapp.server import is_local


@pytest.mark.parametrize("options, line", [
    (["--resolution", "4"], "human3d: error: --resolution 4 is too small (need >= 8)"),
    (["--max-upload-mb", "0"],
     "human3d: error: --max-upload-mb, --max-megapixels and --max-video-seconds must be above 0"),
    (["--port", "70000"], "human3d: error: --port 70000: not a port number (1 to 65535)"),
    (["--device", "tpu"], "human3d: error: unknown device 'tpu' (use cpu, cuda or cuda:N)"),
])
def test_bad_options_get_one_line(options, line, capsys):
    assert main(["serve", *options]) == 1
    assert capsys.readouterr().err.strip() == line


def test_only_loopback_hosts_count_as_this_machine_only():
    assert is_local("127.0.0.1") and is_local("localhost") and is_local("::1")
    assert not is_local("0.0.0.0") and not is_local("192.168.1.20")


def test_a_port_in_use_gets_one_line_and_no_results_folder_is_left(tmp_path):
    pytest.importorskip("gradio")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = set(Path(tempfile.gettempdir()).glob("human3d-serve-*"))
        done = subprocess.run([sys.executable, "-m", "human3d", "serve", "--port", str(port)], capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"human3d: error: cannot serve at 127.0.0.1 port {port}: it is in use or not allowed "
                           "here; choose another --port\n")
    assert set(Path(tempfile.gettempdir()).glob("human3d-serve-*")) == before
