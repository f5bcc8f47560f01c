"""Baked projects run their own commands for real: unit tests, lint, `make repro`, the gate, promote."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import baked_project, run, set_params

pytestmark = pytest.mark.slow
GATE_FAILURE = re.compile(r"^(\w+) (\d\.\d{4}) did not beat baseline (\d\.\d{4}) by (\d\.\d{4})$", re.M)


def metrics_show(project):
    shown = json.loads(run("dvc metrics show --json", project)[1])
    return shown[""]["data"]["reports/evaluate/metrics.json"]["data"]


def junit_failures(project):
    from xml.etree import ElementTree

    suite = ElementTree.parse(project / "reports/sanity/junit.xml").getroot()
    return [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]


def test_generated_unit_tests_and_lint_pass_right_after_baking(cookies):
    project = baked_project(cookies)
    code, out = run("make test", project)
    assert re.search(r"\d+ passed", out) and "failed" not in out and "skipped" not in out
    run("make lint", project)


def test_repro_gate_and_promote_cycle(cookies):
    project = baked_project(cookies)
    code, out = run("make repro", project)
    assert "roc_auc" in out and "beat baseline 0.5000" in out
    metrics = metrics_show(project)
    assert set(metrics) == {"roc_auc", "accuracy", "f1", "average_precision", "log_loss"}
    score = metrics["roc_auc"]
    assert 0.6 < score <= 1
    assert json.loads((project / "reports/sanity/summary.json").read_text())["passed"] is True
    assert junit_failures(project) == []

    # Nothing changed: nothing runs.
    code, out = run("make repro", project)
    assert "Running stage" not in out

    # Deterministic: a forced re-run reproduces the metrics and the model byte for byte.
    metrics_bytes = (project / "reports/evaluate/metrics.json").read_bytes()
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    run("dvc repro --force", project)
    assert (project / "reports/evaluate/metrics.json").read_bytes() == metrics_bytes
    assert yaml.safe_load((project / "dvc.lock").read_text())["stages"]["train"]["outs"] == \
        lock["stages"]["train"]["outs"]

    # A baseline above the score: the gate fails with one line, the metrics are still written,
    # and sanity (whose outputs are gone) still runs.
    (project / "baseline.txt").write_text(f"{score + 0.05}\n")
    run("rm -rf reports/sanity reports/evaluate/metrics.json", project)
    code, out = run("make repro", project, check=False)
    assert code != 0
    [(metric, value, baseline, margin)] = GATE_FAILURE.findall(out)
    assert (metric, value, baseline, margin) == ("roc_auc", f"{score:.4f}", f"{score + 0.05:.4f}", "0.0010")
    assert metrics_show(project)["roc_auc"] == score
    assert (project / "reports/sanity/junit.xml").exists()

    # Back to a beatable baseline, then promote: the score becomes the baseline and the next
    # run has nothing to do, and passes.
    (project / "baseline.txt").write_text("0.5\n")
    run("make repro", project)
    code, out = run("make promote", project)
    assert float((project / "baseline.txt").read_text()) == score
    code, out = run("make repro", project)
    assert "Running stage" not in out
    changed = run("git status --porcelain", project)[1]
    assert "baseline.txt" in changed and "dvc.lock" in changed

    run("make plots", project)
    assert (project / "dvc_plots/index.html").exists()


def test_a_broken_model_fails_sanity_and_the_junit_report_names_the_check(cookies):
    project = baked_project(cookies)
    # Weighting the positive class 50x pushes every probability towards "churned".
    set_params(project, lambda p: p["train"]["xgboost"].update(scale_pos_weight=50))
    code, out = run("make repro", project, check=False)
    assert code != 0
    assert "class_rates_within_tolerance" in junit_failures(project)
    assert "sanity checks failed: class_rates_within_tolerance" in out


@pytest.mark.parametrize("model, metric", [
    ("random_forest", "log_loss"), ("logistic_regression", "f1"), ("xgboost", "accuracy"),
    ("random_forest", "average_precision"),
])
def test_every_model_and_metric_runs_and_passes_the_first_gate(cookies, model, metric):
    project = baked_project(cookies, model=model, metric=metric)
    run("make repro", project)
    assert metric in metrics_show(project)
    gate = json.loads((project / "reports/evaluate/gate.json").read_text())
    assert gate["metric"] == metric and gate["passed"] is True


def multiclass_frame(rows, seed):
    """Three species told apart by two measurements and a habitat, with gaps."""
    rng = np.random.default_rng(seed)
    species = rng.choice(["adelie", "gentoo", "chinstrap"], size=rows, p=[0.45, 0.35, 0.2])
    centre = pd.Series(species).map({"adelie": 38.0, "gentoo": 47.0, "chinstrap": 49.0}).to_numpy()
    depth = pd.Series(species).map({"adelie": 18.3, "gentoo": 15.0, "chinstrap": 18.4}).to_numpy()
    frame = pd.DataFrame({
        "bill_length": centre + rng.normal(0, 2.5, rows),
        "bill_depth": depth + rng.normal(0, 0.9, rows),
        "island": np.where(species == "gentoo", "biscoe", rng.choice(["dream", "torgersen", "biscoe"], rows)),
        "species": species,
    })
    frame.loc[rng.random(rows) < 0.05, "bill_depth"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "island"] = None
    return frame


def test_a_different_multiclass_dataset_needs_only_data_files_and_params(cookies):
    project = baked_project(cookies, sample_data="no")
    multiclass_frame(900, seed=1).to_csv(project / "data/raw/penguins.csv", index=False)
    multiclass_frame(300, seed=2).to_parquet(project / "data/holdout/penguins.parquet")
    set_params(project, lambda p: p["data"].update(target="species"))
    run("dvc add data/raw data/holdout", project)
    run("make repro", project)
    assert metrics_show(project)["roc_auc"] > 0.8
    confusion = json.loads((project / "reports/evaluate/plots/sklearn/confusion_matrix.json").read_text())
    assert {row["actual"] for row in confusion} == {"adelie", "chinstrap", "gentoo"}  # one row per holdout row


def test_validate_compares_with_the_accepted_data_and_a_leak_stops_training(cookies):
    """Real Git history and DVC cache: the accepted data is data/raw of the commit that last
    changed baseline.txt (here the first commit), read through DVC."""
    project = baked_project(cookies)
    raw = pd.read_csv(project / "data/raw/batch_001.csv")
    shifted = raw.assign(monthly_charges=raw["monthly_charges"] + 3 * raw["monthly_charges"].std())
    shifted.to_csv(project / "data/raw/batch_002.csv", index=False)
    run("dvc add -q data/raw", project)
    code, out = run("make repro", project)
    assert "validate: accepted data of commit" in out
    drift = json.loads((project / "reports/validate/drift.json").read_text())
    assert drift["train_vs_accepted"][0]["feature"] == "monthly_charges" and drift["train_vs_accepted"][0]["drifted"]
    assert "validate: warn drift: PSI over 0.25: monthly_charges" in out

    leaky = raw.assign(churn_copy=raw["churned"] * 2 - 1)
    leaky.to_csv(project / "data/raw/batch_001.csv", index=False)
    (project / "data/raw/batch_002.csv").unlink()
    holdout = pd.read_csv(project / "data/holdout/holdout.csv")
    holdout.assign(churn_copy=holdout["churned"] * 2 - 1).to_csv(project / "data/holdout/holdout.csv", index=False)
    code, out = run("make repro", project, check=False)
    assert code != 0 and "Running stage 'train'" not in out
    assert ("validate: FAIL leakage: alone predicts the target almost perfectly: churn_copy (ROC AUC 1.000, "
            "at least 1.000") in out


def test_a_changed_holdout_re_scores_the_accepted_model_and_the_verdict_says_so(cookies):
    project = baked_project(cookies)
    run("make repro && make promote", project)
    run("git add -A && git commit -qm 'Promote'", project)
    accepted = float((project / "baseline.txt").read_text())
    # The model in the workspace is the accepted one: the figures show it alone.
    run("make report", project)
    assert "The curves show this model only" in (project / "reports/report.md").read_text()
    # The report is an artifact: nothing of it is left for `git add reports` (the promotion commit) to take.
    assert run("git status --porcelain --untracked-files=all reports", project)[1] == ""

    # Only a parameter changes: the holdout is the one baseline.txt was measured on.
    set_params(project, lambda p: p["train"]["xgboost"].update(n_estimators=200))
    code, out = run("make repro", project, check=False)
    assert "evaluate: baseline: the holdout is the one baseline.txt was measured on" in out

    # A new holdout: baseline.txt no longer compares like with like; the accepted model is fetched
    # through DVC and scored on the new holdout, and that score is the baseline.
    holdout = pd.read_csv(project / "data/holdout/holdout.csv")
    holdout.sample(frac=0.5, random_state=3).to_csv(project / "data/holdout/holdout.csv", index=False)
    run("dvc add -q data/holdout", project)
    code, out = run("make repro", project, check=False)
    commit = run("git rev-parse --short=8 HEAD", project)[1].strip()
    about = f"the accepted model (commit {commit}) re-scored on the current holdout"
    gate = json.loads((project / "reports/evaluate/gate.json").read_text())
    assert gate["against"] == about and gate["verdict"].endswith(f"[baseline: {about}]")
    assert gate["baseline"] != accepted and f"evaluate: baseline: {about}: {gate['baseline']:.4f}" in out

    # The report's curves overlay the accepted model (the champion) on the same holdout.
    run("make report", project)
    assert f"The curves show this model and the accepted model ({commit}) on the current holdout" in (
        project / "reports/report.md").read_text()
