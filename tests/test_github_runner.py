"""The generated GitHub workflow run by `act` (host mode) from a fresh clone of a bare `origin`,
with moto as S3 enforcing the IAM policies of docs/storage.md (the read-write user's keys as the
repository's secrets, the read-only user's for pull requests) and a real MLflow server as the
repository variable MLFLOW_TRACKING_URI: a push to main trains, gates, tracks, promotes and
registers; a re-run promotes nothing twice; a pull request from this repository trains with the
read-only keys and writes nothing to S3; one from a fork skips its data steps with one line.

What is not GitHub here, and why: remote actions cannot be fetched (no network), so each `uses:`
step is replaced by a stand-in `run:` step doing what the job needs of it (checkout: a clone of
origin; setup-python: the host's Python; configure-aws-credentials: skipped by its own `if`, as no
role is set; the artifact actions: a copy to and from a folder of the run). Docker cannot run
here either: a stand-in `docker` first on PATH records what the image job asked of it and which
files its build context held. A virtualenv that sees the test environment's packages stands in
for the one setup-python and the pip cache would give (VENV); each job still runs `make install`.
The event payloads carry what GitHub's do (`repository.default_branch`, the pull request's head
repository); the checkout stand-in checks out the pull request's head branch where GitHub would
check out its merge commit. The promotion pushes to the clone's origin, as no workflow token
exists here.
"""

import json
import os
import re

import pytest
from test_gitlab_runner import readme_policies

from conftest import BUCKET, attempt, baked_project, iam_user, layered_venv, run

pytestmark = pytest.mark.slow
PREFIX = "act-model"
STAND_INS = [
    # With `ref:` (the image job: the promotion commit), that ref; else the pull request's head or main.
    (r"- uses: actions/checkout@\S+  # \S+\n        with:\n          ref: (.*)\n(?:          .*\n)+?(?=      -|\n)",
     r'- run: git clone -q "$ORIGIN" . && git checkout -q "\1"\n'),
    (r"- uses: actions/checkout@\S+  # \S+\n        with:\n(?:          .*\n)+?(?=      -|\n)",
     '- run: git clone -q "$ORIGIN" . && git checkout -q "${GITHUB_HEAD_REF:-main}"\n'),
    (r"- uses: actions/setup-python@\S+  # \S+\n        with:\n(?:          .*\n)+?(?=      -|\n)", '- run: "true"\n'),
    (r"uses: aws-actions/configure-aws-credentials@\S+  # \S+\n        with:\n(?:          .*\n)+",
     "run: echo stand-in for configure-aws-credentials\n"),
    (r"- uses: actions/upload-artifact@\S+  # \S+\n        if: (.*)\n        with:\n          name: model-report\n"
     r"(?:          .*\n)+",
     r'- if: \1\n        run: mkdir -p "$ARTIFACTS/model-report" && cp -r reports/. "$ARTIFACTS/model-report/"\n'),
    (r"- uses: actions/upload-artifact@\S+  # \S+\n        if: (.*)\n        with:\n          name: promoted-model\n"
     r"(?:          .*\n)+",
     r'- if: \1\n        run: mkdir -p "$ARTIFACTS/promoted-model" && cp -r models model-card.json '
     r'"$ARTIFACTS/promoted-model/"\n'),
    (r"- uses: actions/download-artifact@\S+  # \S+\n        with:\n          name: model-report\n(?:          .*\n)+",
     '- run: mkdir -p reports && cp -r "$ARTIFACTS/model-report/." reports/\n'),
    (r"- uses: actions/download-artifact@\S+  # \S+\n        with:\n          name: promoted-model\n",
     '- run: cp -r "$ARTIFACTS/promoted-model/." .\n'),
]
STAND_IN_DOCKER = """#!/bin/sh
# Stand-in for docker: one line per call; a build also lists the model files in its context.
echo "$*" >> {log}
case "$1" in build) ls models/model.json model-card.json Dockerfile | tr '\\n' ' ' >> {log}; echo >> {log};; esac
"""
PUSH = {"ref": "refs/heads/main", "repository": {"default_branch": "main", "full_name": "team/act-model"}}


