"""CI: promote the model of a passing pipeline on the default branch.

Order matters: data, models and run-cache go to S3 first, then the Git commit that refers to
them (baseline.txt, dvc.lock, metrics and plots, marked [skip ci]) is pushed. Safe to re-run and
safe against races: when the branch has moved since this pipeline started, nothing is promoted
(the newer commit's pipeline decides), so no commit is lost and the baseline never goes back.
"""

import os
import sys

from .. import config
from ..cli import UserError, command, dvc, git, parser
from ..pipeline import gate
from ..storage import remote
from .promote import accept

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


def promote(branch, commit):
    if moved_to := branch_moved(branch, commit):
        print(f"promote: {branch} moved on to {moved_to[:8]} since this pipeline started; not promoting, "
              "the pipeline of the newer commit decides")
        return
    # In a fresh job this restores the outputs from the run-cache the repro job pushed.
    dvc("repro", "--pull", "--allow-missing")
    decision = gate.read_gate()
    if decision is None or not decision["passed"]:
        raise UserError("the gate did not pass in this pipeline: nothing to promote")
    params = config.load_params()
    old, new = accept(params)
    if new == old:
        print("promote: baseline.txt already holds this model's score; nothing to promote")
        return
    if remote.transfer("push") != 0:
        raise UserError("pushing to S3 failed, so the promotion commit was not made")
    git("add", *PROMOTED_FILES)
    metric = params["evaluate"]["metric"]
    message = f"Promote model: {metric} {new:.4f} (was {old:.4f}) [skip ci]"
    git("-c", "user.name=CI promotion", "-c", "user.email=ci-promotion@localhost", "commit", "--quiet", "-m", message)
    pushed = git("push", "--quiet", push_target(), f"HEAD:refs/heads/{branch}", check=False)
    if pushed.returncode != 0:
        if moved_to := branch_moved(branch, commit):
            print(f"promote: {branch} moved on to {moved_to[:8]} during promotion; not promoting")
            return
        raise UserError("git push of the promotion commit failed: check GITLAB_PUSH_TOKEN (write_repository)")
    print(f"promote: pushed '{message}' to {branch}")


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    branch = os.environ.get("CI_DEFAULT_BRANCH", "main")
    commit = os.environ.get("CI_COMMIT_SHA") or git("rev-parse", "HEAD").stdout.strip()
    promote(branch, commit)


if __name__ == "__main__":
    sys.exit(main())
