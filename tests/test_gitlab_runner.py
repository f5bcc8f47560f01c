"""The generated pipeline run as GitLab runs it, from a team's first push to a fresh clone.

Every pipeline starts from a fresh clone of the bare `origin` (no DVC cache, no outputs, no
credentials from the baking tree), and gitlab-ci-local's shell executor with --shell-isolation
runs each job in its own copy of that clone, passing only artifacts between jobs. A virtualenv
that sees the test environment's packages stands in for the runner's cached one (VENV); each job
still runs the project's `make install` into it.

S3 is moto in server mode with IAM enforcement and two users holding exactly docs/storage.md's
read-write and read-only policies. Protected variables (the write keys) reach only pipelines of
the protected `main`; the read-only keys reach every pipeline. moto evaluates the policies'
actions and resources (a read-only user cannot write; nobody can read outside the prefix;
HeadBucket is refused under a prefix-scoped policy) but not the `s3:prefix` condition of
ListBucket: a listing outside the prefix is allowed there, unlike on AWS.

The container-image job runs with a stand-in for BuildKit's `buildctl-daemonless.sh` first on
PATH: no container daemon, registry or base image can run here. The stand-in records the tags the
job asked for and the build context it had (the promote job's artifacts), which is what the test
checks; the Dockerfile itself is checked by hadolint (test_serving.py).

Tracking goes to a real MLflow server (standing in for GitLab's MLflow-compatible endpoint), its
URI and token passed as the project's CI/CD variables would be: every repro job logs a run, every
promotion registers a version.
"""

import json
import os
import random
import re
import time

import pytest

from conftest import BUCKET, attempt, baked_project, iam_user, layered_venv, run

pytestmark = pytest.mark.slow
PREFIX = "team-model"
MODEL_JOBS = ("repro", "promote", "container-image")  # the default branch's model jobs (see Team.pipeline)
IMAGE_CONTEXT = ("Dockerfile", "requirements-serve.txt", "models/model.json", "model-card.json")
STAND_IN_BUILDER = """#!/bin/sh
# Stand-in for BuildKit: records, as three lines, the arguments, the build context and the model card.
{{ echo "build $*"; ls -d Dockerfile requirements-serve.txt models/model.json model-card.json | tr '\\n' ' '; echo
   tr -d '\\n' < model-card.json; echo; }} >> {log}
"""


def readme_policies(project):
    """The IAM policies of docs/storage.md: {"Read-write": ..., "Read-only": ...}."""
    text = (project / "docs" / "storage.md").read_text()
    found = re.findall(r"^(Read-write|Read-only) policy.*?```json\n(.*?)```", text, re.S | re.M)
    return {name: json.loads(body) for name, body in found}


