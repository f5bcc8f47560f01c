"""Each model reads numbers with gaps and categoricals of any cardinality in its own way."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package_name }}.pipeline.shared import model_store
from {{ cookiecutter.package_name }}.pipeline.shared.data_io import load_xy, read_json

from conftest import run_preprocess, run_train


def id_only_data(rows, seed, ids=400):
    """The label depends on nothing but a high-cardinality id, and on it strongly."""
    rng = np.random.default_rng(seed)
    user = rng.integers(0, ids, rows)
    churn_rate = np.where(np.arange(ids) % 2 == 0, 0.1, 0.8)[user]
    return pd.DataFrame({
        "user_id": [f"u{u:04d}" for u in user],
        "noise": rng.normal(size=rows),
        "churned": (rng.random(rows) < churn_rate).astype(int),
    })


@pytest.mark.parametrize("kind", model_store.MODELS)
def test_a_high_cardinality_id_carries_its_signal_into_every_model(params, project_params, workspace, kind):
    for split, rows, seed in (("raw", 4000, 1), ("holdout", 2000, 2)):
        for path in workspace[split].iterdir():
            path.unlink()
        id_only_data(rows, seed).to_csv(workspace[split] / "data.csv", index=False)
    params["train"]["model"] = kind
    params["train"]["xgboost"] = project_params["train"]["xgboost"]  # as shipped: early stopping picks the trees
    run_preprocess(params, workspace)
    run_train(params, workspace)
    model, encoding = model_store.load(workspace["models"])
    X, y = load_xy(workspace["processed"] / "holdout.parquet", encoding)
    # The best possible AUC here is about 0.84; keeping only the 20 most frequent ids gives about 0.53.
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.78


def test_xgboost_keeps_the_training_categories_in_its_model_file(params, workspace):
    params["train"]["model"] = "xgboost"
    run_preprocess(params, workspace)
    run_train(params, workspace)
    model, encoding = model_store.load(workspace["models"])
    saved = dict(model.get_booster().get_categories(export_to_arrow=True).to_arrow())
    assert saved["contract"].to_pylist() == encoding["categorical"]["contract"]
    assert saved["tenure_months"] is None  # a numeric column


def sklearn_encoders(params, workspace, kind, one_hot_max_categories):
    params["train"].update(model=kind, one_hot_max_categories=one_hot_max_categories)
    run_preprocess(params, workspace)
    run_train(params, workspace)
    columns = model_store.load(workspace["models"])[0][0]
    return {name: list(selected) for name, _, selected in columns.transformers_ if name != "remainder"}


def test_scikit_learn_models_one_hot_few_categories_and_target_encode_many(params, workspace):
    encoders = sklearn_encoders(params, workspace, "random_forest", 4)
    assert encoders == {
        "numeric": ["customer_age", "tenure_months", "monthly_charges", "support_calls", "satisfaction"],
        "one_hot": ["contract", "payment_method", "has_partner"],  # 3, 4 and 2 categories
        "target_encoded": ["region"],  # 5 categories
    }
    assert sklearn_encoders(params, workspace, "logistic_regression", 5)["one_hot"][-2:] == ["region", "has_partner"]


def test_target_encoding_is_cross_fitted_so_a_row_never_sees_its_own_label(params, workspace):
    sklearn_encoders(params, workspace, "logistic_regression", 1)
    model, encoding = model_store.load(workspace["models"])
    X, y = load_xy(workspace["processed"] / "train.parquet", encoding)
    encoder = model[0].named_transformers_["target_encoded"]
    # fit_transform (used in training) encodes each row with the other folds' labels; transform
    # uses every label. The two differ when the encoding is cross-fitted.
    refitted = encoder.fit_transform(X[encoder.feature_names_in_], y)
    assert not np.allclose(refitted, encoder.transform(X[encoder.feature_names_in_]))


def test_xgboost_target_encodes_many_categories_cross_fitted_and_reads_the_few_natively(params, workspace,
                                                                                         monkeypatch):
    from xgboost import XGBClassifier

    for split in ("raw", "holdout"):
        path = next(workspace[split].iterdir())
        frame = pd.read_csv(path)
        frame["row_id"] = [f"{split}-{i}" for i in range(len(frame))]  # a category per row
        frame.to_csv(path, index=False)
    fits, fit = [], XGBClassifier.fit

    def recording_fit(model, X, y, **kwargs):  # what XGBoost itself trains on; then the real fit
        fits.append((model, X, y))
        return fit(model, X, y, **kwargs)

    monkeypatch.setattr(XGBClassifier, "fit", recording_fit)
    params["train"]["model"] = "xgboost"
    run_preprocess(params, workspace)
    run_train(params, workspace)
    fitted, X, y = fits[-1]  # the final model
    model, encoding = model_store.load(workspace["models"])
    assert read_json(workspace["models"] / "model.json")["target_encoded"] == ["row_id"]
    assert isinstance(X["region"].dtype, pd.CategoricalDtype)  # 5 categories: native
    # Cross-fitted: a row's category is in no other fold, so its own label never reaches its value;
    # looked up in the saved tables, the same rows carry their labels.
    assert abs(roc_auc_score(y, X["row_id"]) - 0.5) < 0.1
    decoded = load_xy(workspace["processed"] / "train.parquet", encoding)[0]
    looked_up = model.encode(decoded.iloc[X.index])["row_id"]
    assert roc_auc_score(y, looked_up) > 0.95
    holdout = load_xy(workspace["processed"] / "holdout.parquet", encoding)[0]
    assert np.array_equal(model.predict_proba(holdout), fitted.predict_proba(holdout))  # saved and loaded alike


def test_a_high_cardinality_id_carries_its_signal_into_xgboost_when_multiclass(params, workspace):
    for split, rows, seed in (("raw", 4000, 1), ("holdout", 2000, 2)):
        frame = id_only_data(rows, seed)
        frame["churned"] = np.where(frame["user_id"].str[1:].astype(int) % 3 == 2, 2, frame["churned"])
        for path in workspace[split].iterdir():
            path.unlink()
        frame.to_csv(workspace[split] / "data.csv", index=False)
    params["train"]["model"] = "xgboost"
    params["train"]["xgboost"]["n_estimators"] = 300
    run_preprocess(params, workspace)
    run_train(params, workspace)
    model, encoding = model_store.load(workspace["models"])
    X, y = load_xy(workspace["processed"] / "holdout.parquet", encoding)
    # Ids of a third of the users are class 2; the others lean 0 or 1 (rates 0.9/0.2): about 0.83 at best.
    assert (model.predict_proba(X).argmax(axis=1) == y).mean() > 0.75


@pytest.mark.parametrize("kind", model_store.MODELS)
def test_every_model_trains_on_empty_true_false_and_one_valued_columns(params, workspace, kind):
    for split in ("raw", "holdout"):
        path = next(workspace[split].iterdir())
        frame = pd.read_csv(path)
        frame["never_filled"] = None
        frame["is_vip"] = frame.index % 3 == 0
        frame["country"] = "NL"
        frame.to_csv(path, index=False)
    params["train"]["model"] = kind
    encoding = run_preprocess(params, workspace)
    assert "never_filled" not in encoding["features"]
    assert encoding["categorical"]["is_vip"] == ["False", "True"] and encoding["categorical"]["country"] == ["NL"]
    run_train(params, workspace)
    model, encoding = model_store.load(workspace["models"])
    X, y = load_xy(workspace["processed"] / "holdout.parquet", encoding)
    assert np.isfinite(model.predict_proba(X)).all()
