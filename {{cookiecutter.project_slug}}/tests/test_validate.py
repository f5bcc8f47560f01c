"""The data checks: each one fires on the damage it is for, names what it found, and only `fail`
checks stop the pipeline."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.pipeline import validate


@pytest.fixture
def checked(params, workspace, monkeypatch):
    """Run the stage in the workspace (no Git history there: nothing accepted to compare with)."""
    monkeypatch.chdir(workspace["raw"].parents[1])

    def run(change_raw=None, change_holdout=None, **settings):
        for split, change in (("raw", change_raw), ("holdout", change_holdout)):
            if change:
                path = next(workspace[split].iterdir())
                frame = pd.read_csv(path)
                change(frame).to_csv(path, index=False)
        params["validate"].update(settings)
        failed = validate.run(params, workspace["raw"], workspace["holdout"], workspace["validate"])
        summary = json.loads((workspace["validate"] / "summary.json").read_text())
        drift = json.loads((workspace["validate"] / "drift.json").read_text())
        return failed, summary, drift

    return run


def test_sample_data_passes_every_check_and_every_report_is_written(checked, workspace):
    failed, summary, drift = checked()
    assert failed == [] and summary["passed"]
    assert {name for name, check in summary["checks"].items() if not check["passed"]} == set()
    assert set(summary["checks"]["leakage"]) == {"passed", "severity", "detail"}
    assert sorted(p.name for p in workspace["validate"].iterdir()) == [
        "drift.json", "junit.xml", "passed", "report.md", "summary.json"]
    assert drift["train_vs_accepted"] == []
    assert len(drift["train_vs_holdout"]) == 9 and not any(e["drifted"] for e in drift["train_vs_holdout"])
    assert "### Data checks" in (workspace["validate"] / "report.md").read_text()


def test_a_copied_target_column_is_named_and_stops_training(checked, workspace):
    def leak(frame):
        return frame.assign(churn_flag=frame["churned"].map({0: "stayed", 1: "left"}))

    failed, summary, _ = checked(leak, leak)
    assert failed == ["leakage"] and not summary["passed"]
    assert "churn_flag (ROC AUC 1.000, at least 1.000 on 600 rows)" in summary["checks"]["leakage"]["detail"]
    assert not (workspace["validate"] / "passed").exists()
    junit = ET.parse(workspace["validate"] / "junit.xml").getroot()
    assert junit.get("failures") == "1"
    assert junit.find("testcase[@name='leakage']/failure") is not None


def test_a_feature_shifted_by_three_standard_deviations_is_the_top_drift(checked):
    def shift(frame):
        return frame.assign(monthly_charges=frame["monthly_charges"] + 3 * frame["monthly_charges"].std())

    failed, summary, drift = checked(change_holdout=shift)
    top = drift["train_vs_holdout"][0]
    assert top["feature"] == "monthly_charges" and top["statistic"] == "psi" and top["drifted"]
    assert top["score"] > 1 > drift["train_vs_holdout"][1]["score"] * 10
    assert failed == [] and not summary["checks"]["drift"]["passed"]  # drift warns by default
    assert "monthly_charges (PSI" in summary["checks"]["drift"]["detail"]
    assert checked(drift="fail")[0] == ["drift"]


def test_drift_against_the_accepted_data_uses_the_same_statistic(params, workspace):
    accepted = pd.read_csv(next(workspace["raw"].iterdir()))
    new = accepted.assign(region=np.where(accepted.index % 2, "north", accepted["region"]))
    encoding = {"features": ["region", "tenure_months"], "numeric": ["tenure_months"], "categorical": {"region": []}}
    entries = validate.drift(accepted, new, encoding, max_psi=0.25)
    assert [e["feature"] for e in entries] == ["region", "tenure_months"]
    assert entries[0]["drifted"] and entries[1]["score"] == 0


def test_text_shares_count_each_row_in_its_category_other_or_missing():
    """A number and its text are one category (as text, as the encoding reads them); NaN, None and
    pd.NA are missing; what is not among the categories is "other"."""
    values = pd.Series(["a", "b", 1, "1", np.nan, None, pd.NA, "zz", "a", "b"], dtype=object)
    shares = validate._shares(values, categories=["a", "1", "b"])
    assert shares.tolist() == [0.2, 0.2, 0.2, 0.1, 0.3]  # a, 1, b, other, missing
    assert validate._shares(values.astype("string"), categories=["a"]).tolist() == [0.2, 0.5, 0.3]
    assert validate._shares(pd.Series([], dtype=object), categories=["a"]).tolist() == [0, 0, 0]


def test_identical_features_with_different_labels_are_flagged(checked, workspace):
    def conflict(frame):
        twins = frame.head(5).assign(churned=1 - frame["churned"].head(5))
        return pd.concat([frame, twins], ignore_index=True)

    failed, summary, _ = checked(conflict)
    assert not summary["checks"]["conflicting_labels"]["passed"]
    assert summary["checks"]["conflicting_labels"]["detail"].startswith("10 rows share identical features")
    assert failed == []  # warn by default
    junit = ET.parse(workspace["validate"] / "junit.xml").getroot()
    assert junit.get("failures") == "0"  # a warning shows in GitLab's test tab without failing it
    assert junit.find("testcase[@name='conflicting_labels']/skipped").get("message").startswith("warning: 10 rows")
    assert checked(conflicting_labels="fail")[0] == ["conflicting_labels"]


def test_duplicates_constants_type_changes_and_missing_jumps_are_named(checked):
    def damage_raw(frame):
        return pd.concat([frame, frame.head(3)], ignore_index=True).assign(country="NL")

    def damage_holdout(frame):
        frame["support_calls"] = frame["support_calls"].map(lambda n: f"{n} calls")
        frame.loc[: len(frame) // 2, "satisfaction"] = None
        return frame.assign(country="NL")

    failed, summary, _ = checked(damage_raw, damage_holdout)
    details = {name: check["detail"] for name, check in summary["checks"].items() if not check["passed"]}
    assert details["duplicate_rows"].startswith("3 of 603 rows")
    assert details["constant_columns"] == "one value only: country"
    assert "support_calls (numeric here, categorical in data/holdout of 400 rows)" in details["type_changes"]
    assert "satisfaction" in details["missing_rate_jump"]
    assert failed == ["type_changes"]


@pytest.mark.parametrize("values", [[1, 1, 1], [1, None, 1], [None, None], [None, 1.0], ["a", "a"], ["a", None],
                                    [None, "a"], ["a", "b"], []], ids=str)
def test_a_constant_column_has_one_value_in_every_row_a_missing_one_included(values):
    column = pd.Series(values, dtype="str" if any(isinstance(v, str) for v in values) else "float64")
    assert validate.is_constant(column) == (column.nunique(dropna=False) <= 1)


def test_accepted_data_of_another_dataset_is_not_compared(checked, monkeypatch, capsys):
    other = pd.DataFrame({"label": [0, 1] * 50, "x": range(100)})
    monkeypatch.setattr(validate, "accepted_training_data",
                        lambda raw_dir, read: (other, "accepted data of commit 1234"))
    failed, summary, drift = checked()
    assert failed == [] and drift["train_vs_accepted"] == []
    assert "the accepted data has no column 'churned': another dataset, not compared" in capsys.readouterr().out


def test_the_accepted_data_is_compared_when_it_has_the_target(checked, workspace, monkeypatch):
    accepted = pd.read_csv(next(workspace["raw"].iterdir()))
    accepted["tenure_months"] = accepted["tenure_months"].map(lambda n: f"{n} months")
    monkeypatch.setattr(validate, "accepted_training_data",
                        lambda raw_dir, read: (accepted, "accepted data of commit 1234"))
    failed, summary, drift = checked()
    assert [e["feature"] for e in drift["train_vs_accepted"]][:1] == ["tenure_months"]
    assert "tenure_months (numeric here, categorical in the accepted data of 600 rows)" in \
        summary["checks"]["type_changes_since_accepted"]["detail"]
    assert failed == ["type_changes_since_accepted"]


def test_an_honest_strong_feature_of_a_small_table_is_no_leak():
    """Iris: petal length alone separates the species with a ROC AUC near 0.99 on 150 rows."""
    from sklearn.datasets import load_iris

    from {{ cookiecutter.package_name }}.pipeline.shared.encoding import fit_encoding

    iris = load_iris(as_frame=True).frame
    scores, rows = validate.single_feature_scores(iris, fit_encoding(iris, "target"), seed=42)
    auc, bound = scores["petal length (cm)"]
    assert auc > 0.98 > bound and rows == 150
    passed, detail = validate.leakage(scores, rows, max_auc=0.98)
    assert passed and "on 150 rows" in detail
    # The same table with the species copied under another name: caught at this size.
    scores, rows = validate.single_feature_scores(iris.assign(kind=iris["target"] * 10),
                                                  fit_encoding(iris.assign(kind=iris["target"] * 10), "target"), 42)
    assert not validate.leakage(scores, rows, max_auc=0.98)[0]


def test_a_copied_target_of_ten_classes_is_caught():
    """A shallow tree over ten classes' shares cannot isolate every class; the shares themselves can."""
    from sklearn.datasets import load_digits

    from {{ cookiecutter.package_name }}.pipeline.shared.encoding import fit_encoding

    digits = load_digits(as_frame=True).frame
    digits = digits.assign(copy=digits["target"].map(lambda label: f"class {label}"))
    scores, rows = validate.single_feature_scores(digits, fit_encoding(digits, "target"), seed=42)
    assert scores["copy"] == (1.0, 1.0)
    passed, detail = validate.leakage(scores, rows, max_auc=0.98)
    assert not passed and "copy (ROC AUC 1.000, at least 1.000 on 1797 rows)" in detail


