import pytest

from {{ cookiecutter.package_name }} import evaluate, promote, sample_data
from {{ cookiecutter.package_name }}.errors import StageError


def test_promote_writes_the_current_score_so_the_gate_then_needs_a_better_model(params, trained):
    assert evaluate.run(params, trained["processed"], trained["models"], trained["baseline"], trained["evaluate"])
    score = promote.run(params, trained["evaluate"], trained["sanity"], trained["baseline"])
    assert float(trained["baseline"].read_text()) == score
    # The same model no longer passes: it does not beat itself.
    assert not evaluate.run(params, trained["processed"], trained["models"], trained["baseline"], trained["evaluate"])


def test_promote_without_metrics_is_a_clear_error(params, workspace):
    with pytest.raises(StageError, match="run `make repro` before promoting"):
        promote.run(params, workspace["evaluate"], workspace["sanity"], workspace["baseline"])
    assert workspace["baseline"].read_text() == "0.5\n"


def test_sample_batches_are_deterministic_and_distinct(tmp_path):
    first = sample_data.write_batch(tmp_path / "a", 1).read_bytes()
    assert sample_data.write_batch(tmp_path / "b", 1).read_bytes() == first
    assert sample_data.write_batch(tmp_path / "a", 2).read_bytes() != first


def test_sample_data_has_mixed_types_missing_values_and_both_classes():
    rows = list(sample_data.generate_rows(1000, seed=3))
    assert any(row["customer_age"] == "" for row in rows)
    assert {row["contract"] for row in rows} == set(sample_data.CONTRACTS)
    churn_rate = sum(row["churned"] for row in rows) / len(rows)
    assert 0.15 < churn_rate < 0.6
