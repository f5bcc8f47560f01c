"""Bake-time tooling: the sample data and the Git/DVC setup that `make install` finishes."""

import shutil
import subprocess
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.bake import project_setup, sample_data


def test_sample_batches_are_deterministic_and_distinct(tmp_path):
    first = sample_data.write_batch(tmp_path / "a", 1).read_bytes()
    assert sample_data.write_batch(tmp_path / "b", 1).read_bytes() == first
    assert sample_data.write_batch(tmp_path / "a", 2).read_bytes() != first


def test_sample_data_has_mixed_types_missing_values_and_both_classes():
    rows = list(sample_data.generate_rows(1000, seed=3))
    assert any(row["customer_age"] == "" for row in rows)
    assert {row["contract"] for row in rows} == set(sample_data.CONTRACTS)
    churn_rate = sum(row["churned"] for row in rows) / len(rows)
    assert 0.15 < churn_rate < 0.6


def test_a_bad_batch_number_is_one_line_and_exit_1(tmp_path, capsys):
    assert sample_data.main(["--batch", "0", "--raw-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "ERROR: --batch must be 1 or more, got 0\n"
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A fresh copy of the project's DVC settings, as the bake leaves them, and a Git identity."""
    shutil.copytree(Path(__file__).parents[1] / ".dvc", tmp_path / ".dvc",
                    ignore=shutil.ignore_patterns("cache", "tmp", "config.local"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    (tmp_path / "gitconfig").write_text("[user]\n\tname = Setup Test\n\temail = setup@example.com\n")
    return tmp_path


def git_log(folder):
    return subprocess.run(["git", "log", "--format=%s"], cwd=folder, capture_output=True, text=True).stdout.split("\n")


def test_setup_makes_the_first_commit_once_and_never_commits_later_work(folder, capsys):
    assert project_setup.main(["--sample-data", "--init-git"]) == 0
    assert git_log(folder)[0] == "Initial commit: project skeleton with DVC-tracked data"
    tracked = subprocess.run(["git", "ls-files"], cwd=folder, capture_output=True, text=True).stdout.split()
    assert "data/raw.dvc" in tracked and not any(name.endswith(".csv") for name in tracked)
    (folder / "notes.txt").write_text("my own work in progress\n")
    assert project_setup.main(["--init-git"]) == 0
    assert "has its first commit; nothing to do" in capsys.readouterr().out
    assert len([line for line in git_log(folder) if line]) == 1
    assert "?? notes.txt" in subprocess.run(["git", "status", "--porcelain"], cwd=folder, capture_output=True,
                                            text=True).stdout


def test_on_a_fresh_clone_setup_leaves_the_dvc_tracked_folders_to_dvc(folder, tmp_path, monkeypatch):
    """A CI job's `make install` on a clone: data/raw and data/holdout are absent, and their .dvc
    files say where they come from. An empty folder in their place would look like modified data to
    `dvc repro --pull --allow-missing`, which would then re-run the pipeline on nothing."""
    assert project_setup.main(["--sample-data", "--init-git"]) == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(folder), str(clone)], check=True)
    assert (clone / "data/raw.dvc").exists() and not (clone / "data/raw").exists()
    monkeypatch.chdir(clone)
    assert project_setup.main(["--init-git"]) == 0
    assert not (clone / "data/raw").exists() and not (clone / "data/holdout").exists()
