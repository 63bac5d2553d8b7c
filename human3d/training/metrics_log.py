"""The metrics log of a run: ``metrics.jsonl`` (one JSON object per logged step) and ``metrics.csv``
(the same rows as a table, rewritten from the JSONL so its columns are the union over stages)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from human3d.io.atomic import write_text_atomic

FIRST_COLUMNS = ("stage", "step", "time_s", "samples_per_s", "lr", "loss")


class MetricsLog:
    """Append-only rows in ``run_dir/metrics.jsonl`` mirrored to ``run_dir/metrics.csv``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.jsonl = Path(run_dir) / "metrics.jsonl"
        self.csv = Path(run_dir) / "metrics.csv"

    def rows(self) -> list[dict[str, Any]]:
        """Every row logged so far."""
        if not self.jsonl.is_file():
            return []
        return [json.loads(line) for line in self.jsonl.read_text().splitlines() if line.strip()]

    def append(self, row: dict[str, Any]) -> None:
        """Log one row (both files)."""
        self._write(self.rows() + [row])

    def drop_after(self, stage: str, step: int) -> None:
        """Forget ``stage``'s rows past ``step`` (they were logged after the state a resume starts from)."""
        rows = self.rows()
        kept = [row for row in rows if not (row.get("stage") == stage and row.get("step", 0) > step)]
        if len(kept) != len(rows):
            self._write(kept)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        write_text_atomic(self.jsonl, "".join(json.dumps(row) + "\n" for row in rows))
        columns = [c for c in FIRST_COLUMNS if any(c in row for row in rows)]
        columns += sorted({key for row in rows for key in row} - set(columns))
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(self.csv, table.getvalue())
