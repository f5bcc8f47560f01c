"""Model validation beyond one holdout score: calibration and the weakest segments.

Calibration: do predicted probabilities mean what they say? Predictions are put in ten equal-width
bins of the predicted probability of the positive class (binary) or of the predicted class
(multiclass, "top-label"); per bin the mean prediction is set against the observed rate. The
expected calibration error (ECE) is the row-weighted mean gap.

Weakest segments: the metric on each category of each text feature and on each quintile of each
numeric one, the worst first, with their row counts, so a model that is good on average but fails
one region, plan or age band shows it.
"""

import numpy as np

from .metrics import score_all

CALIBRATION_BINS = 10
NUMERIC_SEGMENTS = 5
MIN_SEGMENT_ROWS = 30  # smaller segments give scores too noisy to rank


def calibration(y, proba):
    """Reliability curve and expected calibration error."""
    if proba.shape[1] == 2:
        confidence, hit = proba[:, 1], (y == 1)
    else:
        confidence, hit = proba.max(axis=1), (proba.argmax(axis=1) == y)
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
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
    """The ``top`` segments with the worst ``metric``, worst first."""
    rows = []
    for feature, segment, mask in _segments(X, encoding):
        if mask.sum() < MIN_SEGMENT_ROWS or len(np.unique(y[mask])) < 2:
            continue  # ROC AUC and the like need both outcomes in the segment
        try:
            score = score_all(y[mask], proba[mask])[metric]
        except ValueError:  # e.g. multiclass ROC AUC on a segment that lacks a class
            continue
        rows.append({"feature": feature, "segment": segment, "rows": int(mask.sum()), "score": score})
    rows.sort(key=lambda row: -row["score"] if lower_is_better else row["score"])
    return rows[:top]


def markdown(calibrated, segments, metric, overall):
    lines = [f"Calibration ({calibrated['kind']}): expected calibration error **{calibrated['ece']:.3f}**", "",
             f"Weakest segments by {metric} (whole holdout: {overall:.4f}):", "",
             "| feature | segment | rows | score |", "|---|---|---|---|"]
    lines += [f"| {s['feature']} | {s['segment']} | {s['rows']} | {s['score']:.4f} |" for s in segments]
    return "\n".join(lines) + "\n"
