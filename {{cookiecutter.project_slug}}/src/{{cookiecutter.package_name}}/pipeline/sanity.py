"""Stage 4: checks that the model's predictions are usable, reported as JSON and JUnit XML.

It depends on the train stage only (not on evaluate), so `dvc repro --keep-going` still runs it
when the gate fails.
"""

import sys
from pathlib import Path

import numpy as np

from .. import config
from ..cli import command, parser
from . import model_checks, model_store
from .data_io import read_json, write_atomically, write_json, write_junit
from .gate import LOWER_IS_BETTER
from .metrics import score_all
from .params import check


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
    # The predicted rate of a class is its mean predicted probability: unlike counting argmax
    # winners it does not punish a sound model for rarely putting a minority class above 0.5.
    predicted = proba.mean(axis=0)
    observed = np.bincount(y, minlength=len(classes)) / len(y)
    gaps = np.abs(predicted - observed)
    worst = int(gaps.argmax())
    detail = (f"class {classes[worst]!s}: predicted rate {predicted[worst]:.3f} vs observed "
              f"{observed[worst]:.3f} (tolerance {tolerance:.3f})")
    return [("class_rates_within_tolerance", bool(gaps.max() <= tolerance), detail)]


def check_cv_folds(fold_scores, metric, max_deviation):
    scores = np.array([fold[metric] for fold in fold_scores])
    median = float(np.median(scores))
    worst = int(np.abs(scores - median).argmax())
    deviation = float(abs(scores[worst] - median))
    detail = (f"fold {worst + 1} {metric} {scores[worst]:.4f} is {deviation:.4f} from the fold "
              f"median {median:.4f} (allowed {max_deviation:.4f})")
    return [("cv_folds_consistent", deviation <= max_deviation, detail)]


def run(params, processed_dir=config.PROCESSED_DIR, model_dir=config.MODEL_DIR,
        cv_file=config.CV_SCORES_FILE, out_dir=config.SANITY_DIR):
    """Run every check, write the reports, and return the names of the failed checks."""
    settings = check(params)["sanity"]
    X, y, proba, encoding = model_store.holdout_predictions(model_dir, processed_dir)
    classes = encoding["classes"]
    metric = params["evaluate"]["metric"]
    calibrated = model_checks.calibration(y, proba)
    segments = model_checks.weakest_segments(X, y, proba, encoding, metric, metric in LOWER_IS_BETTER)
    tolerance = float(settings["max_calibration_error"])
    checks = (
        check_predictions(proba, len(y))
        + check_class_rates(proba, y, classes, float(settings["rate_tolerance"]))
        + [("calibration_error_within_tolerance", calibrated["ece"] <= tolerance,
            f"expected calibration error {calibrated['ece']:.4f} ({calibrated['kind']}; allowed {tolerance:.4f})")]
        + check_cv_folds(read_json(cv_file)["folds"], params["evaluate"]["metric"],
                         float(settings["cv_max_deviation"]))
    )
    failed = [name for name, passed, _ in checks if not passed]
    results = {name: {"passed": bool(passed), "detail": detail} for name, passed, detail in checks}
    write_json(out_dir / "summary.json", {"passed": not failed, "checks": results})
    write_json(out_dir / "calibration.json", calibrated)
    write_json(out_dir / "segments.json", segments)
    overall = score_all(y, proba)[metric]
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
