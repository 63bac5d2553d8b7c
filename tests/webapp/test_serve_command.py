"""``human3d serve``'s options: bad values get one line and exit 1 before anything is served; which hosts
only this machine can reach."""

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
