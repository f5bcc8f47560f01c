"""Build, save and load models in safe formats: XGBoost's own UBJSON, skops for scikit-learn.

Each model reads the features as preprocess leaves them (float32 numbers with gaps, categoricals
over the training categories) in its own way:
- XGBoost natively: categorical splits, missing values learnt per split, and the categories saved
  inside the model file; columns with more than ``one_hot_max_categories`` categories (ids and the
  like) are target-encoded first (target_encoding.py), as for the scikit-learn models.
- scikit-learn models through a pipeline fitted with the model: numbers get the training median
  for gaps plus a 0/1 "was missing" column; categorical columns with at most
  ``one_hot_max_categories`` categories are one-hot encoded (categories rarer than 0.5 % of the rows
  share one column, as do unseen ones); columns with more (ids and the like) are target-encoded,
  cross-fitted so that a row's own label never leaks into its encoding. Logistic regression also
  scales every column and chooses its C by inner cross-validation; the random forest's
  probabilities are temperature-scaled.
"""

from pathlib import Path
from typing import Any, NamedTuple

from ...cli import UserError
from . import splits
from .data_io import read_data_dir, read_json, row_groups, write_json
from .encoding import encode_features, encode_target

MODELS = ("xgboost", "random_forest", "logistic_regression")
# Types skops does not trust by default but that our own scikit-learn pipelines contain; the files
# come from our own train stage, never from a third party.
TRUSTED_SKOPS_TYPES = [
    "numpy.dtype",
    f"{__package__}.calibrated_forest.CalibratedForest",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.tree._tree.Tree",
]
ENCODING_FILE = "encoding.json"
TARGET_ENCODING_FILE = "target_encoding.json"  # XGBoost's tables for its target-encoded columns


def _sklearn_pipeline(estimator, encoding, seed, one_hot_max_categories, scale):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

    many = many_categories(encoding, one_hot_max_categories)
    few = [c for c in encoding["features"] if c in encoding["categorical"] and c not in many]
    parts = [
        ("numeric", SimpleImputer(strategy="median", add_indicator=True), encoding["numeric"]),
        ("one_hot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.005,
                                  sparse_output=False, dtype="float32"), few),
        ("target_encoded", TargetEncoder(cv=StratifiedKFold(5, shuffle=True, random_state=seed)), many),
    ]
    columns = ColumnTransformer([part for part in parts if part[2]], verbose_feature_names_out=False)
    return make_pipeline(columns, *([StandardScaler()] if scale else []), estimator)


def many_categories(encoding, one_hot_max_categories):
    """The categorical features with more than ``one_hot_max_categories`` categories: target-encoded."""
    categorical = encoding["categorical"]
    return [c for c in encoding["features"] if c in categorical and len(categorical[c]) > one_hot_max_categories]


def build(kind, hyperparameters, seed, encoding, one_hot_max_categories=20, device="cpu", all_native=False):
    """An unfitted model for the features ``encoding`` describes; ``device`` (cpu or cuda) is
    XGBoost's (params.check allows cuda for XGBoost only). ``all_native``: XGBoost reads every
    categorical natively, as the dask engine's does (no worker sees all the rows of a category)."""
    if kind == "xgboost":
        from xgboost import XGBClassifier

        many = [] if all_native else many_categories(encoding, one_hot_max_categories)
        settings = {"enable_categorical": True, **hyperparameters, "device": device}
        if not many:
            return XGBClassifier(**settings, random_state=seed)
        from .target_encoding import TargetEncodedXGBClassifier

        model = TargetEncodedXGBClassifier(**settings, random_state=seed)
        model.columns = many
        return model
    if kind == "random_forest":
        estimator = random_forest(hyperparameters, seed)
    elif kind == "logistic_regression":
        estimator = logistic_regression(hyperparameters, seed)
    else:
        raise UserError(f"train.model {kind!r} is unknown: choose one of {', '.join(MODELS)} in params.yaml")
    return _sklearn_pipeline(estimator, encoding, seed, one_hot_max_categories,
                             scale=kind == "logistic_regression")


def random_forest(hyperparameters, seed):
    """A random forest with temperature-scaled probabilities (calibrated_forest.py says why), learnt
    from its out-of-bag votes: there are none without bootstrap samples."""
    from .calibrated_forest import CalibratedForest

    oob_score = hyperparameters.get("bootstrap", True)
    return CalibratedForest(**{"oob_score": oob_score, **hyperparameters}, random_state=seed)


INNER_FOLDS = 5  # logistic regression's choice of C


def logistic_regression(hyperparameters, seed):
    """Logistic regression. With ``C`` set it is fixed; otherwise LogisticRegressionCV tries ``Cs``
    values on a log scale, keeps the one with the best log loss on INNER_FOLDS stratified folds of
    the training rows (never the holdout) and refits on them all: a fixed C=1 over-regularises a
    large table and under-regularises a small wide one."""
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    if "C" in hyperparameters:  # params.yaml's, or make tune's (config.over drops Cs then)
        return LogisticRegression(**hyperparameters, random_state=seed)
    inner = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    # l1_ratios and use_legacy_attributes: scikit-learn 1.10's defaults (plain L2; C_ a float), without its warnings.
    settings = {"cv": inner, "scoring": "neg_log_loss", "l1_ratios": (0.0,), "use_legacy_attributes": False}
    return LogisticRegressionCV(**{**settings, **hyperparameters}, random_state=seed)


