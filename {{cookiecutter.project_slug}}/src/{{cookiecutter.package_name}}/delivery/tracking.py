"""Every pipeline run in MLflow experiment tracking, every promoted model in the model registry:
GitLab's own (`<GitLab URL>/api/v4/projects/<project id>/ml/mlflow`, all tiers) or any MLflow server.

`make track` (the repro job runs it after the report) logs the current run in the experiment
EXPERIMENT: the flattened params.yaml, every holdout metric, the gate verdict, the data versions
(the .dvc hashes), the commit, branch, pipeline and merge request, and the report's figures and
HTML page. The promote job calls ``register``: the promoted model becomes a new version of the
registered model MODEL (its files, or a pointer to them in the DVC remote when they are large),
with its metrics and a link to the run and to the promotion commit. A re-run promote job finds the
version it made before (by the model's DVC hash) instead of making another.

Configuration is the environment only: MLFLOW_TRACKING_URI, and MLFLOW_TRACKING_TOKEN (GitLab's
endpoint needs one: a personal, project or group access token with the api scope and at least the
Developer role; the CI job token is not accepted there) or whatever credentials another server
takes (MLFLOW_TRACKING_USERNAME and _PASSWORD). Without them nothing is tracked, with one line. An
unreachable or refusing server is one warning line, never a failure: tracking does not decide
what is gated or promoted.

Only client calls GitLab documents as supported: get_experiment_by_name, create_experiment,
create_run, log_batch, log_artifact (no artifact_path, no folders), set_terminated;
get_registered_model, create_registered_model, get_latest_versions, create_model_version,
get_model_version, update_model_version.
"""

import os
import sys
import time
import warnings
from pathlib import Path

import yaml

from .. import config
from ..cli import command, git, parser
from ..pipeline.shared import gate
from ..pipeline.shared.data_io import read_json, write_json
from . import ci_platform

EXPERIMENT = "{{ cookiecutter.project_slug }}-runs"
# GitLab: a model's name may not be an experiment's name.
MODEL = "{{ cookiecutter.project_slug }}"
RUN_FILE = Path("reports/tracking.json")
GITLAB_ENDPOINT = "/ml/mlflow"
# Larger models go to the registry as a pointer into the DVC remote, not as files.
MAX_MODEL_UPLOAD_BYTES = 100 * 1024 * 1024
# MLflow's client retries a failing server for minutes by default; an outage should cost seconds.
CLIENT_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                   "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
                   # Its own run links assume an MLflow web UI; GitLab shows runs under -/ml/experiments.
                   "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}


def client():
    """An MlflowClient for the configured server, or None (with the line saying why)."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    # GitLab's endpoint always needs a token; another MLflow server may need none, or a user and password.
    needed = ["MLFLOW_TRACKING_URI"] + (["MLFLOW_TRACKING_TOKEN"] if GITLAB_ENDPOINT in uri else [])
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        print(f"tracking: {' and '.join(missing)} not set, so nothing is tracked "
              "(see docs/tracking.md)")
        return None
    for name, value in CLIENT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    from mlflow import MlflowClient

    return MlflowClient()


def warn(action, error):
    """One line for a server that failed us: the pipeline goes on."""
    reason = " ".join(str(error).split())[:300]
    print(f"tracking: WARNING: {action} failed, the pipeline goes on without it ({type(error).__name__}: {reason})")


def flatten(tree, prefix=""):
    """params.yaml as dotted keys: {"train": {"seed": 42}} -> {"train.seed": 42}."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        flat.update(flatten(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return flat


def data_versions():
    """{"data.data/raw": md5, ...}: the hash of every DVC-tracked dataset, from its .dvc file."""
    return {f"data.{dvc_file.with_suffix('').as_posix()}": yaml.safe_load(dvc_file.read_text(encoding="utf-8"))
            ["outs"][0]["md5"] for dvc_file in sorted(Path("data").glob("*.dvc"))}


def model_hash():
    """The models/ folder's hash in dvc.lock: what identifies a model across jobs and re-runs."""
    lock = Path("dvc.lock")
    if not lock.exists():
        return None
    for out in yaml.safe_load(lock.read_text(encoding="utf-8"))["stages"].get("train", {}).get("outs", []):
        if out["path"] == config.MODEL_DIR.as_posix():
            return out.get("md5")
    return None


def ci_context():
    """Tags naming where the run comes from: commit, branch, and in CI the job, the pipeline and
    the merge or pull request (ci_platform)."""
    platform = ci_platform.current()
    commit = platform.commit() or git("rev-parse", "HEAD", check=False).stdout.strip()
    branch = platform.branch() or git("rev-parse", "--abbrev-ref", "HEAD", check=False).stdout.strip()
    tags = {"git.commit": commit, "git.branch": branch, "mlflow.source.git.commit": commit}
    return {**tags, **platform.run_tags()}


def artifacts():
    """The report's figures and page, as the run's files (GitLab takes no folders)."""
    figures = sorted((config.REPORT_FILE.parent / "figures").glob("*.png"))
    page = config.REPORT_FILE.with_suffix(".html")
    return figures + ([page] if page.exists() else [])


