"""`make promote`: accept the current model.

Accepting is one function, ``accept``, which the CI promotion step calls too: the model's holdout
score becomes baseline.txt, and `dvc commit` brings dvc.lock in line with it, so that the next
`make repro` with nothing changed has nothing to do.
"""

import sys

from .. import config
from ..cli import UserError, command, dvc, parser
from ..pipeline.shared import gate
from ..pipeline.shared.data_io import read_json


def accept(params):
    """Make the current model the accepted one; return (old baseline, new baseline)."""
    metric = params["evaluate"]["metric"]
    if not config.METRICS_FILE.exists():
        raise UserError(f"{config.METRICS_FILE} is missing: run `make repro` before promoting")
    scores = read_json(config.METRICS_FILE)
    if metric not in scores:
        raise UserError(f"{config.METRICS_FILE} has no {metric!r}: run `make repro` after changing the metric")
    summary_file = config.SANITY_DIR / "summary.json"
    if summary_file.exists() and not read_json(summary_file)["passed"]:
        raise UserError(f"sanity checks failed (see {summary_file}): fix the model before promoting it")
    old, new = gate.read_baseline(), scores[metric]
    if new != old:
        gate.write_baseline(new)
        # evaluate depends on baseline.txt: record its new hash in dvc.lock without re-running.
        dvc("commit", "--force", "--quiet", "evaluate")
    print(f"promote: {config.BASELINE_FILE} {metric} {old:.4f} -> {new:.4f}")
    return old, new


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    accept(config.load_params())
    print("Promoted. Share it: make push, then commit and push baseline.txt and dvc.lock.")


if __name__ == "__main__":
    sys.exit(main())
