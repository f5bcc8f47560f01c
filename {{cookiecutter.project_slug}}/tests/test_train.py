import json

import pytest

from {{ cookiecutter.package_name }} import model_store
from {{ cookiecutter.package_name }}.data_io import load_xy
from {{ cookiecutter.package_name }}.errors import StageError

from conftest import run_preprocess, run_train


@pytest.mark.parametrize("kind", model_store.MODELS)
def test_every_model_trains_and_reloads_from_a_safe_format(params, workspace, kind):
    params["train"]["model"] = kind
    run_preprocess(params, workspace)
    run_train(params, workspace)
    files = sorted(p.name for p in workspace["models"].iterdir())
    assert files == ["model.json", "model.ubj" if kind == "xgboost" else "model.skops"]
    X, y = load_xy(workspace["processed"] / "holdout.parquet")
    proba = model_store.load(workspace["models"]).predict_proba(X)
    assert proba.shape == (len(y), 2)
    folds = json.loads(workspace["cv"].read_text())["folds"]
    assert len(folds) == params["train"]["cv_folds"]
    assert all(0.5 < fold["roc_auc"] <= 1 for fold in folds)


def test_training_is_deterministic(params, trained):
    first_cv = trained["cv"].read_bytes()
    first_model = {p.name: p.read_bytes() for p in trained["models"].iterdir()}
    run_train(params, trained)
    assert trained["cv"].read_bytes() == first_cv
    assert {p.name: p.read_bytes() for p in trained["models"].iterdir()} == first_model


def test_too_few_rows_for_the_folds_is_a_clear_error(params, workspace):
    run_preprocess(params, workspace)
    params["train"]["cv_folds"] = 10_000
    with pytest.raises(StageError, match="cv_folds is 10000"):
        run_train(params, workspace)


def test_unknown_model_is_a_clear_error(params, workspace):
    run_preprocess(params, workspace)
    params["train"]["model"] = "deep_magic"
    with pytest.raises(StageError, match="'deep_magic' is unknown"):
        run_train(params, workspace)
