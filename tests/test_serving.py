"""The promoted model served: `make serve` as a real uvicorn server on 127.0.0.1, called by a real
HTTP client, and the container image's Dockerfile.

No image is built here: this machine has no container daemon and cannot pull base images. The
Dockerfile is checked by hadolint, and the container-image CI job by the GitLab CI schema
(test_gitlab_ci.py) and by the runner scenario with a stand-in builder (test_gitlab_runner.py).
"""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import VENV_BIN, bake, free_port, read_metrics, run, trained_copy

pytestmark = pytest.mark.slow


def call(port, method, path, body=None, content_type="application/json"):
    """(status, parsed JSON answer) of one HTTP request."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                     headers={"Content-Type": content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def served(trained, tmp_path_factory):
    """`make serve` on a copy of the trained project: (project, port), until the module ends."""
    project = trained_copy(trained, tmp_path_factory.mktemp("served") / "project")
    port = free_port()
    log = open(project / "serve.log", "w")
    server = subprocess.Popen(["make", "serve", f"PORT={port}"], cwd=project, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # until /health answers: a condition, not a fixed sleep
            try:
                if call(port, "GET", "/health") == (200, {"status": "ok"}):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert server.poll() is None, (project / "serve.log").read_text()
            assert time.monotonic() < deadline, "make serve did not answer /health in 120 s"
            time.sleep(0.2)
        yield project, port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()


def test_make_serve_answers_with_the_numbers_of_make_predict(served, tmp_path):
    project, port = served
    holdout = next((project / "data" / "holdout").glob("*.csv"))
    run(f"make predict INPUT={holdout} OUTPUT={tmp_path / 'predictions.csv'}", project)
    lines = (tmp_path / "predictions.csv").read_text().splitlines()
    header, expected = lines[0].split(","), [line.split(",") for line in lines[1:]]
    status, answer = call(port, "POST", "/predict", holdout.read_bytes(), "text/csv")
    assert status == 200 and len(answer) == len(expected)
    assert list(answer[0]) == header
    for row, written in zip(answer, expected, strict=True):
        # make predict writes the same floats as text; the service sends them as JSON numbers.
        assert [str(row[column]) for column in header] == written


def test_model_says_which_model_this_is(served):
    import yaml

    project, port = served
    status, card = call(port, "GET", "/model")
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    [models] = [out for out in lock["stages"]["train"]["outs"] if out["path"] == "models"]
    metrics = read_metrics(project)
    assert status == 200
    assert (card["model"], card["model_md5"], card["metric"]) == ("xgboost", models["md5"], "roc_auc")
    assert card["score"] == metrics["roc_auc"] and card["baseline"] == 0.5
    assert card["promotion_commit"] is None  # nothing promoted yet in this project


def test_two_thousand_requests_eight_at_a_time_without_an_error(served):
    import pandas as pd

    project, port = served
    holdout = pd.read_csv(next((project / "data" / "holdout").glob("*.csv")))
    rows = json.loads(holdout.to_json(orient="records"))
    bodies = [json.dumps(rows[i % len(rows):i % len(rows) + 1 + i % 3]).encode() for i in range(2000)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda body: call(port, "POST", "/predict", body)[0], bodies))
    assert statuses.count(200) == 2000
    assert call(port, "GET", "/health") == (200, {"status": "ok"})


@pytest.mark.parametrize("answers", [{}, {"project_name": "Señal-7 Ω Risk", "model": "random_forest"}],
                         ids=["default", "off-default"])
def test_the_dockerfile_passes_hadolint_and_packs_only_what_the_service_needs(cookies, answers):
    result = bake(cookies, **answers)
    project = result.project_path
    run(f"{VENV_BIN / 'hadolint'} --failure-threshold info Dockerfile", project)
    dockerfile = (project / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile and "\nUSER " in dockerfile and "\nHEALTHCHECK " in dockerfile
    assert "requirements-serve.txt" in dockerfile and "requirements-dev.txt" not in dockerfile
    assert f'"-m", "{result.context["package_name"]}.delivery.serve"' in dockerfile
    allowed = [line for line in (project / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    assert allowed == ["!requirements-serve.txt", "!pyproject.toml", "!src/", "!models/", "!model-card.json"]
