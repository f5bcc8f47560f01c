import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.config import TARGET_COLUMN
from {{ cookiecutter.package_name }}.pipeline.shared import partitions
from {{ cookiecutter.package_name }}.pipeline.shared.data_io import load_xy, read_csv, read_data_dir
from {{ cookiecutter.package_name }}.pipeline.shared.encoding import apply_encoding, fit_encoding

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


def dirty_frame(rows, seed):
    """Ids with thousands of values, numbers with stray text late in the file, whole numbers that
    turn decimal far from the start, booleans with gaps, an all-missing column, imbalance."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "user_id": [f"u{i}" for i in rng.integers(0, 5000, rows)],
        "amount": rng.normal(50, 20, rows).round(2).astype(str),
        "visits": rng.integers(0, 30, rows).astype(float),
        "premium": rng.choice(["true", "false", ""], rows),
        "segment": rng.choice(["a", "b", "c", ""], rows),
        "empty": pd.Series([None] * rows, dtype="string"),
        "label": (rng.random(rows) < 0.15).astype(int),
    })
    frame.loc[rng.random(rows) < 0.02, "amount"] = "n/a"
    frame.loc[rows - 5, "amount"] = "unknown"
    frame.loc[rows - 3, "visits"] = 2.5  # the only decimal, in the last block
    return frame


def encoded_whole(params, ws):
    """The reference the stage streams towards: each data folder read whole, the encoding fitted on
    the whole training frame and applied to whole frames."""
    train = read_data_dir(ws["raw"])
    encoding = fit_encoding(train, params["data"]["target"], params["data"].get("id_column"))
    return encoding, {"train.parquet": apply_encoding(train, encoding),
                      "holdout.parquet": apply_encoding(read_data_dir(ws["holdout"]), encoding)}


@pytest.mark.parametrize("data", ["sample", "dirty"])
def test_preprocess_streams_and_writes_what_encoding_the_whole_frames_gives(params, workspace, monkeypatch, data):
    if data == "dirty":
        params["data"]["target"] = "label"
        for name, rows, seed in (("raw", 30_000, 1), ("holdout", 5_000, 2)):
            for old in workspace[name].iterdir():
                old.unlink()
            frame = dirty_frame(rows, seed)
            frame.iloc[: rows // 2].to_csv(workspace[name] / "part_1.csv", index=False)
            frame.iloc[rows // 2:].to_parquet(workspace[name] / "part_2.parquet")  # mixed file formats
    # Small blocks and partitions: many of each, and a column whose type changes after the first block.
    monkeypatch.setattr(partitions, "CSV_BLOCK_BYTES", 8 * 1024)
    monkeypatch.setattr(partitions, "PARTITION_ROWS", 250)
    encoding = run_preprocess(params, workspace)
    expected_encoding, expected = encoded_whole(params, workspace)
    assert encoding == expected_encoding
    for name, table in expected.items():
        written = pq.read_table(workspace["processed"] / name)
        assert written.schema == table.schema and written.num_rows == table.num_rows
        for column in table.column_names:
            assert np.array_equal(written.column(column).to_numpy(), table.column(column).to_numpy(),
                                  equal_nan=True), column
    assert pq.ParquetFile(workspace["processed"] / "train.parquet").num_row_groups > 1
    if data == "dirty":
        assert "visits" in encoding["numeric"] and "amount" in encoding["numeric"]
        assert len(encoding["categorical"]["user_id"]) > 4000
        assert "empty" not in encoding["features"]


# On one thread (a one-core runner, or OMP_NUM_THREADS=1) pyarrow's error names the row as well.
@pytest.mark.parametrize("threads", [1, 2])
def test_a_csv_column_is_read_with_the_type_a_whole_file_read_gives(tmp_path, monkeypatch, request, threads):
    import pyarrow as pa

    before = pa.cpu_count()
    request.addfinalizer(lambda: pa.set_cpu_count(before))
    pa.set_cpu_count(threads)
    monkeypatch.setattr(partitions, "CSV_BLOCK_BYTES", 4 * 1024)
    lines = ["count,code"] + [f"{i},{i}" for i in range(3000)] + ["2.5,x7"]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    parts = partitions.read_again_if_types_widen(lambda: list(partitions.frames(tmp_path)))
    whole = read_data_dir(tmp_path)
    assert len(parts) == 1 and len(parts[0]) == 3001
    pd.testing.assert_frame_equal(parts[0], whole)
    assert whole["count"].dtype == "float64" and pd.api.types.is_string_dtype(whole["code"])


def test_a_column_of_numbers_in_one_file_and_text_in_another_is_encoded_alike(params, workspace):
    frame = pd.read_csv(workspace["raw"] / "batch_001.csv")
    frame.iloc[:300].to_csv(workspace["raw"] / "batch_001.csv", index=False)
    other = frame.iloc[300:].copy()
    other["tenure_months"] = other["tenure_months"].astype("string").str.replace("1", "one")
    other.to_csv(workspace["raw"] / "batch_002.csv", index=False)
    encoding = run_preprocess(params, workspace)
    assert encoding == encoded_whole(params, workspace)[0]
    tenure = encoding["categorical"]["tenure_months"]
    assert "3" in tenure and "3one" in tenure  # the first file's numbers and the second's text
