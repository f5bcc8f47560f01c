"""CI: the model report's Markdown, and posting it as one merge-request note.

`build_report` puts the Markdown together (`make report` writes it to reports/report.md): the gate
verdict, `dvc metrics diff` / `dvc params diff` against the target branch, the data checks and
drift, the sanity checks, the model validation and the figures. `post` adds it to the merge
request as a note, or updates the note it posted before, so that re-runs do not pile up notes;
the figures are uploaded to the project (GitLab's Markdown uploads API) and the note links the
uploads, so they show in the merge request itself. Posting needs a token with the `api` scope in
GITLAB_REPORT_TOKEN (CI_JOB_TOKEN can neither write notes nor upload).
"""

import json
import os
import re
import sys

from .. import config
from ..cli import command, dvc, git, parser
from ..pipeline import gate

MARKER = "<!-- model-report -->"
REPORT_FILE = config.REPORT_FILE
FIGURE_LINK = re.compile(r"\]\((figures/[^)\s]+\.png)\)")


def comparison_ref():
    """The target branch of a merge request, else the previous commit."""
    target = os.environ.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    if target:
        # Fetched explicitly: a merge-request clone need not have the target branch.
        git("fetch", "--quiet", "origin", f"+refs/heads/{target}:refs/remotes/origin/{target}", check=False)
        return f"origin/{target}"
    return "HEAD^" if git("rev-parse", "--verify", "--quiet", "HEAD^", check=False).returncode == 0 else None


def dvc_markdown(*args):
    result = dvc(*args, "--md", check=False, capture=True)
    if result.returncode != 0:
        return f"_not available: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'dvc failed'}_"
    return result.stdout.strip() or "_no differences_"


def gate_section():
    decision = gate.read_gate()
    if decision is None:
        return "**Gate: not evaluated** (the pipeline stopped before the evaluate stage; see the job log)"
    return f"**Gate: {'passed' if decision['passed'] else 'FAILED'}**: {decision['verdict']}"


def sanity_section():
    summary_file = config.SANITY_DIR / "summary.json"
    if not summary_file.exists():
        return "_sanity checks did not run_"
    checks = json.loads(summary_file.read_text())["checks"]
    rows = [f"| {'ok' if c['passed'] else '**FAIL**'} | `{name}` | {c['detail']} |" for name, c in checks.items()]
    return "\n".join(["| result | check | detail |", "|---|---|---|", *rows])


def validate_section():
    """The data checks and drift, as the validate stage wrote them."""
    section = config.VALIDATE_DIR / "report.md"
    return section.read_text(encoding="utf-8").strip() if section.exists() else "### Data checks\n\n_did not run_"


def model_validation_section():
    section = config.SANITY_DIR / "model_validation.md"
    return section.read_text(encoding="utf-8").strip() if section.exists() else "_did not run_"


def figures_section(figures, caption=None):
    if not figures:
        return "_no figures: the stages they come from did not run_"
    # Relative to reports/: they show in report.html and in the job's artifact browser; `post`
    # uploads them to GitLab and links the uploads instead.
    images = [f"![{path.stem.replace('_', ' ')}](figures/{path.name})" for path in figures]
    # One paragraph: the images sit side by side, in the merge request and in report.html.
    return "\n\n".join(([f"_{caption}_"] if caption else []) + ["\n".join(images)])


def build_report(ref, figures=(), caption=None):
    commit = git("rev-parse", "--short", "HEAD", check=False).stdout.strip()
    against = f"`{ref}`" if ref else "nothing (first commit)"
    parts = [
        MARKER,
        f"## Model report for `{commit}`, compared with {against}",
        gate_section(),
        "### Holdout metrics",
        dvc_markdown("metrics", "diff", ref) if ref else dvc_markdown("metrics", "show"),
        "### Parameters",
        dvc_markdown("params", "diff", ref) if ref else "_no earlier commit_",
        validate_section(),
        "### Sanity checks",
        sanity_section(),
        "### Model validation",
        model_validation_section(),
        "### Figures",
        figures_section(figures, caption),
    ]
    return "\n\n".join(parts) + "\n"


def with_uploaded_figures(body, upload):
    """The report with every linked figure that exists passed to ``upload(path) -> url`` and linked there."""
    def uploaded(match):
        path = REPORT_FILE.parent / match.group(1)
        return f"]({upload(path)})" if path.is_file() else match.group(0)

    return FIGURE_LINK.sub(uploaded, body)


def post():
    body = REPORT_FILE.read_text(encoding="utf-8") if REPORT_FILE.exists() else build_report(comparison_ref())
    token = os.environ.get("GITLAB_REPORT_TOKEN")
    iid = os.environ.get("CI_MERGE_REQUEST_IID")
    if not iid:
        print("report: not a merge-request pipeline, so there is no merge request to post to")
        return 0
    if not token:
        print("report: GITLAB_REPORT_TOKEN is not set, so the report is not posted (it is in the job "
              "artifacts as reports/report.md); set it to a project access token with the api scope")
        return 0
    import gitlab

    server = gitlab.Gitlab(os.environ["CI_SERVER_URL"], private_token=token)
    project = server.projects.get(os.environ["CI_PROJECT_ID"], lazy=True)
    uploads = []

    def upload(path):
        uploads.append(project.upload(path.name, filepath=str(path))["url"])
        return uploads[-1]

    body = with_uploaded_figures(body, upload)
    if uploads:
        print(f"report: uploaded {len(uploads)} figures to the project")
    merge_request = project.mergerequests.get(iid, lazy=True)
    for note in merge_request.notes.list(iterator=True):
        if note.body.startswith(MARKER):
            note.body = body
            note.save()
            print(f"report: updated note {note.id} on merge request !{iid}")
            return 0
    note = merge_request.notes.create({"body": body})
    print(f"report: posted note {note.id} on merge request !{iid}")
    return 0


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("action", choices=("post",), help="post reports/report.md (written by make report)")
    arguments.parse_args(argv)
    return post()


if __name__ == "__main__":
    sys.exit(main())
