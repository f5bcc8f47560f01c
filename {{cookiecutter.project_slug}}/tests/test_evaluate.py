import json

import pytest

from {{ cookiecutter.package_name }}.cli import UserError
from {{ cookiecutter.package_name }}.pipeline import evaluate
from {{ cookiecutter.package_name }}.pipeline.shared.metrics import METRICS


def run_evaluate(params, ws):
    return evaluate.run(params, ws["processed"], ws["models"], ws["baseline"], ws["evaluate"])


def test_writes_every_metric_and_the_plots(params, trained, capsys):
    assert run_evaluate(params, trained) is True
    metrics = json.loads((trained["evaluate"] / "metrics.json").read_text())
    assert set(METRICS) <= set(metrics)
    plots = trained["evaluate"] / "plots" / "sklearn"
    assert sorted(p.name for p in plots.iterdir()) == ["confusion_matrix.json", "precision_recall.json", "roc.json"]
    assert "roc_auc" in capsys.readouterr().out


def test_gate_fails_after_writing_metrics_with_one_clear_line(params, trained, capsys):
    params["evaluate"]["metric"] = "roc_auc"  # higher is better: no model of this data reaches 0.99
    trained["baseline"].write_text("0.99\n")
    assert run_evaluate(params, trained) is False
    assert (trained["evaluate"] / "metrics.json").exists()
    gate = json.loads((trained["evaluate"] / "gate.json").read_text())
    assert gate["passed"] is False and gate["baseline"] == 0.99
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("roc_auc ") and line.endswith("did not beat baseline 0.9900 by 0.0010")


@pytest.mark.parametrize("content", ["", "abc", "nan"])
def test_bad_baseline_is_a_clear_error(params, trained, content):
    trained["baseline"].write_text(content)
    with pytest.raises(UserError, match="must hold one number"):
        run_evaluate(params, trained)


def test_unknown_metric_is_a_clear_error(params, trained):
    params["evaluate"]["metric"] = "vibes"
    with pytest.raises(UserError, match="evaluate.metric is 'vibes': input should be 'roc_auc'"):
        run_evaluate(params, trained)
