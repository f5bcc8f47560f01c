"""Stage 2: k-fold cross-validation (scores kept for the sanity stage), then fit on all data."""

import numpy as np

from . import config, model_store
from .data_io import load_xy, read_json, write_json
from .errors import StageError, exit_on_stage_error
from .metrics import score_all


def cross_validate(kind, hyperparameters, seed, folds, X, y):
    from sklearn.model_selection import StratifiedKFold

    smallest = int(np.bincount(y).min())
    if folds < 2 or smallest < folds:
        raise StageError(
            f"train.cv_folds is {folds} but the rarest class has {smallest} rows: "
            "use 2 <= cv_folds <= rows of the rarest class, or add data"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = []
    for fit_rows, score_rows in splitter.split(X, y):
        model = model_store.build(kind, hyperparameters, seed).fit(X[fit_rows], y[fit_rows])
        scores.append(score_all(y[score_rows], model.predict_proba(X[score_rows])))
    return scores


def run(params, processed_dir=config.PROCESSED_DIR, model_dir=config.MODEL_DIR,
        cv_file=config.CV_SCORES_FILE):
    settings = params["train"]
    kind, seed = settings["model"], settings["seed"]
    if kind not in model_store.MODELS:
        raise StageError(f"train.model {kind!r} is unknown: choose one of {', '.join(model_store.MODELS)}")
    hyperparameters = settings.get(kind) or {}
    X, y = load_xy(processed_dir / "train.parquet")
    n_classes = len(read_json(processed_dir / "encoding.json")["classes"])
    if len(np.unique(y)) != n_classes:
        raise StageError("training data lost a class during preprocessing: check data/raw")
    folds = cross_validate(kind, hyperparameters, seed, settings["cv_folds"], X, y)
    model = model_store.build(kind, hyperparameters, seed).fit(X, y)
    model_store.save(model, kind, model_dir)
    write_json(cv_file, {"model": kind, "folds": folds})
    summary = ", ".join(f"{name} {np.mean([f[name] for f in folds]):.4f}" for name in folds[0])
    print(f"train: {kind} on {len(y)} rows; {len(folds)}-fold CV mean: {summary}")


@exit_on_stage_error
def main():
    run(config.load_params())


if __name__ == "__main__":
    main()
