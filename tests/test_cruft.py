"""Template updates with cruft: a project baked from a Git copy of the template takes in a later
template change while the user's own edits survive."""

import json
import shutil

import pytest
import yaml

from conftest import TEMPLATE_DIR, attempt, commit_count, layered_venv, run

pytestmark = pytest.mark.slow


@pytest.fixture
def template_repo(tmp_path):
    """The template as a Git repository of its own, as users reach it."""
    repo = tmp_path / "template"
    # What .gitignore leaves out stays out: the side environments alone (.venv-*) are 1.3 GB.
    shutil.copytree(TEMPLATE_DIR, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".venv-*", "node_modules", "demo", "__pycache__", ".pytest_cache", ".ruff_cache"))
    run("git init -q -b main && git add -A && git commit -qm 'Template v1'", repo)
    return repo


def test_cruft_create_check_and_update_keep_the_users_edits(template_repo, tmp_path):
    run(f"cruft create --no-input --output-dir {tmp_path / 'out'} {template_repo}", tmp_path)
    project = tmp_path / "out" / "churn-model"
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(template_repo)
    assert state["commit"] == run("git rev-parse HEAD", template_repo).strip()
    assert not (project / ".git").exists()  # the hook left Git to `make install` under cruft

    # A .venv that sees the test environment's packages (the same pins): `make install` finds the
    # dependencies there, installs the package and finishes the setup.
    layered_venv(project / ".venv")
    out = run("make install", project)
    assert commit_count(project) == 1
    assert ".cruft.json" in run("git ls-files", project).split()
    assert run("git status --porcelain", project) == ""
    run("cruft check", project)

    # The user changes params, code and adds data of their own, and commits.
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["xgboost"]["max_depth"] = 6
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    train = project / "src/churn_model/pipeline/train.py"
    train.write_text(train.read_text() + "\n# a team's own note\n")
    run("make repro && git add -A && git commit -qm 'Our own settings and first model'", project)

    # The template moves on.
    readme = template_repo / "{{cookiecutter.project_slug}}" / "Makefile"
    readme.write_text(readme.read_text() + "\n# A template improvement\n")
    run("git commit -qam 'Template v2'", template_repo)

    code, out = attempt("cruft check", project)
    assert code != 0 and "out of date" in out
    out = run("cruft update --skip-apply-ask --allow-untracked-files", project)
    assert "# A template improvement" in (project / "Makefile").read_text()
    assert yaml.safe_load((project / "params.yaml").read_text())["train"]["xgboost"]["max_depth"] == 6
    assert train.read_text().endswith("# a team's own note\n")
    assert (project / "data/raw/batch_001.csv").exists() and (project / "models").is_dir()
    assert not list(project.rglob("*.rej"))
    run("git add -A && git commit -qm 'Update from the template'", project)
    run("cruft check", project)
    out = run("make repro", project)
    assert "Running stage" not in out  # the update changed nothing the pipeline depends on
