"""Stage 3: score the holdout, write metrics and plots, and gate against baseline.txt.

The gate runs after the metrics are written, so a failed gate still leaves numbers to report.
"""


import sys

import numpy as np

from .. import config
from ..cli import command, parser
from . import gate, model_store
from .data_io import load_xy
from .metrics import score_all
from .params import check


def log_plots(live, y, proba, classes):
    """ROC and precision-recall (micro-averaged one-vs-rest when multiclass) and a confusion matrix."""
    if proba.shape[1] == 2:
        truth, score = y, proba[:, 1]
    else:
        truth = (y[:, None] == np.arange(proba.shape[1])).ravel().astype(int)
        score = proba.ravel()
    live.log_sklearn_plot("roc", truth, score, name="roc.json")
    live.log_sklearn_plot("precision_recall", truth, score, name="precision_recall.json")
    names = np.array([str(label) for label in classes])
    live.log_sklearn_plot("confusion_matrix", names[y], names[proba.argmax(axis=1)], name="confusion_matrix.json")


def run(params, processed_dir=config.PROCESSED_DIR, model_dir=config.MODEL_DIR,
        baseline_file=config.BASELINE_FILE, out_dir=config.EVALUATE_DIR):
    settings = check(params)["evaluate"]
    metric, min_improvement = settings["metric"], float(settings["min_improvement"])
    baseline = gate.read_baseline(baseline_file)
    model, encoding = model_store.load(model_dir)
    X, y = load_xy(processed_dir / "holdout.parquet", encoding)
    classes = encoding["classes"]
    proba = np.asarray(model.predict_proba(X), dtype="float64")
    scores = score_all(y, proba)

    from dvclive import Live

    # dvcyaml=False: dvc.yaml is ours and declares these plots; DVCLive must not rewrite it.
    with Live(dir=str(out_dir), save_dvc_exp=False, dvcyaml=False) as live:
        for name, value in scores.items():
            live.log_metric(name, value, plot=False)
        log_plots(live, y, proba, classes)
    decision = gate.write_gate(metric, scores[metric], baseline, min_improvement, out_dir / "gate.json")
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
