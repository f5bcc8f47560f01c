import json
import xml.etree.ElementTree as ET

import numpy as np

from {{ cookiecutter.package_name }}.pipeline import sanity


def run_sanity(params, ws):
    return sanity.run(params, ws["processed"], ws["models"], ws["cv"], ws["sanity"])


def test_a_trained_model_passes_and_reports_in_json_and_junit(params, trained):
    assert run_sanity(params, trained) == []
    summary = json.loads((trained["sanity"] / "summary.json").read_text())
    assert summary["passed"] is True and len(summary["checks"]) == 7
    suite = ET.parse(trained["sanity"] / "junit.xml").getroot()
    assert suite.get("tests") == "7" and suite.get("failures") == "0"


def test_failed_checks_are_named_in_the_junit_report(params, trained):
    params["sanity"]["rate_tolerance"] = 0.0
    params["sanity"]["cv_max_deviation"] = 0.0
    failed = run_sanity(params, trained)
    assert failed == ["class_rates_within_tolerance", "cv_folds_consistent"]
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
    y = np.array([0] * 70 + [1] * 30)
    always_zero = np.tile([0.9, 0.1], (100, 1))
    [(_, passed, detail)] = sanity.check_class_rates(always_zero, y, [0, 1], tolerance=0.1)
    assert not passed and "predicted rate 0.900 vs observed 0.700" in detail


def test_cv_outlier_fold_is_caught():
    folds = [{"roc_auc": s} for s in (0.80, 0.81, 0.79, 0.55)]
    [(_, passed, detail)] = sanity.check_cv_folds(folds, "roc_auc", max_deviation=0.1)
    assert not passed and detail.startswith("fold 4")
