"""`make data-push`: add a batch of training data and publish it, which triggers the pipeline.

Adds FILE (or, without one, the next numbered sample batch) to data/raw/, runs `dvc add`, pushes
the data to S3, commits the .dvc change and `git push`es. If `dvc add` or the S3 push fails, the
new file is taken out again, so that nothing is half done.
"""

import re
import shutil
import sys
from pathlib import Path

from ..bake import sample_data
from ..cli import UserError, command, dvc, git, parser
from ..config import RAW_DIR
from ..pipeline.shared.data_io import DATA_SUFFIXES
from ..storage import remote

BATCH_NAME = re.compile(r"^batch_(\d+)\.csv$")


def next_batch(raw_dir):
    numbers = [int(m.group(1)) for p in raw_dir.iterdir() if (m := BATCH_NAME.match(p.name))]
    return max(numbers, default=0) + 1


def add_file(source, raw_dir):
    source = Path(source)
    if not source.is_file() or source.suffix.lower() not in DATA_SUFFIXES:
        raise UserError(f"{source} is not a CSV or Parquet file: pass FILE=path/to/data.csv")
    target = raw_dir / source.name
    if target.exists():
        raise UserError(f"{target} already exists: rename the new file so that both are kept")
    shutil.copyfile(source, target)
    return target


def rows_in(path):
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1 if path.suffix == ".csv" else None


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("--file", help="a CSV or Parquet file to add (default: the next sample batch)")
    args = arguments.parse_args(argv)
    new = add_file(args.file, RAW_DIR) if args.file else sample_data.write_batch(RAW_DIR, next_batch(RAW_DIR))
    print(f"data-push: added {new}")
    added = dvc("add", "--quiet", str(RAW_DIR), check=False).returncode == 0
    if not added or remote.transfer("push", f"{RAW_DIR}.dvc") != 0:
        new.unlink()
        git("checkout", "--", f"{RAW_DIR}.dvc", check=False)
        raise UserError(f"data push stopped before committing; {new} was taken out again")
    rows = rows_in(new)
    message = f"Data push: add {new.name}" + (f" ({rows} rows)" if rows is not None else "")
    committed = git("commit", "--quiet", "-m", message, "--", f"{RAW_DIR}.dvc", check=False)
    if committed.returncode != 0:
        raise UserError(f"git commit failed: {committed.stderr.strip()}")
    print(f"data-push: committed '{message}'")
    if git("remote", "get-url", "origin", check=False).returncode != 0:
        print("data-push: no Git remote 'origin' yet; push the commit when you add one")
        return 0
    pushed = git("push", "--quiet", "origin", "HEAD", check=False)
    if pushed.returncode != 0:
        raise UserError(f"git push failed (the commit is made locally; push it again): {pushed.stderr.strip()}")
    print("data-push: pushed; the CI pipeline retrains and evaluates the model")


if __name__ == "__main__":
    sys.exit(main())
