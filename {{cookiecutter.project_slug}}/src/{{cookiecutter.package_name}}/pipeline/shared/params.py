"""params.yaml, checked up front against one typed schema.

Every stage calls ``check`` before it reads anything: a wrong key, type or value stops it with one
line naming the key, the bad value and what is allowed, instead of a traceback halfway through.
Hyperparameters are checked against the names the chosen estimator really accepts (XGBoost would
otherwise ignore a misspelt one with a mere warning).
"""

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...cli import UserError
from .metrics import METRICS
from .model_store import MODELS


class Group(BaseModel):
    # strict: "5" is not a number of folds; forbid: a misspelt key is an error, not a default.
    model_config = ConfigDict(extra="forbid", strict=True)


class Data(Group):
    target: str = Field(min_length=1)
    id_column: str | None = None


Severity = Literal["fail", "warn"]


class Validate(Group):
    duplicate_rows: Severity
    conflicting_labels: Severity
    constant_columns: Severity
    type_changes: Severity
    missing_rate_jump: Severity
    max_missing_jump: float = Field(ge=0, le=1)
    leakage: Severity
    leakage_max_auc: float = Field(gt=0.5, le=1)
    drift: Severity
    drift_max_psi: float = Field(gt=0)
    max_rows: int | None = Field(default=None, ge=2)


class Train(Group):
    model: Literal[MODELS]
    engine: Literal["local", "dask"] = "local"
    device: Literal["cpu", "cuda"] = "cpu"
    seed: int
    cv_folds: int = Field(ge=2)
    cv_max_rows: int | None = Field(ge=2)
    validation_share: float = Field(default=0.1, gt=0, lt=1)
    refit_max_rows: int = Field(default=20_000, ge=0)
    memory_budget_mib: int | None = Field(default=None, ge=1)
    one_hot_max_categories: int = Field(ge=1)
    # Hyperparameters of each model, passed to its constructor: names checked by ``hyperparameters``.
    xgboost: dict[str, Any] | None = None
    random_forest: dict[str, Any] | None = None
    logistic_regression: dict[str, Any] | None = None


class Evaluate(Group):
    metric: Literal[METRICS]
    min_improvement: float = Field(ge=0)


class Sanity(Group):
    rate_tolerance: float = Field(ge=0, le=1)
    cv_max_deviation: float = Field(ge=0)
    max_calibration_error: float = Field(ge=0, le=1)


class Params(Group):
    data: Data
    # "validate" is also a (deprecated) method name of pydantic models, hence the alias.
    validation: Validate = Field(alias="validate")
    train: Train
    evaluate: Evaluate
    sanity: Sanity


def _line(error):
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"params.yaml: {key} is not a setting this project knows: remove it or check its spelling"
    if error["type"] == "missing":
        return f"params.yaml: {key} is missing: add it (see the project's params.yaml as baked)"
    return f"params.yaml: {key} is {error['input']!r}: {error['msg'][0].lower()}{error['msg'][1:]}"


def check(params):
    """Return ``params`` when they fit the schema; raise one UserError line per problem otherwise."""
    try:
        Params.model_validate(params)
    except ValidationError as error:
        raise UserError("\n".join(_line(problem) for problem in error.errors(include_url=False))) from None
    train = params["train"]
    for key, value in (("engine", "dask"), ("device", "cuda")):
        if train.get(key) == value and train["model"] != "xgboost":
            raise UserError(f"params.yaml: train.{key} {value} needs train.model xgboost (it is {train['model']}): "
                            f"choose xgboost, or set train.{key} back to {Train.model_fields[key].default}")
    if train.get("engine") == "dask" and train["cv_max_rows"] is None:
        raise UserError("params.yaml: train.cv_max_rows is null, but with train.engine dask the cross-validation runs "
                        "on a sample in one process: set it to a number of rows (100000, say)")
    return params


def _accepted_names(kind):
    if kind == "xgboost":
        from xgboost import XGBClassifier

        return set(XGBClassifier().get_params())
    if kind == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return set(RandomForestClassifier().get_params())
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

    # C fixes the regularisation; without it, LogisticRegressionCV chooses it (model_store).
    return set(LogisticRegression().get_params()) | set(LogisticRegressionCV().get_params())


def hyperparameters(params):
    """The chosen model's hyperparameters, every name one its estimator accepts."""
    kind = params["train"]["model"]
    values = params["train"].get(kind) or {}
    accepted = _accepted_names(kind)
    for name in values:
        if name not in accepted:
            close = difflib.get_close_matches(name, accepted, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"see the {kind} documentation for its parameters"
            raise UserError(f"params.yaml: train.{kind}.{name} is not a {kind} hyperparameter: {hint}")
    depth = values.get("max_depth")
    if isinstance(depth, str) and (depth != "auto" or kind != "xgboost"):
        allowed = "a whole number or auto (XGBoost's depth for the data's size)" if kind == "xgboost" else \
            "a whole number (auto is XGBoost's only)"
        raise UserError(f"params.yaml: train.{kind}.max_depth is {depth!r}: give {allowed}")
    if kind == "logistic_regression" and {"C", "Cs"} <= set(values):
        raise UserError("params.yaml: train.logistic_regression has both C (a fixed strength) and Cs (the values "
                        "inner cross-validation chooses from): keep one")
    return values


# max_depth: auto (XGBoost): depth 4 below this many training rows, 8 from there. On the AutoML
# benchmark's tables (the template's docs/benchmarks.md, 3 splits each), depth 8 against 4 scores
# -0.007 ROC AUC on 7,500 training rows (credit default), +0.0005 accuracy on 40,000 (diamonds)
# and +0.022 ROC AUC on 90,000 (flights), where FLAML's best models are deep XGBoost trees.
DEEP_TREES_MIN_ROWS = 50_000
AUTO_DEPTHS = (4, 8)


def for_rows(hyperparameters, rows):
    """``hyperparameters`` with max_depth auto replaced by the depth for ``rows`` training rows."""
    if hyperparameters.get("max_depth") != "auto":
        return hyperparameters
    return {**hyperparameters, "max_depth": AUTO_DEPTHS[rows >= DEEP_TREES_MIN_ROWS]}
