"""The report's figures (PNG in reports/figures/), each drawn only when the stage it comes from has run.

ROC and precision-recall curves (micro-averaged one-vs-rest when multiclass) and the reliability
curve (calibration), each with the accepted model (fetched through DVC from the commit that last
changed baseline.txt) overlaid on the same holdout when this model is a different one; the
confusion matrix; and the distributions of the most drifted features (training data against the
holdout).
"""

import re

from .. import config
from ..pipeline.shared import model_checks, model_store
from ..pipeline.shared.accepted import accepted_commit, fetched
from ..pipeline.shared.data_io import read_json, write_atomically, write_json

FIGURES_DIR = config.REPORT_FILE.parent / "figures"
DRIFT_FIGURES = 3
# The curves and the confusion matrix as numbers too, for places that show no image of ours (a
# GitHub pull-request comment draws them as Mermaid charts: pr_comment).
CURVES_FILE = FIGURES_DIR / "curves.json"
CURVE_GRID = [round(step / 20, 2) for step in range(21)]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, the same on a runner as on a laptop
    import matplotlib.pyplot as plt

    return plt


def _save(figure, name):
    path = FIGURES_DIR / f"{name}.png"
    write_atomically(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))
    _pyplot().close(figure)
    return path


def _binary_view(y, proba):
    """(truth, score) for the curves: the positive class, or every class one-vs-rest (micro)."""
    import numpy as np

    if proba.shape[1] == 2:
        return y, proba[:, 1]
    return (y[:, None] == np.arange(proba.shape[1])).ravel(), proba.ravel()


def model_figures(y, proba, classes, accepted=None):
    """ROC, precision-recall, reliability curve and confusion matrix of this model on the holdout;
    ``accepted`` = (label, y, proba) of the accepted model adds its curves to the first three."""
    import numpy as np
    from sklearn import metrics

    plt = _pyplot()
    label = f"class {classes[1]}" if proba.shape[1] == 2 else "micro-average, one-vs-rest"
    models = [("this model", y, proba)] + ([accepted] if accepted else [])
    paths, curves = [], {"roc": [], "precision_recall": []}
    figure, axes = plt.subplots(figsize=(5, 4.5))
    for name, truth_y, scores in models:
        fpr, tpr, _ = metrics.roc_curve(*_binary_view(truth_y, scores))
        axes.plot(fpr, tpr, label=f"{name} (AUC {metrics.auc(fpr, tpr):.3f})")
        curves["roc"].append({"name": name, "y": np.interp(CURVE_GRID, fpr, tpr).round(3).tolist()})
    axes.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC curve, holdout ({label})")
    axes.legend(loc="lower right")
    paths.append(_save(figure, "roc"))

    figure, axes = plt.subplots(figsize=(5, 4.5))
    for name, truth_y, scores in models:
        truth, score = _binary_view(truth_y, scores)
        precision, recall, _ = metrics.precision_recall_curve(truth, score)
        axes.plot(recall, precision, label=f"{name} (AP {metrics.average_precision_score(truth, score):.3f})")
        # recall decreases along the curve: reversed for interpolation
        curves["precision_recall"].append(
            {"name": name, "y": np.interp(CURVE_GRID, recall[::-1], precision[::-1]).round(3).tolist()})
    axes.axhline(np.mean(_binary_view(y, proba)[0]), linestyle="--", color="grey", label="base rate")
    axes.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, holdout ({label})")
    axes.legend(loc="upper right")
    paths.append(_save(figure, "precision_recall"))

    figure, axes = plt.subplots(figsize=(5, 4.5))
    for name, truth_y, scores in models:
        calibrated = model_checks.calibration(truth_y, scores)
        curve = calibrated["curve"]
        axes.plot([b["predicted"] for b in curve], [b["observed"] for b in curve], "o-",
                  label=f"{name} (ECE {calibrated['ece']:.3f})")
    axes.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    axes.set(xlabel="mean predicted probability", ylabel="observed rate",
             title=f"Calibration ({calibrated['kind']}), holdout")
    axes.legend(loc="upper left")
    paths.append(_save(figure, "calibration"))

    matrix = metrics.confusion_matrix(y, proba.argmax(axis=1), labels=range(len(classes)))
    figure, axes = plt.subplots(figsize=(1.2 * len(classes) + 3, 1.2 * len(classes) + 2.5))
    axes.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > matrix.max() / 2 else "black")
    names = [str(c) for c in classes]
    axes.set(xticks=range(len(names)), xticklabels=names, yticks=range(len(names)), yticklabels=names,
             xlabel="predicted", ylabel="actual", title="Confusion matrix, holdout")
    paths.append(_save(figure, "confusion_matrix"))
    curves.update(grid=CURVE_GRID, classes=names, confusion_matrix=matrix.tolist())
    write_json(CURVES_FILE, curves)
    return paths


