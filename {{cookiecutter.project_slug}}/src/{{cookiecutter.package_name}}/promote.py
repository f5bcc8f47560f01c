"""Accept the current model: its holdout score becomes the new baseline.txt.

`make promote` runs this and then `dvc commit`, so that dvc.lock records the new baseline and the
next `make repro` with nothing changed has nothing to do.
"""

from . import config
from .baseline import read_baseline, write_baseline
from .data_io import read_json
from .errors import StageError, exit_on_stage_error


def run(params, evaluate_dir=config.EVALUATE_DIR, sanity_dir=config.SANITY_DIR,
        baseline_file=config.BASELINE_FILE):
    metric = params["evaluate"]["metric"]
    metrics_file = evaluate_dir / "metrics.json"
    if not metrics_file.exists():
        raise StageError(f"{metrics_file} is missing: run `make repro` before promoting")
    scores = read_json(metrics_file)
    if metric not in scores:
        raise StageError(f"{metrics_file} has no {metric!r}: run `make repro` after changing the metric")
    summary_file = sanity_dir / "summary.json"
    if summary_file.exists() and not read_json(summary_file)["passed"]:
        raise StageError(f"sanity checks failed (see {summary_file}): fix the model before promoting it")
    old = read_baseline(baseline_file)
    write_baseline(baseline_file, scores[metric])
    print(f"promote: {baseline_file} {metric} {old:.4f} -> {scores[metric]:.4f}")
    return scores[metric]


@exit_on_stage_error
def main():
    run(config.load_params())


if __name__ == "__main__":
    main()
