"""The generated .gitlab-ci.yml against GitLab's schema, and the CI steps one by one (the whole
pipeline on runners is in test_gitlab_runner.py)."""

import email.policy
import hashlib
import json
import re
import threading
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import bake, run, trained_copy

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
                                 ".gitlab-ci.yml", project)
    assert all("ok -- validation done" in out for out in seen.values())


def repro_job(project, *variables):
    """The repro job as gitlab-ci-local resolves the pipeline (includes and their rules applied)."""
    import yaml

    options = " ".join(f"--variable {variable}" for variable in variables)
    output = run(f"gitlab-ci-local --preview {options}", project)
    return yaml.safe_load(output[output.index("\n---\n"):])["repro"]  # after its own log lines


def test_one_variable_sends_the_training_job_to_a_tagged_runner_with_cuda_xgboost(cookies):
    project = bake(cookies, init_git="yes", sample_data="no").project_path
    # gitlab-ci-local reads the default branch from origin.
    run("git init -q --bare ../origin.git && git remote add origin ../origin.git && git push -q origin main "
        "&& git remote set-head origin main", project)
    assert "ok -- validation done" in run("check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform "
                                          "gitlab-ci .gitlab/ci/train-runner.yml", project)
    plain = repro_job(project)
    assert "tags" not in plain and "XGBOOST_CUDA" not in plain.get("variables", {})
    tagged = repro_job(project, "TRAIN_RUNNER_TAG=gpu")
    assert tagged["tags"] == ["$TRAIN_RUNNER_TAG"]  # GitLab expands it when it assigns the job
    assert tagged["variables"]["XGBOOST_CUDA"] == "yes"
    assert tagged["script"] == plain["script"]
    # make install then swaps the CPU-only XGBoost for the CUDA build of the same version.
    dry_run = run("make -n install XGBOOST_CUDA=yes VENV=.venv", project)
    assert "install-gpu" in dry_run
    pinned = re.search(r"^xgboost-cpu==([\d.]+)", (project / "requirements.txt").read_text(), re.M).group(1)
    assert f'pip install --quiet "xgboost=={pinned}"' in run("make -n install-gpu", project)


class FakeGitLab(BaseHTTPRequestHandler):
    """GitLab's merge-request notes endpoints and its Markdown uploads endpoint
    (POST /projects/:id/uploads, answered as GitLab documents it). No GitLab server can run here,
    so this stand-in lets the real python-gitlab client upload figures and post and update notes."""

    notes = []
    uploads = {}

    def _reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        return self.rfile.read(int(self.headers["Content-Length"]))

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._reply(200, self.notes)

    def do_POST(self):  # noqa: N802
        if self.path.split("?")[0].endswith("/uploads"):
            form = BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + self._body())
            [part] = [p for p in form.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
            name = part.get_filename()
            url = f"/uploads/{hashlib.md5(name.encode()).hexdigest()}/{name}"
            self.uploads[url] = part.get_payload(decode=True)
            return self._reply(201, {"id": len(self.uploads), "alt": name.rsplit(".", 1)[0], "url": url,
                                     "full_path": f"/-/project/1{url}", "markdown": f"![{name}]({url})"})
        note = {"id": len(self.notes) + 1, "body": json.loads(self._body())["body"]}
        self.notes.append(note)
        self._reply(201, note)

    def do_PUT(self):  # noqa: N802
        note_id = int(self.path.rstrip("/").split("/")[-1].split("?")[0])
        note = next(n for n in self.notes if n["id"] == note_id)
        note["body"] = json.loads(self._body())["body"]
        self._reply(200, note)

    def log_message(self, *args):
        pass


def test_the_report_is_one_merge_request_note_with_uploaded_figures_updated_on_re_runs(trained, tmp_path):
    project = trained_copy(trained, tmp_path / "project")
    run("make report", project)
    figures = sorted((project / "reports/figures").glob("*.png"))
    assert len(figures) >= 5
    server = HTTPServer(("127.0.0.1", 0), FakeGitLab)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"CI_SERVER_URL": f"http://127.0.0.1:{server.server_port}", "CI_PROJECT_ID": "1",
           "CI_MERGE_REQUEST_IID": "7", "GITLAB_REPORT_TOKEN": "test-token"}
    try:
        out = run("make ci-post-report", project, env=env)
        assert "posted note 1" in out and f"uploaded {len(figures)} figures" in out
        (project / "reports/report.md").write_text(
            (project / "reports/report.md").read_text().replace("## Model report", "## Model report, second run"))
        assert "updated note 1" in run("make ci-post-report", project, env=env)
    finally:
        server.shutdown()
    [note] = FakeGitLab.notes
    assert note["body"].startswith("<!-- model-report -->") and "second run" in note["body"]
    assert "](figures/" not in note["body"]  # no link the merge request cannot resolve
    for figure in figures:
        [url] = re.findall(rf"\]\((/uploads/[0-9a-f]{{32}}/{figure.name})\)", note["body"])
        assert FakeGitLab.uploads[url] == figure.read_bytes()


def test_promotion_steps_aside_when_the_branch_moved_meanwhile(trained, tmp_path):
    project = trained_copy(trained, tmp_path / "project")
    origin = tmp_path / "origin.git"
    run(f"git init -q --bare {origin} && git -C {origin} symbolic-ref HEAD refs/heads/main", project)
    run(f"git remote add origin {origin} && git push -q origin main && make repro", project)
    pipeline_commit = run("git rev-parse HEAD", project).strip()
    # Someone else lands a commit on main while this pipeline runs.
    run(f"git clone -q {origin} other && cd other && echo more >> README.md && git commit -qam 'Meanwhile' "
        "&& git push -q origin main", tmp_path)
    out = run("make ci-promote", project, env={"CI_COMMIT_SHA": pipeline_commit, "CI_DEFAULT_BRANCH": "main"})
    assert "moved on" in out and "not promoting" in out
    assert run(f"git --git-dir {origin} log --format=%s -1 main", project).strip() == "Meanwhile"
    assert run(f"git --git-dir {origin} show main:baseline.txt", project).strip() == "0.5"
