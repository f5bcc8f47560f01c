"""File locations shared by the stages (dvc.yaml names the same paths) and params.yaml loading."""

from pathlib import Path

import yaml

from .cli import UserError

PARAMS_FILE = Path("params.yaml")
TUNED_FILE = Path("tuned.yaml")  # make tune's hyperparameters, read over params.yaml's
STUDY_FILE = Path("tuning/study.json")  # every trial of the last make tune (DVC-tracked)
RAW_DIR = Path("data/raw")
HOLDOUT_DIR = Path("data/holdout")
PROCESSED_DIR = Path("data/processed")
MODEL_DIR = Path("models")
VALIDATE_DIR = Path("reports/validate")
CV_SCORES_FILE = Path("reports/train/cv_scores.json")
EVALUATE_DIR = Path("reports/evaluate")
METRICS_FILE = EVALUATE_DIR / "metrics.json"
GATE_FILE = EVALUATE_DIR / "gate.json"
SANITY_DIR = Path("reports/sanity")
REPORT_FILE = Path("reports/report.md")
BASELINE_FILE = Path("baseline.txt")

# Name of the encoded target column in the processed Parquet files; the dunders keep it apart
# from any feature name a user's data may have.
TARGET_COLUMN = "__target__"


def load_params(path=PARAMS_FILE):
    """params.yaml, with the hyperparameters in tuned.yaml (beside it) over the chosen model's."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} is missing: run commands from the project's root folder")
    with open(path, encoding="utf-8") as handle:
        params = yaml.safe_load(handle)
    return with_tuned(params, path.with_name(TUNED_FILE.name))


def load_tuned(tuned_file=TUNED_FILE):
    """tuned.yaml's content ({} when absent or empty)."""
    tuned_file = Path(tuned_file)
    tuned = yaml.safe_load(tuned_file.read_text(encoding="utf-8")) if tuned_file.exists() else {}
    tuned = tuned or {}
    if not isinstance(tuned, dict) or not isinstance(tuned.get("hyperparameters", {}), dict):
        raise UserError(f"{tuned_file} is not what make tune writes (model: and hyperparameters:): run make tune "
                        "again, or write `model: null` in it to use params.yaml's values")
    return tuned


def tuned_model(tuned_file=TUNED_FILE):
    """The model make tune tuned (None when it has not run)."""
    return load_tuned(tuned_file).get("model")


def with_tuned(params, tuned_file):
    tuned = load_tuned(tuned_file)
    train = (params or {}).get("train")
    if tuned and isinstance(train, dict) and tuned.get("model") == train.get("model"):
        kind = train["model"]
        train[kind] = over(train.get(kind) or {}, tuned.get("hyperparameters", {}))
    return params


def over(hyperparameters, tuned):
    """``tuned`` hyperparameters over a model's own; a tuned C replaces logistic regression's search (Cs)."""
    own = {name: value for name, value in hyperparameters.items() if not (name == "Cs" and "C" in tuned)}
    return {**own, **tuned}
