"""Evaluate stage: score the holdout, write metrics and plots, and gate against the accepted model.

The baseline is baseline.txt: the accepted model's score on the holdout as it was when that model
was accepted. When the holdout has changed since (data/holdout.dvc differs from the accepted
commit's), that number no longer compares like with like, so the accepted model itself is fetched
through DVC and re-scored on the current holdout, and the verdict says so. The gate runs after the
metrics are written, so a failed gate still leaves numbers to report.
"""


import sys
from pathlib import Path

import numpy as np

from .. import config
from ..cli import command, parser
from .shared import gate, model_store
from .shared.accepted import accepted_commit, changed_since, fetched
from .shared.data_io import read_json
from .shared.metrics import score, score_all
from .shared.params import check


def log_plots(live, y, proba, classes):
    """ROC and precision-recall (micro-averaged one-vs-rest when multiclass) and a confusion matrix."""
    if proba.shape[1] == 2:
        truth, score = y, proba[:, 1]
    else:
        truth = (y[:, None] == np.arange(proba.shape[1])).ravel().astype(int)
        score = proba.ravel()
    live.log_sklearn_plot("roc", truth, score, name="roc.json")
    # Only the points a plotted curve shows (ROC drops the others by default): on 100,000 holdout
    # rows every threshold made a 15 MB file and 5 s of JSON.
    live.log_sklearn_plot("precision_recall", truth, score, name="precision_recall.json", drop_intermediate=True)
    names = np.array([str(label) for label in classes])
    live.log_sklearn_plot("confusion_matrix", names[y], names[proba.argmax(axis=1)], name="confusion_matrix.json")


def rescored_accepted(metric, holdout_dir):
    """(score, description) of the accepted model on the current holdout, or (None, why not)
    when baseline.txt still compares like with like or the accepted model cannot be had."""
    commit = accepted_commit()
    if commit is None or not changed_since(commit, holdout_dir):
        return None, "the holdout is the one baseline.txt was measured on"
    try:
        with fetched(commit, config.MODEL_DIR) as copy:
            y, proba, _ = model_store.score_holdout(copy, holdout_dir)
    except Exception as error:  # noqa: BLE001 - no accepted model (first commit, old format): baseline.txt
        return None, f"no accepted model to re-score at {commit[:8]} ({type(error).__name__})"
    return score(y, proba, metric), f"the accepted model (commit {commit[:8]}) re-scored on the current holdout"


def run(params, processed_dir=config.PROCESSED_DIR, model_dir=config.MODEL_DIR,
        baseline_file=config.BASELINE_FILE, out_dir=config.EVALUATE_DIR, holdout_dir=config.HOLDOUT_DIR):
    settings = check(params)["evaluate"]
    metric, min_improvement = settings["metric"], float(settings["min_improvement"])
    baseline = gate.read_baseline(baseline_file)
    y, proba, encoding = model_store.score_holdout(model_dir, Path(processed_dir) / "holdout.parquet")
    classes = encoding["classes"]
    scores = score_all(y, proba)

    from dvclive import Live

    # dvcyaml=False: dvc.yaml is ours and declares these plots; DVCLive must not rewrite it.
    with Live(dir=str(out_dir), save_dvc_exp=False, dvcyaml=False) as live:
        for name, value in scores.items():
            live.log_metric(name, value, plot=False)
        trees = read_json(Path(model_dir) / "model.json").get("trees")
        if trees:  # how many trees early stopping kept, beside the scores they gave
            live.log_metric("trees", trees, plot=False)
        log_plots(live, y, proba, classes)
    accepted, about = rescored_accepted(metric, holdout_dir)
    print(f"evaluate: baseline: {about}" + (f": {accepted:.4f} (baseline.txt: {baseline:.4f})" if accepted is not None
                                            else f"; baseline.txt: {baseline:.4f}"))
    decision = gate.write_gate(metric, scores[metric], baseline if accepted is None else accepted, min_improvement,
                               out_dir / "gate.json", against=None if accepted is None else about)
    print("evaluate: " + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    print(decision["verdict"])
    return decision["passed"]


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    # Exit 1 on a failed gate, after the metrics are written, so that CI can still report them.
    return 0 if run(config.load_params()) else 1


if __name__ == "__main__":
    sys.exit(main())
