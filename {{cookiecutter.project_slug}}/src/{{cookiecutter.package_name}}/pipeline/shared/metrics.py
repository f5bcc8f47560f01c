"""The standard classification metrics, for binary and multiclass targets alike."""

import numpy as np

METRICS = ("roc_auc", "accuracy", "f1", "average_precision", "log_loss")


def score(y_true, proba, metric):
    """``metric`` (one of METRICS) for encoded labels ``y_true`` and class probabilities ``proba``.
    The bootstraps of the checks score hundreds of samples: they compute only the metric they need."""
    # Imported here: params.py reads METRICS, and preprocess should not pay scikit-learn's 0.8 s import.
    from sklearn import config_context

    # The arrays are our own, checked where they were made: scikit-learn's argument validation
    # would take half of each call, and the checks' bootstraps make hundreds.
    with config_context(skip_parameter_validation=True, assume_finite=True):
        return _score(y_true, proba, metric)


def _score(y_true, proba, metric):
    from sklearn import metrics as skm
    from sklearn.preprocessing import label_binarize

    # XGBoost returns float32 rows that sum to 1 only to float32 precision; sklearn's log_loss
    # checks the sum in float64 and would warn.
    proba = np.asarray(proba, dtype="float64")
    proba = proba / proba.sum(axis=1, keepdims=True)
    labels = np.arange(proba.shape[1])
    binary = len(labels) == 2
    if metric == "roc_auc":
        value = roc_auc(np.asarray(y_true), proba)
    elif metric == "average_precision":
        value = skm.average_precision_score(y_true, proba[:, 1]) if binary else \
            skm.average_precision_score(label_binarize(y_true, classes=labels), proba, average="macro")
    elif metric == "f1":
        predicted = proba.argmax(axis=1)
        value = skm.f1_score(y_true, predicted) if binary else \
            skm.f1_score(y_true, predicted, average="macro", labels=labels)
    elif metric == "accuracy":
        value = skm.accuracy_score(y_true, proba.argmax(axis=1))
    elif metric == "log_loss":
        value = skm.log_loss(y_true, proba, labels=labels)
    else:
        raise ValueError(f"unknown metric {metric!r}: one of {', '.join(METRICS)}")
    return float(value)


def roc_auc(y_true, proba):
    """ROC AUC, one class against the rest and averaged over classes when there are more than two,
    as the Mann-Whitney statistic: the share of (positive, negative) pairs ranked the right way,
    ties counting half. It is scikit-learn's roc_auc_score (tests/test_metrics.py compares them)
    without its input checks, which took 95 % of each call on the checks' bootstrap samples."""
    areas = []
    for label in [1] if proba.shape[1] == 2 else range(proba.shape[1]):
        positive = y_true == label
        positives = int(positive.sum())
        negatives = len(y_true) - positives
        if not positives or not negatives:
            raise ValueError(f"ROC AUC is not defined: every label is {'' if positives else 'not '}{label}")
        # Average ranks: tied scores share the mean of the ranks they span.
        _, tie, counts = np.unique(proba[:, label], return_inverse=True, return_counts=True)
        ranks = (np.cumsum(counts) - (counts - 1) / 2)[tie]
        areas.append((ranks[positive].sum() - positives * (positives + 1) / 2) / (positives * negatives))
    return float(np.mean(areas))


def score_all(y_true, proba):
    """Every metric of METRICS: {name: value}."""
    return {name: score(y_true, proba, name) for name in METRICS}