def pull_request(branch, head_repository):
    return {"number": 3, "pull_request": {"number": 3, "head": {"ref": branch, "repo": {"full_name": head_repository}},
                                          "base": {"ref": "main"}},
            "repository": {"default_branch": "main", "full_name": "team/act-model"}}


class Repository:
    def __init__(self, project, origin, s3, runs, keys, tracking):
        self.project, self.origin, self.s3, self.runs = project, origin, s3, runs
        self.keys, self.tracking = keys, tracking
        runs.mkdir()
        self.venv = layered_venv(runs.parent / "runner-venv")
        self.docker_log = runs.parent / "docker.log"
        bin_dir = runs.parent / "bin"
        bin_dir.mkdir()
        (bin_dir / "docker").write_text(STAND_IN_DOCKER.format(log=self.docker_log))
        (bin_dir / "docker").chmod(0o755)
        self.path = f"{bin_dir}:{os.environ['PATH']}"

    def workflow_run(self, event, payload, job):
        """act runs ``job`` (and the jobs it needs) of the tip of main on origin, in a fresh clone."""
        clone = self.runs / f"run-{len(list(self.runs.iterdir())) + 1}"
        run(f"git clone -q {self.origin} {clone}", self.runs)
        # act names the repository (github.repository) after the origin URL, as GitHub would.
        run("git remote set-url origin https://github.com/team/act-model.git", clone)
        workflow = clone / ".github/workflows/model.yml"
        text = workflow.read_text()
        for pattern, stand_in in STAND_INS:
            text = re.sub(pattern, stand_in, text)
        assert "uses:" not in text, "an action without a stand-in"
        workflow.write_text(text)
        (clone / "event.json").write_text(json.dumps(payload))
        # GitHub gives no secret to a fork's pull request.
        fork = payload.get("pull_request", {}).get("head", {}).get("repo", {}).get("full_name") != "team/act-model"
        secrets = "" if event == "pull_request" and fork else " ".join(
            f"-s {name}={value}" for name, value in self.keys.items())
        code, output = attempt(f"act {event} -e event.json -W .github/workflows/model.yml -j {job} "
                       f"-P ubuntu-latest=-self-hosted --action-offline-mode --env ORIGIN={self.origin} "
                       f"--env VENV={self.venv} --env ARTIFACTS={clone}-artifacts "
                       f"--var MLFLOW_TRACKING_URI={self.tracking} {secrets}", clone, env={"PATH": self.path})
        (self.runs / f"{clone.name}.log").write_text(output)
        return code, output

    def stored_keys(self):
        listed = self.s3.client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")
        return {item["Key"]: item["ETag"] for item in listed.get("Contents", [])}

    def origin_log(self):
        return run(f"git --git-dir {self.origin} log --format=%s main", self.project).splitlines()


@pytest.fixture(scope="module")
def repository(cookies_session, s3, mlflow_server, tmp_path_factory):
    project = baked_project(cookies_session, project_name="Act Model", ci="github", s3_bucket=BUCKET,
                            s3_prefix=PREFIX, s3_endpoint_url=s3.endpoint)
    policies = readme_policies(project)
    writer = iam_user(s3, "actions-writer", policies["Read-write"])
    reader = iam_user(s3, "actions-reader", policies["Read-only"])
    keys = {**writer, "AWS_READONLY_ACCESS_KEY_ID": reader["AWS_ACCESS_KEY_ID"],
            "AWS_READONLY_SECRET_ACCESS_KEY": reader["AWS_SECRET_ACCESS_KEY"]}
    origin = project.parent / "origin.git"
    # As docs/ci.md says: the data goes to S3 before the code goes to origin.
    run("make push", project, env=writer)
    run(f"git init -q --bare -b main {origin} && git remote add origin {origin} && git push -q origin main", project)
    return Repository(project, origin, s3, tmp_path_factory.mktemp("act") / "runs", keys,
                      mlflow_server["MLFLOW_TRACKING_URI"])


