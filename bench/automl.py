"""AutoML: the pipeline's default model against FLAML given a fixed wall budget, on the same files.

The datasets are the real public ones of the checks part with 1,000 rows or more (binary and
multiclass, text columns, ordered grades such as diamonds' colour and clarity; nothing is
downloaded). Each is split into training and holdout files (stratified, 25 % holdout) once per
seed, and both sides get the same two files: the pipeline is a freshly baked project with its
default params.yaml (only `data.target` and `evaluate.metric` set), run with `make repro`; FLAML
2.8 (`bench/flaml_script.py`, from its own environment `.venv-flaml`: it takes XGBoost < 3) reads
the files with pandas and runs `AutoML.fit` with the budget, the same metric, the seed and as many
threads as the machine has cores, its final refit on every training row included in its wall
time. Score: ROC AUC for binary targets, accuracy for multiclass ones, on the holdout file; the
difference is paired (the same split for both), its mean over the seeds with the smallest and
largest. The tuned pipeline is the same project after `make tune` with the same budget (tuned.yaml
reset first, so each split starts from the defaults), then `make repro`: its wall time is the
search plus the pipeline.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import false_alarms
import quality

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
FLAML_PYTHON = TEMPLATE_DIR / ".venv-flaml" / "bin" / "python"
MIN_ROWS = 1000
GOAL = 0.01  # the default model within this much of FLAML on every dataset (mean over the seeds)
# The tuned model at least as good as FLAML on the mean over the datasets and on most of them.


def datasets(small=False):
    found = false_alarms.datasets(small)
    if small:
        return found
    return {name: found[name] for name in ("orange juice (ISLR)", "digits", "mortgage denial (AER)", "wage (ISLR)",
                                           "caravan (ISLR)", "credit default (ISLR)", "diamonds (ggplot2)",
                                           "flights (nycflights13)")}


def flaml(train_csv, holdout_csv, target, metric, budget, seed):
    output = subprocess.run([FLAML_PYTHON, Path(__file__).with_name("flaml_script.py"), train_csv, holdout_csv,
                             target, metric, str(budget), str(seed), str(os.cpu_count())],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def tuned_score(project, metric, budget):
    (project / "tuned.yaml").write_text(quality.UNTUNED)
    tuned = subprocess.run(f"make tune TUNE_BUDGET_S={budget}", shell=True, cwd=project, capture_output=True,
                           text=True)
    if tuned.returncode != 0:
        raise SystemExit(f"make tune failed in {project}:\n{tuned.stdout[-3000:]}\n{tuned.stderr[-3000:]}")
    return quality.repro_score(project, metric)


def run(bake, workdir, log, small=False, budget=60, seeds=3, only=None):
    if not FLAML_PYTHON.exists():
        raise SystemExit("the FLAML environment is missing: `make bench` installs it (.venv-flaml)")
    rows = []
    for name, (about, load) in datasets(small).items():
        if only and name not in only:
            continue
        frame, target = load()
        assert small or len(frame) >= MIN_ROWS, name
        metric = "roc_auc" if frame[target].nunique() == 2 else "accuracy"
        project = bake(workdir, "automl-" + re.sub(r"\W+", "-", name))[1]
        row = {"dataset": name, "about": about, "metric": metric, "budget": budget,
               "pipeline": [], "pipeline_seconds": [], "tuned": [], "tuned_seconds": [], "flaml": [],
               "flaml_seconds": [], "flaml_best": []}
        for seed in range(seeds):
            log(f"automl: {name}, seed {seed}: pipeline, tuned for {budget} s, then FLAML for {budget} s")
            train, holdout = quality.split(frame, target, seed)
            start = time.perf_counter()
            row["pipeline"].append(quality.pipeline_score(project, train, holdout, target, metric))
            row["pipeline_seconds"].append(time.perf_counter() - start)
            start = time.perf_counter()
            row["tuned"].append(tuned_score(project, metric, budget))
            row["tuned_seconds"].append(time.perf_counter() - start)
            result = flaml(project / "data/raw/data.csv", project / "data/holdout/data.csv", target, metric, budget,
                           seed)
            row["flaml"].append(result["score"])
            row["flaml_seconds"].append(result["seconds"])
            row["flaml_best"].append(result["best"])
        rows.append(row)
    return rows


def differences(row, ours="pipeline"):
    return [mine - theirs for mine, theirs in zip(row[ours], row["flaml"], strict=True)]


def mean(values):
    return sum(values) / len(values)


def gap(row, ours="pipeline"):
    """Pipeline (or the tuned one) minus FLAML, the mean of the paired differences over the seeds."""
    return mean(differences(row, ours))


def met(row):
    return gap(row) >= -GOAL


def tuned_verdict(rows):
    """The tuned model's goal: at least as good as FLAML on the mean over the datasets and on most."""
    ahead = sum(gap(r, "tuned") >= 0 for r in rows)
    overall = mean([gap(r, "tuned") for r in rows])
    met_ = overall >= 0 and ahead > len(rows) / 2
    return (f"mean difference {overall:+.4f}, as good or better on {ahead} of {len(rows)} datasets "
            f"(target: >= 0 and most: {'met' if met_ else 'MISSED'})")


def table(rows):
    lines = ["| dataset | what it is | metric | pipeline (defaults) | tuned | FLAML | "
             "defaults - FLAML: mean (min, max) | tuned - FLAML: mean (min, max) | "
             "wall time: defaults, tuned, FLAML (budget) | FLAML's best models | "
             f"defaults within {GOAL} |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        spreads = {ours: differences(r, ours) for ours in ("pipeline", "tuned")}
        lines.append(
            f"| {r['dataset']} | {r['about']} | {r['metric']} | {mean(r['pipeline']):.4f} | {mean(r['tuned']):.4f} | "
            f"{mean(r['flaml']):.4f} | " + " | ".join(
                f"**{gap(r, ours):+.4f}** ({min(spread):+.4f}, {max(spread):+.4f})" for ours, spread in spreads.items())
            + f" | {mean(r['pipeline_seconds']):.0f} s, {mean(r['tuned_seconds']):.0f} s, "
            f"{mean(r['flaml_seconds']):.0f} s ({r['budget']} s) | {', '.join(sorted(set(r['flaml_best'])))} | "
            f"{'met' if met(r) else 'MISSED'} |")
    behind = [r["dataset"] for r in rows if not met(r)]
    lines += ["", f"Defaults: {len(rows) - len(behind)} of {len(rows)} datasets within {GOAL} of FLAML (mean of "
              f"{len(rows[0]['pipeline'])} seed(s)); mean difference over the datasets "
              f"{mean([gap(r) for r in rows]):+.4f}." + (f" Behind: {', '.join(behind)}." if behind else ""),
              f"Tuned at the same budget: {tuned_verdict(rows)}."]
    return lines
