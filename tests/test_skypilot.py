"""The generated SkyPilot task, loaded and checked by SkyPilot's own parser (sky.Task.from_yaml_config,
which validates against SkyPilot's task schema). No cloud is needed for that: nothing is launched.
SkyPilot runs from an environment of its own (.venv-skypilot, tests/skypilot-requirements.txt)."""

import json
import subprocess

import pytest
import yaml

from conftest import TEMPLATE_DIR, bake

SKYPILOT_PYTHON = TEMPLATE_DIR / ".venv-skypilot" / "bin" / "python"
LOAD_TASK = """
import json, sys
import sky
config = json.load(sys.stdin)
task = sky.Task.from_yaml_config(config, secrets_overrides=[("AWS_ACCESS_KEY_ID", "id"),
                                                              ("AWS_SECRET_ACCESS_KEY", "secret")])
print(json.dumps({
    "name": task.name, "workdir": task.workdir, "setup": task.setup, "run": task.run, "envs": task.envs,
    "secrets": sorted(task.secrets), "accelerators": sorted(next(iter(r.accelerators)) for r in task.resources),
}))
"""


def load_task(config, tmp_path):
    """The task as SkyPilot reads it; SkyPilot's own error message when it refuses it."""
    home = tmp_path / "home"  # SkyPilot keeps its state under ~/.sky
    home.mkdir(exist_ok=True)
    result = subprocess.run([str(SKYPILOT_PYTHON), "-c", LOAD_TASK], input=json.dumps(config), text=True,
                            capture_output=True, env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
    if result.returncode:
        return None, result.stderr
    return json.loads(result.stdout.splitlines()[-1]), None


@pytest.fixture(scope="module")
def task_config(cookies_session):
    project = bake(cookies_session, project_name="Churn Model", init_git="no", sample_data="no").project_path
    return project, yaml.safe_load((project / "sky" / "train-gpu.yaml").read_text())


def test_skypilot_accepts_the_train_task(task_config, tmp_path):
    project, config = task_config
    task, error = load_task(config, tmp_path)
    assert error is None, error
    assert task["name"] == "churn-model-train" and task["workdir"] == "."
    assert task["accelerators"] == ["A10G", "L4", "T4"]
    assert task["secrets"] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert task["envs"]["XGBOOST_CUDA"] == "yes"
    assert "make install" in task["setup"]
    # The same DVC remote: inputs pulled (or the stages before train run), outputs pushed back.
    assert "dvc repro --pull --allow-missing train" in task["run"] and "dvc push" in task["run"]
    makefile = (project / "Makefile").read_text()
    assert "\ncheck-remote:" in makefile and "\ninstall-gpu:" in makefile


def test_skypilot_refuses_a_broken_task(task_config, tmp_path):
    """The parser really checks: a misspelt section is refused with SkyPilot's own message."""
    config = dict(task_config[1])
    config["resourcez"] = config.pop("resources")
    task, error = load_task(config, tmp_path)
    assert task is None and "resourcez" in error
