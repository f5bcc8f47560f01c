"""make tune: search the model's hyperparameters for a wall-time budget; the best go to tuned.yaml.

Optuna's seeded TPE sampler runs one trial at a time, the first with params.yaml's own values.
Each trial scores evaluate.metric on inner cross-validation folds of the training rows (the
holdout is never read), XGBoost stopping early inside each fold as train does, so a poor trial
costs few trees. A trial past its deadline is pruned. train reads tuned.yaml over params.yaml, so
`make repro` re-trains the tuned model without tuning again, and the gate judges it like any other.
"""

import sys
import time

import numpy as np
import yaml

from .. import config
from ..cli import UserError, command, parser
from .shared import model_store, splits
from .shared.data_io import load_target, load_xy, read_json, write_atomically, write_json
from .shared.gate import LOWER_IS_BETTER
from .shared.metrics import score
from .shared.params import check, for_rows
from .shared.params import hyperparameters as chosen_hyperparameters

FOLDS = 3  # fewer folds than train's cross-validation: the budget buys more trials
# name -> (integer?, low, high, log scale). params.yaml's shipped values lie inside every range.
SPACE = {
    "xgboost": {"max_depth": (True, 2, 10, False), "learning_rate": (False, 0.01, 0.3, True),
                "min_child_weight": (False, 0.5, 20, True), "subsample": (False, 0.5, 1.0, False),
                "colsample_bytree": (False, 0.4, 1.0, False), "reg_lambda": (False, 1e-3, 10, True),
                "max_cat_threshold": (True, 1, 64, True)},
    "random_forest": {"max_depth": (True, 4, 24, False), "min_samples_leaf": (True, 1, 20, True),
                      "max_features": (False, 0.2, 1.0, False)},
    "logistic_regression": {"C": (False, 1e-3, 100, True)},
}
# The library's own value of a searched name that params.yaml leaves out.
LIBRARY_DEFAULTS = {"xgboost": {"min_child_weight": 1.0, "reg_lambda": 1.0, "max_cat_threshold": 64},
                    "random_forest": {"max_features": 1.0}, "logistic_regression": {}}
HEADER = """\
# Written by `make tune`: the best hyperparameters it found, which train uses over the same names in
# params.yaml (train.<model>) while `model` below is the chosen model. Commit this file; `make repro`
# then trains the tuned model. To go back to params.yaml's values, set `model: null`.
"""


def suggested(trial, kind):
    return {name: (trial.suggest_int if integer else trial.suggest_float)(name, low, high, log=log)
            for name, (integer, low, high, log) in SPACE[kind].items()}


def current_values(kind, hyperparameters):
    """params.yaml's values of the searched names: the first trial, so that the tuned values
    replace them only when they score better on the inner folds."""
    values = {**LIBRARY_DEFAULTS[kind], **hyperparameters}
    return {name: values[name] for name in SPACE[kind] if name in values}


def with_deadline(model, deadline):
    """``model``, set to stop adding trees at ``deadline`` (time.monotonic) when it is XGBoost."""
    if not hasattr(model, "early_stopping_rounds"):
        return model
    from xgboost.callback import TrainingCallback

    class Deadline(TrainingCallback):
        def after_iteration(self, booster, epoch, evals_log):
            return time.monotonic() > deadline

    return model.set_params(callbacks=[Deadline()])


def inner_score(build, X, y, metric, seed, validation_share, deadline):
    """The mean of ``metric`` over FOLDS folds of the training rows; None when ``deadline`` passed."""
    from sklearn.model_selection import StratifiedKFold

    scores = []
    for fit_rows, score_rows in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        model = model_store.fit(with_deadline(build(), deadline), X.iloc[fit_rows], y[fit_rows], seed,
                                validation_share)
        if time.monotonic() > deadline:
            return None
        scores.append(score(y[score_rows], model.predict_proba(X.iloc[score_rows]), metric))
    return float(np.mean(scores))


