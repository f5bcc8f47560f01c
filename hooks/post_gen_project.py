"""Finish the baked project: only the chosen CI's files, sample data, Git, DVC tracking and the first commit.

The work itself lives in the generated package (``bake.project_setup``) so that `make install`
can finish it later, e.g. once DVC is installed. It uses only the standard library, so it runs
with whatever Python runs cookiecutter.

Under cruft the hook leaves Git alone: cruft writes .cruft.json only after the hook (so a first
commit here would miss it), and `cruft update`/`cruft diff` re-run the hook in throw-away folders,
where a Git repository would only get in the way. `make install` does the Git part instead.
"""

import json
import os
import shutil
import subprocess
import sys

PACKAGE = json.loads(r'''{{ cookiecutter.package_name | tojson }}''')
SAMPLE_DATA = json.loads(r'''{{ cookiecutter.sample_data | tojson }}''') == "yes"
INIT_GIT = json.loads(r'''{{ cookiecutter.init_git | tojson }}''') == "yes"
CI = json.loads(r'''{{ cookiecutter.ci | tojson }}''')
# The other CI's files. Each CI's docs/ci.md is written for it; the GitHub one is renamed into place.
OTHER_CI_FILES = {"gitlab": [".github", "docs/ci-github.md"], "github": [".gitlab-ci.yml", ".gitlab", "docs/ci.md"]}
# cruft adds the template's commit to the context; plain cookiecutter does not.
UNDER_CRUFT = bool(json.loads(r'''{{ cookiecutter.get("_commit", "") | tojson }}'''))


def setup_command():
    command = [sys.executable, "-m", f"{PACKAGE}.bake.project_setup"]
    if SAMPLE_DATA:
        command.append("--sample-data")
    if INIT_GIT and not UNDER_CRUFT:
        command.append("--init-git")
    return command


def keep_the_chosen_ci():
    for path in OTHER_CI_FILES[CI]:
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    if CI == "github":
        os.replace("docs/ci-github.md", "docs/ci.md")


def main():
    keep_the_chosen_ci()
    # The package is not installed yet: it runs from src/ (`make install` installs it).
    env = {**os.environ, "PYTHONPATH": "src"}
    code = subprocess.call(setup_command(), env=env)
    if INIT_GIT and UNDER_CRUFT:
        print("project setup: run `make install` to finish: git init, DVC tracking and the first commit")
    return code


if __name__ == "__main__":
    sys.exit(main())
