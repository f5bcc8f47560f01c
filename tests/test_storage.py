"""S3 remotes against a real S3 API: moto in server mode on a random port (decorator mocks do not
reach DVC's async S3 client). The server checks credentials, so wrong keys are really refused."""

import hashlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import (
    BUCKET,
    add_credentials,
    attempt,
    baked_project,
    free_port,
    layered_venv,
    project_python,
    run,
    s3_project,
    s3_trained_copy,
    trained_copy,
    wait_for_port,
)

pytestmark = pytest.mark.slow
NO_AWS_CONFIG = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
                 "AWS_EC2_METADATA_DISABLED": "true"}


def clone(project, tmp_path, s3, name="clone"):
    """A newcomer's clone, set up with `make install` (into a .venv that sees the test
    environment's packages): it runs its own code, not the package of ``project``."""
    target = tmp_path / name
    run(f"git clone -q {project} {target}", tmp_path)
    layered_venv(target / ".venv")
    run("make install", target)
    where = run(f"{project_python(target)} -c 'import churn_model; print(churn_model.__file__)'", target)
    assert where.startswith(str(target)), where
    add_credentials(target, s3)
    return target


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digests(root, folders):
    return {str(p.relative_to(root)): digest(p) for folder in folders for p in sorted((root / folder).rglob("*"))
            if p.is_file()}


def test_round_trip_restores_everything_and_the_run_cache_spares_retraining(trained, s3, tmp_path):
    project = s3_trained_copy(trained, tmp_path / "project", s3, "round-trip")
    run("make repro", project)
    run("git add -A && git commit -qm 'Train the first model'", project)
    out = run("make push", project)
    assert "pushed" in out
    assert "in sync" in run("dvc status --cloud", project)

    copy = clone(project, tmp_path, s3)
    run("make pull", copy)
    folders = ("data/raw", "data/holdout", "data/processed", "models", "reports")
    assert tree_digests(copy, folders) == tree_digests(project, folders)
    assert "Running stage" not in run("dvc repro", copy)

    # Without dvc.lock and the cached outputs (as on a runner whose branch has a stale lock),
    # DVC restores preprocess and train from the pulled run-cache: nothing is retrained, and the
    # outputs and the gate's verdict are the same. (evaluate may re-run: DVC does not push the
    # objects of `cache: false` metrics to the run-cache, and evaluate is cheap and deterministic.)
    run("git rm -q dvc.lock && rm -rf data/processed models reports/train reports/sanity "
        "reports/evaluate/gate.json", copy)
    out = run("dvc repro", copy)
    for stage in ("preprocess", "train"):
        assert f"Stage '{stage}' is cached - skipping run" in out
    assert "Running stage 'train'" not in out
    assert tree_digests(copy, folders) == tree_digests(project, folders)


def test_credentials_never_reach_a_tracked_file_or_git_history(trained, s3, tmp_path):
    project = s3_trained_copy(trained, tmp_path / "project", s3, "secrets")
    run("make repro && make push", project)
    run("git add -A && git commit -qm 'Train'", project)
    history = run("git log --all -p", project)
    tracked = run("git grep -I -e . -- .", project)
    for secret in (s3.key, s3.secret):
        assert secret not in history and secret not in tracked
    assert ".dvc/config.local" not in run("git ls-files .dvc", project)
    assert s3.secret in (project / ".dvc/config.local").read_text()