def drift_figures(drift, encoding):
    """Training data against the holdout for the most drifted features, from the processed files."""
    import numpy as np
    import pyarrow.parquet as pq

    plt = _pyplot()
    paths = []
    for entry in drift[:DRIFT_FIGURES]:
        feature = entry["feature"]
        figure, axes = plt.subplots(figsize=(6, 3.5))
        train, holdout = (pq.read_table(config.PROCESSED_DIR / f"{split}.parquet", columns=[feature]).column(0)
                          .to_numpy() for split in ("train", "holdout"))
        if feature in encoding["categorical"]:
            categories = encoding["categorical"][feature]
            shares = [np.bincount(v[v >= 0], minlength=len(categories)) / max(len(v), 1) for v in (train, holdout)]
            top = np.argsort(-shares[0])[:10]  # the ten most frequent training categories
            for offset, split, share in ((-0.2, "train", shares[0]), (0.2, "holdout", shares[1])):
                axes.bar(np.arange(len(top)) + offset, share[top], width=0.4, label=split)
            axes.set_xticks(range(len(top)), [categories[i] for i in top], rotation=30)
        else:
            train, holdout = train[np.isfinite(train)], holdout[np.isfinite(holdout)]
            edges = np.histogram_bin_edges(train, bins=30)  # the same bins for both
            for split, values in (("train", train), ("holdout", holdout)):
                axes.hist(values, bins=edges, weights=np.full(len(values), 1 / max(len(values), 1)), alpha=0.5,
                          label=split)
        axes.set(title=f"{feature}: PSI {entry['score']:.3f}", ylabel="share of rows")
        axes.legend()
        paths.append(_save(figure, f"drift_{re.sub(r'[^A-Za-z0-9_.-]', '_', feature)}"))
    return paths


def accepted_predictions():
    """("accepted model (commit …)", y, proba) on the current holdout, or None when there is no
    accepted model to fetch or it is this very model (nothing was retrained since it was accepted)."""
    commit = accepted_commit()
    if commit is None:
        return None
    try:
        with fetched(commit, config.MODEL_DIR) as copy:
            if _same_files(copy, config.MODEL_DIR):
                return None
            y, proba, _ = model_store.score_holdout(copy, config.HOLDOUT_DIR)
    except FileNotFoundError:  # the first commit: baseline.txt, no model
        print(f"report: the accepted commit {commit[:8]} has no model, so the curves show this model alone")
        return None
    except Exception as error:  # noqa: BLE001 - the figures still show this model
        print(f"report: the accepted model at {commit[:8]} could not be scored ({type(error).__name__}: {error}), "
              "so the curves show this model alone")
        return None
    return f"accepted model ({commit[:8]})", y, proba


def _same_files(left, right):
    files = sorted(path.relative_to(left) for path in left.rglob("*") if path.is_file())
    return files == sorted(path.relative_to(right) for path in right.rglob("*") if path.is_file()) and all(
        (left / name).read_bytes() == (right / name).read_bytes() for name in files)


def write_figures():
    """Every figure whose inputs exist: (their paths, a caption naming the models compared)."""
    paths, caption = [], None
    if (config.MODEL_DIR / "model.json").exists() and (config.PROCESSED_DIR / "holdout.parquet").exists():
        y, proba, encoding = model_store.score_holdout(config.MODEL_DIR, config.PROCESSED_DIR / "holdout.parquet")
        accepted = accepted_predictions()
        paths += model_figures(y, proba, encoding["classes"], accepted)
        caption = (f"The curves show this model and the {accepted[0]} on the current holdout." if accepted else
                   "The curves show this model only: it is the accepted model, or there is none to compare with.")
    drift_file = config.VALIDATE_DIR / "drift.json"
    encoding_file = config.PROCESSED_DIR / "encoding.json"
    if drift_file.exists() and encoding_file.exists() and (config.PROCESSED_DIR / "train.parquet").exists():
        paths += drift_figures(read_json(drift_file)["train_vs_holdout"], read_json(encoding_file))
    return paths, caption
