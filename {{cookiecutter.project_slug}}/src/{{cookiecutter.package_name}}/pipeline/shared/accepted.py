"""The accepted state: the last commit that changed baseline.txt (a promotion, or the project's
first commit), and what DVC tracked at that commit. validate compares the training data with the
accepted data; evaluate re-scores the accepted model when the holdout has changed since."""

import tempfile
from contextlib import contextmanager
from pathlib import Path

from ... import config
from ...cli import git


def accepted_commit():
    """The commit that last changed baseline.txt, or None outside Git or before the first commit."""
    return git("log", "-1", "--format=%H", "--", str(config.BASELINE_FILE), check=False).stdout.strip() or None


def tracked_at(commit, tracked):
    """Whether the folder ``tracked`` was DVC-tracked (had its .dvc file) at ``commit``."""
    return git("cat-file", "-e", f"{commit}:{Path(f'{tracked}.dvc').as_posix()}", check=False).returncode == 0


def changed_since(commit, tracked):
    """Whether the DVC-tracked folder ``tracked`` (its .dvc file) differs from what ``commit`` had."""
    dvc_file = Path(f"{tracked}.dvc")
    then = git("show", f"{commit}:{dvc_file.as_posix()}", check=False)
    return then.returncode != 0 or not dvc_file.exists() or dvc_file.read_text(encoding="utf-8") != then.stdout


@contextmanager
def fetched(commit, path):
    """A temporary copy of ``path`` (a DVC-tracked folder or stage output) as of ``commit``, read
    through DVC: from the local cache, else from the remote."""
    from dvc.api import DVCFileSystem

    with tempfile.TemporaryDirectory() as tmp:
        DVCFileSystem(".", rev=commit).get(Path(path).as_posix(), f"{tmp}/copy", recursive=True)
        yield Path(tmp) / "copy"