@pytest.fixture(scope="module")
def big_project(cookies_session, s3, tmp_path_factory):
    """A project with a 120 MB file (several multipart chunks) tracked by DVC."""
    project = baked_project(cookies_session, s3_bucket=BUCKET, s3_prefix="big", s3_endpoint_url=s3.endpoint,
                   sample_data="no")
    add_credentials(project, s3)
    with open(project / "data/big.bin", "wb") as handle:
        for chunk in range(120):
            handle.write(hashlib.sha512(str(chunk).encode()).digest() * (1024 * 1024 // 64))
    run("dvc add -q data/big.bin && git add -A && git commit -qm 'Add a big file'", project)
    return project


def test_a_file_larger_than_a_multipart_chunk_round_trips_intact(big_project, s3, tmp_path):
    assert (big_project / "data/big.bin").stat().st_size == 120 * 1024 * 1024
    run("make push", big_project)
    copy = clone(big_project, tmp_path, s3)
    run("make pull", copy)
    assert digest(copy / "data/big.bin") == digest(big_project / "data/big.bin")


def started_multipart_uploads(s3, prefix):
    return s3.client.list_multipart_uploads(Bucket=BUCKET, Prefix=f"{prefix}/").get("Uploads", [])


def test_an_interrupted_push_completes_when_run_again(cookies, s3, tmp_path):
    """The push is killed at a known point: once the big file's multipart upload has started on the
    server. Its three 50 MiB parts are still to come, so the file cannot have been completed."""
    project = s3_project(cookies, s3, "interrupted", sample_data="no")
    with open(project / "data/big.bin", "wb") as handle:
        handle.write(os.urandom(120 * 1024 * 1024))
    run("dvc add -q data/big.bin && git add -A && git commit -qm 'Add a big file'", project)
    push = subprocess.Popen("make push", shell=True, cwd=project, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not started_multipart_uploads(s3, "interrupted"):
        assert push.poll() is None, "the push ended before its multipart upload was seen"
        assert time.monotonic() < deadline, "the push never started its multipart upload"
        time.sleep(0.02)
    os.killpg(push.pid, signal.SIGKILL)
    push.wait()
    status = attempt("dvc status --cloud", project)[1]
    assert re.search(r"^\s*new:\s+data/big.bin$", status, re.M), status
    run("make push", project)
    assert "in sync" in run("dvc status --cloud", project)
    copy = clone(project, tmp_path, s3)
    run("make pull", copy)
    assert digest(copy / "data/big.bin") == digest(project / "data/big.bin")


@pytest.fixture(scope="module")
def faults_baked(cookies_session, s3):
    project = baked_project(cookies_session, s3_bucket=BUCKET, s3_prefix="faults", s3_endpoint_url=s3.endpoint)
    add_credentials(project, s3)
    return project, (project / ".dvc/config.local").read_text(), tree_digests(project, ("data",))


@pytest.fixture
def fault_project(faults_baked):
    """One bake for every fault: each test starts from its working .dvc/config.local."""
    project, config, data = faults_baked
    (project / ".dvc/config.local").write_text(config)
    yield project
    # Nothing lost: the data and DVC's view of it are as they were.
    assert tree_digests(project, ("data",)) == data
    assert "up to date" in run("dvc status data/raw.dvc data/holdout.dvc", project)


@pytest.mark.parametrize("fault, setup, env, expected", [
    ("unreachable", "dvc remote modify --local storage endpointurl http://127.0.0.1:{closed_port}", {},
     "storage: cannot reach http://127.0.0.1:{closed_port} for remote 'storage'"),
    ("wrong credentials", "dvc remote modify --local storage secret_access_key wrong-secret", {},
     "rejected the credentials for remote 'storage'"),
    ("missing bucket", "dvc remote modify --local storage url s3://no-such-bucket/x", {},
     "bucket 'no-such-bucket' does not exist"),
    ("unknown profile", "dvc remote modify --local storage profile nobody", NO_AWS_CONFIG,
     "storage: AWS profile 'nobody' of remote 'storage'"),
    ("no credentials", "dvc remote modify --local --unset storage access_key_id && "
                       "dvc remote modify --local --unset storage secret_access_key", NO_AWS_CONFIG,
     "storage: no AWS credentials for remote 'storage'"),
])
def test_each_fault_fails_with_one_line_naming_the_remote_and_the_fix(fault_project, fault, setup, env, expected):
    closed_port = free_port()
    run(setup.format(closed_port=closed_port), fault_project)
    code, out = attempt("make push", fault_project, env=env)
    assert code != 0
    assert expected.format(closed_port=closed_port) in out
    assert "Traceback" not in out


def test_local_s3_server_start_is_idempotent_refuses_a_taken_port_and_stop_restores(trained, tmp_path):
    project = trained_copy(trained, tmp_path / "project")
    run("dvc remote modify --local storage jobs 3", project)  # a setting of the user's own
    port = free_port()
    try:
        out = run(f"make s3-local S3_LOCAL_PORT={port}", project)
        assert f"started a local S3 server at http://127.0.0.1:{port}" in out
        out = run(f"make s3-local S3_LOCAL_PORT={port}", project)
        assert f"already running at http://127.0.0.1:{port}" in out
        run("make repro && make push", project)
        assert "in sync" in run("dvc status --cloud", project)
    finally:
        out = run("make s3-local-stop", project)
    assert "stopped the server" in out
    local_config = (project / ".dvc/config.local").read_text()
    assert "endpointurl" not in local_config and "local-s3-dummy" not in local_config
    assert "jobs = 3" in local_config
    assert "no local S3 server is running" in run("make s3-local-stop", project)

    taken = free_port()
    other = subprocess.Popen([sys.executable, "-m", "http.server", str(taken), "--bind", "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(taken, other)
        code, out = attempt(f"make s3-local S3_LOCAL_PORT={taken}", project)
    finally:
        other.terminate()
    assert code != 0
    assert f"port {taken} on 127.0.0.1 is in use by another program" in out


def test_a_data_push_that_cannot_reach_s3_takes_its_file_out_again(cookies):
    project = baked_project(cookies, s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    run("dvc remote modify --local storage access_key_id k && dvc remote modify --local storage secret_access_key s",
        project)
    raw_dvc = (project / "data/raw.dvc").read_text()
    code, out = attempt("make data-push", project)
    assert code != 0
    assert "storage: cannot reach" in out and "data/raw/batch_002.csv was taken out again" in out
    assert not (project / "data/raw/batch_002.csv").exists()
    assert (project / "data/raw.dvc").read_text() == raw_dvc
    assert run("git status --porcelain", project) == ""


def test_make_predict_in_a_fresh_clone_pulls_the_model_of_dvc_lock(trained, s3, tmp_path):
    project = s3_trained_copy(trained, tmp_path / "project", s3, "predict")
    run("make repro && git add -A && git commit -qm 'Train' && make push", project)
    rows = project / "data/holdout/holdout.csv"
    run(f"make predict INPUT={rows} OUTPUT={tmp_path}/here.parquet", project)
    copy = clone(project, tmp_path, s3)
    assert not (copy / "models").exists()
    out = run(f"make predict INPUT={rows} OUTPUT={tmp_path}/there.csv", copy)
    assert "pulling the model of dvc.lock from the remote" in out and "wrote 2,000 predictions" in out
    import pandas as pd

    there, here = pd.read_csv(tmp_path / "there.csv"), pd.read_parquet(tmp_path / "here.parquet")
    assert list(there.columns) == ["prediction", "probability_0", "probability_1"]
    assert len(there) == 2000
    assert (there["prediction"] == here["prediction"]).all()
    assert abs(there["probability_1"] - here["probability_1"]).max() < 1e-6
