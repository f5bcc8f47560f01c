"""The generated GitHub workflow run by `act` (host mode) from a fresh clone of a bare `origin`,
with moto as S3: a push to main trains, gates and promotes; a re-run promotes nothing twice; a pull
request from a fork skips its data steps with one line and passes.

What is not GitHub here, and why: remote actions cannot be fetched (no network), so each `uses:`
step is replaced by a stand-in `run:` step doing what the job needs of it (checkout: a clone of
origin; setup-python: the host's Python; configure-aws-credentials: skipped by its own `if`, as no
role is set; the artifact actions: a listing). The event payloads carry what GitHub's do
(`repository.default_branch`, the pull request's head repository). The promotion pushes to the
clone's origin, as no workflow token exists here.
"""

import json
import re
import sys

import pytest

from conftest import BUCKET, attempt, baked_project, run

pytestmark = pytest.mark.slow
PREFIX = "act-model"
STAND_INS = [
    (r"- uses: actions/checkout@\S+  # \S+\n        with:\n(?:          .*\n)+?(?=      -|\n)",
     '- run: git clone -q "$ORIGIN" .\n'),
    (r"- uses: actions/setup-python@\S+  # \S+\n        with:\n(?:          .*\n)+?(?=      -|\n)", '- run: "true"\n'),
    (r"uses: aws-actions/configure-aws-credentials@\S+  # \S+\n        with:\n(?:          .*\n)+",
     "run: echo stand-in for configure-aws-credentials\n"),
    (r"- uses: actions/upload-artifact@\S+  # \S+\n        if: (.*)\n        with:\n(?:          .*\n)+",
     r"- name: artifact stand-in\n        if: \1\n        run: ls reports\n"),
    (r"- uses: actions/download-artifact@\S+  # \S+\n        with:\n(?:          .*\n)+", "- run: echo artifact\n"),
]
PUSH = {"ref": "refs/heads/main", "repository": {"default_branch": "main", "full_name": "team/act-model"}}
FORK_PULL_REQUEST = {"number": 3, "pull_request": {"number": 3, "head": {"ref": "more-data", "repo": {
    "full_name": "someone/act-model"}}, "base": {"ref": "main"}},
    "repository": {"default_branch": "main", "full_name": "team/act-model"}}


class Repository:
    def __init__(self, project, origin, s3, runs):
        self.project, self.origin, self.s3, self.runs = project, origin, s3, runs

    def workflow_run(self, event, payload, job):
        """act runs ``job`` (and the jobs it needs) of the tip of main on origin, in a fresh clone."""
        clone = self.runs / f"run-{len(list(self.runs.iterdir())) + 1}"
        run(f"git clone -q {self.origin} {clone}", self.runs)
        workflow = clone / ".github/workflows/model.yml"
        text = workflow.read_text()
        for pattern, stand_in in STAND_INS:
            text = re.sub(pattern, stand_in, text)
        assert "uses:" not in text, "an action without a stand-in"
        workflow.write_text(text)
        (clone / "event.json").write_text(json.dumps(payload))
        secrets = f"-s AWS_ACCESS_KEY_ID={self.s3.key} -s AWS_SECRET_ACCESS_KEY={self.s3.secret}"
        return attempt(f"act {event} -e event.json -W .github/workflows/model.yml -j {job} "
                       f"-P ubuntu-latest=-self-hosted --action-offline-mode --env ORIGIN={self.origin} "
                       f"--env VENV={sys.prefix} {secrets if event == 'push' else ''}", clone)

    def origin_log(self):
        return run(f"git --git-dir {self.origin} log --format=%s main", self.project).splitlines()


@pytest.fixture(scope="module")
def repository(cookies_session, s3, tmp_path_factory):
    project = baked_project(cookies_session, project_name="Act Model", ci="github", s3_bucket=BUCKET,
                            s3_prefix=PREFIX, s3_endpoint_url=s3.endpoint)
    origin = project.parent / "origin.git"
    keys = {"AWS_ACCESS_KEY_ID": s3.key, "AWS_SECRET_ACCESS_KEY": s3.secret}
    # As docs/ci.md says: the data goes to S3 before the code goes to origin.
    run("dvc push -q", project, env=keys)
    run(f"git init -q --bare -b main {origin} && git remote add origin {origin} && git push -q origin main", project)
    return Repository(project, origin, s3, tmp_path_factory.mktemp("act-runs"))


def test_a_push_to_main_trains_gates_and_promotes_then_a_rerun_promotes_nothing(repository):
    code, output = repository.workflow_run("push", PUSH, "promote")
    assert code == 0, output[-3000:]
    assert "Job succeeded" in output and "Share the outputs" in output
    [promotion, *_] = repository.origin_log()
    assert re.fullmatch(r"Promote model: roc_auc 0\.\d{4} \(was 0\.5000\) \[skip ci\]", promotion), promotion
    accepted = float(run(f"git --git-dir {repository.origin} show main:baseline.txt", repository.project))
    assert accepted > 0.6
    stored = repository.s3.client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")["KeyCount"]
    assert stored > 2  # the data, the model and the run-cache
    # The job summary holds the report, with its curves drawn for GitHub.
    assert "```mermaid" in output and "Gate: passed" in output

    code, output = repository.workflow_run("push", PUSH, "promote")
    assert code == 0, output[-3000:]
    assert "nothing to promote" in output
    assert [line for line in repository.origin_log() if line.startswith("Promote model")] == [promotion]


def test_a_pull_request_from_a_fork_skips_its_data_steps_with_one_line_and_passes(repository):
    code, output = repository.workflow_run("pull_request", FORK_PULL_REQUEST, "repro")
    assert code == 0, output[-3000:]
    assert "A pull request from a fork gets no secrets, so the pipeline's data steps are skipped" in output
    assert "dvc repro" not in output and "Run Main Pipeline" not in output