def log_run():
    """Log the current pipeline run; returns its id, or None when not tracked."""
    mlflow = client()
    if mlflow is None:
        return None
    from mlflow.entities import Metric, Param, RunTag

    try:
        experiment = mlflow.get_experiment_by_name(EXPERIMENT)
        experiment_id = experiment.experiment_id if experiment else mlflow.create_experiment(EXPERIMENT)
        context = ci_context()
        name = f"{context['git.branch']} {context['git.commit'][:8]}"
        run_id = mlflow.create_run(experiment_id, run_name=name).info.run_id
        now = int(time.time() * 1000)
        metrics = read_json(config.METRICS_FILE) if config.METRICS_FILE.exists() else {}
        decision = gate.read_gate()
        tags = {**context, **data_versions(), "model.hash": model_hash() or "",
                "gate.verdict": decision["verdict"] if decision else "not evaluated (the pipeline stopped before it)"}
        if decision:
            tags["gate.passed"] = str(decision["passed"]).lower()
            metrics = {**metrics, "gate.baseline": decision["baseline"]}
        params = [Param(key, str(value)) for key, value in flatten(config.load_params()).items()]
        # log_batch takes at most 100 params per call.
        for start in range(0, max(len(params), 1), 100):
            mlflow.log_batch(run_id, params=params[start:start + 100],
                             metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()] if not start else [],
                             tags=[RunTag(k, str(v)) for k, v in tags.items()] if not start else [])
        files = artifacts()
        for path in files:
            mlflow.log_artifact(run_id, str(path))
        mlflow.set_terminated(run_id)
    except Exception as error:  # noqa: BLE001 - any server or network fault: warn, never fail
        warn("logging the run", error)
        return None
    write_json(RUN_FILE, {"run_id": run_id, "experiment_id": experiment_id, "run_name": name})
    print(f"tracking: logged run '{name}' ({run_id}) in experiment {EXPERIMENT}: {len(params)} params, "
          f"{len(metrics)} metrics, {len(files)} files")
    return run_id


def _registered_model(mlflow):
    from mlflow.exceptions import MlflowException

    try:
        mlflow.get_registered_model(MODEL)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        mlflow.create_registered_model(MODEL, description="The models this project's pipeline promoted")


def _model_files(mlflow, run_id, fingerprint, commit, tmp_dir):
    """The model's files on ``run_id``; a pointer into the DVC remote when they are large."""
    files = sorted(path for path in config.MODEL_DIR.rglob("*") if path.is_file())
    if sum(path.stat().st_size for path in files) <= MAX_MODEL_UPLOAD_BYTES:
        for path in files:
            mlflow.log_artifact(run_id, str(path))
        return len(files)
    pointer = Path(tmp_dir) / "model-location.json"
    write_json(pointer, {"dvc_path": config.MODEL_DIR.as_posix(), "md5": fingerprint, "commit": commit,
                         "how": f"git checkout {commit[:8]} && dvc pull {config.MODEL_DIR.as_posix()}"})
    mlflow.log_artifact(run_id, str(pointer))
    return 1


def register(metric, score, commit):
    """The promoted model as a version of MODEL; returns the version, or None when not tracked.
    When the latest version was made from the same model (a re-run promote job), it is returned."""
    mlflow = client()
    if mlflow is None:
        return None
    import tempfile

    from mlflow.entities import Metric

    fingerprint = model_hash()
    run_id = read_json(RUN_FILE)["run_id"] if RUN_FILE.exists() else None
    try:
        _registered_model(mlflow)
        with warnings.catch_warnings():
            # Deprecated by MLflow for its stages, but the version lookup GitLab supports.
            warnings.simplefilter("ignore", FutureWarning)
            latest = mlflow.get_latest_versions(MODEL)
        for existing in latest:
            if fingerprint and f"model {fingerprint}" in (existing.description or ""):
                print(f"tracking: this model is already registered as {MODEL} version {existing.version}")
                return str(existing.version)
        description = (f"{metric} {score:.4f} on the holdout; model {fingerprint} (dvc.lock); "
                       f"pipeline commit {commit[:8]}" + (f"; pipeline run {run_id}" if run_id else ""))
        # GitLab ignores run_id and source and gives every version a run of its own; an MLflow
        # server links the version to the pipeline run.
        version = mlflow.create_model_version(MODEL, source=f"runs:/{run_id}/" if run_id else "", run_id=run_id,
                                              description=description, await_creation_for=0)
        target = version.run_id or run_id
        if target:
            if target != run_id:
                metrics = read_json(config.METRICS_FILE) if config.METRICS_FILE.exists() else {metric: score}
                now = int(time.time() * 1000)
                mlflow.log_batch(target, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()])
            with tempfile.TemporaryDirectory() as tmp_dir:
                _model_files(mlflow, target, fingerprint, commit, tmp_dir)
    except Exception as error:  # noqa: BLE001 - any server or network fault: warn, never fail
        warn("registering the model", error)
        return None
    print(f"tracking: registered {MODEL} version {version.version} ({metric} {score:.4f})")
    return str(version.version)


def link_promotion(version, commit):
    """Name the promotion commit in the version's description, once it is pushed."""
    mlflow = client() if version else None
    if mlflow is None:
        return
    try:
        description = mlflow.get_model_version(MODEL, version).description or ""
        if "promotion commit" not in description:
            mlflow.update_model_version(MODEL, version, description=f"{description}; promotion commit {commit}")
    except Exception as error:  # noqa: BLE001 - any server or network fault: warn, never fail
        warn("linking the promotion commit", error)


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    log_run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
