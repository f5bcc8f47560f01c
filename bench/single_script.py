"""The single-script baseline: the pipeline's work in one Python process, without DVC.

Same files read with the same fast reader, the same preprocessing, the same model and
hyperparameters (early stopping on the same inner split) with the same k-fold cross-validation
(on the same sample), the same holdout metrics and the same prediction checks. What it leaves
out is exactly what the pipeline adds: separate processes per stage, Parquet between stages,
saving and loading the model, and DVC's bookkeeping.

    python single_script.py <project dir>
"""

import argparse
import sys
import time
from pathlib import Path


def features_and_target(encoding_module, frame, encoding):
    class_index = {label: index for index, label in enumerate(encoding["classes"])}
    return encoding_module.encode_features(frame, encoding), frame[encoding["target"]].map(class_index).to_numpy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("project", type=Path)
    args = parser.parse_args()
    package = next((args.project / "src").iterdir())
    sys.path.insert(0, str(package.parent))
    import importlib

    import numpy as np
    import yaml

    pkg = package.name
    data_io = importlib.import_module(f"{pkg}.pipeline.shared.data_io")
    encoding_module = importlib.import_module(f"{pkg}.pipeline.shared.encoding")
    model_store = importlib.import_module(f"{pkg}.pipeline.shared.model_store")
    metrics = importlib.import_module(f"{pkg}.pipeline.shared.metrics")
    params_module = importlib.import_module(f"{pkg}.pipeline.shared.params")
    train = importlib.import_module(f"{pkg}.pipeline.train")

    start = time.perf_counter()
    params = yaml.safe_load((args.project / "params.yaml").read_text())
    target = params["data"]["target"]
    raw = data_io.read_data_dir(args.project / "data/raw")
    holdout = data_io.read_data_dir(args.project / "data/holdout")
    encoding_module.validate_frames(raw, holdout, target)
    encoding = encoding_module.fit_encoding(raw, target, params["data"].get("id_column"))
    X, y = features_and_target(encoding_module, raw, encoding)
    X_hold, y_hold = features_and_target(encoding_module, holdout, encoding)
    del raw, holdout
    settings = params["train"]
    kind, seed = settings["model"], settings["seed"]
    hyperparameters = params_module.for_rows(settings[kind], len(y))  # max_depth: auto, as train makes it

    def build():
        return model_store.build(kind, hyperparameters, seed, encoding, settings["one_hot_max_categories"])

    share, refit = settings["validation_share"], settings["refit_max_rows"]
    train.cross_validate(build, seed, settings["cv_folds"], X, y, settings.get("cv_max_rows"), share, refit)
    model = model_store.fit(build(), X, y, seed, share, refit)
    proba = model.predict_proba(X_hold)
    scores = metrics.score_all(y_hold, proba)
    assert np.isfinite(proba).all() and len(proba) == len(y_hold)
    metric = params["evaluate"]["metric"]
    print(f"single script: {metric} {scores[metric]:.4f} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
