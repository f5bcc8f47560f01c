"""make tune: a seeded search on inner folds of the training rows, written where train reads it."""

import json

import pytest
import yaml

from {{ cookiecutter.package_name }} import config
from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.pipeline import tune
from {{ cookiecutter.package_name }}.pipeline.shared import model_store
from {{ cookiecutter.package_name }}.pipeline.shared import params as schema
from {{ cookiecutter.package_name }}.pipeline.shared.data_io import load_target

from conftest import run_preprocess, run_train


def run_tune(params, ws, budget_s=600, max_trials=3):
    """A search of a few trials: bounded by their count, not by time, so that it never depends on
    how fast this machine is; the budget is the deadline only where a test says so."""
    return tune.run(params, budget_s, ws["processed"], ws["tuned"], ws["study"], max_trials)


@pytest.fixture
def tuning(workspace):
    root = workspace["raw"].parents[1]
    return {**workspace, "tuned": root / "tuned.yaml", "study": root / "tuning" / "study.json"}


@pytest.mark.parametrize("kind", model_store.MODELS)
def test_tuning_never_reads_the_holdout_and_train_reads_what_it_writes(params, tuning, kind, capsys):
    params["train"]["model"] = kind
    run_preprocess(params, tuning)
    # Whatever tuning looks at, it cannot be the holdout: there is none while it runs.
    (tuning["processed"] / "holdout.parquet").unlink()
    for path in tuning["holdout"].iterdir():
        path.unlink()
    tuned = run_tune(params, tuning)

    study = json.loads(tuning["study"].read_text())
    first = study["trials"][0]
    rows = len(load_target(tuning["processed"] / "train.parquet"))  # max_depth: auto becomes the depth for these
    expected = tune.current_values(kind, schema.for_rows(params["train"][kind], rows))
    if kind == "logistic_regression":  # params.yaml leaves C to inner CV: the first trial is the C train chooses
        run_train(params, tuning)
        expected = {"C": model_store.chosen_c(model_store.load(tuning["models"])[0], kind)}
    assert first["number"] == 0 and first["params"] == pytest.approx(expected)
    assert tuned["model"] == kind and tuned["trials"] == len(study["trials"]) == 3 and tuned["budget_s"] == 600
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("tune: trial ")]
    assert len(lines) == len(study["trials"])  # one progress line per trial

    written = yaml.safe_load(tuning["tuned"].read_text())
    assert written == tuned
    params_file = tuning["tuned"].with_name("params.yaml")
    params_file.write_text(yaml.safe_dump(params))
    loaded = config.load_params(params_file)
    own = {name: value for name, value in params["train"][kind].items() if name != "Cs"}  # a tuned C replaces Cs
    assert loaded["train"][kind] == {**own, **tuned["hyperparameters"]}


def test_the_search_is_seeded(params, tuning):
    run_preprocess(params, tuning)
    firsts = []
    for _ in range(2):
        run_tune(params, tuning)
        firsts.append([trial["params"] for trial in json.loads(tuning["study"].read_text())["trials"]])
    assert firsts[0] == firsts[1]


def test_a_trial_past_its_deadline_is_stopped_and_nothing_finished_is_a_clear_error(params, tuning):
    params["train"]["model"] = "xgboost"
    params["train"]["xgboost"].update(n_estimators=10**6, early_stopping_rounds=None, learning_rate=0.01)
    run_preprocess(params, tuning)
    with pytest.raises(UserError, match="no trial finished within TUNE_BUDGET_S=1 s"):
        run_tune(params, tuning, budget_s=1, max_trials=None)
    assert not tuning["tuned"].exists()  # nothing half-written


def test_tuned_values_for_another_model_are_left_aside(tmp_path, project_params):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(project_params))
    other = next(kind for kind in model_store.MODELS if kind != project_params["train"]["model"])
    (tmp_path / "tuned.yaml").write_text(yaml.safe_dump({"model": other, "hyperparameters": {"max_depth": 3}}))
    assert config.load_params(tmp_path / "params.yaml") == project_params


def test_a_broken_tuned_file_is_a_clear_error(tmp_path, project_params):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(project_params))
    (tmp_path / "tuned.yaml").write_text("hyperparameters: [1, 2]\n")
    with pytest.raises(UserError, match="tuned.yaml is not what make tune writes"):
        config.load_params(tmp_path / "params.yaml")


def test_the_tuned_model_trains_deterministically(params, tuning):
    params["train"]["model"] = "xgboost"
    run_preprocess(params, tuning)
    tuned = run_tune(params, tuning, max_trials=2)
    params["train"]["xgboost"].update(tuned["hyperparameters"])
    files = []
    for _ in range(2):
        run_train(params, tuning)
        files.append((tuning["models"] / "model.ubj").read_bytes())
    assert files[0] == files[1]