@pytest.mark.parametrize("kind, train, holdout, changed", [
    # A numeric column with a stray note in 2 of 20 holdout rows: chance, not a new type.
    ("numeric", pd.Series([str(n) for n in range(1000)] + ["n/a"] * 10),
     pd.Series(["1", "n/a", "2", "n/a"] + ["3"] * 16), False),
    ("numeric", pd.Series([str(n) for n in range(1000)]), pd.Series([f"{n} calls" for n in range(20)]), True),
    # A text column whose few holdout values all look like numbers it already had.
    ("categorical", pd.Series(["1", "2", "x", "y"] * 50), pd.Series([1, 2, 2, 1]), False),
    ("categorical", pd.Series(["basic", "pro"] * 50), pd.Series([1, 2, 2, 1]), True),
])
def test_a_type_change_needs_evidence_at_the_holdout_size(kind, train, holdout, changed):
    assert validate.kind_changed(train, holdout, kind) is changed


def test_on_more_than_max_rows_the_checks_see_a_random_sample_of_that_many(params, workspace, capsys):
    params["validate"]["max_rows"] = 450
    validate.run(params, workspace["raw"], workspace["holdout"], workspace["validate"])
    printed = capsys.readouterr().out
    assert f"{workspace['raw']}: a random sample of 450 of its 600 rows" in printed
    assert f"{workspace['holdout']}: a random sample" not in printed  # 400 rows: every one is checked
    summary = json.loads((workspace["validate"] / "summary.json").read_text())
    assert summary["passed"] and "drift" in summary["checks"]


def test_the_sample_is_uniform_in_row_order_and_the_same_for_a_seed(tmp_path, monkeypatch):
    from {{ cookiecutter.package_name }}.pipeline.shared import partitions

    monkeypatch.setattr(partitions, "PARTITION_ROWS", 100)  # many partitions, so the sample is pruned often
    monkeypatch.setattr(partitions, "CSV_BLOCK_BYTES", 4 * 1024)
    # Whole numbers, then one decimal in the last block: read again with the column widened.
    lines = ["row,y", *(f"{i},{i % 2}" for i in range(5000)), "5000.5,0"]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    sample, total = partitions.sample(tmp_path, 1000, seed=3)
    assert total == 5001 and len(sample) == 1000 and sample["row"].is_monotonic_increasing
    assert sample["row"].dtype == "float64"  # as a whole-file read types it
    assert sample["row"].is_unique and 1800 < sample["row"].mean() < 3200  # drawn from the whole file
    assert (sample["row"] >= 4000).sum() > 150  # the last partitions are not crowded out
    assert sample.equals(partitions.sample(tmp_path, 1000, seed=3)[0])
    whole, _ = partitions.sample(tmp_path, None, seed=3)
    assert len(whole) == 5001
