"""The delivered model scores raw rows: one output row per input row, whatever the input brings."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.delivery import predict
from {{ cookiecutter.package_name }}.pipeline.shared import model_store
from {{ cookiecutter.package_name }}.pipeline.shared.data_io import read_data_file

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


def test_an_empty_input_file_is_a_clear_error(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UserError, match="empty.csv is empty"):
        read_data_file(tmp_path / "empty.csv")


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


def test_predictions_are_written_whole_as_csv_or_parquet(tmp_path):
    frame = pd.DataFrame({"prediction": [1, 0], "probability_0": [0.2, 0.9], "probability_1": [0.8, 0.1]})
    predict.write_predictions(frame, tmp_path / "out.csv")
    predict.write_predictions(frame, tmp_path / "out.parquet")
    assert pd.read_csv(tmp_path / "out.csv").equals(frame)
    assert pd.read_parquet(tmp_path / "out.parquet").equals(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.parquet"]


def test_a_bad_output_suffix_is_refused_before_any_work(tmp_path, capsys):
    assert predict.main([str(tmp_path / "in.csv"), str(tmp_path / "out.txt")]) == 1
    assert "OUTPUT" in capsys.readouterr().err and not (tmp_path / "out.txt").exists()
