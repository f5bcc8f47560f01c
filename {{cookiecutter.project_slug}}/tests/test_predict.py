"""The delivered model scores raw rows: one output row per input row, whatever the input brings."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.delivery import predict
from {{ cookiecutter.package_name }}.pipeline.shared import model_store, partitions

from conftest import run_preprocess, run_train, sample_frame


def delivered(ws):
    return model_store.load(ws["models"])


def test_raw_sample_rows_get_a_label_and_a_probability_per_class(trained):
    model, encoding = delivered(trained)
    rows = sample_frame(50, seed=9)
    out = predict.predict(rows, model, encoding)
    assert list(out.columns) == ["prediction", "probability_0", "probability_1"]
    assert len(out) == 50
    assert set(out["prediction"]) <= {0, 1}
    assert np.allclose(out[["probability_0", "probability_1"]].sum(axis=1), 1)
    assert (out["prediction"] == out[["probability_0", "probability_1"]].to_numpy().argmax(axis=1)).all()


def test_no_target_unseen_categories_and_gaps_are_fine_extra_columns_are_noted(trained, capsys):
    model, encoding = delivered(trained)
    rows = sample_frame(20, seed=9).drop(columns=["churned"])
    rows.loc[0, "contract"] = "ten-year"  # never seen in training
    rows.loc[1, "monthly_charges"] = None
    rows["notes"] = "free text"
    out = predict.predict(rows, model, encoding)
    assert len(out) == 20 and out.notna().all().all()
    assert "ignoring 1 column(s) the model does not use: notes" in capsys.readouterr().out


def test_a_missing_feature_column_is_one_line_naming_it(trained):
    model, encoding = delivered(trained)
    with pytest.raises(UserError, match="^new.csv lacks the feature column\\(s\\) tenure_months: "):
        predict.predict(sample_frame(5, seed=9).drop(columns=["tenure_months"]), model, encoding, "new.csv")


def test_an_empty_input_file_is_a_clear_error_and_writes_nothing(trained, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("predict")  # the workspace holds the rest of tmp_path
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UserError, match="empty.csv is empty"):
        predict.predict_file(tmp_path / "empty.csv", tmp_path / "out.csv", *delivered(trained))
    (tmp_path / "header.csv").write_text("tenure_months,contract\n")
    with pytest.raises(UserError, match="header.csv has no data rows"):
        predict.predict_file(tmp_path / "header.csv", tmp_path / "out.csv", *delivered(trained))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.csv", "header.csv"]


def test_the_id_column_is_kept_and_is_no_feature(params, workspace):
    frame = sample_frame(600, seed=1)
    frame.insert(0, "customer_id", [f"c{i:05d}" for i in range(len(frame))])
    frame.to_csv(workspace["raw"] / "batch_001.csv", index=False)
    holdout = sample_frame(400, seed=2)
    holdout.insert(0, "customer_id", [f"h{i:05d}" for i in range(len(holdout))])
    holdout.to_csv(workspace["holdout"] / "holdout.csv", index=False)
    params["data"]["id_column"] = "customer_id"
    encoding = run_preprocess(params, workspace)
    assert not any(name.startswith("customer_id") for name in encoding["features"])
    run_train(params, workspace)
    out = predict.predict(holdout.head(3), *delivered(workspace))
    assert out["customer_id"].tolist() == ["h00000", "h00001", "h00002"]


@pytest.mark.parametrize("output", ["out.csv", "out.parquet"])
def test_a_file_is_scored_a_partition_at_a_time_as_if_whole(trained, tmp_path_factory, monkeypatch, capsys, output):
    """Many small partitions and CSV blocks, and a column whose values turn to text in the last
    block (read again, as the whole file reads it): the file written equals scoring the whole frame."""
    tmp_path = tmp_path_factory.mktemp("predict")
    model, encoding = delivered(trained)
    rows = sample_frame(3000, seed=5)
    rows.insert(0, "row", range(len(rows)))
    rows["notes"] = pd.Series([1] * len(rows), dtype=object)
    rows.loc[len(rows) - 1, "notes"] = "late text"
    rows.to_csv(tmp_path / "new.csv", index=False)
    monkeypatch.setattr(partitions, "CSV_BLOCK_BYTES", 8 * 1024)
    monkeypatch.setattr(partitions, "PARTITION_ROWS", 700)
    assert predict.predict_file(tmp_path / "new.csv", tmp_path / output, model, encoding) == 3000
    assert "column 'notes' holds string values past its first rows; reading again" in capsys.readouterr().out
    written = pd.read_parquet(tmp_path / output) if output.endswith(".parquet") else pd.read_csv(tmp_path / output)
    expected = predict.predict(pd.read_csv(tmp_path / "new.csv"), model, encoding)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["new.csv", output]  # no temporary file left


def test_a_failure_part_way_leaves_no_output(trained, tmp_path_factory, monkeypatch):
    tmp_path = tmp_path_factory.mktemp("predict")  # the workspace holds the rest of tmp_path
    model, encoding = delivered(trained)
    first = sample_frame(500, seed=5)
    first.to_parquet(tmp_path / "new.parquet", row_group_size=100)
    monkeypatch.setattr(partitions, "PARTITION_ROWS", 100)
    scored = []

    def predict_then_fail(frame, *args, **kwargs):
        if scored:
            raise UserError("stopped on the second partition")
        scored.append(len(frame))
        return real_predict(frame, *args, **kwargs)

    real_predict = predict.predict
    monkeypatch.setattr(predict, "predict", predict_then_fail)
    for output in ("out.csv", "out.parquet"):
        scored.clear()
        with pytest.raises(UserError, match="second partition"):
            predict.predict_file(tmp_path / "new.parquet", tmp_path / output, model, encoding)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["new.parquet"]


def test_a_bad_output_suffix_is_refused_before_any_work(tmp_path, capsys):
    assert predict.main([str(tmp_path / "in.csv"), str(tmp_path / "out.txt")]) == 1
    assert "OUTPUT" in capsys.readouterr().err and not (tmp_path / "out.txt").exists()