def fit(model, X, y, seed, validation_share, refit_max_rows=0):
    """Fit ``model`` on the training rows (X, y) and return it.

    An XGBoost model with ``early_stopping_rounds`` learns on all but ``validation_share`` of these
    rows and stops adding trees once its loss on that share has not improved for that many rounds,
    keeping the best round: the number of trees follows the data (a few dozen on the sample's thousand
    rows, about 2,000 on 40,000 rows of diamonds) instead of one fixed count. On at most
    ``refit_max_rows`` rows it is then fitted again on every row with that many trees: on small data
    the rows held back cost more than a second fit (digits, 1,350 rows: +0.0035 accuracy). Only rows
    of (X, y) are used, never the holdout.
    """
    if getattr(model, "early_stopping_rounds", None) is None:
        return model.fit(X, y)
    fitting, validation = splits.inner_split(y, validation_share, seed)
    if not len(validation):
        return model.set_params(early_stopping_rounds=None).fit(X, y)
    model.fit(X.iloc[fitting], y[fitting], eval_set=[(X.iloc[validation], y[validation])], verbose=False)
    if len(y) > refit_max_rows:
        return model
    return model.set_params(n_estimators=int(model.best_iteration) + 1, early_stopping_rounds=None).fit(X, y)


def trees(model, kind):
    """The number of trees the fitted model predicts with (boosting rounds for XGBoost, one tree per
    class in each round when multiclass), or None for a model without trees."""
    if kind == "xgboost":
        best = getattr(model, "best_iteration", None)
        return int(best) + 1 if best is not None else model.get_booster().num_boosted_rounds()
    if kind == "random_forest":
        return len(model.steps[-1][1].estimators_)
    return None


def chosen_c(model, kind):
    """The regularisation strength logistic regression's inner cross-validation chose (None when C
    was fixed, or for another model)."""
    estimator = model.steps[-1][1] if kind == "logistic_regression" else None
    return float(estimator.C_) if hasattr(estimator, "C_") else None


def save(model, kind, model_dir, encoding):
    """Save the model with the encoding it reads its input through (make predict needs both)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    meta = {"model": kind}
    if kind == "xgboost":
        filename = "model.ubj"
        model.save_model(model_dir / filename)
        if hasattr(model, "tables"):
            write_json(model_dir / TARGET_ENCODING_FILE, model.tables)
            meta["target_encoded"] = model.columns
    else:
        import skops.io

        filename = "model.skops"
        skops.io.dump(model, model_dir / filename)
    write_json(model_dir / ENCODING_FILE, encoding)
    write_json(model_dir / "model.json", {**meta, "file": filename, "trees": trees(model, kind)})


def load(model_dir):
    """The saved model and its encoding."""
    model_dir = Path(model_dir)
    meta_file = model_dir / "model.json"
    if not meta_file.exists():
        raise UserError(f"no model in {model_dir}: run the train stage first (make repro)")
    meta = read_json(meta_file)
    path = model_dir / meta["file"]
    if meta["model"] == "xgboost" and meta.get("target_encoded"):
        from .target_encoding import TargetEncodedXGBClassifier

        model = TargetEncodedXGBClassifier()
        model.load_model(path)
        model.columns, model.tables = meta["target_encoded"], read_json(model_dir / TARGET_ENCODING_FILE)
    elif meta["model"] == "xgboost":
        from xgboost import XGBClassifier

        model = XGBClassifier()
        model.load_model(path)
    else:
        import skops.io

        model = serial_prediction(skops.io.load(path, trusted=TRUSTED_SKOPS_TYPES))
    return model, read_json(model_dir / ENCODING_FILE)


def serial_prediction(model):
    """The fitted ``model``; a scikit-learn one set to predict on one thread. A random forest adds
    up its trees' probabilities in the order its threads finish, which moves the last bits and,
    through ties, ROC AUC: two runs would give different metrics. Training still uses ``n_jobs``."""
    if hasattr(model, "steps"):
        model.steps[-1][1].set_params(n_jobs=1)
    return model


class Scored(NamedTuple):
    """A holdout scored by a model: the encoded target, the class probabilities (float64) and the
    model's encoding."""

    y: Any
    proba: Any
    encoding: dict


def score_holdout(model_dir, holdout):
    """Score a holdout with the model saved in ``model_dir``, through that model's own encoding.

    ``holdout`` is the processed Parquet file (written with this model's encoding; read and
    predicted a row group at a time, so a large holdout is never a whole frame in memory), or a
    raw holdout folder, encoded here: the accepted model's encoding may differ from today's. Raw
    rows whose class the model never saw are left out.
    """
    import numpy as np

    model, encoding = load(model_dir)
    holdout = Path(holdout)
    if holdout.suffix == ".parquet":
        batches = row_groups(holdout, encoding)
    else:
        frame = read_data_dir(holdout)
        frame = frame[frame[encoding["target"]].isin(encoding["classes"])]
        batches = [(encode_features(frame, encoding), encode_target(frame, encoding))]
    targets, probabilities = [np.empty(0, dtype="int64")], [np.empty((0, len(encoding["classes"])))]
    for X, y in batches:
        targets.append(y)
        probabilities.append(np.asarray(model.predict_proba(X), dtype="float64"))
    return Scored(np.concatenate(targets), np.concatenate(probabilities), encoding)
