"""train.engine (local | dask) and train.device (cpu | cuda).

The dask engine trains on a real dask.distributed cluster of worker processes: the local one it
starts itself, or the one DASK_SCHEDULER_ADDRESS names.
"""

import json

import pyarrow.parquet as pq
import pytest
import xgboost

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.pipeline.shared import dask_training, model_store, partitions
from {{ cookiecutter.package_name }}.pipeline.shared import params as params_module
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


def test_the_dask_engine_trains_the_same_kind_of_model_as_well(params, workspace):
    run_preprocess(params, workspace)
    scores = {}
    for engine in ("local", "dask"):
        models = workspace["models"].with_name(f"models-{engine}")
        run_train(with_engine(params, engine), {**workspace, "models": models})
        meta = json.loads((models / "model.json").read_text())
        assert (meta["model"], meta["file"]) == ("xgboost", "model.ubj") and meta["trees"] > 0
        y, proba, _ = model_store.score_holdout(models, workspace["processed"] / "holdout.parquet")
        scores[engine] = score_all(y, proba)["roc_auc"]
        # Loaded as every stage and make predict load it: a plain XGBClassifier.
        model, _ = model_store.load(models)
        assert type(model) is xgboost.XGBClassifier
    assert abs(scores["dask"] - scores["local"]) <= 0.005
    assert scores["dask"] > 0.6


def test_past_its_memory_budget_the_local_engine_trains_xgboost_out_of_core(params, workspace, monkeypatch,
                                                                           capsys):
    """A budget of 1 MiB sends the sample data through XGBoost's external memory, a row group at a
    time (several here): the same kind of model, about as good (the benchmark compares them on
    millions of rows), and no cache file left behind."""
    monkeypatch.setattr(partitions, "CSV_BLOCK_BYTES", 8 * 1024)
    monkeypatch.setattr(partitions, "PARTITION_ROWS", 200)
    run_preprocess(params, workspace)
    assert pq.ParquetFile(workspace["processed"] / "train.parquet").num_row_groups > 1
    params["train"]["refit_max_rows"] = 0  # out of core is for data far larger: no second fit
    scores = {}
    for budget in (None, 1):
        params["train"]["memory_budget_mib"] = budget
        models = workspace["models"].with_name(f"models-{budget}")
        run_train(params, {**workspace, "models": models})
        y, proba, _ = model_store.score_holdout(models, workspace["processed"] / "holdout.parquet")
        scores[budget] = score_all(y, proba)["roc_auc"]
        model, _ = model_store.load(models)
        assert type(model) is xgboost.XGBClassifier and model.n_classes_ == 2
    printed = capsys.readouterr().out
    assert "over train.memory_budget_mib (1 MiB): XGBoost trains out of core, a row group at a time" in printed
    assert "(local engine, out of core, cpu)" in printed and printed.count("out of core") == 2
    assert not list(workspace["processed"].glob(".xgboost-cache-*"))
    assert abs(scores[1] - scores[None]) <= 0.01 and scores[1] > 0.6


def test_past_its_memory_budget_a_model_without_an_out_of_core_mode_says_so_and_fits_in_memory(
        params, workspace, capsys):
    params["train"].update(model="random_forest", memory_budget_mib=1)
    run_preprocess(params, workspace)
    run_train(params, workspace)
    printed = capsys.readouterr().out
    assert "only XGBoost trains out of core, so random_forest fits in memory anyway" in printed
    assert "(local engine, cpu)" in printed
    assert json.loads((workspace["models"] / "model.json").read_text())["model"] == "random_forest"


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
