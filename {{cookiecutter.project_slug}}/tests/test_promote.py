"""Accepting a model (make promote and CI): refused without metrics or with failed sanity checks."""

import json

import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.delivery import promote


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder as the current directory, with a baseline of 0.5."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline.txt").write_text("0.5\n")
    return tmp_path


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_accepting_without_metrics_is_a_clear_error(params, project):
    with pytest.raises(UserError, match="run `make repro` before promoting"):
        promote.accept(params)
    assert (project / "baseline.txt").read_text() == "0.5\n"


def test_a_model_that_failed_sanity_is_not_accepted(params, project):
    write_json(project / "reports/evaluate/metrics.json", {params["evaluate"]["metric"]: 0.8})
    write_json(project / "reports/sanity/summary.json", {"passed": False, "checks": {}})
    with pytest.raises(UserError, match="sanity checks failed"):
        promote.accept(params)
    assert (project / "baseline.txt").read_text() == "0.5\n"


def test_accepting_the_accepted_score_again_changes_nothing(params, project, capsys):
    metric = params["evaluate"]["metric"]
    write_json(project / "reports/evaluate/metrics.json", {metric: 0.5})
    assert promote.accept(params) == (0.5, 0.5)  # no `dvc commit` either: this folder is no DVC project
    assert (project / "baseline.txt").read_text() == "0.5\n"
    assert f"{metric} 0.5000 -> 0.5000" in capsys.readouterr().out
