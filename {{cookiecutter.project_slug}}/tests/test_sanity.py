import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.pipeline import sanity
from {{ cookiecutter.package_name }}.pipeline.shared import model_checks, model_store


def run_sanity(params, ws):
    return sanity.run(params, ws["processed"], ws["models"], ws["cv"], ws["sanity"])


def test_a_trained_model_passes_and_reports_in_json_and_junit(params, trained):
    assert run_sanity(params, trained) == []
    summary = json.loads((trained["sanity"] / "summary.json").read_text())
    assert summary["passed"] is True and len(summary["checks"]) == 7
    suite = ET.parse(trained["sanity"] / "junit.xml").getroot()
    assert suite.get("tests") == "7" and suite.get("failures") == "0"


def squashed(proba, keep=0.2):
    """Probabilities pulled towards the uniform guess: the ranking is intact, the confidence is not."""
    return (1 - keep) / proba.shape[1] + keep * proba


def test_failed_checks_are_named_in_the_junit_report(params, trained, monkeypatch):
    real = model_store.score_holdout

    def always_positive(*args, **kwargs):
        scored = real(*args, **kwargs)
        return scored._replace(proba=np.tile([0.02, 0.98], (len(scored.y), 1)))

    monkeypatch.setattr(model_store, "score_holdout", always_positive)
    cv = json.loads(trained["cv"].read_text())
    cv["folds"][0] = {name: value / 2 for name, value in cv["folds"][0].items()}  # one fold far off
    trained["cv"].write_text(json.dumps(cv))
    failed = run_sanity(params, trained)
    assert failed == ["class_rates_within_tolerance", "calibration_error_within_tolerance", "cv_folds_consistent"]
    suite = ET.parse(trained["sanity"] / "junit.xml").getroot()
    failing = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failing == failed


def test_prediction_checks_catch_broken_probabilities():
    good = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert all(passed for _, passed, _ in sanity.check_predictions(good, 2))
    bad = np.array([[np.nan, 0.8], [1.5, -0.5]])
    failed = {name for name, passed, _ in sanity.check_predictions(bad, 3) if not passed}
    assert failed == {"one_prediction_per_row", "probabilities_finite", "probabilities_in_unit_interval",
                      "probability_rows_sum_to_one"}


def test_class_rates_check_catches_a_constant_model():
    y = np.array([0] * 700 + [1] * 300)
    always_zero = np.tile([0.9, 0.1], (1000, 1))
    [(_, passed, detail)] = sanity.check_class_rates(always_zero, y, [0, 1], tolerance=0.1)
    assert not passed and "on 1000 rows" in detail
    # Binary: both classes are off by the same amount; the detail names one of them.
    assert "predicted rate 0.900 vs observed 0.700" in detail or "predicted rate 0.100 vs observed 0.300" in detail


def test_on_a_small_holdout_a_gap_within_the_binomial_interval_passes():
    y = np.array([0] * 13 + [1] * 7)  # 35 % observed; an honest model predicting 50 % sees this often
    [(_, passed, detail)] = sanity.check_class_rates(np.tile([0.5, 0.5], (20, 1)), y, [0, 1], tolerance=0.1)
    assert passed and "on 20 rows" in detail and "binomial interval" in detail
    # The same gap on 2,000 rows is evidence.
    y = np.repeat(y, 100)
    [(_, passed, _)] = sanity.check_class_rates(np.tile([0.5, 0.5], (2000, 1)), y, [0, 1], tolerance=0.1)
    assert not passed


def honest_predictions(rows, seed, classes=2, concentration=0.3):
    """A calibrated model's probabilities and labels drawn from them (the lower the concentration,
    the more confident and better the model)."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(classes, concentration), rows)
    y = np.array([rng.choice(classes, p=row) for row in proba])
    return y, proba


@pytest.mark.parametrize("fold_rows, passes", [(40, True), (4000, False)])
def test_a_cv_fold_is_an_outlier_only_beyond_the_chance_spread_at_its_size(fold_rows, passes):
    y, proba = honest_predictions(400, seed=1, concentration=2)  # ROC AUC about 0.8, like the folds
    folds = [{"roc_auc": s} for s in (0.80, 0.81, 0.79, 0.58, 0.80)]
    [(_, passed, detail)] = sanity.check_cv_folds(folds, "roc_auc", 0.1, 5 * fold_rows, y, proba, seed=0)
    assert passed is passes and detail.startswith("fold 4") and f"folds of {fold_rows} rows" in detail


def test_calibration_threshold_widens_on_small_data_and_catches_squashed_probabilities():
    small_y, small = honest_predictions(100, seed=2, classes=3)
    large_y, large = honest_predictions(20_000, seed=3, classes=3)
    assert model_checks.calibration_error_spread(small[:50], seed=0) > 0.2  # what 50 rows alone can show
    assert model_checks.calibration_error_spread(small, seed=0) > 0.1 > 0.02 > \
        model_checks.calibration_error_spread(large, seed=0)
    for y, proba in ((small_y, small), (large_y, large)):
        [(_, passed, detail)] = sanity.check_calibration(model_checks.calibration(y, proba), proba, 0.1, seed=0)
        assert passed, detail
        bad = squashed(proba)
        [(_, passed, detail)] = sanity.check_calibration(model_checks.calibration(y, bad), bad, 0.1, seed=0)
        assert not passed and f"on {len(y)} rows" in detail, detail


def test_an_honest_random_forest_on_ten_classes_is_calibrated_and_passes(params, workspace):
    """A forest's averaged votes are under-confident with many classes (its expected calibration
    error on digits is about 0.23, past any fair tolerance): its probabilities are temperature-scaled,
    so the honest model passes the check that stops the pipeline."""
    from sklearn.datasets import load_digits  # shipped inside scikit-learn: nothing is downloaded
    from sklearn.model_selection import train_test_split

    from conftest import run_preprocess, run_train

    digits = load_digits(as_frame=True).frame
    train, holdout = train_test_split(digits, test_size=0.25, stratify=digits["target"], random_state=0)
    for split, frame in (("raw", train), ("holdout", holdout)):
        for path in workspace[split].iterdir():
            path.unlink()
        frame.to_csv(workspace[split] / "digits.csv", index=False)
    params["data"]["target"] = "target"
    params["train"]["model"] = "random_forest"
    params["evaluate"]["metric"] = "accuracy"
    run_preprocess(params, workspace)
    run_train(params, workspace)
    assert run_sanity(params, workspace) == []
    scored = model_store.score_holdout(workspace["models"], workspace["processed"] / "holdout.parquet")
    assert model_checks.calibration(scored.y, scored.proba)["ece"] < 0.05
    assert (scored.proba.argmax(axis=1) == scored.y).mean() > 0.9
