"""GitHub: the model report (reports/report.md, written by `make report`) as one pull-request
comment, updated on every run (found again by the report's hidden first line), and as the job
summary (`--summary`).

GitHub has no API to upload an image for a comment and drops data: URIs, so the PNG figures cannot
travel with it. The ROC and precision-recall curves are drawn instead as Mermaid charts, which
GitHub renders in comments and job summaries, from the numbers figures.py writes beside the PNGs;
the confusion matrix becomes a table; every PNG and report.html are in the run's artifact, which the
comment links. (Pushing the images to a branch would need write access in pull-request runs.)
"""

import os
import re
import sys

from .. import config
from ..cli import command, parser
from ..pipeline.shared.data_io import read_json
from . import ci_platform
from .figures import CURVES_FILE
from .report import MARKER, build_report, comparison_ref

# GitHub refuses a comment body longer than this.
MAX_COMMENT_CHARS = 65536
FIGURES_PARAGRAPH = re.compile(r"^(!\[[^\]]*\]\(figures/[^)\s]+\.png\)\n?)+", re.M)
CHARTS = {"roc": ("ROC curve, holdout", "false positive rate", "true positive rate"),
          "precision_recall": ("Precision-recall, holdout", "recall", "precision")}


def mermaid_chart(kind, curves):
    title, x_label, y_label = CHARTS[kind]
    lines = [f"    line [{', '.join(str(v) for v in series['y'])}]" for series in curves[kind]]
    names = " and ".join(f"{series['name']} (line {n})" for n, series in enumerate(curves[kind], 1))
    return "\n".join([f"_{title}: {names}_", "", "```mermaid", "xychart-beta", f'    title "{title}"',
                      f'    x-axis "{x_label}" [{", ".join(str(x) for x in curves["grid"])}]',
                      f'    y-axis "{y_label}" 0 --> 1', *lines, "```"])


def confusion_table(curves):
    classes = curves["classes"]
    rows = [f"| **{actual}** | " + " | ".join(str(n) for n in counts) + " |"
            for actual, counts in zip(classes, curves["confusion_matrix"], strict=True)]
    return "\n".join(["_Confusion matrix, holdout (rows: actual, columns: predicted)_", "",
                      "| | " + " | ".join(f"**{c}**" for c in classes) + " |",
                      "|---|" + "---|" * len(classes), *rows])


def github_figures(run_url):
    """What replaces the report's image paragraph in a comment."""
    parts = []
    if CURVES_FILE.exists():
        curves = read_json(CURVES_FILE)
        parts += [mermaid_chart("roc", curves), mermaid_chart("precision_recall", curves), confusion_table(curves)]
    where = f"[the run's artifact `model-report`]({run_url})" if run_url else "the run's artifact `model-report`"
    parts.append(f"Every figure as PNG, and the whole report as one HTML page, are in {where}.")
    return "\n\n".join(parts) + "\n"


def comment_body(run_url=None):
    """reports/report.md with its figures made to show on GitHub, within a comment's size limit."""
    body = (config.REPORT_FILE.read_text(encoding="utf-8") if config.REPORT_FILE.exists()
            else build_report(comparison_ref()))
    body = FIGURES_PARAGRAPH.sub(lambda _: github_figures(run_url), body, count=1)
    if len(body) > MAX_COMMENT_CHARS:
        cut = "\n\n_The report is cut here: GitHub takes no longer comment. The whole report is in the artifact._\n"
        body = body[:MAX_COMMENT_CHARS - len(cut)] + cut
    return body


def write_summary(body):
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        print("report: not in a GitHub Actions job (no GITHUB_STEP_SUMMARY), so there is no job summary to write")
        return
    with open(summary, "a", encoding="utf-8") as handle:
        handle.write(body)
    print("report: wrote the job summary")


def post(body, github):
    number = github.pull_request()
    if number is None:
        print("report: not a pull-request run, so there is no pull request to comment on")
        return
    token, repository = os.environ.get("GITHUB_TOKEN"), os.environ.get("GITHUB_REPOSITORY")
    if not (token and repository):
        print("report: GITHUB_TOKEN or GITHUB_REPOSITORY is not set, so the report is not posted (it is in the "
              "run's artifact)")
        return
    from github import Auth, Github

    client = Github(auth=Auth.Token(token), base_url=os.environ.get("GITHUB_API_URL", "https://api.github.com"))
    # A pull request's conversation comments are its issue's comments.
    issue = client.get_repo(repository).get_issue(number)
    for comment in issue.get_comments():
        if comment.body.startswith(MARKER):
            comment.edit(body)
            print(f"report: updated comment {comment.id} on pull request #{number}")
            return
    comment = issue.create_comment(body)
    print(f"report: posted comment {comment.id} on pull request #{number}")


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("--summary", action="store_true", help="write the job summary instead of commenting")
    args = arguments.parse_args(argv)
    github = ci_platform.current()
    body = comment_body(getattr(github, "run_url", lambda: None)())
    if args.summary:
        write_summary(body)
    else:
        post(body, github)
    return 0


if __name__ == "__main__":
    sys.exit(main())