def run(params, budget_s, processed_dir=config.PROCESSED_DIR, tuned_file=config.TUNED_FILE,
        study_file=config.STUDY_FILE, max_trials=None):
    try:
        import optuna
    except ImportError:
        raise UserError("make tune needs Optuna, in the project's `tune` dependency group: run `make install` "
                        "(requirements-dev.txt has it)") from None

    complete = optuna.trial.TrialState.COMPLETE
    settings = check(params)["train"]
    kind, seed, metric = settings["model"], settings["seed"], params["evaluate"]["metric"]
    if settings["engine"] == "dask":
        raise UserError("make tune trains in one process: set train.engine local to tune (train.cv_max_rows "
                        "bounds the rows it reads), then back to dask")
    if budget_s <= 0:
        raise UserError(f"TUNE_BUDGET_S is {budget_s}: give the search a number of seconds above 0, e.g. 60")
    hyperparameters = chosen_hyperparameters(params)
    encoding = read_json(processed_dir / "encoding.json")
    train_file = processed_dir / "train.parquet"
    y_all = load_target(train_file)
    hyperparameters = for_rows(hyperparameters, len(y_all))  # max_depth: auto, as train makes it
    sample = splits.cv_sample(y_all, settings["cv_max_rows"], seed)
    X, y = load_xy(train_file, encoding, rows=sample)
    if np.bincount(y).min() < FOLDS:
        raise UserError(f"make tune needs {FOLDS} rows of every class in the training data: add data")

    def build(values):
        return model_store.build(kind, config.over(hyperparameters, values), seed, encoding,
                                 settings["one_hot_max_categories"])

    started = time.monotonic()
    end = started + budget_s

    def objective(trial):
        values = suggested(trial, kind)
        # The first trial (params.yaml's values) may use the whole budget: without it nothing compares.
        deadline = end if trial.number == 0 else min(end, time.monotonic() + budget_s / 3)
        score = inner_score(lambda: build(values), X, y, metric, seed, settings["validation_share"], deadline)
        if score is None:
            raise optuna.TrialPruned()
        return score

    def progress(study, trial):
        seconds = trial.duration.total_seconds()
        line = (f"{metric} {trial.value:.4f} in {seconds:.1f} s" if trial.state == complete
                else f"stopped at its deadline after {seconds:.1f} s")
        if any(t.state == complete for t in study.trials):
            line += f"; best {study.best_value:.4f} (trial {study.best_trial.number})"
        print(f"tune: trial {trial.number}: {line}", flush=True)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize" if metric in LOWER_IS_BETTER else "maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    first = current_values(kind, hyperparameters)
    if kind == "logistic_regression" and "C" not in first:
        # params.yaml leaves C to inner cross-validation: the first trial is the C it chooses here.
        _, low, high, _ = SPACE[kind]["C"]
        chosen = model_store.chosen_c(model_store.fit(build({}), X, y, seed, settings["validation_share"]), kind)
        first["C"] = min(max(chosen, low), high)
    study.enqueue_trial(first)
    print(f"tune: {kind}, {metric} on {FOLDS} inner folds of {len(y)} training rows, for {budget_s:g} s", flush=True)
    study.optimize(objective, n_trials=max_trials, timeout=budget_s, n_jobs=1, callbacks=[progress])
    if not any(t.state == complete for t in study.trials):
        raise UserError(f"no trial finished within TUNE_BUDGET_S={budget_s:g} s, not even params.yaml's values: "
                        "raise TUNE_BUDGET_S, or lower train.cv_max_rows to tune on fewer rows")
    best = study.best_trial
    tuned = {
        "model": kind,
        "hyperparameters": {name: float(f"{value:.6g}") if isinstance(value, float) else value
                            for name, value in best.params.items()},
        "metric": metric,
        "inner_cv": {"tuned": round(best.value, 6),
                     "params_yaml": round(study.trials[0].value, 6) if study.trials[0].state == complete else None},
        "trials": len(study.trials), "seed": seed, "budget_s": budget_s,
    }
    write_json(study_file, {"model": kind, "metric": metric, "folds": FOLDS, "rows": len(y), "seed": seed,
                            "budget_s": budget_s, "trials": [
                                {"number": t.number, "state": t.state.name.lower(), "value": t.value,
                                 "seconds": t.duration.total_seconds(), "params": t.params} for t in study.trials]})
    write_atomically(tuned_file, lambda tmp: tmp.write_text(HEADER + yaml.safe_dump(tuned, sort_keys=False)))
    print(f"tune: {len(study.trials)} trials in {time.monotonic() - started:.0f} s; best {metric} {best.value:.4f} "
          f"(trial {best.number}; params.yaml's values: {tuned['inner_cv']['params_yaml']}) -> {tuned_file}")
    return tuned


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("--budget-s", type=float, default=60, help="wall seconds to search (TUNE_BUDGET_S)")
    arguments.add_argument("--max-trials", type=int, help="stop after this many trials, even within the budget")
    options = arguments.parse_args(argv)
    run(config.load_params(), options.budget_s, max_trials=options.max_trials)


if __name__ == "__main__":
    sys.exit(main())
