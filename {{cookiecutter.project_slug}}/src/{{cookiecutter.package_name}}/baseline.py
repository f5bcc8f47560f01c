"""baseline.txt holds one number: the accepted score of the current model."""

import math
from pathlib import Path

from .data_io import write_atomically
from .errors import StageError


def read_baseline(path):
    path = Path(path)
    if not path.exists():
        raise StageError(f"{path} is missing: create it with one number, the score to beat")
    text = path.read_text(encoding="utf-8").strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise StageError(f"{path} must hold one number, found {text!r}: write e.g. 0.5")
    return value


def write_baseline(path, value):
    # repr keeps every digit, so a promoted score compares equal to itself.
    write_atomically(path, lambda tmp: Path(tmp).write_text(f"{value!r}\n", encoding="utf-8"))
