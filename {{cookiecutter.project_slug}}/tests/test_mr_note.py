"""The merge-request note: posted only in a merge request, its figures linked to their uploads."""

import pytest

from {{ cookiecutter.package_name }}.delivery import mr_note


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_posting_outside_a_merge_request_does_nothing(project, monkeypatch, capsys):
    monkeypatch.delenv("CI_MERGE_REQUEST_IID", raising=False)
    assert mr_note.main([]) == 0
    assert "not a merge-request pipeline" in capsys.readouterr().out


def test_figures_are_linked_to_their_uploads_and_missing_ones_left_alone(project):
    (project / "reports/figures").mkdir(parents=True)
    (project / "reports/figures/roc.png").write_bytes(b"\x89PNG")
    body = "![roc](figures/roc.png)\n\n![gone](figures/gone.png)\n"
    uploaded = mr_note.with_uploaded_figures(body, lambda path: f"/uploads/abc/{path.name}")
    assert uploaded == "![roc](/uploads/abc/roc.png)\n\n![gone](figures/gone.png)\n"
