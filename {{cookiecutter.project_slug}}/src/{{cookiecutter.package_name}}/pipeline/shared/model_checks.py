"""Model validation beyond one holdout score: calibration and the weakest segments.

Calibration: do predicted probabilities mean what they say? Predictions are put in ten equal-width
bins of the predicted probability of the positive class (binary) or of the predicted class
(multiclass, "top-label"); per bin the mean prediction is set against the observed rate. The
expected calibration error (ECE) is the row-weighted mean gap.

Weakest segments: the metric on each category of each categorical feature and on each quintile of each
numeric one, the worst first, with their row counts, so a model that is good on average but fails
one region, plan or age band shows it.

The calibration error is noisier on fewer rows: the sanity stage's threshold adds what perfectly
calibrated labels reach at that size (see chance.py).
"""

import numpy as np

from . import chance
from .metrics import score

CALIBRATION_BINS = 10
NUMERIC_SEGMENTS = 5
MIN_SEGMENT_ROWS = 30  # smaller segments give scores too noisy to rank
CALIBRATION_DRAWS = 2000
RESAMPLED_VALUES = 5_000_000  # random draws held at once while resampling labels
SPREAD_ROWS = 50_000


def _confidence(proba, y=None):
    """What the calibration curve plots: the positive class's probability (binary) or the top
    label's (multiclass), and whether the label agreed with it."""
    if proba.shape[1] == 2:
        return proba[:, 1], None if y is None else (y == 1)
    return proba.max(axis=1), None if y is None else (proba.argmax(axis=1) == y)


def _bins(confidence):
    return np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)


def calibration_error_spread(proba, seed, draws=CALIBRATION_DRAWS):
    """The expected calibration error that *perfectly calibrated* labels give on these very
    predictions, its FALSE_ALARM_QUANTILE over ``draws`` redraws ("consistency resampling": each
    row's label drawn from its own predicted probabilities). On 50 rows it is often 0.2; on 50,000
    about 0.01. Above SPREAD_ROWS rows it is measured on a random SPREAD_ROWS of them and scaled by
    1/sqrt(rows), which bounds the cost on large holdouts."""
    confidence, _ = _confidence(proba)
    confidence = np.nan_to_num(confidence, nan=0.0).clip(0, 1)  # broken values fail a check of their own
    if not len(confidence):
        return 0.0
    rng = np.random.default_rng(seed)
    scale = 1.0
    if len(confidence) > SPREAD_ROWS:
        scale = np.sqrt(SPREAD_ROWS / len(confidence))
        confidence = rng.choice(confidence, SPREAD_ROWS, replace=False)
    rows = len(confidence)
    in_bin = np.zeros((rows, CALIBRATION_BINS))
    in_bin[np.arange(rows), _bins(confidence)] = 1.0
    predicted = confidence @ in_bin
    errors = []
    chunk = max(1, RESAMPLED_VALUES // rows)
    for start in range(0, draws, chunk):
        # Under perfect calibration the label agrees with the plotted class with exactly the
        # plotted probability (binary and top label alike).
        hits = (rng.random((min(chunk, draws - start), rows)) < confidence).astype(float)
        errors.append(np.abs(hits @ in_bin - predicted).sum(axis=1) / rows)
    return float(np.quantile(np.concatenate(errors), chance.FALSE_ALARM_QUANTILE) * scale)


def calibration(y, proba):
    """Reliability curve and expected calibration error."""
    confidence, hit = _confidence(proba, y)
    bins = _bins(confidence)
    curve, gap = [], 0.0
    for index in range(CALIBRATION_BINS):
        members = bins == index
        if members.any():
            predicted, observed = float(confidence[members].mean()), float(hit[members].mean())
            curve.append({"lower": index / CALIBRATION_BINS, "upper": (index + 1) / CALIBRATION_BINS,
                          "predicted": predicted, "observed": observed, "rows": int(members.sum())})
            gap += members.sum() * abs(predicted - observed)
    return {"ece": gap / max(len(y), 1), "kind": "positive class" if proba.shape[1] == 2 else "top label",
            "curve": curve}


def _segments(X, encoding):
    """(feature, segment name, row mask) for every category and numeric quintile."""
    for column in encoding["features"]:
        values = X[column]
        if column in encoding["categorical"]:
            for category, count in values.value_counts().items():
                if count >= MIN_SEGMENT_ROWS:
                    yield column, str(category), (values == category).to_numpy()
            if values.isna().sum() >= MIN_SEGMENT_ROWS:
                yield column, "(missing)", values.isna().to_numpy()
        else:
            present = values.dropna()
            if present.nunique() < 2:
                continue
            edges = np.unique(np.quantile(present, np.linspace(0, 1, NUMERIC_SEGMENTS + 1)))
            for lower, upper in zip(edges[:-1], edges[1:], strict=True):
                last = upper == edges[-1]
                mask = ((values >= lower) & ((values <= upper) if last else (values < upper))).to_numpy()
                yield column, f"[{lower:.4g}, {upper:.4g}{']' if last else ')'}", mask


def weakest_segments(X, y, proba, encoding, metric, lower_is_better, top=10):
    """The ``top`` segments with the worst ``metric``, worst first. ``X`` gives each feature's
    column by name: a DataFrame, or data_io.ProcessedColumns, which reads one at a time."""
    rows = []
    for feature, segment, mask in _segments(X, encoding):
        if mask.sum() < MIN_SEGMENT_ROWS or len(np.unique(y[mask])) < proba.shape[1]:
            continue  # ROC AUC and the like need every class in the segment
        rows.append({"feature": feature, "segment": segment, "rows": int(mask.sum()),
                     "score": score(y[mask], proba[mask], metric)})
    rows.sort(key=lambda row: -row["score"] if lower_is_better else row["score"])
    return rows[:top]


def markdown(calibrated, segments, metric, overall):
    lines = [f"Calibration ({calibrated['kind']}): expected calibration error **{calibrated['ece']:.3f}**", "",
             f"Weakest segments by {metric} (whole holdout: {overall:.4f}):", "",
             "| feature | segment | rows | score |", "|---|---|---|---|"]
    lines += [f"| {s['feature']} | {s['segment']} | {s['rows']} | {s['score']:.4f} |" for s in segments]
    return "\n".join(lines) + "\n"
