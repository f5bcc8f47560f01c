"""project_setup: the post-gen work, finished by `make install` or `make setup`, with clear advice when a
tool is missing."""

import venv

from conftest import baked_project, commit_count, run


def test_setup_is_safe_to_run_twice(cookies):
    project = baked_project(cookies)
    code, out = run("make setup", project)
    assert "has its first commit; nothing to do" in out
    assert commit_count(project) == 1
    assert run("git status --porcelain", project)[1] == ""


def test_without_a_git_identity_it_explains_and_a_later_setup_commits(cookies, tmp_path, monkeypatch):
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    result = cookies.bake()
    assert result.exit_code == 0
    project = result.project_path
    assert commit_count(project) == 0
    assert (project / "data/raw.dvc").exists()
    monkeypatch.undo()  # back to the test identity
    code, out = run("make setup", project)
    assert "made the first commit" in out
    assert commit_count(project) == 1


def test_without_dvc_data_stays_out_of_git_and_it_says_what_to_run(cookies, tmp_path):
    project = baked_project(cookies, init_git="no")
    bare = tmp_path / "python-without-dvc"
    venv.create(bare, with_pip=False)
    code, out = run(f"{bare}/bin/python -m churn_model.bake.project_setup --init-git", project,
                    env={"PYTHONPATH": "src", "PATH": "/usr/bin:/bin"})
    assert code == 0
    assert "dvc is not installed here" in out and "run `make install`" in out
    assert commit_count(project) == 0
    assert not (project / "data/raw.dvc").exists()
