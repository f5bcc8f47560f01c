"""Shared helpers: an isolated Git identity, the template's tools on PATH, baking and running."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
MODELS = ("xgboost", "random_forest", "logistic_regression")
METRICS = ("roc_auc", "accuracy", "f1", "average_precision", "log_loss")


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """A Git identity of our own (never the developer's) and the template's tools on PATH."""
    gitconfig = tmp_path_factory.mktemp("gitconfig") / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Template Tests\n\temail = tests@example.com\n")
    patch = pytest.MonkeyPatch()
    patch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    patch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    patch.setenv("DVC_NO_ANALYTICS", "1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "PYTHONPATH"):
        patch.delenv(name, raising=False)
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


def run(command, cwd, check=True, env=None):
    """Run a shell command; return (exit code, stdout and stderr together)."""
    process = subprocess.run(
        command, cwd=cwd, shell=True, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    if check and process.returncode != 0:
        raise AssertionError(f"`{command}` exited {process.returncode}:\n{process.stdout}")
    return process.returncode, process.stdout


def commit_count(project):
    code, out = run("git rev-list --count HEAD", project, check=False)
    return int(out) if code == 0 else 0
