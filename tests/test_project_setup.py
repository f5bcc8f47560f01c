"""project_setup: the post-gen work, finished by `make install` or `make setup`, with clear advice when a
tool is missing."""

import sys
import venv

from conftest import TEMPLATE_DIR, attempt, bake, baked_project, commit_count, layered_venv, run


def test_setup_is_safe_to_run_twice(cookies):
    project = baked_project(cookies)
    out = run("make setup", project)
    assert "has its first commit; nothing to do" in out
    assert commit_count(project) == 1
    assert run("git status --porcelain", project) == ""


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
    out = run("make setup", project)
    assert "made the first commit" in out
    assert commit_count(project) == 1


def test_without_dvc_data_stays_out_of_git_and_it_says_what_to_run(cookies, tmp_path):
    project = baked_project(cookies, init_git="no")
    bare = tmp_path / "python-without-dvc"
    venv.create(bare, with_pip=False)
    out = run(f"{bare}/bin/python -m churn_model.bake.project_setup --init-git", project,
              env={"PYTHONPATH": "src", "PATH": "/usr/bin:/bin"})
    assert "dvc is not installed here" in out and "run `make install`" in out
    assert commit_count(project) == 0
    assert not (project / "data/raw.dvc").exists()


def test_the_readme_steps_work_from_a_cookiecutter_without_dvc(tmp_path):
    """`pipx install cookiecutter` gives an environment without DVC: the bake cannot track the
    data, and `make install` finishes the setup."""
    tool = tmp_path / "cookiecutter-only"
    venv.create(tool, with_pip=True)
    run(f"{tool}/bin/python -m pip install --quiet cookiecutter==2.7.1", tmp_path)
    out = run(f"{tool}/bin/cookiecutter --no-input --output-dir {tmp_path / 'out'} {TEMPLATE_DIR}", tmp_path,
                    env={"PATH": f"{tool}/bin:/usr/bin:/bin"})
    project = tmp_path / "out" / "churn-model"
    assert "dvc is not installed here" in out and commit_count(project) == 0
    # `make install`, into a .venv that sees the test environment's packages (the same pins): it
    # only installs the package and finishes the setup.
    layered_venv(project / ".venv")
    out = run("make install", project)
    assert "tracking data/raw, data/holdout with DVC" in out and "made the first commit" in out
    assert commit_count(project) == 1 and run("git status --porcelain", project) == ""
    out = run("make repro", project)
    assert "beat baseline 0.5000" in out


def test_make_install_rebuilds_a_virtualenv_made_elsewhere(cookies, tmp_path):
    """A cached .venv restored into another build folder has scripts pointing to the old path.
    (The rebuild itself is stopped at once by a PYTHON that fails: the detection is under test.)"""
    project = bake(cookies, sample_data="no", init_git="no").project_path
    moved = tmp_path / "venv"
    (moved / "bin").mkdir(parents=True)
    (moved / "bin" / "python").symlink_to(sys.executable)
    (moved / ".installed-project").write_text("/builds/elsewhere/.venv\n")
    code, out = attempt(f"make install VENV={moved} PYTHON=false", project)
    assert code != 0
    assert f"{moved} was made elsewhere or its Python is gone: rebuilding it" in out
    assert not (moved / ".installed-project").exists()


def test_make_install_installs_the_dependencies_again_only_when_the_lock_changes(cookies, tmp_path):
    """A virtualenv shared by checkouts (a runner's cache): another checkout of the same lock installs
    its own package only; an edited pyproject.toml installs the dependencies again."""
    project = bake(cookies, project_name="Lock Check 2").project_path
    shared = layered_venv(tmp_path / "venv")
    out = run(f"make install VENV={shared}", project)
    assert "Installing the pinned dependencies" in out and f"Installed into {shared}" in out
    clone = tmp_path / "clone"
    run(f"git clone -q {project} {clone}", tmp_path)
    out = run(f"make install VENV={shared}", clone)
    assert "Installing the pinned dependencies" not in out and "Installing lock_check_2 from this checkout" in out
    assert "Installing" not in run(f"make install VENV={shared}", clone)
    with open(clone / "pyproject.toml", "a") as pyproject:
        pyproject.write("# an edit\n")
    out = run(f"make install VENV={shared}", clone)
    assert "Installing the pinned dependencies" in out and "Installing lock_check_2" not in out
