import json
import re

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.pipeline.shared import model_store, splits
from {{ cookiecutter.package_name }}.pipeline.shared.data_io import load_xy

from conftest import run_preprocess, run_train


@pytest.mark.parametrize("kind", model_store.MODELS)
def test_every_model_trains_and_reloads_from_a_safe_format(params, workspace, kind):
    params["train"]["model"] = kind
    run_preprocess(params, workspace)
    run_train(params, workspace)
    files = sorted(p.name for p in workspace["models"].iterdir())
    assert files == ["encoding.json", "model.json", "model.ubj" if kind == "xgboost" else "model.skops"]
    model, encoding = model_store.load(workspace["models"])
    X, y = load_xy(workspace["processed"] / "holdout.parquet", encoding)
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 2)
    folds = json.loads(workspace["cv"].read_text())["folds"]
    assert len(folds) == params["train"]["cv_folds"]
    assert json.loads(workspace["cv"].read_text())["rows"] == len(load_xy(workspace["processed"] / "train.parquet",
                                                                            encoding)[1])
    assert all(0.5 < fold["roc_auc"] <= 1 for fold in folds)


def test_training_is_deterministic(params, trained):
    def outcome():
        proba = model_store.score_holdout(trained["models"], trained["processed"] / "holdout.parquet").proba
        return trained["cv"].read_bytes(), proba, {p.name: p.read_bytes() for p in trained["models"].iterdir()}

    first_cv, first_proba, first_files = outcome()
    run_train(params, trained)
    cv, proba, files = outcome()
    assert cv == first_cv and np.array_equal(proba, first_proba)
    # An XGBoost file is the same bytes; a skops archive is not (it names its arrays by object id
    # and stamps the time), so for scikit-learn models the same predictions are the test.
    if params["train"]["model"] == "xgboost":
        assert files == first_files


def test_too_few_rows_for_the_folds_is_a_clear_error(params, workspace):
    run_preprocess(params, workspace)
    params["train"]["cv_folds"] = 10_000
    with pytest.raises(UserError, match="cv_folds is 10000"):
        run_train(params, workspace)


def test_cross_validation_uses_a_stratified_sample_when_rows_exceed_cv_max_rows(params, workspace):
    run_preprocess(params, workspace)
    params["train"]["cv_max_rows"] = 300
    run_train(params, workspace)
    assert json.loads(workspace["cv"].read_text())["rows"] == 300
    _, y = load_xy(workspace["processed"] / "train.parquet", model_store.load(workspace["models"])[1])
    rows = splits.cv_sample(y, 300, seed=1)
    assert len(rows) == 300 and len(set(rows)) == 300
    assert abs(y[rows].mean() - y.mean()) < 0.01  # class shares kept
    assert splits.cv_sample(y, None, seed=1).tolist() == list(range(len(y)))


@pytest.mark.parametrize("value", [0, 2.5, "many", True])
def test_bad_cv_max_rows_is_a_clear_error(params, workspace, value):
    run_preprocess(params, workspace)
    params["train"]["cv_max_rows"] = value
    with pytest.raises(UserError, match=f"^params.yaml: train.cv_max_rows is {re.escape(repr(value))}: "):
        run_train(params, workspace)
    assert not workspace["models"].exists()


def test_unknown_model_is_a_clear_error(params, workspace):
    run_preprocess(params, workspace)
    params["train"]["model"] = "deep_magic"
    with pytest.raises(UserError, match="train.model is 'deep_magic': input should be 'xgboost', 'random_forest'"):
        run_train(params, workspace)


def test_training_reports_each_fold_and_the_final_fit(params, workspace, capsys):
    run_preprocess(params, workspace)
    run_train(params, workspace)
    out = capsys.readouterr().out
    assert [f"train: CV fold {i}/3 on" in out for i in (1, 2, 3)] == [True] * 3
    assert out.index("CV fold 3/3") < out.index("train: fitting the final model on 600 rows")


