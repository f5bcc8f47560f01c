"""The benchmark harness stays runnable: one run at a tiny size (no timing is asserted)."""

import os
import re

import pytest

from conftest import TEMPLATE_DIR, layered_venv, run

pytestmark = pytest.mark.slow


def test_the_harness_writes_every_table_at_a_tiny_size(tmp_path):
    report = tmp_path / "benchmarks.md"
    # The harness installs each project it bakes into the Python running it: a virtualenv of its
    # own (seeing the test environment's packages), active as `make bench` has .venv.
    venv = layered_venv(tmp_path / "venv")
    python, env = venv / "bin" / "python", {"PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    # run() fails with the harness's output, so a broken part says where it broke. The tuning
    # budget leaves room for a busy machine: the first trial (params.yaml's values) must finish in it.
    # The engines part runs its out-of-core and dask variants: the in-memory one is the pipeline
    # the speed part already runs stage by stage for its memory table.
    run(f"{python} bench/run.py --sizes 3000 --repeat 1 --small-quality --small-checks --small-serving "
        "--small-automl --automl-budget 5 --automl-seeds 1 --engines 'local, out of core' dask "
        f"--parts speed quality engines checks serving automl --engine-sizes 3000 --output {report}", TEMPLATE_DIR, env)
    text = report.read_text()
    for heading in ("## Fixed costs", "## Cold runs and re-runs", "## Peak memory per stage", "## Model quality",
                    "## Engines: local in memory, local out of core and dask",
                    "## Checks on real data: false alarms and caught defects",
                    "## Serving: `make serve` against MLflow's model server",
                    "## Against AutoML: the default model, the tuned one and FLAML at 5 s"):
        assert heading in text
    # Iris (38 holdout rows), XGBoost: no check that stops the pipeline fails on the clean data, and
    # each injected defect is caught by the check made for it.
    assert "False alarms (a `fail` check failing on clean data, any model): **0** of 12 check runs." in text
    assert "Defects caught by the check made for them: **5 of 5**." in text
    assert "- false alarms on clean data: 0 (target 0: met)" in text
    rows = [line for line in text.splitlines()
            if line.startswith("| 3,000 | ") and line.split(" | ")[1] in ("local", "local, out of core", "dask")]
    engines = {line.split(" | ")[1]: line for line in rows if line.count(" MiB") < 6}
    scores = {engine: float(line.rstrip(" |").split(" | ")[-1]) for engine, line in engines.items()}
    assert sorted(scores) == ["dask", "local, out of core"]
    # Both learn (measured 0.773 and 0.783 on 1,000 holdout rows: below train.refit_max_rows dask
    # refits on every row, out of core does not). How closely the engines agree is the generated
    # suite's to test (test_engines.py): dask against local within 0.005, out of core within 0.01.
    assert abs(scores["local, out of core"] - scores["dask"]) <= 0.03 and min(scores.values()) > 0.6
    assert re.search(r"\| \d+, \d+ MiB \|", engines["dask"])  # each worker's peak
    per_stage = [line for line in rows if line.count(" MiB") >= 6]
    assert len(per_stage) == 2 and all(re.search(r"\| \*\*[\d.]+\*\* \|$", line) for line in per_stage)
    quality = next(line for line in text.splitlines() if line.startswith("| streaming (small) |"))
    pipeline, xgboost_script, hgb_script = (float(cell) for cell in quality.split(" | ")[3:6])
    assert all(0.5 < score <= 1 for score in (pipeline, xgboost_script, hgb_script))
    assert re.search(r"\| \d+ s, [\d.]+ s \([\d.]+x\) \|$", quality), quality  # cold make repro, the script
    assert re.search(r"- cold make repro / XGBoost script on streaming \(small\) \([\d,]+ training rows\): [\d.]+ "
                     r"\(target <= 2.0: (met|MISSED)\)", text)
    row = next(line for line in text.splitlines() if line.startswith("| 3,000 |") and "cold" in line)
    assert "ran: evaluate |" in row  # an evaluate parameter re-runs evaluate alone
    assert "ran: train, evaluate, sanity |" in row
    assert re.search(r"\| no-op `make repro` \(5 stages\) \| [\d.]+ s", text)
    # Both servers answered the same rows alike (the harness stops otherwise), then every load on each.
    served = [line.split(" | ")[:3] for line in text.splitlines() if re.match(r"\| (1|100) \| (1|8) \| ", line)]
    assert sorted(served) == sorted([f"| {rows}", str(at_once), server] for rows in (1, 100) for at_once in (1, 8)
                                    for server in ("make serve", "MLflow"))
    assert re.search(r"- serving throughput, 100 row\(s\), 8 at a time: make serve \d+ requests/s against MLflow", text)
    # Iris on one seed (more only repeat the same work): both sides scored the same holdout files,
    # FLAML within its budget and refit.
    section = text.split("## Against AutoML")[1].split("\n## ")[0]
    automl = next(line for line in section.splitlines() if line.startswith("| iris | "))
    pipeline, tuned, flaml = (float(cell) for cell in automl.split(" | ")[3:6])
    assert all(0.5 < score <= 1 for score in (pipeline, tuned, flaml)), automl
    times = re.search(r", ([\d.]+) s, ([\d.]+) s \(5 s\) \|", automl)
    tuned_seconds, flaml_seconds = (float(seconds) for seconds in times.groups())
    assert 2 <= flaml_seconds < 60 and tuned_seconds >= 5, automl  # the search alone takes its budget
    assert re.search(r"- against FLAML at 5 s on iris: pipeline - FLAML [-+][\d.]+ \(target >= -0.01: (met|MISSED)\); "
                     r"tuned - FLAML [-+][\d.]+", text)
    assert re.search(r"- tuned against FLAML at the same budget: mean difference [-+][\d.]+, as good or better on "
                     r"[01] of 1 datasets \(target: >= 0 and most: (met|MISSED)\)", text)
    report.unlink()  # the raw results saved beside it give the same report again
    run(f"{python} bench/run.py --report-only --output {report}", TEMPLATE_DIR, env)
    assert report.read_text() == text


def test_re_measuring_some_datasets_keeps_the_saved_rows_of_the_others(tmp_path, capsys):
    """`--datasets` re-runs a part on the datasets a change affects; the report still lists them all."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", TEMPLATE_DIR / "bench" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    saved = [{"dataset": "a", "score": 1}, {"dataset": "b", "score": 2}, {"dataset": "c", "score": 3}]
    measured = [{"dataset": "b", "score": 20}, {"dataset": "d", "score": 40}]
    assert bench.merged(saved, measured, ["b", "d"]) == [{"dataset": "a", "score": 1}, {"dataset": "b", "score": 20},
                                                        {"dataset": "c", "score": 3}, {"dataset": "d", "score": 40}]
    assert bench.merged(saved, measured, None) == measured  # a whole run replaces the part
    with pytest.raises(SystemExit):
        bench.main(["--datasets", "nope", "--parts", "quality", "--output", str(tmp_path / "benchmarks.md")])
    assert "--datasets: no dataset named nope in the quality or automl part" in capsys.readouterr().err
    assert not (tmp_path / "benchmarks.md").exists()


def test_the_defaults_are_scored_untuned_after_an_earlier_seed_was_tuned(tmp_path, monkeypatch):
    """The automl part tunes each seed's split in the same project; the next seed's defaults must
    not train with those hyperparameters. `make repro` is stood in for by a recorder (this checks
    the harness's bookkeeping; the tiny run above runs the real one)."""
    import importlib.util
    import subprocess

    import pandas as pd

    spec = importlib.util.spec_from_file_location("bench_quality", TEMPLATE_DIR / "bench" / "quality.py")
    quality = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quality)
    project = tmp_path / "project"
    for folder in ("data/raw", "data/holdout", "reports/evaluate"):
        (project / folder).mkdir(parents=True)
    (project / "params.yaml").write_text("data:\n  target: churned\nevaluate:\n  metric: roc_auc\n")
    (project / "tuned.yaml").write_text("model: xgboost\nhyperparameters: {max_depth: 9}\n")  # left by make tune
    seen = []

    def recorder(command, **kwargs):
        if command == "make repro":
            seen.append((project / "tuned.yaml").read_text())
            (project / "reports/evaluate/metrics.json").write_text('{"roc_auc": 0.7}')
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(quality.subprocess, "run", recorder)
    frame = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    assert quality.pipeline_score(project, frame, frame, "y", "roc_auc") == 0.7
    assert seen == [quality.UNTUNED]
