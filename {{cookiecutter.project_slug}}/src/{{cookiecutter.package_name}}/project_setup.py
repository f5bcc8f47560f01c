"""Put the project under Git and DVC: git init, dvc add the data folders, first commit.

Runs from the cookiecutter hook right after baking and again whenever you like (`make setup`):
every step checks what is already done. Standard library only, so it works before
`make install`. A missing tool or Git identity is reported with what to run instead.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import sample_data

DATA_DIRS = (Path("data/raw"), Path("data/holdout"))


class SetupError(Exception):
    pass


def has_data(directory):
    return directory.is_dir() and any(p.suffix.lower() in (".csv", ".parquet") for p in directory.iterdir())


def run(command, **kwargs):
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, **kwargs)
    if result.returncode != 0:
        raise SetupError(f"`{' '.join(map(str, command))}` failed:\n{result.stderr.strip()}")
    return result.stdout


def dvc_command():
    """The dvc executable on PATH, else the current Python's dvc module, else None."""
    if found := shutil.which("dvc"):
        return [found]
    if importlib.util.find_spec("dvc") is not None:
        return [sys.executable, "-m", "dvc"]
    return None


def write_sample_data():
    raw, holdout = DATA_DIRS
    if not has_data(raw):
        print(f"project setup: wrote {sample_data.write_batch(raw, 1)}")
    if not has_data(holdout):
        print(f"project setup: wrote {sample_data.write_holdout(holdout)}")


def init_git(git):
    if not Path(".git").exists():
        run([git, "init", "-q"])
        run([git, "symbolic-ref", "HEAD", "refs/heads/main"])
        print("project setup: initialised Git repository (branch main)")


def track_data(dvc):
    """Return True when no data file is left that Git would pick up."""
    targets = [str(d) for d in DATA_DIRS if has_data(d)]
    if not targets:
        print("project setup: no data yet; put files in data/raw and data/holdout, then run `make setup`")
        return True
    if dvc is None:
        print("project setup: dvc is not installed here, so data is not tracked yet: "
              "run `make install && make setup` (no commit until then, to keep data out of Git)")
        return False
    run([*dvc, "add", "-q", *targets])
    print(f"project setup: tracking {', '.join(targets)} with DVC")
    return True


def has_identity(git):
    # useConfigOnly: count only an identity from Git config or GIT_AUTHOR_* variables, never one
    # guessed from the host name.
    return all(
        subprocess.run([git, "-c", "user.useConfigOnly=true", "var", ident], capture_output=True).returncode == 0
        for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    )


def commit(git):
    if not has_identity(git):
        print('project setup: no Git identity, so no commit yet: run `git config user.name "..."` '
              'and `git config user.email "..."`, then `make setup`')
        return
    run([git, "add", "-A"])
    if not run([git, "status", "--porcelain"]).strip():
        print("project setup: nothing new to commit")
        return
    run([git, "commit", "-q", "-m", "Initial commit: project skeleton with DVC-tracked data"])
    print("project setup: made the first commit")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample-data", action="store_true", help="write the sample dataset when data/ is empty")
    parser.add_argument("--init-git", action="store_true", help="git init, dvc add the data, first commit")
    args = parser.parse_args(argv)
    for directory in DATA_DIRS:
        directory.mkdir(parents=True, exist_ok=True)
    try:
        if args.sample_data:
            write_sample_data()
        if not args.init_git:
            return 0
        git = shutil.which("git")
        if git is None:
            print("project setup: git is not installed: install Git, then run `make setup`")
            return 0
        init_git(git)
        if track_data(dvc_command()):
            commit(git)
    except SetupError as error:
        print(f"project setup: ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
