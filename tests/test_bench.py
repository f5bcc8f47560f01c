"""The benchmark harness stays runnable: one run at a tiny size (no timing is asserted)."""

import re
import subprocess
import sys

import pytest

from conftest import TEMPLATE_DIR

pytestmark = pytest.mark.slow


def test_the_harness_writes_every_table_at_a_tiny_size(tmp_path):
    report = tmp_path / "benchmarks.md"
    subprocess.run([sys.executable, str(TEMPLATE_DIR / "bench" / "run.py"), "--sizes", "3000", "--repeat", "1",
                    "--small-quality", "--parts", "speed", "quality", "engines", "--engine-sizes", "3000", "--output",
                    str(report)], check=True, capture_output=True, text=True)
    text = report.read_text()
    for heading in ("## Fixed costs", "## Cold runs and re-runs", "## Peak memory per stage", "## Model quality",
                    "## Engines: local against dask"):
        assert heading in text
    engines = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| 3,000 | ")
               and line.split(" | ")[1] in ("local", "dask")}
    local_score, dask_score = (float(engines[engine].rstrip(" |").split(" | ")[-1]) for engine in ("local", "dask"))
    assert abs(local_score - dask_score) <= 0.005 and local_score > 0.5
    assert re.search(r"\| \d+, \d+ MiB \|", engines["dask"])  # each worker's peak
    quality = next(line for line in text.splitlines() if line.startswith("| streaming (small) |"))
    pipeline, xgboost_script, hgb_script = (float(cell) for cell in quality.split(" | ")[3:6])
    assert all(0.5 < score <= 1 for score in (pipeline, xgboost_script, hgb_script))
    row = next(line for line in text.splitlines() if line.startswith("| 3,000 |") and "cold" in line)
    assert "ran: evaluate |" in row  # an evaluate parameter re-runs evaluate alone
    assert "ran: train, evaluate, sanity |" in row
    assert re.search(r"\| no-op `make repro` \(4 stages\) \| [\d.]+ s", text)
    report.unlink()  # the raw results saved beside it give the same report again
    subprocess.run([sys.executable, str(TEMPLATE_DIR / "bench" / "run.py"), "--report-only", "--output", str(report)],
                   check=True)
    assert report.read_text() == text
