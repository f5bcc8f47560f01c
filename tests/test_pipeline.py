"""Baked projects run their own commands for real: unit tests, lint, `make repro`, the gate, promote."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import attempt, baked_project, metrics_show, read_gate, run, set_params, trained_copy

pytestmark = pytest.mark.slow
GATE_FAILURE = re.compile(r"^(\w+) (\d\.\d{4}) did not beat baseline (\d\.\d{4}) by (\d\.\d{4})$", re.M)


def junit_failures(project):
    from xml.etree import ElementTree

    suite = ElementTree.parse(project / "reports/sanity/junit.xml").getroot()
    return [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]


def test_repro_gate_and_promote_cycle(trained, tmp_path):
    project, out = trained_copy(trained, tmp_path / "project"), trained[1]  # the first `make repro`
    assert "roc_auc" in out and "beat baseline 0.5000" in out
    metrics = metrics_show(project)
    assert set(metrics) == {"roc_auc", "accuracy", "f1", "average_precision", "log_loss", "trees"}
    cap = yaml.safe_load((project / "params.yaml").read_text())["train"]["xgboost"]["n_estimators"]
    assert 0 < metrics["trees"] < cap  # early stopping chose the number
    score = metrics["roc_auc"]
    assert 0.6 < score <= 1
    assert json.loads((project / "reports/sanity/summary.json").read_text())["passed"] is True
    assert junit_failures(project) == []

    # Nothing changed: nothing runs.
    out = run("make repro", project)
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
    code, out = attempt("make repro", project)
    assert code != 0
    [(metric, value, baseline, margin)] = GATE_FAILURE.findall(out)
    assert (metric, value, baseline, margin) == ("roc_auc", f"{score:.4f}", f"{score + 0.05:.4f}", "0.0010")
    assert metrics_show(project)["roc_auc"] == score
    assert (project / "reports/sanity/junit.xml").exists()

    # Back to a beatable baseline, then promote: the score becomes the baseline and the next
    # run has nothing to do, and passes.
    (project / "baseline.txt").write_text("0.5\n")
    run("make repro", project)
    out = run("make promote", project)
    assert float((project / "baseline.txt").read_text()) == score
    out = run("make repro", project)
    assert "Running stage" not in out
    changed = run("git status --porcelain", project)
    assert "baseline.txt" in changed and "dvc.lock" in changed

    run("make plots", project)
    assert (project / "dvc_plots/index.html").exists()


def test_make_tune_writes_what_repro_trains_once_and_the_gate_judges(trained, tmp_path):
    project = trained_copy(trained, tmp_path / "project")
    out = run("make tune TUNE_BUDGET_S=8", project)
    tuned = yaml.safe_load((project / "tuned.yaml").read_text())
    assert tuned["model"] == "xgboost" and tuned["budget_s"] == 8 and tuned["seed"] == 42
    assert tuned["trials"] == len(re.findall(r"^tune: trial \d+: ", out, re.M)) >= 2  # one line per trial
    # The study is tracked by DVC, not Git: its .dvc file is what gets committed.
    assert run("git status --porcelain --untracked-files=all tuning", project).split() == ["??", "tuning/.gitignore",
                                                                                          "??", "tuning/study.json.dvc"]
    assert len(json.loads((project / "tuning/study.json").read_text())["trials"]) == tuned["trials"]

    out = run("make repro", project)
    assert "train: xgboost hyperparameters from make tune (tuned.yaml)" in out
    assert re.search(r"^roc_auc \d\.\d{4} beat baseline 0\.5000", out, re.M)  # judged by the same gate
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    assert lock["stages"]["train"]["params"]["tuned.yaml"]["hyperparameters"] == tuned["hyperparameters"]
    assert "Running stage" not in run("make repro", project)  # no tuning again, nothing to re-train


def test_a_broken_model_fails_sanity_and_the_junit_report_names_the_check(trained, tmp_path):
    project = trained_copy(trained, tmp_path / "project")
    # Weighting the positive class 50x pushes every probability towards "churned".
    set_params(project, lambda p: p["train"]["xgboost"].update(scale_pos_weight=50))
    code, out = attempt("make repro", project)
    assert code != 0
    assert "class_rates_within_tolerance" in junit_failures(project)
    assert "sanity checks failed: class_rates_within_tolerance" in out


def multiclass_frame(rows, seed, noise=0.0):
    """Three species told apart by two measurements and a habitat, with gaps; a ``noise`` share of
    the labels drawn at random."""
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
    noisy = rng.random(rows) < noise
    frame.loc[noisy, "species"] = rng.choice(["adelie", "gentoo", "chinstrap"], int(noisy.sum()))
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


def squash_xgboost_model(path, factor):
    """Scale every leaf of a saved XGBoost model and level its per-class intercepts: the trees' class
    ranking stays, the probabilities are pulled towards the uniform guess (an under-confident model)."""
    from xgboost import XGBClassifier

    model = XGBClassifier()
    model.load_model(path)
    raw = json.loads(model.get_booster().save_raw("json"))
    parameters = raw["learner"]["learner_model_param"]
    classes = int(parameters["num_class"])
    if classes > 1:  # with shrunken trees, unequal intercepts would decide the class instead
        parameters["base_score"] = "[" + ",".join(["0E0"] * classes) + "]"
    for tree in raw["learner"]["gradient_booster"]["model"]["trees"]:
        for node, left in enumerate(tree["left_children"]):
            if left == -1:
                tree["split_conditions"][node] *= factor
                tree["base_weights"][node] *= factor
    model.get_booster().load_model(bytearray(json.dumps(raw).encode()))
    model.save_model(path)


def test_an_honest_model_on_a_small_noisy_multiclass_table_passes_and_a_squashed_one_fails(cookies):
    """140 training and 50 holdout rows, a quarter of the labels random: on 50 rows the calibration
    error is mostly noise, and the checks must know it."""
    project = baked_project(cookies, project_name="Small Table 3", model="random_forest", metric="f1",
                            sample_data="no")
    multiclass_frame(140, seed=1, noise=0.25).to_csv(project / "data/raw/penguins.csv", index=False)
    multiclass_frame(50, seed=101, noise=0.25).to_csv(project / "data/holdout/penguins.csv", index=False)
    set_params(project, lambda p: p["data"].update(target="species"))
    run("dvc add -q data/raw data/holdout", project)
    for model in ("random_forest", "xgboost"):
        set_params(project, lambda p, model=model: p["train"].update(model=model))
        out = run("make repro", project)
        summary = json.loads((project / "reports/sanity/summary.json").read_text())
        assert summary["passed"], summary
        calibration = summary["checks"]["calibration_error_within_tolerance"]["detail"]
        assert re.search(r"on 50 rows; fails above 0\.\d{4}: max_calibration_error 0\.1000 plus", calibration)
        if model == "random_forest":  # the bake's first commit had no data yet
            assert "validate: no accepted data: data/raw was not tracked by DVC at commit" in out

    squash_xgboost_model(project / "models/model.ubj", 0.1)
    code, out = attempt("python -m small_table_3.pipeline.sanity", project)
    assert code == 1 and "sanity checks failed: calibration_error_within_tolerance" in out
    assert junit_failures(project) == ["calibration_error_within_tolerance"]


def test_validate_compares_with_the_accepted_data_and_a_leak_stops_training(trained, tmp_path):
    """Real Git history and DVC cache: the accepted data is data/raw of the commit that last
    changed baseline.txt (here the first commit), read through DVC."""
    project = trained_copy(trained, tmp_path / "project")
    raw = pd.read_csv(project / "data/raw/batch_001.csv")
    # A new batch of other customers (a copy of the first one's rows would let early stopping score
    # on twins of its training rows and overfit), whose charges all moved up.
    run("python -c 'from churn_model.bake import sample_data as s; "
        "s.write_csv(\"data/raw/batch_002.csv\", s.generate_rows(1000, seed=9))'", project)
    batch = pd.read_csv(project / "data/raw/batch_002.csv")
    batch.assign(monthly_charges=batch["monthly_charges"] + 3 * raw["monthly_charges"].std()).to_csv(
        project / "data/raw/batch_002.csv", index=False)
    run("dvc add -q data/raw", project)
    out = run("make repro", project)
    assert "validate: accepted data of commit" in out
    drift = json.loads((project / "reports/validate/drift.json").read_text())
    assert drift["train_vs_accepted"][0]["feature"] == "monthly_charges" and drift["train_vs_accepted"][0]["drifted"]
    assert "validate: warn drift: PSI over 0.25: monthly_charges" in out

    leaky = raw.assign(churn_copy=raw["churned"] * 2 - 1)
    leaky.to_csv(project / "data/raw/batch_001.csv", index=False)
    (project / "data/raw/batch_002.csv").unlink()
    holdout = pd.read_csv(project / "data/holdout/holdout.csv")
    holdout.assign(churn_copy=holdout["churned"] * 2 - 1).to_csv(project / "data/holdout/holdout.csv", index=False)
    code, out = attempt("make repro", project)
    assert code != 0 and "Running stage 'train'" not in out
    assert ("validate: FAIL leakage: alone predicts the target almost perfectly: churn_copy (ROC AUC 1.000, "
            "at least 1.000") in out


def test_a_changed_holdout_re_scores_the_accepted_model_and_the_verdict_says_so(trained, tmp_path):
    project = trained_copy(trained, tmp_path / "project")
    run("make repro && make promote", project)
    run("git add -A && git commit -qm 'Promote'", project)
    accepted = float((project / "baseline.txt").read_text())
    # The model in the workspace is the accepted one: the figures show it alone.
    run("make report", project)
    assert "The curves show this model only" in (project / "reports/report.md").read_text()
    # The report is an artifact: nothing of it is left for `git add reports` (the promotion commit) to take.
    assert run("git status --porcelain --untracked-files=all reports", project) == ""

    # Only a parameter changes: the holdout is the one baseline.txt was measured on.
    set_params(project, lambda p: p["train"]["xgboost"].update(max_depth=3))
    code, out = attempt("make repro", project)
    assert "evaluate: baseline: the holdout is the one baseline.txt was measured on" in out

    # A new holdout: baseline.txt no longer compares like with like; the accepted model is fetched
    # through DVC and scored on the new holdout, and that score is the baseline.
    holdout = pd.read_csv(project / "data/holdout/holdout.csv")
    holdout.sample(frac=0.5, random_state=3).to_csv(project / "data/holdout/holdout.csv", index=False)
    run("dvc add -q data/holdout", project)
    code, out = attempt("make repro", project)
    commit = run("git rev-parse --short=8 HEAD", project).strip()
    about = f"the accepted model (commit {commit}) re-scored on the current holdout"
    gate = read_gate(project)
    assert gate["against"] == about and gate["verdict"].endswith(f"[baseline: {about}]")
    assert gate["baseline"] != accepted and f"evaluate: baseline: {about}: {gate['baseline']:.4f}" in out

    # The report's curves overlay the accepted model on the same holdout.
    run("make report", project)
    assert f"The curves show this model and the accepted model ({commit}) on the current holdout" in (
        project / "reports/report.md").read_text()
