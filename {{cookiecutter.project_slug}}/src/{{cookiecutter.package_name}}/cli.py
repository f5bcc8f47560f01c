"""The one convention for commands: argparse, one user-error type, one decorator, and the helpers
that call Git and DVC.

Standard library only, so that the bake-time setup can use it before anything is installed.
"""

import argparse
import functools
import importlib.util
import os
import shutil
import subprocess
import sys


class UserError(Exception):
    """A problem the user can fix (bad data, bad params, missing files, an unusable remote)."""


def parser(doc):
    """The argument parser of a command: its module docstring is the --help text, and its usage
    line shows how it was started (`python -m <package>.<part>.<module>`)."""
    started_as = getattr(sys.modules.get("__main__"), "__spec__", None)
    prog = f"python -m {started_as.name}" if started_as and started_as.name.startswith(__package__) else None
    return argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def command(main):
    """Turn ``main(argv) -> exit code`` into a command: a UserError becomes one line on stderr
    and exit code 1 instead of a traceback."""

    @functools.wraps(main)
    def wrapper(argv=None):
        try:
            return main(argv) or 0
        except UserError as error:
            print(f"ERROR: {error}", file=sys.stderr)
            return 1

    return wrapper


def git(*args, check=True):
    """Run git quietly; with ``check``, a failure becomes a UserError carrying Git's message."""
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise UserError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def dvc_executable():
    """The dvc on PATH, else the current Python's dvc module, else None (not installed yet)."""
    if found := shutil.which("dvc"):
        return [found]
    return [sys.executable, "-m", "dvc"] if importlib.util.find_spec("dvc") else None


def dvc(*args, check=True, capture=False):
    """Run dvc; its own output (progress included) is shown unless ``capture``. With ``check``, a
    failure becomes a UserError."""
    executable = dvc_executable()
    if executable is None:
        raise UserError("dvc is not installed here: run `make install`")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run([*executable, *args], capture_output=capture, text=True, env=env)
    if check and result.returncode != 0:
        detail = f": {result.stderr.strip()}" if capture and result.stderr.strip() else " (see its output above)"
        raise UserError(f"dvc {' '.join(args)} failed{detail}")
    return result
