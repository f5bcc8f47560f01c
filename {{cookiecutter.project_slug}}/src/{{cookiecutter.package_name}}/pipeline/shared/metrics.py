"""The standard classification metrics, for binary and multiclass targets alike."""

import numpy as np
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

METRICS = ("roc_auc", "accuracy", "f1", "average_precision", "log_loss")


def score_all(y_true, proba):
    """Every metric of METRICS for encoded labels ``y_true`` and class probabilities ``proba``."""
    # XGBoost returns float32 rows that sum to 1 only to float32 precision; sklearn's log_loss
    # checks the sum in float64 and would warn.
    proba = np.asarray(proba, dtype="float64")
    proba = proba / proba.sum(axis=1, keepdims=True)
    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    predicted = proba.argmax(axis=1)
    if n_classes == 2:
        positive = proba[:, 1]
        scores = {
            "roc_auc": skm.roc_auc_score(y_true, positive),
            "average_precision": skm.average_precision_score(y_true, positive),
            "f1": skm.f1_score(y_true, predicted),
        }
    else:
        scores = {
            "roc_auc": skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=labels),
            "average_precision": skm.average_precision_score(
                label_binarize(y_true, classes=labels), proba, average="macro"
            ),
            "f1": skm.f1_score(y_true, predicted, average="macro", labels=labels),
        }
    scores["accuracy"] = skm.accuracy_score(y_true, predicted)
    scores["log_loss"] = skm.log_loss(y_true, proba, labels=labels)
    return {name: float(scores[name]) for name in METRICS}

