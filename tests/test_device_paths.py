"""benchmarks/device_paths.py: a failing path is reported in its row and the others still run; table and JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "device_paths.py"


def _module():
    spec = importlib.util.spec_from_file_location("device_paths", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_failing_path_is_reported_and_the_others_still_run(tmp_path: Path):
    bench = _module()

    def broken(context):
        raise RuntimeError("CUDA error: out of memory\nmore detail")

    paths = {"first": lambda c: ("ran first", {"x": 1}), "broken": broken, "last": lambda c: ("ran last", {})}
    context = bench.Context("cpu", True, tmp_path, tmp_path)
    results = bench.run_all(paths, context)
    assert [r.result for r in results] == ["ok", "RuntimeError: CUDA error: out of memory", "ok"]
    assert results[0].peak_gpu_mib is None and results[0].figures == {"x": 1}
    table = bench.markdown_table(results).splitlines()
    assert table[0] == "| path | device | what was run | seconds | peak GPU memory MiB | result |"
    assert len(table) == 5 and table[3].startswith("| broken | cpu | broken |")
    bench.write_json(results, tmp_path / "out" / "paths.json", {"torch": "x"})
    written = json.loads((tmp_path / "out" / "paths.json").read_text())
    assert [row["path"] for row in written["paths"]] == ["first", "broken", "last"]
    assert written["machine"] == {"torch": "x"}
