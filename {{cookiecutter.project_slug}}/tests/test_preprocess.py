import json

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.config import TARGET_COLUMN

from conftest import run_preprocess, sample_frame


def outputs(ws):
    return sorted(p.name for p in ws["processed"].glob("*")) if ws["processed"].exists() else []


def test_writes_parquet_with_encoded_target_and_no_missing_values(params, workspace):
    encoding = run_preprocess(params, workspace)
    assert outputs(workspace) == ["encoding.json", "holdout.parquet", "train.parquet"]
    train = pd.read_parquet(workspace["processed"] / "train.parquet")
    assert len(train) == 600
    assert set(train[TARGET_COLUMN]) == {0, 1}
    assert not train.isna().any().any()
    assert "contract=month-to-month" in train.columns
    assert "customer_age__missing" in train.columns  # the sample data has gaps there
    assert encoding["classes"] == [0, 1]


def test_rows_without_a_target_are_dropped_and_features_keep_compact_types(params, workspace):
    frame = pd.read_csv(workspace["raw"] / "batch_001.csv")
    frame.loc[:9, "churned"] = None
    frame.to_csv(workspace["raw"] / "batch_001.csv", index=False)
    run_preprocess(params, workspace)
    train = pd.read_parquet(workspace["processed"] / "train.parquet")
    assert len(train) == len(frame) - 10
    assert train["tenure_months"].dtype == "float32"
    assert train["contract=month-to-month"].dtype == "uint8"  # 0/1 columns take one byte
    assert train["customer_age__missing"].dtype == "uint8"


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
    contract_columns = [c for c in encoded.columns if c.startswith("contract=")]
    assert (encoded[contract_columns] == 0).all().all()  # unseen category -> all zeros


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
