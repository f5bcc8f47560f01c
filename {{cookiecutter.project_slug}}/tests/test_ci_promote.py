"""Who authors the promotion commit, and how it is found again."""

import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.delivery import ci_promote


def test_the_author_is_the_pipeline_user_unless_set(monkeypatch):
    monkeypatch.setenv("GITLAB_USER_NAME", "Ada")
    monkeypatch.setenv("GITLAB_USER_EMAIL", "ada@example.com")
    monkeypatch.delenv("PROMOTION_AUTHOR_NAME", raising=False)
    monkeypatch.delenv("PROMOTION_AUTHOR_EMAIL", raising=False)
    assert ci_promote.author() == ["-c", "user.name=Ada", "-c", "user.email=ada@example.com"]
    monkeypatch.setenv("PROMOTION_AUTHOR_NAME", "Model Bot")
    monkeypatch.setenv("PROMOTION_AUTHOR_EMAIL", "bot@example.com")
    assert ci_promote.author() == ["-c", "user.name=Model Bot", "-c", "user.email=bot@example.com"]


def test_on_github_the_author_is_the_actions_bot(monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name in ("PROMOTION_AUTHOR_NAME", "PROMOTION_AUTHOR_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    assert ci_promote.author() == ["-c", "user.name=github-actions[bot]",
                                   "-c", "user.email=41898282+github-actions[bot]@users.noreply.github.com"]


def test_no_author_at_all_is_a_clear_error(monkeypatch, tmp_path):
    for name in ("GITLAB_USER_NAME", "GITLAB_USER_EMAIL", "PROMOTION_AUTHOR_NAME", "PROMOTION_AUTHOR_EMAIL",
                 "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "empty"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="PROMOTION_AUTHOR_NAME and PROMOTION_AUTHOR_EMAIL"):
        ci_promote.author()


def test_the_last_promotion_is_read_back_from_the_subject_promote_writes(monkeypatch, tmp_path):
    import subprocess

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    def commit(subject):
        subprocess.run(["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", "commit", "-qam", subject],
                       check=True)

    subprocess.run(["git", "init", "-q"], check=True)
    assert ci_promote.last_promotion() == (None, None, None)  # no history yet
    (tmp_path / "baseline.txt").write_text("0.5\n")
    subprocess.run(["git", "add", "baseline.txt"], check=True)
    commit("First commit")
    assert ci_promote.last_promotion() == (None, None, None)  # the accepted model was never promoted
    for version, registered in ((None, ""), (7, ci_promote.REGISTERED.format(model="my-model", version=7))):
        (tmp_path / "baseline.txt").write_text(f"0.{version or 6}\n")
        commit(ci_promote.SUBJECT.format(metric="roc_auc", new=0.6, old=0.5, registered=registered))
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        assert ci_promote.last_promotion() == (head, "my-model" if version else None, version)
    (tmp_path / "notes.txt").write_text("x\n")
    subprocess.run(["git", "add", "notes.txt"], check=True)
    commit("A later commit that leaves baseline.txt alone")
    assert ci_promote.last_promotion()[2] == 7
