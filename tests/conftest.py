"""Shared helpers: an isolated Git identity, the template's tools on PATH, baking and running."""

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
# The choice lists have one source: the template's prompts.
CHOICES = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
MODELS = tuple(CHOICES["model"])
METRICS = tuple(CHOICES["metric"])


# `make test` runs the suite on one worker per core (pytest-xdist), a module at a time on one worker
# (its module-scoped servers and projects are made once), handed out in collection order: the
# modules that take longest start first, so that the workers finish together.
LONGEST_FIRST = ("test_off_default_bakes.py", "test_bench.py", "test_gitlab_runner.py", "test_pipeline.py",
                 "test_github_runner.py", "test_storage.py", "test_dask_engine.py", "test_tracking.py")


def pytest_collection_modifyitems(items):
    """The longest modules first; the order within a module is kept."""
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """A Git identity of our own (never the developer's) and the template's tools on PATH."""
    gitconfig = tmp_path_factory.mktemp("gitconfig") / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Template Tests\n\temail = tests@example.com\n")
    patch = pytest.MonkeyPatch()
    patch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    node_bin = TEMPLATE_DIR / "node_modules" / ".bin"  # gitlab-ci-local, installed by `make test`
    patch.setenv("PATH", os.pathsep.join([str(VENV_BIN), str(node_bin), os.environ["PATH"]]))
    patch.setenv("DVC_NO_ANALYTICS", "1")
    # Temporary files of every process the tests start (cookiecutter leaves its hook script behind on
    # each bake, by design) go under pytest's own base folder, which pytest prunes, not into /tmp.
    scratch = tmp_path_factory.mktemp("tmp")
    patch.setenv("TMPDIR", str(scratch))
    patch.setattr(tempfile, "tempdir", str(scratch))  # this process's bakes (pytest-cookies)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "PYTHONPATH"):
        patch.delenv(name, raising=False)
    # Each of `make test`'s workers gets its share of the cores for OpenMP (XGBoost), BLAS and
    # pyarrow: threads that outnumber the cores spin against each other (two of the generated
    # test suites at once took 2.6 times as long as one alone; with a thread each, no longer).
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        patch.setenv("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    yield
    patch.undo()


def bake(cookies, **answers):
    """Bake with pytest-cookies and fail loudly: bake() itself never raises."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    for name, value in answers.items():  # unknown keys would be ignored silently
        assert result.context[name] == value
    return result


def layered_venv(path):
    """A virtualenv at ``path`` that also sees the test environment's packages (the same pinned
    dependencies every baked project installs), through a .pth file processed after the venv's own:
    what is installed into it, a baked project's package above all, comes first and stays its own.
    Nothing is downloaded, and two tests running at once never share a project's install."""
    path = Path(path)
    run(f"{sys.executable} -m venv --without-pip {path}", path.parent)
    site = path / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (site / "zz_test_environment.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    return path


def install(project):
    """Install a baked project's package as its `make install` does: into the project's own .venv,
    editable, with the stamp `make install` leaves. The project's Makefile puts .venv/bin first on
    PATH, and so does ``run`` for a command run in the project (as `source .venv/bin/activate` does)."""
    venv = layered_venv(project / ".venv")
    run(f"{venv}/bin/python -m pip install --quiet --no-deps --no-build-isolation --editable .", project)
    checksum = run("cat requirements-dev.txt pyproject.toml | cksum", project).strip()  # as the Makefile's
    (venv / ".installed-project").write_text(f"{venv}\n{checksum}\n")
    return project


def project_python(project):
    """The Python of a baked project's own .venv (``install``)."""
    return project / ".venv" / "bin" / "python"


def baked_project(cookies, **answers):
    """Bake and install: a project ready to run its commands."""
    return install(bake(cookies, **answers).project_path)


@pytest.fixture(scope="session")
def trained(cookies_session):
    """A project baked with the defaults and trained once per session: (project, the output of its
    first `make repro`). Tests work on copies of it (``trained_copy``) and never change it."""
    project = baked_project(cookies_session)
    return project, run("make repro", project)


def trained_copy(trained, target):
    """A copy of the trained project at ``target``, installed: the same Git history, workspace and
    DVC cache, as the user has it after a bake and `make repro` (which is deterministic, so the
    copy holds what training again would make). DVC's state database is left behind: it belongs
    to the original's files."""
    project, _ = trained
    left_behind = {project / ".dvc": ["tmp"], project: [".venv"]}  # the copy gets a .venv of its own
    shutil.copytree(project, target, symlinks=True, ignore=lambda folder, names: left_behind.get(Path(folder), []))
    return install(target)


def set_params(project, update):
    """Change a baked project's params.yaml with ``update(params)``, as a user would edit it."""
    import yaml

    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    update(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def metrics_show(project):
    """The holdout metrics as `dvc metrics show` reports them."""
    shown = json.loads(run("dvc metrics show --json", project))
    return shown[""]["data"]["reports/evaluate/metrics.json"]["data"]


def read_metrics(project):
    """The holdout metrics the last `make repro` wrote (reports/evaluate/metrics.json)."""
    return json.loads((project / "reports/evaluate/metrics.json").read_text())


def read_gate(project):
    """The gate's verdict of the last `make repro` (reports/evaluate/gate.json)."""
    return json.loads((project / "reports/evaluate/gate.json").read_text())


def attempt(command, cwd, env=None):
    """Run a shell command that may fail; return (exit code, stdout and stderr together). In a
    baked project that `make install` (or ``install``) set up, its .venv is active, as a user's
    shell would have it (never the template's own .venv, which runs the tests)."""
    env = {**os.environ, **(env or {})}
    venv = Path(cwd).resolve() / ".venv"
    if (venv / ".installed-project").exists() and venv != Path(sys.prefix).resolve():
        env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    process = subprocess.run(
        command, cwd=cwd, shell=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    return process.returncode, process.stdout


def run(command, cwd, env=None):
    """Run a shell command that must succeed; return its stdout and stderr together, or fail the
    test with the command, its exit code and its output."""
    code, out = attempt(command, cwd, env)
    if code != 0:
        raise AssertionError(f"`{command}` exited {code}:\n{out}")
    return out


def commit_count(project):
    code, out = attempt("git rev-list --count HEAD", project)
    return int(out) if code == 0 else 0


BUCKET = "cd4ml-test-bucket"


def iam_user(s3, name, policy):
    """A new IAM user on the moto server with exactly ``policy``; returns its AWS_* variables."""
    s3.iam.create_user(UserName=name)
    s3.iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    key = s3.iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def add_credentials(project, s3):
    """Credentials go where docs/storage.md says: the git-ignored .dvc/config.local."""
    run(f"dvc remote modify --local storage access_key_id {s3.key}", project)
    run(f"dvc remote modify --local storage secret_access_key {s3.secret}", project)


def s3_project(cookies, s3, prefix, **answers):
    """A baked, installed project whose DVC remote is a prefix of the test bucket on the moto server."""
    project = baked_project(cookies, s3_bucket=BUCKET, s3_prefix=prefix, s3_endpoint_url=s3.endpoint, **answers)
    add_credentials(project, s3)
    return project


def s3_trained_copy(trained, target, s3, prefix):
    """A trained copy whose DVC remote is a prefix of the test bucket on the moto server, set with
    `dvc remote modify` (as docs/storage.md says for another store) and committed, so that a
    clone, or CI, uses it too."""
    project = trained_copy(trained, target)
    run(f"dvc remote modify storage url s3://{BUCKET}/{prefix} && "
        f"dvc remote modify storage endpointurl {s3.endpoint} && "
        "git add .dvc/config && git commit -qm 'The team bucket'", project)
    add_credentials(project, s3)
    return project


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, name="moto server", timeout=30):
    """Until the server's port accepts connections (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert process.poll() is None and time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server that enforces credentials and IAM policies, with one IAM user allowed
    everything (it creates the bucket, and the users of tests that need narrower policies)."""
    import boto3

    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    # The first 3 requests (create the user, its policy and its key) need no credentials;
    # every later request must be signed with that key.
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="dvc")
        iam.put_user_policy(UserName="dvc", PolicyName="dvc-remote", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="dvc")["AccessKey"]
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        client.create_bucket(Bucket=BUCKET)
        admin_iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                                 aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        yield SimpleNamespace(endpoint=endpoint, key=key["AccessKeyId"], secret=key["SecretAccessKey"],
                              client=client, iam=admin_iam)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """A real MLflow tracking server (SQLite, local artifacts) from its own environment, which
    `make test` installs into .venv-mlflow-server. Its variables, as a project's jobs get them."""
    mlflow = TEMPLATE_DIR / ".venv-mlflow-server" / "bin" / "mlflow"
    assert mlflow.exists(), "the MLflow server's environment is missing: run `make test` (it installs it)"
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = open(root / "server.log", "wb")
    process = subprocess.Popen(
        [mlflow, "server", "--backend-store-uri", f"sqlite:///{root}/db.sqlite", "--artifacts-destination",
         str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, "MLflow server", timeout=120)
        # The token is sent as a bearer token, as to GitLab; this server does not check it.
        yield {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}", "MLFLOW_TRACKING_TOKEN": "test-token"}
    finally:
        process.terminate()
        process.wait(30)
        log.close()
