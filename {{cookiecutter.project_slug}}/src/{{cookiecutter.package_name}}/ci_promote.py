"""CI: promote the model of a passing pipeline on the default branch.

Order matters: data, models and run-cache go to S3 first, then the Git commit that refers to
them (baseline.txt, dvc.lock, metrics and plots, marked [skip ci]) is pushed. Safe to re-run and
safe against races: when the branch has moved since this pipeline started, nothing is promoted
(the newer commit's pipeline decides), so no commit is lost and the baseline never goes back.
"""

import os
import subprocess
import sys

from . import config, promote
from .baseline import read_baseline
from .data_io import read_json
from .errors import StageError, exit_on_stage_error
from .git_cli import git
from .storage import DVC_COMMANDS, run_dvc

PROMOTED_FILES = ["baseline.txt", "dvc.lock", "reports"]


def push_target():
    """Where the promotion commit goes: origin, or GitLab over HTTPS with a push token."""
    token = os.environ.get("GITLAB_PUSH_TOKEN")
    if token and os.environ.get("CI_SERVER_HOST"):
        # The token stays in this URL and never reaches the log.
        return f"https://oauth2:{token}@{os.environ['CI_SERVER_HOST']}/{os.environ['CI_PROJECT_PATH']}.git"
    return "origin"


def branch_moved(branch, commit):
    git("fetch", "--quiet", "origin", branch)
    head = git("rev-parse", "FETCH_HEAD").stdout.strip()
    return head if head != commit else None


@exit_on_stage_error
def main():
    branch = os.environ.get("CI_DEFAULT_BRANCH", "main")
    commit = os.environ.get("CI_COMMIT_SHA") or git("rev-parse", "HEAD").stdout.strip()
    if moved_to := branch_moved(branch, commit):
        print(f"promote: {branch} moved on to {moved_to[:8]} since this pipeline started; not promoting, "
              "the pipeline of the newer commit decides")
        return 0
    # In a fresh job this restores the outputs from the run-cache the repro job pushed.
    if subprocess.call(["dvc", "repro", "--pull", "--allow-missing"]) != 0:
        raise StageError("could not restore the pipeline outputs for promotion")
    gate = read_json(config.EVALUATE_DIR / "gate.json")
    if not gate["passed"]:
        raise StageError("the gate did not pass in this pipeline: nothing to promote")
    params = config.load_params()
    old = read_baseline(config.BASELINE_FILE)
    new = promote.run(params)
    if new == old:
        print("promote: baseline.txt already holds this model's score; nothing to promote")
        return 0
    subprocess.check_call(["dvc", "commit", "--force", "--quiet", "evaluate"])
    if run_dvc(DVC_COMMANDS["push"]) != 0:
        raise StageError("pushing to S3 failed, so the promotion commit was not made")
    git("add", *PROMOTED_FILES)
    metric = params["evaluate"]["metric"]
    message = f"Promote model: {metric} {new:.4f} (was {old:.4f}) [skip ci]"
    git("-c", "user.name=CI promotion", "-c", "user.email=ci-promotion@localhost", "commit", "--quiet", "-m", message)
    pushed = git("push", "--quiet", push_target(), f"HEAD:refs/heads/{branch}", check=False)
    if pushed.returncode != 0:
        if moved_to := branch_moved(branch, commit):
            print(f"promote: {branch} moved on to {moved_to[:8]} during promotion; not promoting")
            return 0
        raise StageError("git push of the promotion commit failed: check GITLAB_PUSH_TOKEN (write_repository)")
    print(f"promote: pushed '{message}' to {branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
