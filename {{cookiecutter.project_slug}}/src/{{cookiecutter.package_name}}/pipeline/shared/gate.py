"""The gate: is the new model better than the accepted one by the required margin?

Everything about the comparison lives here: the direction of each metric, the margin, the one-line
verdict, baseline.txt (one number: the accepted score) and gate.json (the verdict as evaluate
wrote it, so that reports quote it instead of deriving it again).
"""

import math
from pathlib import Path

from ... import config
from ...cli import UserError
from .data_io import read_json, write_atomically, write_json

LOWER_IS_BETTER = frozenset({"log_loss"})


def improvement(metric, value, baseline):
    """How much ``value`` is better than ``baseline`` in the metric's direction."""
    return baseline - value if metric in LOWER_IS_BETTER else value - baseline


def verdict(metric, value, baseline, min_improvement, against=None):
    """Return (passed, one-line verdict). ``against`` says where the baseline came from when it is
    not baseline.txt."""
    gain = improvement(metric, value, baseline)
    passed = gain > 0 and gain >= min_improvement
    direction = " (lower is better)" if metric in LOWER_IS_BETTER else ""
    if passed:
        line = (f"{metric} {value:.4f} beat baseline {baseline:.4f} by {gain:.4f} "
                f"(required {min_improvement:.4f}){direction}")
    else:
        line = f"{metric} {value:.4f} did not beat baseline {baseline:.4f} by {min_improvement:.4f}{direction}"
    return passed, line + (f" [baseline: {against}]" if against else "")


def write_gate(metric, value, baseline, min_improvement, path=config.GATE_FILE, against=None):
    """Decide, store the decision in gate.json and return it."""
    passed, line = verdict(metric, value, baseline, min_improvement, against)
    gate = {"metric": metric, "value": value, "baseline": baseline, "min_improvement": min_improvement,
            "passed": passed, "verdict": line, "against": against or "baseline.txt"}
    write_json(path, gate)
    return gate


def read_gate(path=config.GATE_FILE):
    """The stored decision, or None when evaluate has not run."""
    path = Path(path)
    return read_json(path) if path.exists() else None


def read_baseline(path=config.BASELINE_FILE):
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} is missing: create it with one number, the score to beat")
    text = path.read_text(encoding="utf-8").strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{path} must hold one number, found {text!r}: write e.g. 0.5")
    return value


def write_baseline(value, path=config.BASELINE_FILE):
    # repr keeps every digit, so a promoted score compares equal to itself.
    write_atomically(path, lambda tmp: Path(tmp).write_text(f"{value!r}\n", encoding="utf-8"))