class Team:
    """A team's repository: a developer's working copy, the bare `origin`, and S3."""

    def __init__(self, project, origin, s3, writer, reader, runs, tracking):
        self.project, self.origin, self.s3, self.tracking = project, origin, s3, tracking
        self.writer, self.reader, self.runs = writer, reader, runs
        self.venv = layered_venv(runs.parent / "runner-venv")  # the runner's cached virtualenv
        self.builds = runs.parent / "builds.log"  # what the stand-in builder was asked for
        bin_dir = runs.parent / "bin"
        bin_dir.mkdir()
        builder = bin_dir / "buildctl-daemonless.sh"
        builder.write_text(STAND_IN_BUILDER.format(log=self.builds))
        builder.chmod(0o755)
        self.path = f"{bin_dir}:{os.environ['PATH']}"

    def pipeline(self, branch="main", source="push", jobs=(), list_only=False, **variables):
        """Run a pipeline of ``branch``'s tip on origin in a fresh clone; (exit code, output).
        ``jobs``: only these jobs, whatever their rules say (gitlab-ci-local runs a named job
        unconditionally); ``list_only``: the jobs the rules choose, run none (gitlab-ci-local
        --list). The `checks` job (`make lint test`) gives the same result for the same code: it
        runs in the first pipeline only; later steps list the jobs the rules choose and run the
        model jobs among them by name."""
        clone = self.runs / f"run-{len(list(self.runs.iterdir())) + 1}"
        self.last_run = clone
        run(f"git clone -q --branch {branch} {self.origin} {clone}", self.runs)
        variables = {"VENV": self.venv, "CI_PIPELINE_SOURCE": source,
                     "AWS_READONLY_ACCESS_KEY_ID": self.reader["AWS_ACCESS_KEY_ID"],
                     "AWS_READONLY_SECRET_ACCESS_KEY": self.reader["AWS_SECRET_ACCESS_KEY"], **self.tracking,
                     **variables}
        if branch == "main":  # protected variables reach the protected branch only
            variables.update(self.writer)
        flags = " ".join([*jobs, "--list" if list_only else "--shell-isolation",
                          *(f"--variable {name}={value}" for name, value in variables.items())])
        return attempt(f'make ci-local CI_LOCAL_ARGS="{flags}"', clone, env={"PATH": self.path})

    def built_images(self):
        """[(tags, model card)] of each image the container-image job built, whose build context held
        the Dockerfile, the serving lock, the model and its card."""
        lines = self.builds.read_text().splitlines() if self.builds.exists() else []
        builds = []
        for build, context, card in zip(lines[0::3], lines[1::3], lines[2::3], strict=True):
            assert sorted(context.split()) == sorted(IMAGE_CONTEXT), context
            builds.append((re.search(r'name=([^"]+)"', build).group(1).split(","), json.loads(card)))
        return builds

    def keys(self):
        listed = self.s3.client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")
        return {item["Key"]: item["ETag"] for item in listed.get("Contents", [])}

    def origin_file(self, path, ref="main"):
        return run(f"git --git-dir {self.origin} show {ref}:{path}", self.project)

    def heads(self):
        return run(f"git --git-dir {self.origin} for-each-ref --format='%(refname) %(objectname)' refs/heads",
                   self.project)

    def origin_log(self):
        return run(f"git --git-dir {self.origin} log --format=%s main", self.project).splitlines()

    def tracked_runs(self):
        """The runs on the tracking server, newest first: [(run name, tags)]."""
        from mlflow import MlflowClient

        client = MlflowClient(self.tracking["MLFLOW_TRACKING_URI"])
        experiment = client.get_experiment_by_name("churn-model-runs")
        found = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"]) \
            if experiment else []
        return [(found_run.info.run_name, found_run.data.tags) for found_run in found]

    def registered_versions(self):
        from mlflow import MlflowClient

        client = MlflowClient(self.tracking["MLFLOW_TRACKING_URI"])
        return sorted(int(v.version) for v in client.search_model_versions("name='churn-model'"))

    def sync(self):
        """The developer takes in what CI pushed (promotion commits)."""
        run("git pull -q --ff-only origin main", self.project)


WHEN = ("on_success", "on_failure", "always", "manual", "delayed", "never")


def listed_jobs(output):
    """{job: when} from gitlab-ci-local --list: the jobs the rules put in the pipeline. Rows are
    told from other lines (under `make test`, make's own "Leaving directory") by their `when`."""
    header, *rows = output[output.index("name "):].splitlines()
    when = header.index(" when ") + 1  # a column of its own: the description before it is often empty
    jobs = {}
    for row in rows:
        cells = row[when:].split()
        if cells and cells[0] in WHEN:
            jobs[row.split()[0]] = cells[0]
    return jobs


def job_results(output):
    """{job: "PASS" | "FAIL"} from gitlab-ci-local's summary; jobs that did not run are absent."""
    return {job: status for status, job in re.findall(r"^\s*(PASS|FAIL)\s+(\S+)", output, re.M)}


