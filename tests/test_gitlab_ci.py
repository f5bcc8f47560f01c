"""The generated .gitlab-ci.yml: GitLab's schema, then real runs with gitlab-ci-local.

gitlab-ci-local (npm, shell executor) runs the jobs in the project's own working tree, with moto
in server mode as S3 and a bare Git repository as `origin`. The scenario's named steps run in order
on one project, as a team's repository would see them.
"""

import json
import os
import random
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import BUCKET, bake, baked_project, run

pytestmark = pytest.mark.slow
PREFIX = "gitlab-ci"


@pytest.fixture
def ci(cookies_session, s3, tmp_path_factory):
    project = baked_project(cookies_session, s3_bucket=BUCKET, s3_prefix=PREFIX, s3_endpoint_url=s3.endpoint)
    origin = tmp_path_factory.mktemp("origin") / "origin.git"
    run(f"git init -q --bare {origin} && git -C {origin} symbolic-ref HEAD refs/heads/main", project)
    run(f"git remote add origin {origin} && git push -q origin main", project)
    # The jobs use the test environment (VENV below), where the package is installed; an old lock
    # and pyproject.toml tell the jobs' `make install` that this environment is up to date.
    for name in ("requirements-dev.txt", "pyproject.toml"):
        os.utime(project / name, (0, 0))
    credentials = {"AWS_ACCESS_KEY_ID": s3.key, "AWS_SECRET_ACCESS_KEY": s3.secret}
    return SimpleNamespace(path=project, origin=origin, credentials=credentials, s3=s3)


def pipeline(ci, **variables):
    variables = {"VENV": str(Path(sys.executable).parent.parent), **ci.credentials, **variables}
    flags = " ".join(f"--variable {name}={value}" for name, value in variables.items())
    return run(f'make ci-local CI_LOCAL_ARGS="{flags}"', ci.path, check=False)


def job_results(output):
    """{job: "PASS" | "FAIL"} from gitlab-ci-local's summary; jobs that did not run are absent."""
    return {job: status for status, job in re.findall(r"^\s*(PASS|FAIL)\s+(\S+)", output, re.M)}


def as_if_just_pushed(ci):
    """GitLab compares a push pipeline with the commit before the push; gitlab-ci-local compares
    with origin/main. Point origin/main at the commit before the push to get the same diff."""
    run("git update-ref refs/remotes/origin/main HEAD^", ci.path)


def origin_file(ci, path):
    return run(f"git --git-dir {ci.origin} show main:{path}", ci.path)[1]


def origin_log(ci):
    return run(f"git --git-dir {ci.origin} log --format=%s main", ci.path)[1].splitlines()


def test_0_every_baked_variant_passes_the_gitlab_ci_schema(cookies):
    seen = {}
    for model in ("xgboost", "random_forest", "logistic_regression"):
        for metric in ("roc_auc", "log_loss"):
            project = bake(cookies, model=model, metric=metric, init_git="no", sample_data="no").project_path
            text = (project / ".gitlab-ci.yml").read_text()
            if text not in seen:
                seen[text] = run("check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci "
                                 ".gitlab-ci.yml", project)[1]
    assert all("ok -- validation done" in out for out in seen.values())


def step_1_a_first_data_push_on_main_passes_and_is_promoted(ci):
    code, out = run("make data-push", ci.path, env=ci.credentials)
    assert "data-push: committed 'Data push: add batch_002.csv (1000 rows)'" in out
    as_if_just_pushed(ci)
    code, out = pipeline(ci)
    assert code == 0, out
    assert job_results(out) == {"checks": "PASS", "repro": "PASS", "promote": "PASS"}
    promotion, data_push = origin_log(ci)[:2]
    assert promotion.startswith("Promote model: roc_auc ") and promotion.endswith("[skip ci]")
    assert data_push.startswith("Data push: add batch_002.csv")
    score = json.loads((ci.path / "reports/evaluate/metrics.json").read_text())["roc_auc"]
    assert float(origin_file(ci, "baseline.txt")) == score > 0.5
    assert origin_file(ci, "dvc.lock") == (ci.path / "dvc.lock").read_text()
    # S3 has the data and the models before Git refers to them.
    assert "in sync" in run("dvc status --cloud", ci.path, env=ci.credentials)[1]
    keys = ci.s3.client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/")["KeyCount"]
    assert keys > 10
    assert (ci.path / "reports/sanity/junit.xml").exists() and (ci.path / "reports/report.md").exists()


def step_1b_a_re_run_with_nothing_new_to_promote_passes(ci):
    log_before = origin_log(ci)
    code, out = pipeline(ci, CI_PIPELINE_SOURCE="web")  # a manual run of the same commit
    assert code == 0, out
    assert job_results(out) == {"checks": "PASS", "repro": "PASS", "promote": "PASS"}
    assert "nothing to promote" in out
    assert origin_log(ci) == log_before


def step_2_a_data_push_that_does_not_improve_the_model_fails_and_promotes_nothing(ci, tmp_path):
    baseline_before = origin_file(ci, "baseline.txt")
    batch = (ci.path / "data/raw/batch_001.csv").read_text().splitlines()
    rng = random.Random(3)
    noisy = [batch[0]] + [",".join(line.split(",")[:-1] + [str(int(rng.random() < 0.3))])
                          for line in batch[1:] * 4]
    (tmp_path / "noisy.csv").write_text("\n".join(noisy) + "\n")
    run(f"make data-push FILE={tmp_path / 'noisy.csv'}", ci.path, env=ci.credentials)
    as_if_just_pushed(ci)
    code, out = pipeline(ci)
    assert code != 0
    assert job_results(out) == {"checks": "PASS", "repro": "FAIL"}
    assert re.search(r"roc_auc \d\.\d{4} did not beat baseline \d\.\d{4} by 0\.0010", out)
    assert origin_file(ci, "baseline.txt") == baseline_before
    assert origin_log(ci)[0] == "Data push: add noisy.csv (4000 rows)"
    # Put main back as it was before the noisy batch, for the next scenarios.
    run("git checkout -q -- . && git rm -q --cached data/raw/noisy.csv 2>/dev/null; rm -f data/raw/noisy.csv && "
        "git checkout -q HEAD^ -- data/raw.dvc && git commit -qm 'Drop the noisy batch' && git push -q origin main",
        ci.path)


