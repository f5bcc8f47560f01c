"""CI: post the model report (reports/report.md, written by `make report`) as one merge-request
note, or update the note posted before, so that re-runs do not pile up notes.

The figures are uploaded to the project (GitLab's Markdown uploads API) and the note links the
uploads, so they show in the merge request itself. Posting needs a token with the `api` scope in
GITLAB_REPORT_TOKEN (CI_JOB_TOKEN can neither write notes nor upload).
"""

import os
import re
import sys

from .. import config
from ..cli import command, parser
from .report import MARKER, build_report, comparison_ref

REPORT_FILE = config.REPORT_FILE
FIGURE_LINK = re.compile(r"\]\((figures/[^)\s]+\.png)\)")


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
    parser(__doc__).parse_args(argv)
    return post()


if __name__ == "__main__":
    sys.exit(main())
