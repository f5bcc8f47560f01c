"""The merge-request report quotes the stored gate verdict and the sanity checks."""

import json

import pytest

from {{ cookiecutter.package_name }}.delivery import ci_report


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_gate_section_quotes_the_verdict_evaluate_wrote(project):
    assert "not evaluated" in ci_report.gate_section()
    (project / "reports/evaluate").mkdir(parents=True)
    (project / "reports/evaluate/gate.json").write_text(json.dumps(
        {"passed": False, "verdict": "roc_auc 0.7000 did not beat baseline 0.7500 by 0.0010"}))
    assert ci_report.gate_section() == "**Gate: FAILED**: roc_auc 0.7000 did not beat baseline 0.7500 by 0.0010"


def test_the_sanity_section_is_a_table_of_checks(project):
    assert ci_report.sanity_section() == "_sanity checks did not run_"
    (project / "reports/sanity").mkdir(parents=True)
    (project / "reports/sanity/summary.json").write_text(json.dumps({"passed": False, "checks": {
        "probabilities_finite": {"passed": True, "detail": "every probability is a finite number"},
        "class_rates_within_tolerance": {"passed": False, "detail": "class 1: 0.9 vs 0.3"}}}))
    lines = ci_report.sanity_section().splitlines()
    assert lines[2:] == ["| ok | `probabilities_finite` | every probability is a finite number |",
                         "| **FAIL** | `class_rates_within_tolerance` | class 1: 0.9 vs 0.3 |"]


def test_posting_outside_a_merge_request_does_nothing(project, monkeypatch, capsys):
    monkeypatch.delenv("CI_MERGE_REQUEST_IID", raising=False)
    assert ci_report.main(["post"]) == 0
    assert "not a merge-request pipeline" in capsys.readouterr().out


def test_the_data_checks_section_is_what_validate_wrote(project):
    assert ci_report.validate_section() == "### Data checks\n\n_did not run_"
    (project / "reports/validate").mkdir(parents=True)
    (project / "reports/validate/report.md").write_text("### Data checks\n\n| check |\n")
    assert ci_report.validate_section() == "### Data checks\n\n| check |"
    assert "| check |" in ci_report.build_report(None)


def test_figures_are_linked_to_their_uploads_and_missing_ones_left_alone(project):
    (project / "reports/figures").mkdir(parents=True)
    (project / "reports/figures/roc.png").write_bytes(b"\x89PNG")
    body = "![roc](figures/roc.png)\n\n![gone](figures/gone.png)\n"
    uploaded = ci_report.with_uploaded_figures(body, lambda path: f"/uploads/abc/{path.name}")
    assert uploaded == "![roc](/uploads/abc/roc.png)\n\n![gone](figures/gone.png)\n"
