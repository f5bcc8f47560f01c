"""Tracking is optional and never fails a pipeline. The real MLflow server is in the template's
tests; here: what is logged, and the one line when tracking is off or the server is gone."""

import pytest

from {{ cookiecutter.package_name }}.delivery import tracking

from conftest import free_port


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def tracking_lines(out):
    return [line for line in out.splitlines() if line.startswith("tracking:")]


def test_params_are_flattened_to_dotted_keys():
    assert tracking.flatten({"train": {"seed": 42, "xgboost": {"max_depth": 4}}, "data": {"target": "churned"}}) == {
        "train.seed": 42, "train.xgboost.max_depth": 4, "data.target": "churned"}


def test_data_versions_are_the_hashes_in_the_dvc_files(project):
    (project / "data").mkdir()
    (project / "data/raw.dvc").write_text("outs:\n- md5: 1234abcd.dir\n  path: raw\n")
    (project / "data/holdout.dvc").write_text("outs:\n- md5: 5678ef90.dir\n  path: holdout\n")
    assert tracking.data_versions() == {"data.data/holdout": "5678ef90.dir", "data.data/raw": "1234abcd.dir"}


@pytest.mark.parametrize("uri, token, missing", [
    (None, "token", "MLFLOW_TRACKING_URI"),
    # GitLab's endpoint takes no request without a token; another MLflow server may.
    ("https://gitlab.example.com/api/v4/projects/7/ml/mlflow", None, "MLFLOW_TRACKING_TOKEN"),
])
def test_without_uri_or_gitlab_token_nothing_is_tracked_with_one_line(project, monkeypatch, capsys, uri, token,
                                                                      missing):
    for name, value in (("MLFLOW_TRACKING_URI", uri), ("MLFLOW_TRACKING_TOKEN", token)):
        if value:
            monkeypatch.setenv(name, value)
    assert tracking.main([]) == 0
    assert tracking.register("roc_auc", 0.8, "0" * 40) is None
    lines = tracking_lines(capsys.readouterr().out)
    assert len(lines) == 2 and all(f"{missing} not set, so nothing is tracked" in line for line in lines)


def test_an_unreachable_server_is_one_warning_line_and_no_failure(project, monkeypatch, capsys):
    # Any MLflow server: no token needed.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    assert tracking.main([]) == 0
    [line] = tracking_lines(capsys.readouterr().out)
    assert line.startswith("tracking: WARNING: logging the run failed, the pipeline goes on without it")
    assert tracking.register("roc_auc", 0.8, "0" * 40) is None
    [line] = tracking_lines(capsys.readouterr().out)
    assert line.startswith("tracking: WARNING: registering the model failed")
    assert not tracking.RUN_FILE.exists()


class RecordingClient:
    """Records log_artifact calls: what _model_files sends, without a server."""

    def __init__(self):
        self.logged = []

    def log_artifact(self, run_id, path):
        self.logged.append((run_id, path, open(path).read() if path.endswith("model-location.json") else None))


def test_a_model_over_the_upload_limit_is_registered_as_a_pointer_into_the_dvc_remote(project, monkeypatch):
    (project / "models").mkdir()
    (project / "models/model.ubj").write_bytes(b"x" * 2048)
    (project / "models/model.json").write_text("{}")
    small = RecordingClient()
    tracking._model_files(small, "run-1", "abc.dir", "f" * 40, project)
    assert sorted(path for _, path, _ in small.logged) == ["models/model.json", "models/model.ubj"]

    monkeypatch.setattr(tracking, "MAX_MODEL_UPLOAD_BYTES", 1024)
    large = RecordingClient()
    tracking._model_files(large, "run-1", "abc.dir", "f" * 40, project)
    [(run_id, path, text)] = large.logged
    assert run_id == "run-1" and path.endswith("model-location.json")
    assert '"md5": "abc.dir"' in text and "dvc pull models" in text
