"""CI: promote the model of a passing pipeline on the default branch.

Order matters: data, models and run-cache go to S3 first, then the model is registered (when
tracking is configured: see tracking.py), then the Git commit that refers to them (baseline.txt,
dvc.lock, metrics and plots, marked [skip ci], naming the registered version) is pushed. Safe to re-run and
safe against races: when the branch has moved since this pipeline started, nothing is promoted
(the newer commit's pipeline decides), so no commit is lost and the baseline never goes back.
"""

import os
import re
import sys

from .. import config
from ..cli import UserError, command, dvc, git, parser
from ..pipeline.shared import gate
from ..pipeline.shared.data_io import read_json
from ..storage import remote
from . import ci_platform, tracking
from .promote import accept

PROMOTED_FILES = ["baseline.txt", "dvc.lock", "reports"]
# For the job after promotion (`container-image`): the promotion commit and registry version, as dotenv.
IMAGE_ENV_FILE = "image.env"


# The promotion commit's subject: written by promote(), read back by last_promotion().
SUBJECT = "Promote model: {metric} {new:.4f} (was {old:.4f}){registered} [skip ci]"
REGISTERED = ", registered as {model} version {version}"


def last_promotion():
    """(commit, registered model, registry version) of the last promotion commit that changed
    baseline.txt in this checkout; (None, None, None) when the accepted model was never promoted
    (or Git is not here); the model and version are None when nothing was registered."""
    found = git("log", "-1", "--format=%H%n%s", "--", str(config.BASELINE_FILE), check=False)
    commit, _, subject = found.stdout.strip().partition("\n") if found.returncode == 0 else ("", "", "")
    if not subject.startswith(SUBJECT.split("{")[0]):
        return None, None, None
    registered = re.search(REGISTERED.format(model=r"(\S+)", version=r"(\d+)"), subject)
    if not registered:
        return commit, None, None
    return commit, registered.group(1), int(registered.group(2))


def author():
    """Git -c options for the promotion commit's author: the CI's (see ci_platform), unless
    PROMOTION_AUTHOR_NAME/EMAIL say otherwise."""
    name, email = ci_platform.current().author()
    name = os.environ.get("PROMOTION_AUTHOR_NAME") or name
    email = os.environ.get("PROMOTION_AUTHOR_EMAIL") or email
    if name and email:
        return ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    if git("-c", "user.useConfigOnly=true", "var", "GIT_AUTHOR_IDENT", check=False).returncode == 0:
        return []
    raise UserError("no author for the promotion commit: set PROMOTION_AUTHOR_NAME and PROMOTION_AUTHOR_EMAIL "
                    "(an e-mail the project's push rules accept)")


def restored_gate(params):
    """The gate of the current outputs. When no stage had to run (a scheduled or manual run, or a
    push that changed nothing the pipeline reads), the git-ignored gate.json is not restored by
    `dvc repro`: pull it; if S3 has none, the committed metrics already equal to the baseline mean
    that this model is the accepted one."""
    decision = gate.read_gate()
    if decision is None:
        dvc("pull", "--quiet", "--allow-missing", str(config.GATE_FILE), check=False)
        decision = gate.read_gate()
    if decision is not None:
        return decision
    metric = params["evaluate"]["metric"]
    scores = read_json(config.METRICS_FILE) if config.METRICS_FILE.exists() else {}
    if scores.get(metric) == gate.read_baseline():
        return None
    raise UserError(f"{config.GATE_FILE} could not be restored from S3 and {config.METRICS_FILE} does not hold "
                    "the accepted score: push the pipeline's outputs (make push) where they were made")


def branch_moved(branch, commit):
    # From where the promotion goes: on GitHub, checkout keeps no credentials for origin.
    git("fetch", "--quiet", ci_platform.current().push_target(), branch)
    head = git("rev-parse", "FETCH_HEAD").stdout.strip()
    return head if head != commit else None


def promote(branch, commit):
    if moved_to := branch_moved(branch, commit):
        print(f"promote: {branch} moved on to {moved_to[:8]} since this pipeline started; not promoting, "
              "the pipeline of the newer commit decides")
        return
    # In a fresh job this restores the outputs from the run-cache the repro job pushed.
    dvc("repro", "--pull", "--allow-missing")
    params = config.load_params()
    decision = restored_gate(params)
    if decision is None:
        print("promote: the pipeline's outputs are those of the accepted model; nothing to promote")
        return
    if not decision["passed"]:
        raise UserError("the gate did not pass in this pipeline: nothing to promote")
    old, new = accept(params)
    if new == old:
        print("promote: baseline.txt already holds this model's score; nothing to promote")
        return
    if remote.transfer("push") != 0:
        raise UserError("pushing to S3 failed, so the promotion commit was not made")
    git("add", *PROMOTED_FILES)
    metric = params["evaluate"]["metric"]
    version = tracking.register(metric, new, commit)  # None when tracking is off or the server failed us
    registered = REGISTERED.format(model=tracking.MODEL, version=version) if version else ""
    message = SUBJECT.format(metric=metric, new=new, old=old, registered=registered)
    git(*author(), "commit", "--quiet", "-m", message)
    platform = ci_platform.current()
    pushed = git("push", "--quiet", platform.push_target(), f"HEAD:refs/heads/{branch}", check=False)
    if pushed.returncode != 0:
        if moved_to := branch_moved(branch, commit):
            print(f"promote: {branch} moved on to {moved_to[:8]} during promotion; not promoting")
            return
        reason = pushed.stderr.strip().replace(platform.push_token() or "\0", "[MASKED]")
        raise UserError(f"git push of the promotion commit was rejected ({reason}): {platform.push_help}")
    print(f"promote: pushed '{message}' to {branch}")
    promotion = git("rev-parse", "HEAD").stdout.strip()
    tracking.link_promotion(version, promotion)
    with open(IMAGE_ENV_FILE, "w") as handle:
        handle.write(f"PROMOTION_COMMIT={promotion}\nREGISTRY_VERSION={version or ''}\n")


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    platform = ci_platform.current()
    commit = platform.commit() or git("rev-parse", "HEAD").stdout.strip()
    promote(platform.default_branch(), commit)


if __name__ == "__main__":
    sys.exit(main())
