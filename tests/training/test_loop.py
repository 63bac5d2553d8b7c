"""The shared step loop: learning, resume, metrics log, non-finite losses, and DDP over gloo."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from human3d.errors import Human3DError
from human3d.training.data import infinite_batches
from human3d.training.loop import fit, state_path
from human3d.training.metrics_log import MetricsLog
from human3d.training.runtime import setup_runtime


class LineFit(nn.Module):
    """y = a x + b by mean squared error; reports the loss and the error of ``a``."""

    def __init__(self) -> None:
        super().__init__()
        self.line = nn.Linear(1, 1)

    def forward(self, batch):
        x, y = batch
        loss = ((self.line(x) - y) ** 2).mean()
        return {"loss": loss, "slope_error": (self.line.weight[0, 0] - 3.0).abs().detach()}


def _dataset() -> TensorDataset:
    x = torch.linspace(-1, 1, 64)[:, None]
    return TensorDataset(x, 3.0 * x + 0.5)


def _run(tmp_path, steps: int, checkpoints: list[int]):
    torch.manual_seed(0)
    module = LineFit()
    runtime = setup_runtime("cpu")
    optimizer = torch.optim.SGD(module.parameters(), lr=0.2)
    batches = infinite_batches(_dataset(), 16, runtime, seed=0)
    result = fit(module, batches, optimizer, runtime, steps, tmp_path, "line", checkpoints.append,
                 checkpoint_every=20, log_every=5, batch_size=16, progress=False)
    return module, result


def test_fit_learns_logs_and_checkpoints(tmp_path):
    checkpoints: list[int] = []
    module, result = _run(tmp_path, 50, checkpoints)
    first, last = result.losses[0][1]["loss"], result.losses[-1][1]["loss"]
    assert last < 0.01 * first
    assert abs(float(module.line.weight.detach()) - 3.0) < 0.05 and abs(float(module.line.bias.detach()) - 0.5) < 0.05
    assert checkpoints == [20, 40, 50]
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(5, 51, 5))
    assert all(row["stage"] == "line" and row["samples_per_s"] > 0 for row in rows)
    with open(tmp_path / "metrics.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [int(row["step"]) for row in table] == [row["step"] for row in rows]
    assert float(table[-1]["loss"]) == pytest.approx(rows[-1]["loss"])


def test_fit_resumes_where_the_state_left_off(tmp_path):
    _run(tmp_path, 40, [])
    saved = torch.load(state_path(tmp_path, "line"), weights_only=True)
    assert saved["step"] == 40
    checkpoints: list[int] = []
    module, result = _run(tmp_path, 60, checkpoints)
    assert result.resumed_from == 40 and [step for step, _ in result.losses] == list(range(41, 61))
    assert checkpoints == [60]
    straight, _ = _run(tmp_path / "straight", 60, [])
    # Resuming restores model and optimizer; only the batch order differs from a straight run.
    assert float(module.line.weight.detach()) == pytest.approx(float(straight.line.weight.detach()), abs=1e-3)
    steps = [row["step"] for row in MetricsLog(tmp_path).rows()]
    assert steps == sorted(set(steps)) and steps[-1] == 60


def test_fit_stops_on_a_non_finite_loss(tmp_path):
    class Exploding(LineFit):
        def forward(self, batch):
            return {"loss": super().forward(batch)["loss"] * float("nan")}

    runtime = setup_runtime("cpu")
    module = Exploding()
    batches = infinite_batches(_dataset(), 8, runtime)
    with pytest.raises(Human3DError, match="line: the loss became nan at step 1"):
        fit(module, batches, torch.optim.SGD(module.parameters(), lr=0.1), runtime, 5, tmp_path, "line",
            lambda step: None, progress=False)


def test_empty_training_set_is_a_clear_error():
    with pytest.raises(Human3DError, match="the training set is empty"):
        next(infinite_batches(TensorDataset(torch.zeros(0, 1)), 4, setup_runtime("cpu")))


def test_two_gloo_processes_train_one_synchronised_model(tmp_path):
    script = tmp_path / "ddp_line.py"
    script.write_text(textwrap.dedent(f"""
        import torch
        from human3d.training.data import infinite_batches
        from human3d.training.loop import fit
        from human3d.training.runtime import setup_runtime, teardown
        from torch.utils.data import TensorDataset
        from torch import nn

        class LineFit(nn.Module):
            def __init__(self):
                super().__init__()
                self.line = nn.Linear(1, 1)
            def forward(self, batch):
                x, y = batch
                return {{"loss": ((self.line(x) - y) ** 2).mean()}}

        runtime = setup_runtime("cpu")
        torch.manual_seed(runtime.rank)  # different starts: DDP must broadcast rank 0's weights
        module = LineFit()
        x = torch.linspace(-1, 1, 64)[:, None]
        batches = infinite_batches(TensorDataset(x, 3 * x + 0.5), 8, runtime, seed=0)
        fit(module, batches, torch.optim.SGD(module.parameters(), lr=0.2), runtime, 30,
            {str(tmp_path / "run")!r}, "line", lambda step: None, log_every=10, batch_size=8, progress=False)
        torch.save(module.state_dict(), {str(tmp_path)!r} + f"/rank{{runtime.rank}}.pt")
        teardown(runtime)
    """))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    assert abs(float(rank0["line.weight"]) - 3.0) < 0.05
    rows = MetricsLog(tmp_path / "run").rows()
    assert [row["step"] for row in rows] == [10, 20, 30]
    assert rows[-1]["samples_per_s"] > 0