def tracked(uri):
    """(runs with their tags, registered versions) on the MLflow server."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("act-model-runs")
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    versions = sorted(int(v.version) for v in client.search_model_versions("name='act-model'"))
    return [found.data.tags for found in runs], versions


def test_a_push_to_main_trains_gates_promotes_and_ships_then_a_rerun_promotes_nothing(repository):
    code, output = repository.workflow_run("push", PUSH, "image")
    assert code == 0, output[-3000:]
    assert "Job succeeded" in output and "Share the outputs" in output
    [promotion, *_] = repository.origin_log()
    assert re.fullmatch(r"Promote model: roc_auc 0\.\d{4} \(was 0\.5000\), registered as act-model version 1 "
                        r"\[skip ci\]", promotion), promotion
    accepted = float(run(f"git --git-dir {repository.origin} show main:baseline.txt", repository.project))
    assert accepted > 0.6
    assert len(repository.stored_keys()) > 2  # the data, the model and the run-cache
    # The job summary holds the report, with its curves drawn for GitHub.
    assert "```mermaid" in output and "Gate: passed" in output
    runs, versions = tracked(repository.tracking)
    assert len(runs) == 1 and versions == [1]
    assert runs[0]["git.branch"] == "main"
    assert runs[0]["ci.pipeline"] == "https://github.com/team/act-model/actions/runs/1"
    # The image job built the promotion commit with the promoted model and its card, and pushed both tags.
    commit = run(f"git --git-dir {repository.origin} rev-parse main", repository.project).strip()
    login, build, context, push = repository.docker_log.read_text().splitlines()
    assert login.startswith("login ghcr.io --username ")
    assert build == f"build -t ghcr.io/team/act-model:{commit} -t ghcr.io/team/act-model:model-v1 ."
    assert sorted(context.split()) == ["Dockerfile", "model-card.json", "models/model.json"]
    assert push == "push --all-tags ghcr.io/team/act-model"

    code, output = repository.workflow_run("push", PUSH, "image")
    assert code == 0, output[-3000:]
    assert "nothing to promote" in output
    assert len(repository.docker_log.read_text().splitlines()) == 4  # no promotion, no image
    assert [line for line in repository.origin_log() if line.startswith("Promote model")] == [promotion]
    assert tracked(repository.tracking)[1] == [1]


def test_a_pull_request_trains_with_the_read_only_keys_and_writes_nothing(repository):
    project = repository.project
    run("git pull -q --ff-only origin main && git checkout -q -b deeper-trees", project)
    params = project / "params.yaml"
    deeper, changed = re.subn(r"(?m)^    max_depth: auto.*$", "    max_depth: 5", params.read_text())  # 4 on the sample
    assert changed == 1
    params.write_text(deeper)
    run("git commit -qam 'Deeper trees' && git push -q origin deeper-trees && git checkout -q main", project)
    before = repository.stored_keys()
    code, output = repository.workflow_run("pull_request", pull_request("deeper-trees", "team/act-model"), "repro")
    assert "Run Main Pipeline" in output and "**Gate: " in output, output[-3000:]
    # A deeper model may or may not beat the accepted one: the job's result is the gate's.
    assert (code == 0) == ("**Gate: passed**" in output)
    # The read-only user may pull but not push; the job never tried (no "Share the outputs").
    assert "Share the outputs" not in output
    assert repository.stored_keys() == before


def test_a_pull_request_from_a_fork_skips_its_data_steps_with_one_line_and_passes(repository):
    # GitHub checks out a fork's pull request from the base repository (refs/pull/<n>/merge).
    run("git checkout -q -b more-data && echo more >> README.md && git commit -qam 'More' "
        "&& git push -q origin more-data && git checkout -q main", repository.project)
    code, output = repository.workflow_run("pull_request", pull_request("more-data", "someone/act-model"), "repro")
    assert code == 0, output[-3000:]
    assert "A pull request from a fork gets no secrets, so the pipeline's data steps are skipped" in output
    assert "dvc repro" not in output and "Run Main Pipeline" not in output
