"""Stage 2: k-fold cross-validation (scores kept for the sanity stage), then fit on all data."""

import sys

import numpy as np

from .. import config
from ..cli import UserError, command, parser
from . import model_store
from .data_io import load_xy, read_json, write_json
from .metrics import score_all


def cv_sample(y, max_rows, seed):
    """Row indices for the cross-validation: all rows, or about ``max_rows`` of them drawn from
    each class in proportion (a stratified sample).

    The folds feed the sanity stage's consistency check and the CV summary; on large data a sample
    answers the same question for a fraction of the cost of cv_folds full-size fits.
    """
    if max_rows is None or len(y) <= max_rows:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    rows = [rng.choice(members, max(1, round(len(members) * max_rows / len(y))), replace=False)
            for members in (np.flatnonzero(y == label) for label in np.unique(y))]
    return np.sort(np.concatenate(rows))


def cross_validate(kind, hyperparameters, seed, folds, X, y, max_rows=None):
    """Scores of each fold and the number of rows they came from: every row, or a stratified
    sample of about ``max_rows``."""
    from sklearn.model_selection import StratifiedKFold

    if max_rows is not None and (not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 2):
        raise UserError(f"train.cv_max_rows is {max_rows!r}: use a whole number of rows >= 2, or null for every row")
    sample = cv_sample(y, max_rows, seed)
    smallest = int(np.bincount(y[sample]).min())
    if folds < 2 or smallest < folds:
        raise UserError(
            f"train.cv_folds is {folds} but the rarest class has {smallest} rows in the cross-validation: "
            "use 2 <= cv_folds <= rows of the rarest class, raise train.cv_max_rows, or add data"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = []
    # Fold rows index X directly: no copy of the sample is made besides each fold's own.
    for fit_rows, score_rows in splitter.split(sample, y[sample]):
        fit_rows, score_rows = sample[fit_rows], sample[score_rows]
        model = model_store.build(kind, hyperparameters, seed).fit(X[fit_rows], y[fit_rows])
        scores.append(score_all(y[score_rows], model.predict_proba(X[score_rows])))
    return scores, len(sample)


def run(params, processed_dir=config.PROCESSED_DIR, model_dir=config.MODEL_DIR,
        cv_file=config.CV_SCORES_FILE):
    settings = params["train"]
    kind, seed = settings["model"], settings["seed"]
    if kind not in model_store.MODELS:
        raise UserError(f"train.model {kind!r} is unknown: choose one of {', '.join(model_store.MODELS)}")
    hyperparameters = settings.get(kind) or {}
    X, y = load_xy(processed_dir / "train.parquet")
    n_classes = len(read_json(processed_dir / "encoding.json")["classes"])
    if len(np.unique(y)) != n_classes:
        raise UserError("training data lost a class during preprocessing: check data/raw")
    folds, cv_rows = cross_validate(kind, hyperparameters, seed, settings["cv_folds"], X, y,
                                    settings.get("cv_max_rows"))
    model = model_store.build(kind, hyperparameters, seed).fit(X, y)
    model_store.save(model, kind, model_dir)
    write_json(cv_file, {"model": kind, "rows": cv_rows, "folds": folds})
    summary = ", ".join(f"{name} {np.mean([f[name] for f in folds]):.4f}" for name in folds[0])
    print(f"train: {kind} on {len(y)} rows; {len(folds)}-fold CV on {cv_rows} rows, mean: {summary}")


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    run(config.load_params())


if __name__ == "__main__":
    sys.exit(main())
