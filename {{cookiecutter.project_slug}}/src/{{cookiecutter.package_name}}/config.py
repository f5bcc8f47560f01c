"""File locations shared by the stages (dvc.yaml names the same paths) and params.yaml loading."""

from pathlib import Path

import yaml

from .cli import UserError

PARAMS_FILE = Path("params.yaml")
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
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} is missing: run commands from the project's root folder")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)
