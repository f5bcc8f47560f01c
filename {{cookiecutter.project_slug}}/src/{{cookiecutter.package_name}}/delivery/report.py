"""`make report`: the model report as Markdown (reports/report.md), its PNG figures (see figures)
and one self-contained HTML page (reports/report.html, every figure inlined: it opens anywhere,
offline included).

The report: the gate verdict, `dvc metrics diff` / `dvc params diff` against the target branch of
a merge request (else the previous commit), the data checks and drift, the sanity checks, the
model validation and the figures. A report after a failed validation still shows the data checks.
The merge-request note is this Markdown, posted by mr_note.
"""

import base64
import json
import re
import sys

from .. import config
from ..cli import command, dvc, git, parser
from ..pipeline.shared import gate
from ..pipeline.shared.data_io import write_atomically
from . import ci_platform
from .figures import FIGURES_DIR, write_figures

# The first line of the note, by which mr_note finds the note it posted before.
MARKER = "<!-- model-report -->"
HTML_FILE = config.REPORT_FILE.with_suffix(".html")
STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
         "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}"
         "img{max-width:calc(50% - 1rem);margin:.2rem;border:1px solid #eee;vertical-align:top}")


def comparison_ref():
    """The target branch of a merge or pull request, else the previous commit."""
    target = ci_platform.current().target_branch()
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
    # (mr_note) uploads them to GitLab and links the uploads instead.
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


def html(markdown_text, title):
    """The Markdown report as one HTML page, every figure inlined as a data URI."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark").enable("table").render(markdown_text)

    def inline(match):
        path = config.REPORT_FILE.parent / match.group(1)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}"'

    body = re.sub(r'src="(figures/[^"]+\.png)"', inline, body)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}</body></html>\n")


def run():
    figures, caption = write_figures()
    markdown_text = build_report(comparison_ref(), figures, caption)
    write_atomically(config.REPORT_FILE, lambda tmp: tmp.write_text(markdown_text, encoding="utf-8"))
    page = html(markdown_text, "Model report")
    write_atomically(HTML_FILE, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    print(f"report: wrote {config.REPORT_FILE}, {HTML_FILE} and {len(figures)} figures in {FIGURES_DIR}")
    return figures


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    run()


if __name__ == "__main__":
    sys.exit(main())
