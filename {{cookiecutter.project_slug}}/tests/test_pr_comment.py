"""The pull-request comment: the report with its figures drawn so that GitHub shows them, posted
once and then updated. No GitHub can run here, so a small local HTTP server stands in for the four
REST endpoints PyGithub calls (a stand-in, not GitHub: it checks the requests, not GitHub's rules)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from {{ cookiecutter.package_name }}.delivery import pr_comment
from {{ cookiecutter.package_name }}.delivery.report import MARKER

REPORT = f"{MARKER}\n## Model report\n\n### Figures\n\n_caption_\n\n![roc](figures/roc.png)\n![cm](figures/cm.png)\n"
CURVES = {"grid": [0.0, 0.5, 1.0], "classes": ["no", "yes"], "confusion_matrix": [[5, 1], [2, 4]],
          "roc": [{"name": "this model", "y": [0.0, 0.8, 1.0]}, {"name": "accepted model (abc)", "y": [0.0, 0.6, 1.0]}],
          "precision_recall": [{"name": "this model", "y": [1.0, 0.7, 0.5]}]}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports/figures").mkdir(parents=True)
    (tmp_path / "reports/report.md").write_text(REPORT, encoding="utf-8")
    (tmp_path / "reports/figures/curves.json").write_text(json.dumps(CURVES), encoding="utf-8")
    return tmp_path


def test_the_images_become_mermaid_charts_a_table_and_a_link_to_the_artifact(project):
    body = pr_comment.comment_body("https://github.com/team/churn/actions/runs/9")
    assert body.startswith(MARKER) and "](figures/" not in body
    assert body.count("```mermaid\nxychart-beta") == 2
    assert "    line [0.0, 0.8, 1.0]\n    line [0.0, 0.6, 1.0]" in body
    assert "| **yes** | 2 | 4 |" in body
    assert "[the run's artifact `model-report`](https://github.com/team/churn/actions/runs/9)" in body


def test_a_report_too_long_for_a_comment_is_cut_with_a_note(project):
    (project / "reports/report.md").write_text(REPORT + "x" * 70000, encoding="utf-8")
    body = pr_comment.comment_body()
    assert len(body) <= pr_comment.MAX_COMMENT_CHARS and body.rstrip().endswith("in the artifact._")


def test_the_summary_is_appended_to_the_job_summary(project, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project / "summary.md"))
    assert pr_comment.main(["--summary"]) == 0
    assert (project / "summary.md").read_text(encoding="utf-8").startswith(MARKER)


class GitHubStandIn(BaseHTTPRequestHandler):
    comments = []
    calls = []

    def reply(self, data, status=200):
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def base(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def comment(self, entry):
        return {**entry, "url": f"{self.base()}/repos/team/churn/issues/comments/{entry['id']}"}

    def do_GET(self):  # noqa: N802 - http.server's name
        self.calls.append(("GET", self.path))
        if self.path == "/repos/team/churn":
            self.reply({"full_name": "team/churn", "name": "churn", "url": f"{self.base()}/repos/team/churn"})
        elif self.path == "/repos/team/churn/issues/7":
            self.reply({"number": 7, "url": f"{self.base()}/repos/team/churn/issues/7"})
        elif self.path.startswith("/repos/team/churn/issues/7/comments"):
            self.reply([self.comment(c) for c in self.comments])
        else:
            self.reply({"message": "Not Found"}, 404)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("POST", self.path))
        entry = {"id": 100 + len(self.comments), "body": body["body"]}
        self.comments.append(entry)
        self.reply(self.comment(entry), 201)

    def do_PATCH(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("PATCH", self.path))
        entry = next(c for c in self.comments if self.path.endswith(f"/{c['id']}"))
        entry["body"] = body["body"]
        self.reply(self.comment(entry))

    def log_message(self, *args):
        pass


@pytest.fixture
def github(monkeypatch):
    GitHubStandIn.comments, GitHubStandIn.calls = [{"id": 1, "body": "LGTM"}], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), GitHubStandIn)
    # shutdown() waits for the loop's next poll: every 0.5 s by default, half a second per test.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_TOKEN": "token",
                        "GITHUB_REPOSITORY": "team/churn",
                        "GITHUB_API_URL": f"http://127.0.0.1:{server.server_port}"}.items():
        monkeypatch.setenv(name, value)
    yield GitHubStandIn
    server.shutdown()


def test_the_comment_is_posted_once_then_updated_in_place(project, github, capsys):
    assert pr_comment.main([]) == 0
    assert "posted comment 101 on pull request #7" in capsys.readouterr().out
    (project / "reports/report.md").write_text(REPORT.replace("Model report", "Model report, re-run"))
    assert pr_comment.main([]) == 0
    assert "updated comment 101 on pull request #7" in capsys.readouterr().out
    assert len(github.comments) == 2 and github.comments[0]["body"] == "LGTM"
    assert "## Model report, re-run" in github.comments[1]["body"]
    assert [method for method, _ in github.calls].count("POST") == 1


def test_outside_a_pull_request_nothing_is_posted(project, github, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    assert pr_comment.main([]) == 0
    assert "not a pull-request run" in capsys.readouterr().out
    assert github.calls == []