def step_3_a_merge_request_pipeline_reports_against_main_and_promotes_nothing(ci):
    main_before = run(f"git --git-dir {ci.origin} rev-parse main", ci.path)[1]
    run("git checkout -q -b shallower-trees", ci.path)
    params = (ci.path / "params.yaml").read_text().replace("    max_depth: 4\n", "    max_depth: 3\n")
    (ci.path / "params.yaml").write_text(params)
    run("git commit -qam 'Try shallower trees'", ci.path)
    try:
        code, out = pipeline(ci, CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID="1",
                             CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main")
        report = (ci.path / "reports/report.md").read_text()
    finally:
        run("git checkout -q -- . && git checkout -q main", ci.path)
    assert code == 0, out
    assert job_results(out) == {"checks": "PASS", "repro": "PASS", "report": "PASS"}
    assert "GITLAB_REPORT_TOKEN is not set, so the report is not posted" in out
    assert "compared with `origin/main`" in report
    assert re.search(r"\| reports/evaluate/metrics.json \| roc_auc +\| [\d.]+ +\| [\d.]+ ", report)
    assert "train.xgboost.max_depth" in report
    assert re.search(r"\*\*Gate: (passed|FAILED)\*\*: roc_auc ", report)
    assert run(f"git --git-dir {ci.origin} rev-parse main", ci.path)[1] == main_before


def step_4_a_readme_only_commit_does_not_train(ci):
    with open(ci.path / "README.md", "a") as readme:
        readme.write("\nMore words.\n")
    run("git commit -qam 'Docs only' && git push -q origin main", ci.path)
    as_if_just_pushed(ci)
    code, out = pipeline(ci)
    assert code == 0, out
    assert job_results(out) == {"checks": "PASS"}


def test_a_team_repository_from_data_pushes_to_a_merge_request(ci, tmp_path):
    """The steps run in this order on one repository, each starting where the last one left it."""
    step_1_a_first_data_push_on_main_passes_and_is_promoted(ci)
    step_1b_a_re_run_with_nothing_new_to_promote_passes(ci)
    step_2_a_data_push_that_does_not_improve_the_model_fails_and_promotes_nothing(ci, tmp_path)
    step_3_a_merge_request_pipeline_reports_against_main_and_promotes_nothing(ci)
    step_4_a_readme_only_commit_does_not_train(ci)


class FakeGitLabNotes(BaseHTTPRequestHandler):
    """The three merge-request notes endpoints of GitLab's REST API. No GitLab server can run
    here, so this stand-in lets the real python-gitlab client post and update notes."""

    notes = []

    def _reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._reply(200, self.notes)

    def do_POST(self):  # noqa: N802
        note = {"id": len(self.notes) + 1, "body": self._body()["body"]}
        self.notes.append(note)
        self._reply(201, note)

    def do_PUT(self):  # noqa: N802
        note_id = int(self.path.rstrip("/").split("/")[-1].split("?")[0])
        note = next(n for n in self.notes if n["id"] == note_id)
        note["body"] = self._body()["body"]
        self._reply(200, note)

    def log_message(self, *args):
        pass


def test_the_report_is_one_merge_request_note_updated_on_re_runs(cookies):
    project = baked_project(cookies)
    server = HTTPServer(("127.0.0.1", 0), FakeGitLabNotes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"CI_SERVER_URL": f"http://127.0.0.1:{server.server_port}", "CI_PROJECT_ID": "1",
           "CI_MERGE_REQUEST_IID": "7", "GITLAB_REPORT_TOKEN": "test-token"}
    try:
        (project / "reports").mkdir()
        (project / "reports/report.md").write_text("<!-- model-report -->\nfirst run\n")
        assert "posted note 1" in run("make ci-post-report", project, env=env)[1]
        (project / "reports/report.md").write_text("<!-- model-report -->\nsecond run\n")
        assert "updated note 1" in run("make ci-post-report", project, env=env)[1]
    finally:
        server.shutdown()
    assert FakeGitLabNotes.notes == [{"id": 1, "body": "<!-- model-report -->\nsecond run\n"}]


def test_promotion_steps_aside_when_the_branch_moved_meanwhile(cookies, tmp_path):
    project = baked_project(cookies)
    origin = tmp_path / "origin.git"
    run(f"git init -q --bare {origin} && git -C {origin} symbolic-ref HEAD refs/heads/main", project)
    run(f"git remote add origin {origin} && git push -q origin main && make repro", project)
    pipeline_commit = run("git rev-parse HEAD", project)[1].strip()
    # Someone else lands a commit on main while this pipeline runs.
    run(f"git clone -q {origin} other && cd other && echo more >> README.md && git commit -qam 'Meanwhile' "
        "&& git push -q origin main", tmp_path)
    code, out = run("make ci-promote", project, env={"CI_COMMIT_SHA": pipeline_commit, "CI_DEFAULT_BRANCH": "main"})
    assert "moved on" in out and "not promoting" in out
    assert run(f"git --git-dir {origin} log --format=%s -1 main", project)[1].strip() == "Meanwhile"
    assert run(f"git --git-dir {origin} show main:baseline.txt", project)[1].strip() == "0.5"
