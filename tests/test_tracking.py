"""Experiment tracking and the model registry against a real MLflow tracking server (conftest's
mlflow_server). It speaks the client protocol GitLab implements; the project uses only the calls
GitLab documents as supported, and the checks below read the server back with the MLflow client."""

import json

import pytest
import yaml

from conftest import attempt, free_port, read_gate, read_metrics, run, s3_trained_copy

pytestmark = pytest.mark.slow
MODEL = "churn-model"


@pytest.fixture
def server(mlflow_server, monkeypatch):
    """The client the checks read the server with."""
    from mlflow import MlflowClient

    for name, value in mlflow_server.items():
        monkeypatch.setenv(name, value)
    return MlflowClient()


def tracking_lines(out):
    return [line for line in out.splitlines() if line.startswith("tracking:")]


def trained_with_origin(trained, s3, prefix, tmp_path):
    """A trained project whose main is on a bare origin, as a promote job finds it: (project,
    origin, the pipeline's commit)."""
    project = s3_trained_copy(trained, tmp_path / "project", s3, prefix)
    origin = tmp_path / "origin.git"
    run(f"git init -q --bare {origin} && git -C {origin} symbolic-ref HEAD refs/heads/main", project)
    run(f"git remote add origin {origin} && git push -q origin main", project)
    run("make repro && make report", project)
    return project, origin, run("git rev-parse HEAD", project).strip()


def assert_run_logged(server, project, job_id):
    """The run of reports/tracking.json on the server: its params, metrics, gate, data versions, files."""
    run_id = json.loads((project / "reports/tracking.json").read_text())["run_id"]
    logged = server.get_run(run_id)
    commit = run("git rev-parse HEAD", project).strip()
    assert logged.info.run_name == f"main {commit[:8]}"
    assert server.get_experiment(logged.info.experiment_id).name == "churn-model-runs"
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert logged.data.params["train.xgboost.n_estimators"] == str(params["train"]["xgboost"]["n_estimators"])
    assert logged.data.params["evaluate.metric"] == params["evaluate"]["metric"]
    metrics = read_metrics(project)
    assert {name: logged.data.metrics[name] for name in metrics} == pytest.approx(metrics)
    gate = read_gate(project)
    tags = logged.data.tags
    assert tags["gate.verdict"] == gate["verdict"] and tags["gate.passed"] == "true"
    assert tags["git.commit"] == commit and tags["gitlab.CI_JOB_ID"] == job_id
    for dataset in ("raw", "holdout"):
        dvc_file = yaml.safe_load((project / f"data/{dataset}.dvc").read_text())
        assert tags[f"data.data/{dataset}"] == dvc_file["outs"][0]["md5"]
    files = {artifact.path for artifact in server.list_artifacts(run_id)}
    figures = {path.name for path in (project / "reports/figures").glob("*.png")}
    assert figures and figures | {"report.html"} <= files


def versions(server):
    return server.search_model_versions(f"name='{MODEL}'")  # the check's own call, not the project's


def test_a_run_is_logged_and_a_promotion_registers_exactly_one_version_even_when_re_run(
        trained, s3, mlflow_server, server, tmp_path):
    project, origin, pipeline_commit = trained_with_origin(trained, s3, "registry", tmp_path)
    out = run("make track", project, env={**mlflow_server, "CI_JOB_ID": "4242"})
    assert len(tracking_lines(out)) == 1 and "logged run" in out
    assert_run_logged(server, project, "4242")

    # The first promote job registers the model, then its Git push is refused (a server-side hook
    # that refuses once): the job fails after registering.
    hook = origin / "hooks/pre-receive"
    hook.write_text(f"#!/bin/sh\n[ -e {tmp_path}/refused ] && exit 0\ntouch {tmp_path}/refused\nexit 1\n")
    hook.chmod(0o755)
    env = {**mlflow_server, "CI_COMMIT_SHA": pipeline_commit, "CI_DEFAULT_BRANCH": "main"}
    code, out = attempt("make ci-promote", project, env=env)
    assert code != 0 and "was rejected" in out and "registered churn-model version 1" in out
    assert len(versions(server)) == 1

    # The job is re-run (from the same pipeline commit): the version it made is found, not made again.
    run(f"git reset -q --hard {pipeline_commit}", project)
    out = run("make ci-promote", project, env=env)
    assert "already registered as churn-model version 1" in out
    message = run(f"git --git-dir {origin} log -1 --format=%s main", project).strip()
    assert "registered as churn-model version 1" in message

    # Re-run once more after it passed: the branch has moved on to the promotion, nothing is registered.
    out = run("make ci-promote", project, env=env)
    assert "not promoting" in out
    [version] = versions(server)
    promotion = run(f"git --git-dir {origin} rev-parse main", project).strip()
    assert version.version == "1" and f"promotion commit {promotion}" in version.description
    run_id = json.loads((project / "reports/tracking.json").read_text())["run_id"]
    assert f"pipeline run {run_id}" in version.description
    assert {"model.json", "encoding.json"} <= {artifact.path for artifact in server.list_artifacts(version.run_id)}


def test_an_unreachable_server_or_no_token_is_one_line_and_the_model_is_still_promoted(trained, s3, tmp_path):
    project, origin, pipeline_commit = trained_with_origin(trained, s3, "tracking-outage", tmp_path)
    gone = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}", "MLFLOW_TRACKING_TOKEN": "test-token"}

    # GitLab's endpoint takes no request without a token: one line, no request.
    gitlab_endpoint = f"{gone['MLFLOW_TRACKING_URI']}/api/v4/projects/1/ml/mlflow"
    out = run("make track", project, env={"MLFLOW_TRACKING_URI": gitlab_endpoint})
    assert tracking_lines(out) == ["tracking: MLFLOW_TRACKING_TOKEN not set, so nothing is tracked "
                                   "(see docs/tracking.md)"]
    [line] = tracking_lines(run("make track", project, env=gone))
    assert line.startswith("tracking: WARNING: logging the run failed, the pipeline goes on without it")

    env = {**gone, "CI_COMMIT_SHA": pipeline_commit, "CI_DEFAULT_BRANCH": "main"}
    out = run("make ci-promote", project, env=env)
    [line] = tracking_lines(out)
    assert line.startswith("tracking: WARNING: registering the model failed")
    message = run(f"git --git-dir {origin} log -1 --format=%s main", project).strip()
    assert message.startswith("Promote model: roc_auc") and "registered" not in message
