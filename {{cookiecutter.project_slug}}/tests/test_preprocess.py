import json

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.config import TARGET_COLUMN
from {{ cookiecutter.package_name }}.pipeline.shared.data_io import load_xy, read_csv

from conftest import run_preprocess, sample_frame


def outputs(ws):
    return sorted(p.name for p in ws["processed"].glob("*")) if ws["processed"].exists() else []


def test_writes_parquet_with_encoded_target_numbers_and_category_codes(params, workspace):
    encoding = run_preprocess(params, workspace)
    assert outputs(workspace) == ["encoding.json", "holdout.parquet", "train.parquet"]
    train = pd.read_parquet(workspace["processed"] / "train.parquet")
    assert len(train) == 600
    assert set(train[TARGET_COLUMN]) == {0, 1}
    assert encoding["classes"] == [0, 1]
    assert encoding["categorical"]["contract"] == ["month-to-month", "one-year", "two-year"]
    assert encoding["features"] == [c for c in sample_frame(1, 1).columns if c != "churned"]
    assert train["tenure_months"].dtype == "float32"
    assert train["customer_age"].isna().any()  # gaps stay gaps: each model handles them its own way
    assert train["contract"].dtype == "int32" and set(train["contract"]) == {0, 1, 2}
    assert (train["region"] == -1).any()  # a missing category has code -1


def test_rows_without_a_target_are_dropped(params, workspace):
    frame = pd.read_csv(workspace["raw"] / "batch_001.csv")
    frame.loc[:9, "churned"] = None
    frame.to_csv(workspace["raw"] / "batch_001.csv", index=False)
    run_preprocess(params, workspace)
    assert len(pd.read_parquet(workspace["processed"] / "train.parquet")) == len(frame) - 10


def test_encoding_is_fitted_on_training_data_only(params, workspace):
    run_preprocess(params, workspace)
    before = json.loads((workspace["processed"] / "encoding.json").read_text())
    holdout = pd.read_csv(workspace["holdout"] / "holdout.csv")
    holdout["tenure_months"] = 10_000
    holdout["contract"] = "a-category-only-in-holdout"
    holdout.to_csv(workspace["holdout"] / "holdout.csv", index=False)
    run_preprocess(params, workspace)
    after = json.loads((workspace["processed"] / "encoding.json").read_text())
    assert after == before
    encoded = pd.read_parquet(workspace["processed"] / "holdout.parquet")
    assert (encoded["contract"] == -1).all()  # unseen category -> missing


def test_every_category_of_a_high_cardinality_column_is_kept(params, workspace):
    frame = pd.read_csv(workspace["raw"] / "batch_001.csv")
    frame["song_id"] = [f"s{i}" for i in range(len(frame))]
    frame.to_csv(workspace["raw"] / "batch_001.csv", index=False)
    holdout = pd.read_csv(workspace["holdout"] / "holdout.csv").assign(song_id="s7")
    holdout.to_csv(workspace["holdout"] / "holdout.csv", index=False)
    encoding = run_preprocess(params, workspace)
    assert len(encoding["categorical"]["song_id"]) == len(frame)
    assert loaded(workspace, "holdout", encoding)["song_id"].eq("s7").all()


def test_a_text_column_of_numbers_with_a_few_stray_strings_is_numeric(params, workspace, capsys):
    frame = pd.read_csv(workspace["raw"] / "batch_001.csv")
    frame["monthly_charges"] = frame["monthly_charges"].astype(str)
    frame.loc[:2, "monthly_charges"] = "?"  # "n/a" and the like are read as missing already
    frame.to_csv(workspace["raw"] / "batch_001.csv", index=False)
    encoding = run_preprocess(params, workspace)
    assert "monthly_charges" in encoding["numeric"]
    assert "monthly_charges is numeric; its 3 value(s) that are not numbers count as missing" in capsys.readouterr().out
    assert loaded(workspace, "train", encoding)["monthly_charges"].isna().sum() == 3


def test_a_mostly_text_column_stays_categorical(params, workspace):
    frame = pd.read_csv(workspace["raw"] / "batch_001.csv")
    frame["region"] = frame["region"].where(frame.index % 2 == 0, "7")  # half numbers, half text
    frame.to_csv(workspace["raw"] / "batch_001.csv", index=False)
    encoding = run_preprocess(params, workspace)
    assert "region" in encoding["categorical"] and "7" in encoding["categorical"]["region"]


def loaded(ws, split, encoding):
    return load_xy(ws["processed"] / f"{split}.parquet", encoding)[0]


def test_multiclass_text_target_and_parquet_input(params, workspace):
    for split, seed in (("raw", 1), ("holdout", 2)):
        for path in workspace[split].glob("*.csv"):
            path.unlink()
        frame = sample_frame(300, seed)
        frame["plan"] = frame["contract"]
        frame = frame.drop(columns=["contract", "churned"])
        frame.to_parquet(workspace[split] / "part.parquet")
    params["data"]["target"] = "plan"
    encoding = run_preprocess(params, workspace)
    assert encoding["classes"] == ["month-to-month", "one-year", "two-year"]


def test_concatenates_every_file_in_raw(params, workspace):
    sample_frame(50, 9).to_parquet(workspace["raw"] / "batch_002.parquet")
    run_preprocess(params, workspace)
    assert len(pd.read_parquet(workspace["processed"] / "train.parquet")) == 650


def _remove_raw(ws):
    for path in ws["raw"].iterdir():
        path.unlink()


def _write_raw(ws, name, content):
    (ws["raw"] / name).write_text(content)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda ws, p: [_remove_raw(ws), ws["raw"].rmdir()], "does not exist"),
        (lambda ws, p: _remove_raw(ws), "no CSV or Parquet files"),
        (lambda ws, p: _write_raw(ws, "empty.csv", ""), "is empty"),
        (lambda ws, p: _write_raw(ws, "header_only.csv", "a,b,churned\n"), "has no data rows"),
        (lambda ws, p: _write_raw(ws, "broken.parquet", "not parquet at all"), "cannot read"),
        (lambda ws, p: p["data"].update(target="no_such_column"), "target column 'no_such_column'"),
        (lambda ws, p: pd.read_csv(ws["holdout"] / "holdout.csv").drop(columns=["region"])
         .to_csv(ws["holdout"] / "holdout.csv", index=False), "columns differ"),
        (lambda ws, p: pd.read_csv(ws["raw"] / "batch_001.csv").assign(churned=1)
         .to_csv(ws["raw"] / "batch_001.csv", index=False), "has 1 class"),
    ],
    ids=["missing-dir", "no-files", "empty-file", "no-rows", "unreadable", "missing-target",
         "holdout-columns", "one-class"],
)
def test_bad_data_fails_clearly_and_writes_nothing(params, workspace, damage, message):
    damage(workspace, params)
    with pytest.raises(UserError, match=message):
        run_preprocess(params, workspace)
    assert outputs(workspace) == []


def test_csv_files_read_exactly_as_pandas_pyarrow_engine_reads_them(tmp_path):
    path = tmp_path / "tricky.csv"
    path.write_text("num,text,flag,count\n1.5,a,yes,1\n,,no,2\nNA,None,,3\n3,<NA>,n/a,4\n-nan,#N/A,NULL,5\n")
    ours = read_csv(path)
    assert ours.equals(pd.read_csv(path, engine="pyarrow"))
    assert ours["text"].isna().tolist() == [False, True, True, True, True]
