"""train.engine (local | dask) and train.device (cpu | cuda).

The dask engine trains on a real dask.distributed cluster of worker processes: the local one it
starts itself, or the one DASK_SCHEDULER_ADDRESS names.
"""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import xgboost

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.pipeline.shared import dask_training, model_store, partitions
from {{ cookiecutter.package_name }}.pipeline.shared import params as params_module
from {{ cookiecutter.package_name }}.pipeline.shared.data_io import read_data_dir
from {{ cookiecutter.package_name }}.pipeline.shared.metrics import score_all

from conftest import run_preprocess, run_train


@pytest.fixture
def params(params):
    """Engines and devices are XGBoost's: these tests train it, whatever model the project chose."""
    params["train"]["model"] = "xgboost"
    return params


def with_engine(params, engine):
    params = json.loads(json.dumps(params))
    params["train"]["engine"] = engine
    return params


def preprocessed(params, workspace, engine, folder):
    out = workspace["processed"].with_name(folder)
    encoding = run_preprocess(with_engine(params, engine), {**workspace, "processed": out})
    return encoding, out


def assert_same_tables(left, right):
    a, b = pq.read_table(left), pq.read_table(right)
    assert a.schema == b.schema and a.num_rows == b.num_rows
    for name in a.column_names:
        assert np.array_equal(a.column(name).to_numpy(), b.column(name).to_numpy(), equal_nan=True), name


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


@pytest.mark.parametrize("data", ["sample", "dirty"])
def test_preprocess_by_partition_writes_what_the_local_engine_writes(params, workspace, monkeypatch, data):
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
    local, local_dir = preprocessed(params, workspace, "local", "local")
    by_partition, partition_dir = preprocessed(params, workspace, "dask", "dask")
    assert by_partition == local
    for name in ("train.parquet", "holdout.parquet"):
        assert_same_tables(local_dir / name, partition_dir / name)
    assert pq.ParquetFile(partition_dir / "train.parquet").num_row_groups > 1
    if data == "dirty":
        assert "visits" in local["numeric"] and "amount" in local["numeric"]
        assert len(local["categorical"]["user_id"]) > 4000
        assert "empty" not in local["features"]


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
    parts = list(partitions.frames(tmp_path))
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
    local, _ = preprocessed(params, workspace, "local", "local")
    by_partition, _ = preprocessed(params, workspace, "dask", "dask")
    assert by_partition == local
    tenure = local["categorical"]["tenure_months"]
    assert "3" in tenure and "3one" in tenure  # the first file's numbers and the second's text


def test_the_dask_engine_trains_the_same_kind_of_model_as_well(params, workspace):
    run_preprocess(params, workspace)
    scores = {}
    for engine in ("local", "dask"):
        models = workspace["models"].with_name(f"models-{engine}")
        run_train(with_engine(params, engine), {**workspace, "models": models})
        meta = json.loads((models / "model.json").read_text())
        assert (meta["model"], meta["file"]) == ("xgboost", "model.ubj") and meta["trees"] > 0
        y, proba, _, _ = model_store.score_holdout(models, workspace["processed"] / "holdout.parquet")
        scores[engine] = score_all(y, proba)["roc_auc"]
        # Loaded as every stage and make predict load it: a plain XGBClassifier.
        model, _ = model_store.load(models)
        assert type(model) is xgboost.XGBClassifier
    assert abs(scores["dask"] - scores["local"]) <= 0.005
    assert scores["dask"] > 0.6


def test_an_unreachable_scheduler_is_one_clear_error(params, workspace, monkeypatch, capsys):
    run_preprocess(params, workspace)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    monkeypatch.setattr(dask_training, "CONNECT_TIMEOUT", "0.5s")  # the port refuses at once
    with pytest.raises(UserError, match="cannot reach the Dask scheduler at DASK_SCHEDULER_ADDRESS=tcp://127.0.0.1:9"):
        run_train(with_engine(params, "dask"), workspace)
    assert not workspace["models"].exists()


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_the_device_reaches_xgboost(params, device):
    encoding = {"features": ["x"], "numeric": ["x"], "categorical": {}, "classes": [0, 1]}
    model = model_store.build("xgboost", {"n_estimators": 5}, 0, encoding, device=device)
    assert model.get_xgb_params()["device"] == device


def test_the_trained_model_config_names_its_device(params, trained):
    model, _ = model_store.load(trained["models"])
    config = json.loads(model.get_booster().save_config())
    assert config["learner"]["generic_param"]["device"] == "cpu"


def test_cuda_on_an_xgboost_without_cuda_says_how_to_get_it(params, workspace):
    if xgboost.build_info().get("USE_CUDA"):
        pytest.skip("this XGBoost has CUDA: the error does not apply")  # the CPU-only package is the pinned one
    run_preprocess(params, workspace)
    params["train"]["device"] = "cuda"
    with pytest.raises(UserError, match="make install-gpu"):
        run_train(params, workspace)


@pytest.mark.parametrize("setting, message", [
    ({"engine": "dask", "model": "random_forest"}, "train.engine dask needs train.model xgboost"),
    ({"device": "cuda", "model": "logistic_regression"}, "train.device cuda needs train.model xgboost"),
    ({"engine": "dask", "cv_max_rows": None}, "train.cv_max_rows is null"),
    ({"engine": "spark"}, "train.engine is 'spark'"),
])
def test_engine_and_device_settings_are_checked(params, setting, message):
    params["train"].update(setting)
    with pytest.raises(UserError, match=message):
        params_module.check(params)


def test_with_the_dask_engine_the_data_checks_see_a_random_sample(params, workspace, capsys):
    from {{ cookiecutter.package_name }}.pipeline import validate

    params = with_engine(params, "dask")
    params["validate"]["max_rows"] = 300
    out = workspace["validate"]
    validate.run(params, workspace["raw"], workspace["holdout"], out)
    printed = capsys.readouterr().out
    assert f"{workspace['raw']}: a random sample of" in printed and "of its 600 rows" in printed
    sampled = int(printed.split("a random sample of ")[1].split()[0])
    assert 200 < sampled < 400  # about max_rows, drawn partition by partition
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] and "drift" in summary["checks"]
