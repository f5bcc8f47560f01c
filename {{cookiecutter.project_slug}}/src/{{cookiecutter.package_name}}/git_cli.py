"""The one way the CI and data-push steps call Git."""

import subprocess

from .errors import StageError


def git(*args, check=True):
    """Run git quietly; with ``check``, a failure becomes a StageError carrying Git's message."""
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise StageError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result
