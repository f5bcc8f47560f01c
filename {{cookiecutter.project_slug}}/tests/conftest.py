"""Tiny datasets and a real params.yaml for the stage tests."""

import copy
import csv
import hashlib
import io
import json
import shutil
import socket
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import config
from {{ cookiecutter.package_name }}.bake import sample_data
from {{ cookiecutter.package_name }}.pipeline import preprocess, train

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch):
    """Tests run as on a laptop even in a CI job: a test that needs a CI sets its variables."""
    for name in ("GITHUB_ACTIONS", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def project_params():
    return config.load_params(PROJECT_ROOT / "params.yaml")


@pytest.fixture
def params(project_params):
    """The project's own params.yaml, with the sample target and a quick model."""
    params = copy.deepcopy(project_params)
    params["data"]["target"] = sample_data.TARGET
    params["train"]["cv_folds"] = 3
    params["train"]["xgboost"]["n_estimators"] = 50
    params["train"]["random_forest"]["n_estimators"] = 50
    params["train"]["logistic_regression"]["Cs"] = 4  # 1e-4, 0.046, 22 and 1e4: a quicker search
    return params


def sample_frame(rows, seed):
    """Sample rows as pandas reads them from CSV (empty cells become missing values)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=sample_data.COLUMNS)
    writer.writeheader()
    writer.writerows(sample_data.generate_rows(rows, seed))
    buffer.seek(0)
    return pd.read_csv(buffer)


# What a model that knows nothing scores (baseline.txt of a new project): every trained model of
# the sample data beats it, whatever metric the project was baked with.
CHANCE = {"roc_auc": 0.5, "accuracy": 0.5, "f1": 0.0, "average_precision": 0.0, "log_loss": 0.6931471805599453}


@pytest.fixture
def workspace(tmp_path, params):
    """A project-like folder layout with small sample data, and the chance level of the project's
    metric in baseline.txt."""
    paths = {
        "raw": tmp_path / "data" / "raw",
        "holdout": tmp_path / "data" / "holdout",
        "processed": tmp_path / "data" / "processed",
        "models": tmp_path / "models",
        "cv": tmp_path / "reports" / "train" / "cv_scores.json",
        "evaluate": tmp_path / "reports" / "evaluate",
        "sanity": tmp_path / "reports" / "sanity",
        "validate": tmp_path / "reports" / "validate",
        "baseline": tmp_path / "baseline.txt",
    }
    sample_data.write_csv(paths["raw"] / "batch_001.csv", sample_data.generate_rows(600, seed=1))
    sample_data.write_csv(paths["holdout"] / "holdout.csv", sample_data.generate_rows(400, seed=2))
    paths["baseline"].write_text(f"{CHANCE[params['evaluate']['metric']]}\n")
    return paths



def free_port():
    """A local port nothing listens on (the probe that found it is closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

def run_preprocess(params, ws):
    return preprocess.run(params, ws["raw"], ws["holdout"], ws["processed"])


def run_train(params, ws):
    train.run(params, ws["processed"], ws["models"], ws["cv"])


@pytest.fixture(scope="session")
def trained_outputs(tmp_path_factory):
    """{inputs' digest: folder}: what preprocess and train wrote for those params and data."""
    return {}, tmp_path_factory.mktemp("trained")


@pytest.fixture
def trained(params, workspace, trained_outputs):
    """A workspace after the preprocess and train stages. Training is deterministic (test_train.py
    checks it), so each set of params and data trains once per session and later workspaces get
    a copy of its outputs."""
    cache, root = trained_outputs
    inputs = [json.dumps(params, sort_keys=True).encode()]
    inputs += [path.read_bytes() for name in ("raw", "holdout") for path in sorted(workspace[name].rglob("*"))
               if path.is_file()]
    digest = hashlib.sha256(b"\0".join(inputs)).hexdigest()[:16]
    outputs = ("processed", "models", "cv")
    if digest not in cache:
        run_preprocess(params, workspace)
        run_train(params, workspace)
        cache[digest] = root / digest
        for name in outputs:
            copy_output(workspace[name], cache[digest] / name)
    else:
        for name in outputs:
            copy_output(cache[digest] / name, workspace[name])
    return workspace


def copy_output(source, target):
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)
