"""Train stage: k-fold cross-validation (scores kept for the sanity stage), then fit on all data.

XGBoost stops adding trees when its loss on an inner validation share of the training rows stops
improving (model_store.fit), in every fold as in the final fit; the holdout is never read here."""

import sys
import time

import numpy as np

from .. import config
from ..cli import UserError, command, parser
from .shared import dask_training, external_memory, model_store, splits
from .shared.data_io import load_target, load_xy, read_json, write_json
from .shared.metrics import score_all
from .shared.params import check, for_rows
from .shared.params import hyperparameters as chosen_hyperparameters


def cross_validate(build, seed, folds, X, y, max_rows=None, validation_share=0.1, refit_max_rows=0):
    """Scores of each fold and the number of rows they came from: every row, or a stratified
    sample of about ``max_rows``. ``build()`` returns a fresh unfitted model, fitted as the final one."""
    from sklearn.model_selection import StratifiedKFold

    sample = splits.cv_sample(y, max_rows, seed)
    smallest = int(np.bincount(y[sample]).min())
    if smallest < folds:
        raise UserError(
            f"train.cv_folds is {folds} but the rarest class has {smallest} rows in the cross-validation: "
            "use 2 <= cv_folds <= rows of the rarest class, raise train.cv_max_rows, or add data"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = []
    # Fold rows index X directly: no copy of the sample is made besides each fold's own.
    for fold, (fit_rows, score_rows) in enumerate(splitter.split(sample, y[sample]), start=1):
        fit_rows, score_rows = sample[fit_rows], sample[score_rows]
        started = time.monotonic()
        model = model_store.fit(build(), X.iloc[fit_rows], y[fit_rows], seed, validation_share, refit_max_rows)
        model = model_store.serial_prediction(model)  # predicts as the saved one
        scores.append(score_all(y[score_rows], model.predict_proba(X.iloc[score_rows])))
        # Flushed, so that a long run shows its progress in a CI job log as it happens.
        print(f"train: CV fold {fold}/{folds} on {len(fit_rows)} rows in {time.monotonic() - started:.1f} s",
              flush=True)
    return scores, len(sample)


def out_of_core(train_file, encoding, settings):
    """Whether fitting in memory would pass train.memory_budget_mib (see shared/external_memory),
    so that XGBoost trains out of core; the other models always fit in memory."""
    needed = external_memory.in_memory_peak_mib(train_file, encoding)
    budget = external_memory.budget_mib(settings.get("memory_budget_mib"))
    if needed <= budget:
        return False
    over = (f"train: fitting in memory would take about {needed:.0f} MiB, over train.memory_budget_mib "
            f"({budget:.0f} MiB)")
    if settings["model"] != "xgboost":
        print(f"{over}; only XGBoost trains out of core, so {settings['model']} fits in memory anyway "
              "(train.model: xgboost for data larger than memory)", flush=True)
        return False
    print(f"{over}: XGBoost trains out of core, a row group at a time", flush=True)
    return True


def check_device(device):
    if device == "cuda":
        import xgboost

        if not xgboost.build_info().get("USE_CUDA"):
            raise UserError("train.device is cuda but this XGBoost has no CUDA support (the CPU-only package "
                            "xgboost-cpu): run `make install-gpu` on a machine with an NVIDIA GPU, "
                            "or set train.device: cpu")


def run(params, processed_dir=config.PROCESSED_DIR, model_dir=config.MODEL_DIR,
        cv_file=config.CV_SCORES_FILE):
    settings = check(params)["train"]
    kind, seed, engine, device = settings["model"], settings["seed"], settings["engine"], settings["device"]
    hyperparameters = chosen_hyperparameters(params)
    check_device(device)
    encoding = read_json(processed_dir / "encoding.json")
    train_file = processed_dir / "train.parquet"
    from_disk = engine == "local" and out_of_core(train_file, encoding, settings)
    if engine == "dask" or from_disk:
        # Only the target and the CV sample are read here; the final fit reads the rest its own way.
        y = load_target(train_file)
        sample = splits.cv_sample(y, settings["cv_max_rows"], seed)
        X, y_sample = load_xy(train_file, encoding, rows=sample)
    else:
        X, y = load_xy(train_file, encoding)
        y_sample = y
    if len(np.unique(y)) != len(encoding["classes"]):
        raise UserError("training data lost a class during preprocessing: check data/raw")
    hyperparameters = for_rows(hyperparameters, len(y))  # max_depth: auto

    def build():
        return model_store.build(kind, hyperparameters, seed, encoding, settings["one_hot_max_categories"], device,
                                 all_native=engine == "dask" or from_disk)

    max_rows = None if engine == "dask" or from_disk else settings.get("cv_max_rows")  # else: drawn already
    share, refit = settings["validation_share"], settings["refit_max_rows"]
    folds, cv_rows = cross_validate(build, seed, settings["cv_folds"], X, y_sample, max_rows, share, refit)
    print(f"train: fitting the final model on {len(y)} rows", flush=True)
    if engine == "dask":
        del X
        model = dask_training.fit(train_file, encoding, hyperparameters, seed, device, share, len(y) <= refit)
    elif from_disk:
        del X
        model = external_memory.fit(train_file, encoding, hyperparameters, seed, device, share)
    else:
        model = model_store.fit(build(), X, y, seed, share, refit)
    model_store.save(model, kind, model_dir, encoding)
    write_json(cv_file, {"model": kind, "rows": cv_rows, "folds": folds})
    summary = ", ".join(f"{name} {np.mean([f[name] for f in folds]):.4f}" for name in folds[0])
    trees, c = model_store.trees(model, kind), model_store.chosen_c(model, kind)
    where = f"{engine} engine{', out of core' if from_disk else ''}, {device}"
    depth = f" (max_depth {hyperparameters['max_depth']})" if "max_depth" in hyperparameters else ""
    print(f"train: {kind} on {len(y)} rows ({where})" + (f", {trees} trees{depth}" if trees else "")
          + (f", C {c:.4g} chosen by {model_store.INNER_FOLDS}-fold inner CV" if c else "")
          + f"; {len(folds)}-fold CV on {cv_rows} rows, mean: {summary}")


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    params = config.load_params()
    if config.tuned_model() == params["train"]["model"]:
        print(f"train: {params['train']['model']} hyperparameters from make tune ({config.TUNED_FILE}) over "
              f"params.yaml's: {params['train'][params['train']['model']]}", flush=True)
    run(params)


if __name__ == "__main__":
    sys.exit(main())
