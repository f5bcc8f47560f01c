"""make report: PNG figures and an HTML page that needs nothing from the network."""

import json
import re

import matplotlib.image
import pytest

from {{ cookiecutter.package_name }} import config
from {{ cookiecutter.package_name }}.delivery import figures, report
from {{ cookiecutter.package_name }}.pipeline import evaluate, sanity, validate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def project(params, trained, monkeypatch):
    """A workspace where every stage ran, as the current folder (report paths are project paths)."""
    workspace = trained
    monkeypatch.chdir(workspace["raw"].parents[1])
    validate.run(params, workspace["raw"], workspace["holdout"], workspace["validate"])
    evaluate.run(params, workspace["processed"], workspace["models"], workspace["baseline"], workspace["evaluate"])
    sanity.run(params, workspace["processed"], workspace["models"], workspace["cv"], workspace["sanity"])
    return workspace


def test_every_figure_is_a_real_png_and_the_html_inlines_them_all(project):
    written = report.run()
    names = sorted(path.name for path in written)
    assert {"roc.png", "precision_recall.png", "calibration.png", "confusion_matrix.png"} <= set(names)
    assert len([n for n in names if n.startswith("drift_")]) == figures.DRIFT_FIGURES
    for path in written:
        assert path.read_bytes().startswith(PNG_MAGIC)
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 200
        assert image[..., :3].std() > 0.05  # not a blank canvas
    page = report.HTML_FILE.read_text()
    assert page.count("data:image/png;base64,") == len(written)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from the network
    assert "<table>" in page and "Gate: passed" in page
    markdown = config.REPORT_FILE.read_text()
    assert all(f"(figures/{path.name})" in markdown for path in written)


def test_a_text_feature_drift_figure_compares_category_shares(project):
    encoding = json.loads((project["processed"] / "encoding.json").read_text())
    [path] = figures.drift_figures([{"feature": "region", "score": 0.3}], encoding)
    assert path.name == "drift_region.png" and path.read_bytes().startswith(PNG_MAGIC)


def test_a_report_after_a_failed_validation_still_shows_the_data_checks(params, workspace, monkeypatch):
    monkeypatch.chdir(workspace["raw"].parents[1])
    params["validate"]["drift_max_psi"] = 0.0001
    params["validate"]["drift"] = "fail"
    assert validate.run(params, workspace["raw"], workspace["holdout"], workspace["validate"]) == ["drift"]
    assert report.run() == []
    page = report.HTML_FILE.read_text()
    assert "Data checks" in page and "Gate: not evaluated" in page


def test_the_accepted_model_is_drawn_over_this_one_in_the_curves_only(project):
    from {{ cookiecutter.package_name }}.pipeline.shared import model_store

    y, proba, encoding = model_store.score_holdout(config.MODEL_DIR, config.PROCESSED_DIR / "holdout.parquet")
    alone = [path.read_bytes() for path in figures.model_figures(y, proba, encoding["classes"])]
    accepted = ("accepted model (1a2b3c4d)", y, proba[:, ::-1])  # an accepted model that ranks the other way round
    overlaid = [path.read_bytes() for path in figures.model_figures(y, proba, encoding["classes"], accepted)]
    # Drawn over ROC, precision-recall and calibration; the confusion matrix is this model's alone.
    assert [a != b for a, b in zip(alone, overlaid, strict=True)] == [True, True, True, False]


def test_without_git_there_is_no_accepted_model_to_overlay(project):
    assert figures.accepted_predictions() is None
    report.run()
    assert "The curves show this model only" in config.REPORT_FILE.read_text()
