"""What chance alone produces at a given number of rows, for the checks that stop the pipeline.

A statistic measured on 50 rows moves far more than on 50,000, so a fixed threshold either cries
wolf on small data or sleeps on large data. Each check that can fail (validate and sanity) compares
its statistic with its tolerance in params.yaml *plus* this spread, taken at about one false alarm
in a thousand: it fails on evidence, not on a small holdout's noise. On large data the spread
shrinks towards 0 and the tolerance alone is the threshold. Messages name the rows and the
threshold used.
"""

import numpy as np

from .metrics import score

FALSE_ALARM_QUANTILE = 0.999
Z = 3.29  # standard errors: a two-sided 0.999 interval under the normal approximation
FOLD_BOOTSTRAP_DRAWS = 200
FOLD_BOOTSTRAP_ROWS = 2000  # larger folds: the spread at this size, scaled by 1/sqrt(rows)


def wilson_interval(count, rows, z=Z):
    """Binomial (Wilson score) interval of a rate observed as ``count`` of ``rows``."""
    rate = count / rows
    centre = (rate + z * z / (2 * rows)) / (1 + z * z / rows)
    half = z * np.sqrt(rate * (1 - rate) / rows + z * z / (4 * rows * rows)) / (1 + z * z / rows)
    return centre - half, centre + half


def auc_lower_bound(auc, y):
    """A lower confidence bound of a (one-vs-rest, macro) ROC AUC measured on labels ``y``, by
    Hanley and McNeil's standard error for each class against the rest. An AUC of 1.0 (a copied
    target) keeps its bound of 1.0 at any size; 0.986 on 150 rows (iris, petal length) does not."""
    counts = np.bincount(y)
    counts = counts[counts > 0]
    variances = []
    for positives in counts if len(counts) > 2 else counts[1:]:  # binary: the positive class
        negatives = len(y) - positives
        q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
        variances.append((auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc))
                         / (positives * negatives))
    return auc - Z * float(np.sqrt(max(np.mean(variances), 0.0) / len(variances)))


def fold_score_spread(y, proba, metric, fold_rows, seed, draws=FOLD_BOOTSTRAP_DRAWS):
    """Standard deviation of ``metric`` on ``fold_rows`` rows: stratified bootstrap samples of the
    holdout predictions (stratified like the folds), at most FOLD_BOOTSTRAP_ROWS rows, scaled to
    the fold size by 1/sqrt(rows)."""
    size = int(min(fold_rows, FOLD_BOOTSTRAP_ROWS))
    rng = np.random.default_rng(seed)
    members = [rows for rows in (np.flatnonzero(y == label) for label in range(proba.shape[1])) if len(rows)]
    scores = []
    for _ in range(draws):
        sample = np.concatenate([rng.choice(rows, max(1, round(size * len(rows) / len(y)))) for rows in members])
        try:
            scores.append(score(y[sample], proba[sample], metric))
        except ValueError:  # a metric undefined on this sample
            continue
    if len(scores) < 2:
        return 0.0
    return float(np.std(scores, ddof=1) * np.sqrt(size / fold_rows))
