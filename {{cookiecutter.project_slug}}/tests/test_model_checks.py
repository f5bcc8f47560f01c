"""Calibration and weakest segments: each figure moves the way the damage it measures says."""

import json

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.pipeline import sanity
from {{ cookiecutter.package_name }}.pipeline.shared import data_io, model_checks, model_store


def test_a_calibrated_model_has_a_small_error_and_an_overconfident_one_a_large_one():
    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(int)
    calibrated = model_checks.calibration(y, np.column_stack([1 - p, p]))
    overconfident = np.where(p > 0.5, 0.99, 0.01)
    worse = model_checks.calibration(y, np.column_stack([1 - overconfident, overconfident]))
    assert calibrated["ece"] < 0.02 < 0.2 < worse["ece"]
    assert sum(b["rows"] for b in calibrated["curve"]) == 20_000 and calibrated["kind"] == "positive class"


def test_the_segment_where_the_model_is_wrong_is_the_weakest():
    rng = np.random.default_rng(1)
    n = 3000
    region = pd.Categorical(rng.choice(["north", "south", "east"], n), categories=["east", "north", "south"])
    age = rng.normal(40, 10, n).astype("float32")
    y = rng.integers(0, 2, n)
    p = np.where(y == 1, 0.8, 0.2)
    p[np.asarray(region == "south")] = 1 - p[np.asarray(region == "south")]  # wrong in the south
    X = pd.DataFrame({"region": region, "age": age})
    encoding = {"features": ["region", "age"], "categorical": {"region": ["east", "north", "south"]}}
    segments = model_checks.weakest_segments(X, y, np.column_stack([1 - p, p]), encoding, "roc_auc", False)
    assert (segments[0]["feature"], segments[0]["segment"]) == ("region", "south")
    assert segments[0]["score"] < 0.1 and segments[0]["rows"] == int((region == "south").sum())
    assert [s["score"] for s in segments] == sorted(s["score"] for s in segments)
    assert {s["feature"] for s in segments} == {"region", "age"}


def test_sanity_writes_calibration_and_segments(params, trained):
    sanity.run(params, trained["processed"], trained["models"], trained["cv"], trained["sanity"])
    calibration = json.loads((trained["sanity"] / "calibration.json").read_text())
    segments = json.loads((trained["sanity"] / "segments.json").read_text())
    assert 0 <= calibration["ece"] < params["sanity"]["max_calibration_error"]
    assert segments and all(s["rows"] >= model_checks.MIN_SEGMENT_ROWS for s in segments)
    report = (trained["sanity"] / "model_validation.md").read_text()
    assert f"Weakest segments by {params['evaluate']['metric']}" in report


def test_segments_read_a_column_at_a_time_are_those_of_the_whole_frame(params, trained):
    """sanity never holds the holdout's features as one frame: it reads them a column at a time."""
    holdout = trained["processed"] / "holdout.parquet"
    y, proba, encoding = model_store.score_holdout(trained["models"], holdout)
    whole = pd.concat([X for X, _ in data_io.row_groups(holdout, encoding)], ignore_index=True)
    metric = params["evaluate"]["metric"]
    by_column = model_checks.weakest_segments(data_io.ProcessedColumns(holdout, encoding), y, proba, encoding,
                                              metric, False, top=None)
    assert by_column == model_checks.weakest_segments(whole, y, proba, encoding, metric, False, top=None)
    # Categories come back by name, not as the codes the processed file stores.
    categories = {(s["feature"], s["segment"]) for s in by_column if s["feature"] in encoding["categorical"]}
    assert categories and all(segment in [*map(str, encoding["categorical"][feature]), "(missing)"]
                              for feature, segment in categories)
