import subprocess
import sys

import pytest

PROBE = """
import sys
import numpy as np
from human3d.runtime import keep_freed_memory

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

applied = keep_freed_memory() if sys.argv[1] == "keep" else False
before = rss_mb()
block = np.ones(128 * 2**20 // 8)  # 128 MB, well above glibc's mmap threshold
del block
print(applied, rss_mb() - before)
"""


def _freed_memory_kept(mode: str) -> tuple[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True).stdout
    applied, kept_mb = out.split()
    return applied, float(kept_mb)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc allocator setting")
def test_freed_large_blocks_stay_with_the_process():
    applied, kept_mb = _freed_memory_kept("keep")
    assert applied == "True"
    assert kept_mb > 100  # the freed 128 MB block is kept for reuse
    assert _freed_memory_kept("default") == ("False", pytest.approx(0, abs=20))  # glibc unmaps it