@pytest.mark.parametrize("labels", [[0] * 90 + [1] * 10, [0] * 50 + [1] * 30 + [2] * 19 + [3]])
def test_the_early_stopping_share_is_a_stratified_seeded_part_of_the_training_rows(labels):
    y = np.array(labels)
    fitting, validation = splits.inner_split(y, 0.2, seed=7)
    assert sorted([*fitting, *validation]) == list(range(len(y)))  # a partition of these rows, nothing else
    assert len(validation) == 20
    for label in np.unique(y):
        members = int((y == label).sum())
        # every class in proportion; a class of one row stays where the model can learn it
        assert int((y[validation] == label).sum()) == (0 if members == 1 else pytest.approx(members * 0.2, abs=1))
    assert np.array_equal(splits.inner_split(y, 0.2, seed=7)[1], validation)
    assert not np.array_equal(splits.inner_split(y, 0.2, seed=8)[1], validation)


def test_early_stopping_keeps_the_best_round_and_the_metrics_say_how_many(params, workspace):
    params["train"]["model"] = "xgboost"
    params["train"]["xgboost"].update(n_estimators=2000, early_stopping_rounds=10, learning_rate=0.3)
    params["train"]["refit_max_rows"] = 599  # one row fewer than the training set: no second fit
    run_preprocess(params, workspace)
    # The holdout cannot be what early stopping looks at: training runs without it.
    (workspace["processed"] / "holdout.parquet").unlink()
    run_train(params, workspace)
    model, _ = model_store.load(workspace["models"])
    trees = json.loads((workspace["models"] / "model.json").read_text())["trees"]
    assert trees == model.best_iteration + 1 < 2000 - 10
    assert model.get_booster().num_boosted_rounds() == trees + 10  # stopped 10 rounds after the best
    X, _ = load_xy(workspace["processed"] / "train.parquet", model_store.load(workspace["models"])[1])
    stopped = model.predict_proba(X)

    # On at most refit_max_rows rows, the same number of trees is grown again on every training row.
    params["train"]["refit_max_rows"] = 600
    run_train(params, workspace)
    model, _ = model_store.load(workspace["models"])
    assert json.loads((workspace["models"] / "model.json").read_text())["trees"] == trees
    assert model.get_booster().num_boosted_rounds() == trees
    assert not np.allclose(model.predict_proba(X), stopped)  # it learnt from the rows held back before

    del params["train"]["xgboost"]["early_stopping_rounds"]
    params["train"]["xgboost"]["n_estimators"] = 40
    run_train(params, workspace)
    assert json.loads((workspace["models"] / "model.json").read_text())["trees"] == 40


def test_logistic_regression_chooses_its_regularisation_on_the_training_rows_unless_c_is_fixed(params, workspace,
                                                                                                capsys):
    params["train"]["model"] = "logistic_regression"
    run_preprocess(params, workspace)
    (workspace["processed"] / "holdout.parquet").unlink()  # inner CV cannot look at the holdout: there is none
    run_train(params, workspace)
    model, _ = model_store.load(workspace["models"])
    chosen = model_store.chosen_c(model, "logistic_regression")
    searched = model.steps[-1][1].Cs_
    assert len(searched) == params["train"]["logistic_regression"]["Cs"] and chosen in searched
    assert f"C {chosen:.4g} chosen by 5-fold inner CV" in capsys.readouterr().out

    # The C it chose, fixed (as make tune writes it, over params.yaml's Cs): the same model, no search.
    del params["train"]["logistic_regression"]["Cs"]
    params["train"]["logistic_regression"]["C"] = chosen
    run_train(params, workspace)
    fixed, encoding = model_store.load(workspace["models"])
    assert model_store.chosen_c(fixed, "logistic_regression") is None
    X, _ = load_xy(workspace["processed"] / "train.parquet", encoding)
    assert np.allclose(fixed.predict_proba(X), model.predict_proba(X), atol=1e-3)  # the solver's tolerance