@pytest.fixture(scope="module")
def team(cookies_session, s3, mlflow_server, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("team")
    project = baked_project(cookies_session, s3_bucket=BUCKET, s3_prefix=PREFIX, s3_endpoint_url=s3.endpoint)
    policies = readme_policies(project)
    assert set(policies) == {"Read-write", "Read-only"}
    writer = iam_user(s3, "pipeline-writer", policies["Read-write"])
    reader = iam_user(s3, "pipeline-reader", policies["Read-only"])
    origin = tmp_path / "origin.git"
    run(f"git init -q --bare {origin} && git -C {origin} symbolic-ref HEAD refs/heads/main", project)
    # docs/ci.md's order: the data goes to S3 before the first `git push`.
    run("make push", project, env=writer)
    run(f"git remote add origin {origin} && git push -q origin main", project)
    (tmp_path / "runs").mkdir()
    return Team(project, origin, s3, writer, reader, tmp_path / "runs", mlflow_server)


def test_the_policies_are_enforced_as_the_pipeline_relies_on(team):
    import boto3
    from botocore.exceptions import ClientError

    def client(keys):
        return boto3.client("s3", endpoint_url=team.s3.endpoint, region_name="us-east-1",
                            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"])

    team.s3.client.put_object(Bucket=BUCKET, Key="another-project/secret", Body=b"x")
    reader, writer = client(team.reader), client(team.writer)
    assert reader.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/", MaxKeys=1)["KeyCount"] == 1
    for refused in (lambda: reader.get_object(Bucket=BUCKET, Key="another-project/secret"),
                    lambda: writer.get_object(Bucket=BUCKET, Key="another-project/secret"),
                    lambda: reader.put_object(Bucket=BUCKET, Key=f"{PREFIX}/new", Body=b"x"),
                    lambda: writer.head_bucket(Bucket=BUCKET)):
        with pytest.raises(ClientError, match="AccessDenied|403|Forbidden"):
            refused()
    writer.put_object(Bucket=BUCKET, Key=f"{PREFIX}/new", Body=b"x")


def step_a_the_first_push_trains_and_promotes(team):
    code, out = team.pipeline()
    assert code == 0, out
    assert job_results(out) == {"checks": "PASS", "repro": "PASS", "promote": "PASS", "container-image": "PASS"}
    # The virtualenv is shared (VENV), each job's copy is not: make install installs the job's own
    # code, in full (a new lock) or only the package.
    for job in ("checks", "repro", "promote"):
        assert re.search(rf"^{job} +> (Installing churn_model from this checkout|.* --editable \.\s*$)", out, re.M), job
    promotion = team.origin_log()[0]
    assert promotion.startswith("Promote model: roc_auc ")
    assert promotion.endswith("(was 0.5000), registered as churn-model version 1 [skip ci]")
    assert team.registered_versions() == [1]
    [(name, tags)] = team.tracked_runs()  # the repro job's run, linked to its job and commit
    commit = run(f"git --git-dir {team.origin} rev-parse main^", team.project).strip()
    assert name == f"main {commit[:8]}" and tags["git.commit"] == commit
    assert tags.get("gate.passed") == "true" and "gitlab.CI_JOB_ID" in tags, json.dumps(tags)
    assert float(team.origin_file("baseline.txt")) > 0.7
    assert any("/files/md5/" in key for key in team.keys())
    author = run(f"git --git-dir {team.origin} log -1 --format=%ae main", team.project).strip()
    assert author != "ci-promotion@localhost"
    # The image of the promoted model: tagged with the promotion commit and the registry version.
    promoted = run(f"git --git-dir {team.origin} rev-parse main", team.project).strip()
    [(tags, card)] = team.built_images()
    assert [tag.rsplit(":", 1)[1] for tag in tags] == [promoted, "model-v1"]
    assert card["promotion_commit"] == promoted and card["registry_version"] == 1
    assert card["model_md5"] and card["score"] == float(team.origin_file("baseline.txt"))


def step_b_a_schedule_or_a_manual_run_gets_every_job(team):
    # The source reaches only the rules (no job's script reads it), so listing them is the whole
    # check; what the jobs do on an up-to-date branch, step c runs.
    for source in ("schedule", "web"):
        code, out = team.pipeline(source=source, list_only=True)
        assert code == 0 and set(listed_jobs(out)) == {"checks", *MODEL_JOBS}, out


def step_c_a_push_that_changes_only_the_ci_file_passes_and_promotes_nothing(team):
    team.sync()
    log = team.origin_log()
    with open(team.project / ".gitlab-ci.yml", "a") as ci_file:
        ci_file.write("# a comment\n")
    run("git commit -qam 'CI: a comment' && git push -q origin main", team.project)
    code, out = team.pipeline(jobs=MODEL_JOBS)
    assert code == 0, out
    assert job_results(out) == {"repro": "PASS", "promote": "PASS", "container-image": "PASS"}
    assert "Running stage" not in out
    assert "nothing to promote" in out and "so there is no new image" in out
    assert team.origin_log() == [run("git log -1 --format=%s", team.project).strip(), *log]  # only the push
    assert len(team.built_images()) == 1 and team.registered_versions() == [1]


def step_d_a_merge_request_with_read_only_keys_trains_reports_and_writes_nothing(team):
    keys, main = team.keys(), team.origin_file("baseline.txt")
    run("git checkout -q -b shallower-trees", team.project)
    path = team.project / "params.yaml"
    params, changed = re.subn(r"(?m)^    max_depth: auto.*$", "    max_depth: 3", path.read_text())  # 4 on the sample
    assert changed == 1
    path.write_text(params)
    run("git commit -qam 'Try shallower trees' && git push -q origin shallower-trees", team.project)
    run("git checkout -q main", team.project)
    heads = team.heads()
    merge_request = {"branch": "shallower-trees", "source": "merge_request_event", "CI_MERGE_REQUEST_IID": "1",
                     "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
    # The rules pick the jobs: no promotion and no image from a merge request, a report even when
    # the gate fails. Then the model jobs among them run (`checks`, `make lint test`, ran in step a).
    code, out = team.pipeline(list_only=True, **merge_request)
    assert code == 0 and listed_jobs(out) == {"checks": "on_success", "repro": "on_success", "report": "always"}, out
    code, out = team.pipeline(jobs=("repro", "report"), **merge_request)
    assert code == 0, out
    assert job_results(out) == {"repro": "PASS", "report": "PASS"}
    assert "S3: using the read-only keys" in out and "Running stage 'train'" in out
    assert team.keys() == keys  # nothing written to S3
    assert team.origin_file("baseline.txt") == main
    assert team.heads() == heads  # nothing pushed to Git
    # The report the merge request links (the repro job's artifact): against the target branch,
    # with the accepted model, fetched from S3 with the read-only keys, drawn over the new one.
    reports = team.last_run / ".gitlab-ci-local/artifacts/repro/reports"
    report = (reports / "report.md").read_text()
    accepted = run(f"git --git-dir {team.origin} log -1 --format=%h -- baseline.txt", team.project).strip()
    assert "compared with `origin/main`" in report and "**Gate: passed**" in report
    assert re.search(rf"this model and the accepted model \({accepted[:7]}\w*\)", report), report
    figures = list((reports / "figures").glob("*.png"))
    assert len(figures) >= 5 and (reports / "report.html").read_text().count("data:image/png") == len(figures)
    name, tags = team.tracked_runs()[0]  # tracked all the same, as the merge request's run
    assert name.startswith("shallower-trees ") and tags["ci.merge_request"].endswith("/-/merge_requests/1")


def step_e_a_data_push_then_a_readme_push_the_tip_pipeline_trains_and_promotes(team):
    team.sync()
    baseline = float(team.origin_file("baseline.txt"))
    run("make data-push", team.project, env=team.writer)
    with open(team.project / "README.md", "a") as readme:
        readme.write("\nMore words.\n")
    run("git commit -qam 'Docs only' && git push -q origin main", team.project)
    code, out = team.pipeline(jobs=MODEL_JOBS)  # the data push's own pipeline was cancelled by the second push
    assert code == 0, out
    assert "Running stage 'train'" in out
    assert team.origin_log()[0].startswith("Promote model: ")
    assert team.origin_log()[0].endswith("registered as churn-model version 2 [skip ci]")
    assert team.registered_versions() == [1, 2]
    assert float(team.origin_file("baseline.txt")) > baseline
    tags, card = team.built_images()[-1]
    assert tags[1].endswith(":model-v2") and card["registry_version"] == 2


def step_f_a_fresh_clone_of_the_promoted_branch_restores_everything_without_running_it(team, tmp_path):
    clone = tmp_path / "newcomer"
    run(f"git clone -q {team.origin} {clone}", tmp_path)
    layered_venv(clone / ".venv")  # sees the test environment's packages: make install adds the package
    run("make install", clone)
    run("make pull", clone, env=team.reader)
    for path in ("data/raw", "data/holdout", "data/processed/train.parquet", "models", "reports/evaluate/gate.json"):
        assert (clone / path).exists(), path
    out = run("make repro", clone, env=team.reader)
    assert "Running stage" not in out and "Data and pipelines are up to date" in out


def step_g_a_worse_data_push_fails_with_the_verdict_and_promotes_nothing(team, tmp_path):
    team.sync()
    baseline = team.origin_file("baseline.txt")
    batch = (team.project / "data/raw/batch_001.csv").read_text().splitlines()
    rng = random.Random(3)
    noisy = [batch[0]] + [",".join(line.split(",")[:-1] + [str(int(rng.random() < 0.3))])
                          for line in batch[1:] * 4]
    (tmp_path / "noisy.csv").write_text("\n".join(noisy) + "\n")
    run(f"make data-push FILE={tmp_path / 'noisy.csv'}", team.project, env=team.writer)
    code, out = team.pipeline(jobs=MODEL_JOBS)
    assert code != 0
    assert job_results(out) == {"repro": "FAIL"}
    assert re.search(r"^repro +> roc_auc \d\.\d{4} did not beat baseline \d\.\d{4} by 0\.0010$", out, re.M)
    assert team.origin_file("baseline.txt") == baseline
    assert team.origin_log()[0] == "Data push: add noisy.csv (4000 rows)"
    name, tags = team.tracked_runs()[0]  # the failed candidate is tracked too, with its verdict
    assert tags["gate.passed"] == "false" and "did not beat baseline" in tags["gate.verdict"]
    assert team.registered_versions() == [1, 2]


def test_a_team_from_its_first_push_to_a_newcomers_clone(team, tmp_path):
    """Named steps in order on one repository, each starting where the last one left it."""
    steps = [
        (step_a_the_first_push_trains_and_promotes, ()),
        (step_b_a_schedule_or_a_manual_run_gets_every_job, ()),
        (step_c_a_push_that_changes_only_the_ci_file_passes_and_promotes_nothing, ()),
        (step_d_a_merge_request_with_read_only_keys_trains_reports_and_writes_nothing, ()),
        (step_e_a_data_push_then_a_readme_push_the_tip_pipeline_trains_and_promotes, ()),
        (step_f_a_fresh_clone_of_the_promoted_branch_restores_everything_without_running_it, (tmp_path,)),
        (step_g_a_worse_data_push_fails_with_the_verdict_and_promotes_nothing, (tmp_path,)),
    ]
    for step, extra in steps:
        started = time.monotonic()
        step(team, *extra)
        print(f"{step.__name__}: {time.monotonic() - started:.0f} s")
