"""Finish the baked project: sample data, Git, DVC tracking and the first commit.

The work itself lives in the generated package (``project_setup``) so that ``make setup`` can
re-run it later, e.g. after installing DVC. It uses only the standard library, so it runs with
whatever Python runs cookiecutter.
"""

import json
import os
import subprocess
import sys

PACKAGE = json.loads(r'''{{ cookiecutter.package_name | tojson }}''')
SAMPLE_DATA = json.loads(r'''{{ cookiecutter.sample_data | tojson }}''') == "yes"
INIT_GIT = json.loads(r'''{{ cookiecutter.init_git | tojson }}''') == "yes"


def setup_command():
    command = [sys.executable, "-m", f"{PACKAGE}.project_setup"]
    if SAMPLE_DATA:
        command.append("--sample-data")
    if INIT_GIT:
        command.append("--init-git")
    return command


def main():
    env = {**os.environ, "PYTHONPATH": "src"}
    return subprocess.call(setup_command(), env=env)


if __name__ == "__main__":
    sys.exit(main())
