"""The command convention: --help everywhere, one line and exit 1 for a user error."""

import importlib
import pkgutil

import pytest

import {{ cookiecutter.package_name }} as package
from {{ cookiecutter.package_name }}.cli import UserError, command, dvc, git


def commands():
    """Every module of the package that runs as `python -m`."""
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        if hasattr(module, "main"):
            yield info.name, module.main


@pytest.mark.parametrize("name, main", list(commands()))
def test_every_command_has_help(name, main, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")


def test_a_user_error_is_one_line_on_stderr_and_exit_1(capsys):
    @command
    def broken(argv):
        raise UserError("data/raw is empty: put your data there")

    assert broken([]) == 1
    assert capsys.readouterr().err == "ERROR: data/raw is empty: put your data there\n"


def test_failed_git_and_dvc_calls_are_user_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="git rev-parse HEAD failed: fatal: not a git repository"):
        git("rev-parse", "HEAD")
    with pytest.raises(UserError, match="dvc status failed"):
        dvc("status", capture=True)
    assert git("rev-parse", "HEAD", check=False).returncode != 0
