"""The generated .gitlab-ci.yml against GitLab's schema, and the CI steps one by one (the whole
pipeline on runners is in test_gitlab_runner.py)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import bake, baked_project, run

pytestmark = pytest.mark.slow
PREFIX = "gitlab-ci"


def test_every_baked_variant_passes_the_gitlab_ci_schema(cookies):
    seen = {}
    for model in ("xgboost", "random_forest", "logistic_regression"):
        for metric in ("roc_auc", "log_loss"):
            project = bake(cookies, model=model, metric=metric, init_git="no", sample_data="no").project_path
            text = (project / ".gitlab-ci.yml").read_text()
            if text not in seen:
                seen[text] = run("check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci "
                                 ".gitlab-ci.yml", project)[1]
    assert all("ok -- validation done" in out for out in seen.values())


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
