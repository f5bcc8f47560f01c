"""Sanity stage: checks that the model's predictions are usable, reported as JSON and JUnit XML.

It depends on the train stage only (not on evaluate), so `dvc repro --keep-going` still runs it
when the gate fails.
"""

import sys
from pathlib import Path

import numpy as np

from .. import config
from ..cli import command, parser
from .shared import chance, model_checks, model_store
from .shared.data_io import ProcessedColumns, read_json, write_atomically, write_json, write_junit
from .shared.gate import LOWER_IS_BETTER
from .shared.metrics import score
from .shared.params import check


def check_predictions(proba, n_rows):
    finite = bool(np.isfinite(proba).all())
    in_range = finite and bool(((proba >= 0) & (proba <= 1)).all())
    worst_sum = float(np.abs(proba.sum(axis=1) - 1).max()) if finite and len(proba) else float("nan")
    return [
        ("one_prediction_per_row", proba.shape[0] == n_rows,
         f"{proba.shape[0]} predictions for {n_rows} holdout rows"),
        ("probabilities_finite", finite, "every probability is a finite number" if finite
         else f"{int((~np.isfinite(proba)).sum())} probabilities are NaN or infinite"),
        ("probabilities_in_unit_interval", in_range,
         f"probabilities range over [{np.nanmin(proba):.4f}, {np.nanmax(proba):.4f}]"),
        ("probability_rows_sum_to_one", worst_sum <= 1e-4,
         f"largest deviation of a row sum from 1 is {worst_sum:.2e}"),
    ]


def check_class_rates(proba, y, classes, tolerance):
    """Each class's predicted rate (its mean predicted probability: unlike counting argmax winners,
    it does not punish a sound model for rarely putting a minority class above 0.5) within
    ``tolerance`` of the binomial interval of its observed rate: on a small holdout the observed
    rate alone moves by more than the tolerance."""
    rows = len(y)
    predicted = proba.mean(axis=0)
    counts = np.bincount(y, minlength=len(classes))
    low, high = chance.wilson_interval(counts, rows)
    outside = np.maximum(low - predicted, predicted - high)
    worst = int(np.nanargmax(outside)) if np.isfinite(outside).any() else 0
    detail = (f"class {classes[worst]!s}: predicted rate {predicted[worst]:.3f} vs observed {counts[worst] / rows:.3f} "
              f"on {rows} rows; fails more than rate_tolerance {tolerance:.3f} outside "
              f"[{low[worst]:.3f}, {high[worst]:.3f}], the {chance.FALSE_ALARM_QUANTILE:.1%} binomial interval "
              "at this size")
    return [("class_rates_within_tolerance", bool(np.all(outside <= tolerance)), detail)]


def check_calibration(calibrated, proba, tolerance, seed):
    spread = model_checks.calibration_error_spread(proba, seed)
    limit = tolerance + spread
    detail = (f"expected calibration error {calibrated['ece']:.4f} ({calibrated['kind']}) on {len(proba)} rows; "
              f"fails above {limit:.4f}: max_calibration_error {tolerance:.4f} plus {spread:.4f}, what perfectly "
              "calibrated labels reach at this size")
    return [("calibration_error_within_tolerance", bool(calibrated["ece"] <= limit), detail)]


def check_cv_folds(fold_scores, metric, max_deviation, cv_rows, y, proba, seed):
    """No fold's score further from the fold median than max_deviation plus 3.29 x sqrt(2)
    standard errors of the metric at the fold's size (what two folds' scores differ by through
    chance about once in a thousand)."""
    scores = np.array([fold[metric] for fold in fold_scores])
    median = float(np.median(scores))
    worst = int(np.abs(scores - median).argmax())
    deviation = float(abs(scores[worst] - median))
    fold_rows = max(1, cv_rows // len(scores))
    spread = chance.Z * np.sqrt(2) * chance.fold_score_spread(y, proba, metric, fold_rows, seed)
    limit = max_deviation + spread
    detail = (f"fold {worst + 1} {metric} {scores[worst]:.4f} is {deviation:.4f} from the fold median "
              f"{median:.4f}; folds of {fold_rows} rows fail beyond {limit:.4f}: cv_max_deviation "
              f"{max_deviation:.4f} plus {spread:.4f}, the chance spread at that size")
    return [("cv_folds_consistent", bool(deviation <= limit), detail)]


def run(params, processed_dir=config.PROCESSED_DIR, model_dir=config.MODEL_DIR,
        cv_file=config.CV_SCORES_FILE, out_dir=config.SANITY_DIR):
    """Run every check, write the reports, and return the names of the failed checks."""
    settings = check(params)["sanity"]
    holdout = Path(processed_dir) / "holdout.parquet"
    y, proba, encoding = model_store.score_holdout(model_dir, holdout)
    classes = encoding["classes"]
    metric = params["evaluate"]["metric"]
    calibrated = model_checks.calibration(y, proba)
    # The features a column at a time: a large holdout is never one frame (see docs/scaling.md).
    segments = model_checks.weakest_segments(ProcessedColumns(holdout, encoding), y, proba, encoding, metric,
                                             metric in LOWER_IS_BETTER)
    seed = params["train"]["seed"]
    cv = read_json(cv_file)
    checks = (
        check_predictions(proba, len(y))
        + check_class_rates(proba, y, classes, float(settings["rate_tolerance"]))
        + check_calibration(calibrated, proba, float(settings["max_calibration_error"]), seed)
        + check_cv_folds(cv["folds"], metric, float(settings["cv_max_deviation"]), cv["rows"], y, proba, seed)
    )
    failed = [name for name, passed, _ in checks if not passed]
    results = {name: {"passed": bool(passed), "detail": detail} for name, passed, detail in checks}
    write_json(out_dir / "summary.json", {"passed": not failed, "checks": results})
    write_json(out_dir / "calibration.json", calibrated)
    write_json(out_dir / "segments.json", segments)
    overall = score(y, proba, metric)
    write_atomically(out_dir / "model_validation.md", lambda tmp: Path(tmp).write_text(
        model_checks.markdown(calibrated, segments, metric, overall), encoding="utf-8"))
    write_junit(out_dir / "junit.xml", "sanity", results)
    for name, passed, detail in checks:
        print(f"sanity: {'ok  ' if passed else 'FAIL'} {name}: {detail}")
    if segments:
        worst = segments[0]
        print(f"sanity: weakest segment {worst['feature']} {worst['segment']}: {metric} {worst['score']:.4f} "
              f"on {worst['rows']} rows (whole holdout {overall:.4f}); all in {out_dir / 'segments.json'}")
    return failed


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    failed = run(config.load_params())
    if failed:
        print(f"sanity checks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
