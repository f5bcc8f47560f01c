"""The gate: direction of each metric, the margin, the verdict line, baseline.txt and gate.json."""

import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.pipeline.shared import gate


@pytest.mark.parametrize(
    "metric, value, baseline, margin, passed",
    [
        ("roc_auc", 0.80, 0.70, 0.001, True),
        ("roc_auc", 0.70, 0.70, 0.0, False),  # equal is no improvement
        ("roc_auc", 0.7005, 0.70, 0.001, False),  # better, but not by the margin
        ("log_loss", 0.40, 0.50, 0.001, True),  # lower is better
        ("log_loss", 0.60, 0.50, 0.001, False),
    ],
)
def test_gate_direction_and_margin(metric, value, baseline, margin, passed):
    assert gate.verdict(metric, value, baseline, margin)[0] is passed


def test_log_loss_message_says_lower_is_better():
    assert gate.verdict("log_loss", 0.6, 0.5, 0.001)[1].endswith("(lower is better)")


def test_the_verdict_is_stored_with_the_decision(tmp_path):
    decision = gate.write_gate("roc_auc", 0.7, 0.75, 0.001, tmp_path / "gate.json")
    assert decision == gate.read_gate(tmp_path / "gate.json")
    assert decision["passed"] is False
    assert decision["verdict"] == "roc_auc 0.7000 did not beat baseline 0.7500 by 0.0010"
    assert decision["against"] == "baseline.txt"
    assert gate.read_gate(tmp_path / "absent.json") is None


def test_a_baseline_from_elsewhere_is_named_in_the_verdict(tmp_path):
    decision = gate.write_gate("roc_auc", 0.8, 0.75, 0.001, tmp_path / "gate.json", against="the re-scored model")
    assert decision["verdict"] == ("roc_auc 0.8000 beat baseline 0.7500 by 0.0500 (required 0.0010) "
                                   "[baseline: the re-scored model]")
    assert decision["against"] == "the re-scored model"


def test_a_written_baseline_reads_back_exactly(tmp_path):
    score = 0.7735215796230757
    gate.write_baseline(score, tmp_path / "baseline.txt")
    assert gate.read_baseline(tmp_path / "baseline.txt") == score


def test_a_missing_baseline_says_how_to_create_it(tmp_path):
    with pytest.raises(UserError, match="baseline.txt is missing: create it with one number"):
        gate.read_baseline(tmp_path / "baseline.txt")
