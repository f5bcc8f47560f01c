"""params.yaml is checked up front: one line per problem, naming the key, the value and what is allowed."""

import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.pipeline.shared import params as schema


def test_the_projects_own_params_pass(project_params):
    assert schema.check(project_params) is project_params


@pytest.mark.parametrize("group, key, value, message", [
    ("train", "cv_folds", "5", "params.yaml: train.cv_folds is '5': input should be a valid integer"),
    ("train", "cv_folds", 1, "params.yaml: train.cv_folds is 1: input should be greater than or equal to 2"),
    ("train", "model", "svm", "params.yaml: train.model is 'svm': input should be 'xgboost', 'random_forest' or "
                              "'logistic_regression'"),
    ("evaluate", "min_improvement", -0.1, "params.yaml: evaluate.min_improvement is -0.1: input should be greater "
                                          "than or equal to 0"),
    ("evaluate", "metric", "mse", "params.yaml: evaluate.metric is 'mse': input should be 'roc_auc'"),
    ("sanity", "rate_tolerance", 2, "params.yaml: sanity.rate_tolerance is 2: input should be less than or equal"),
    ("train", "one_hot_max_categorie", 20, "params.yaml: train.one_hot_max_categorie is not a setting this "
                                            "project knows"),
])
def test_a_bad_value_is_one_line_naming_key_value_and_rule(params, group, key, value, message):
    params[group][key] = value
    with pytest.raises(UserError) as error:
        schema.check(params)
    assert str(error.value).startswith(message)


def test_a_missing_key_is_named(params):
    del params["data"]["target"]
    with pytest.raises(UserError, match="^params.yaml: data.target is missing"):
        schema.check(params)


def test_a_misspelt_hyperparameter_is_named_with_the_likely_one(params):
    params["train"]["model"] = "xgboost"
    params["train"]["xgboost"]["max_dept"] = 3
    with pytest.raises(UserError, match="train.xgboost.max_dept is not a xgboost hyperparameter: did you mean "
                                        "'max_depth'"):
        schema.hyperparameters(params)
    del params["train"]["xgboost"]["max_dept"]
    assert schema.hyperparameters(params) == params["train"]["xgboost"]


def test_logistic_regression_takes_a_fixed_c_or_the_values_to_choose_it_from_not_both(params):
    params["train"]["model"] = "logistic_regression"
    params["train"]["logistic_regression"].update(C=0.5, Cs=10)
    with pytest.raises(UserError, match="has both C .* and Cs .*: keep one"):
        schema.hyperparameters(params)
    del params["train"]["logistic_regression"]["Cs"]
    assert schema.hyperparameters(params)["C"] == 0.5


@pytest.mark.parametrize("rows, depth", [(1_000, 4), (schema.DEEP_TREES_MIN_ROWS - 1, 4),
                                         (schema.DEEP_TREES_MIN_ROWS, 8), (1_000_000, 8)])
def test_max_depth_auto_is_shallow_on_small_data_and_deep_on_large(params, rows, depth):
    params["train"]["model"] = "xgboost"
    params["train"]["xgboost"]["max_depth"] = "auto"
    values = schema.hyperparameters(params)
    assert schema.for_rows(values, rows) == {**values, "max_depth": depth}
    assert values["max_depth"] == "auto"  # params themselves untouched
    params["train"]["xgboost"]["max_depth"] = 5
    assert schema.for_rows(schema.hyperparameters(params), rows)["max_depth"] == 5


@pytest.mark.parametrize("model, depth, message", [
    ("xgboost", "deep", "train.xgboost.max_depth is 'deep': give a whole number or auto"),
    ("random_forest", "auto", "train.random_forest.max_depth is 'auto': give a whole number .auto is XGBoost's only"),
])
def test_max_depth_is_a_number_or_xgboosts_auto(params, model, depth, message):
    params["train"]["model"] = model
    params["train"][model]["max_depth"] = depth
    with pytest.raises(UserError, match=message):
        schema.hyperparameters(params)
