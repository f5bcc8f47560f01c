"""The report's Markdown quotes the stored gate verdict, the sanity checks and the data checks."""

import json

import pytest

from {{ cookiecutter.package_name }}.delivery import report


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_gate_section_quotes_the_verdict_evaluate_wrote(project):
    assert "not evaluated" in report.gate_section()
    (project / "reports/evaluate").mkdir(parents=True)
    (project / "reports/evaluate/gate.json").write_text(json.dumps(
        {"passed": False, "verdict": "roc_auc 0.7000 did not beat baseline 0.7500 by 0.0010"}))
    assert report.gate_section() == "**Gate: FAILED**: roc_auc 0.7000 did not beat baseline 0.7500 by 0.0010"


def test_the_sanity_section_is_a_table_of_checks(project):
    assert report.sanity_section() == "_sanity checks did not run_"
    (project / "reports/sanity").mkdir(parents=True)
    (project / "reports/sanity/summary.json").write_text(json.dumps({"passed": False, "checks": {
        "probabilities_finite": {"passed": True, "detail": "every probability is a finite number"},
        "class_rates_within_tolerance": {"passed": False, "detail": "class 1: 0.9 vs 0.3"}}}))
    lines = report.sanity_section().splitlines()
    assert lines[2:] == ["| ok | `probabilities_finite` | every probability is a finite number |",
                         "| **FAIL** | `class_rates_within_tolerance` | class 1: 0.9 vs 0.3 |"]


def test_the_data_checks_section_is_what_validate_wrote(project):
    assert report.validate_section() == "### Data checks\n\n_did not run_"
    (project / "reports/validate").mkdir(parents=True)
    (project / "reports/validate/report.md").write_text("### Data checks\n\n| check |\n")
    assert report.validate_section() == "### Data checks\n\n| check |"
    assert "| check |" in report.build_report(None)
