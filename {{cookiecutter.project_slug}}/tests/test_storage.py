"""The remote's diagnosis names the remote and the fix (the template's tests run a real S3 server)."""

import pytest

from {{ cookiecutter.package_name }}.storage import remote

from conftest import free_port


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_default_remote(no_aws):
    assert "no default DVC remote" in remote.diagnose(None, {})


def test_no_credentials_says_where_to_put_them(no_aws, monkeypatch):
    problem = remote.diagnose("storage", {"url": "s3://bucket/prefix"})
    assert problem.startswith("no AWS credentials for remote 'storage' (s3://bucket/prefix)")
    assert "make s3-local" in problem
    monkeypatch.setenv("GITLAB_CI", "true")
    in_ci = remote.diagnose("storage", {"url": "s3://bucket/prefix"})
    assert "AWS_ACCESS_KEY_ID" in in_ci and "AWS_READONLY_ACCESS_KEY_ID" in in_ci and "Settings > CI/CD" in in_ci


def test_an_unreachable_endpoint_is_named(no_aws):
    problem = remote.diagnose("storage", {"url": "s3://bucket/prefix", "endpointurl": "http://127.0.0.1:9",
                                          "access_key_id": "k", "secret_access_key": "s"})
    assert problem.startswith("cannot reach http://127.0.0.1:9 for remote 'storage'")


def test_a_refused_endpoint_fails_a_push_at_once_with_the_diagnosis_and_dvc_never_runs(no_aws, monkeypatch, capsys):
    """DVC would retry a refused connection for about 10 s before failing with "unexpected error"."""
    port = free_port()
    settings = {"url": "s3://bucket/prefix", "endpointurl": f"http://127.0.0.1:{port}",
                "access_key_id": "k", "secret_access_key": "s"}
    monkeypatch.setattr(remote, "remote_config", lambda: ("storage", settings))
    ran = []
    monkeypatch.setattr(remote, "dvc", lambda *args, **kwargs: ran.append(args))
    assert remote.transfer("push") == 1
    assert ran == []
    assert capsys.readouterr().err.startswith(f"storage: cannot reach http://127.0.0.1:{port} for remote 'storage'")


def test_an_endpoint_that_accepts_connections_goes_to_dvc(no_aws, monkeypatch):
    import socket
    from types import SimpleNamespace

    with socket.create_server(("127.0.0.1", 0)) as listener:
        settings = {"url": "s3://bucket/prefix", "endpointurl": f"http://127.0.0.1:{listener.getsockname()[1]}"}
        monkeypatch.setattr(remote, "remote_config", lambda: ("storage", settings))
        ran = []
        monkeypatch.setattr(remote, "dvc", lambda *args, **kwargs: ran.append(args) or SimpleNamespace(returncode=0))
        assert remote.transfer("pull") == 0
    assert ran == [("pull", "--run-cache", "--allow-missing")]
