"""Put the project under Git and DVC: git init, dvc add the data folders, the first commit.

Runs from the cookiecutter hook right after baking, and again from `make install` (and
`make setup`) to finish what the bake had to skip: a cookiecutter without DVC beside it cannot
track the data, and under cruft the hook leaves Git alone (cruft writes .cruft.json after the
hook, and re-runs the hook in throw-away folders on `cruft update`). Every step checks what is
already done, and nothing is committed once the repository has a first commit, so running it again
never touches your own work. Standard library only, so it runs before `make install`.
"""

import shutil
import sys
from pathlib import Path

from ..cli import command, dvc, dvc_executable, git, parser
from . import sample_data

DATA_DIRS = (Path("data/raw"), Path("data/holdout"))


def has_data(directory):
    return directory.is_dir() and any(p.suffix.lower() in (".csv", ".parquet") for p in directory.iterdir())


def write_sample_data():
    raw, holdout = DATA_DIRS
    if not has_data(raw):
        print(f"project setup: wrote {sample_data.write_batch(raw, 1)}")
    if not has_data(holdout):
        print(f"project setup: wrote {sample_data.write_holdout(holdout)}")


def has_commit():
    return git("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0


def init_git():
    if not Path(".git").exists():
        git("init", "-q")
        git("symbolic-ref", "HEAD", "refs/heads/main")
        print("project setup: initialised Git repository (branch main)")


def track_data():
    """DVC-track the data folders; return True when no data file is left that Git would pick up."""
    targets = [str(d) for d in DATA_DIRS if has_data(d) and not Path(f"{d}.dvc").exists()]
    if not any(has_data(d) for d in DATA_DIRS):
        print("project setup: no data yet; put files in data/raw and data/holdout, then run `make setup`")
        return True
    if not targets:
        return True
    if dvc_executable() is None:
        print("project setup: dvc is not installed here, so data is not tracked yet: "
              "run `make install` (no commit until then, to keep data out of Git)")
        return False
    dvc("add", "-q", *targets, capture=True)
    print(f"project setup: tracking {', '.join(targets)} with DVC")
    return True


def has_identity():
    # useConfigOnly: count only an identity from Git config or GIT_AUTHOR_* variables, never one
    # guessed from the host name.
    return all(git("-c", "user.useConfigOnly=true", "var", ident, check=False).returncode == 0
               for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"))


def first_commit():
    if not has_identity():
        print('project setup: no Git identity, so no commit yet: run `git config user.name "..."` '
              'and `git config user.email "..."`, then `make setup`')
        return
    git("add", "-A")
    git("commit", "-q", "-m", "Initial commit: project skeleton with DVC-tracked data")
    print("project setup: made the first commit")


def set_up_git():
    if shutil.which("git") is None:
        print("project setup: git is not installed: install Git, then run `make setup`")
        return
    init_git()
    if has_commit():
        print("project setup: the repository has its first commit; nothing to do")
        return
    if track_data():
        first_commit()


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("--sample-data", action="store_true", help="write the sample dataset when data/ is empty")
    arguments.add_argument("--init-git", action="store_true",
                        help="git init, dvc add the data, first commit (each only when not done yet)")
    args = arguments.parse_args(argv)
    for directory in DATA_DIRS:
        # A folder for the user's files, unless DVC tracks it: then DVC restores it, and on a fresh
        # clone (a CI job) an empty folder would look like modified data to `dvc repro --pull
        # --allow-missing`, which would re-run the pipeline on nothing instead of finding it up to date.
        if not directory.with_suffix(".dvc").exists():
            directory.mkdir(parents=True, exist_ok=True)
    if args.sample_data:
        write_sample_data()
    if args.init_git:
        set_up_git()


if __name__ == "__main__":
    sys.exit(main())
