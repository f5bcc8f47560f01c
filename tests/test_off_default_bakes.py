"""Projects baked off the default path pass their own CI checks job (`make lint test`) and pipeline."""

import json
import re

import pytest
import yaml

from conftest import baked_project, metrics_show, read_gate, run

pytestmark = pytest.mark.slow


# Off the default path: names with digits, hyphens, underscores and non-ASCII letters, every model,
# every metric but the default, and both CIs. Each bake runs what its CI's checks job runs, then the
# pipeline. The default model, metric and CI together (xgboost, roc_auc, gitlab) run that checks job
# and pipeline in test_gitlab_runner.py, in a runner's fresh clone.
OFF_DEFAULT_BAKES = [
    ("Fraud-Detector_2 Ünïcode", "logistic_regression", "log_loss", "gitlab"),
    ("Ärger_Modell-3", "random_forest", "f1", "gitlab"),
    ("Zoë 42-b_x", "xgboost", "accuracy", "github"),
    ("Señal-7_Ω Risk", "random_forest", "average_precision", "gitlab"),
]


def checks_job_script(project, ci):
    if ci == "github":
        steps = yaml.safe_load((project / ".github/workflows/model.yml").read_text())["jobs"]["checks"]["steps"]
        return [step["run"] for step in steps if "run" in step]
    return yaml.safe_load((project / ".gitlab-ci.yml").read_text())["checks"]["script"]


@pytest.mark.parametrize("name, model, metric, ci", OFF_DEFAULT_BAKES)
def test_a_project_baked_off_the_default_path_passes_its_own_checks_job_and_pipeline(cookies, name, model, metric,
                                                                                     ci):
    project = baked_project(cookies, project_name=name, model=model, metric=metric, ci=ci)
    package = bake_package(project)
    assert package != "churn_model" and (project / "src" / package / "pipeline" / "train.py").is_file()
    assert "make lint test" in checks_job_script(project, ci)  # what this test runs is what the CI job runs
    out = run("make lint test", project)
    # pytest's summary: every test passed, none failed, skipped or errored. A warning is not a failure:
    # a Dask dashboard finding its port taken by another test's cluster says so, and uses another.
    assert re.search(r"^\d+ passed(, \d+ warnings?)? in [\d.]+s", out, re.M), out[-2000:]
    run("make repro", project)
    assert metric in metrics_show(project)
    gate = read_gate(project)
    assert gate["metric"] == metric and gate["passed"] is True
    assert json.loads((project / "reports/sanity/summary.json").read_text())["passed"] is True


def bake_package(project):
    [package] = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    return package
