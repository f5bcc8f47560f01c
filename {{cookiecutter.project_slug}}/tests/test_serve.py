"""The scoring service: a real uvicorn server on 127.0.0.1 and a real HTTP client (the standard
library's), over a model trained in a temporary workspace."""

import json
import threading
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest
import uvicorn

from {{ cookiecutter.package_name }}.delivery import predict, serve
from {{ cookiecutter.package_name }}.pipeline.shared import model_store

from conftest import free_port, run_preprocess, run_train, sample_frame


class Service:
    """The app of ``model_dir`` served by uvicorn in a thread, until ``stop``."""

    def __init__(self, model_dir):
        self.model, self.encoding = model_store.load(model_dir)
        card = {"model": "test", "model_md5": None, "registry_version": None}
        self.port = free_port()
        config = uvicorn.Config(serve.create_app(self.model, self.encoding, card), host="127.0.0.1",
                                port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:  # a condition, not a fixed sleep
            assert self.thread.is_alive(), "the server did not start"
            self.thread.join(0.05)

    def call(self, method, path, body=None, content_type="application/json"):
        """(status, parsed JSON answer) of one request."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method,
                                         headers={"Content-Type": content_type} if body is not None else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def service(trained):
    running = Service(trained["models"])
    yield running
    running.stop()


def as_json(frame):
    return json.dumps(json.loads(frame.to_json(orient="records"))).encode()


@pytest.mark.parametrize("model", model_store.MODELS)
def test_every_model_answers_what_make_predict_writes(params, workspace, model):
    params["train"]["model"] = model
    run_preprocess(params, workspace)
    run_train(params, workspace)
    running = Service(workspace["models"])
    try:
        rows = sample_frame(30, seed=5).drop(columns=[running.encoding["target"]])
        expected = predict.predict(rows, running.model, running.encoding)
        status, answer = running.call("POST", "/predict", as_json(rows))
        assert status == 200, answer
        served = pd.DataFrame(answer)
        assert list(served.columns) == list(expected.columns)
        assert (served["prediction"].to_numpy() == expected["prediction"].to_numpy()).all()
        probabilities = [column for column in expected.columns if column.startswith("probability_")]
        assert np.array_equal(served[probabilities].to_numpy(), expected[probabilities].to_numpy())
        status, csv_answer = running.call("POST", "/predict", rows.to_csv(index=False).encode(), "text/csv")
        assert status == 200 and pd.DataFrame(csv_answer)[probabilities].equals(served[probabilities])
    finally:
        running.stop()


def test_the_id_column_is_echoed_and_a_missing_id_is_null(params, workspace):
    for folder, rows, seed in (("raw", 600, 1), ("holdout", 400, 2)):
        frame = sample_frame(rows, seed=seed)
        frame.insert(0, "account", range(len(frame)))
        frame.to_csv(next(workspace[folder].glob("*.csv")), index=False)
    params["data"]["id_column"] = "account"
    run_preprocess(params, workspace)
    run_train(params, workspace)
    running = Service(workspace["models"])
    try:
        rows = sample_frame(3, seed=4).drop(columns=[running.encoding["target"]])
        rows.insert(0, "account", [7001, None, 7003])
        status, answer = running.call("POST", "/predict", as_json(rows))
        assert status == 200, answer
        assert [row["account"] for row in answer] == [7001, None, 7003]
        assert [row["prediction"] for row in answer] == predict.predict(rows, running.model, running.encoding)[
            "prediction"].tolist()
    finally:
        running.stop()


def test_unseen_categories_gaps_and_extra_columns_are_fine(service):
    rows = sample_frame(3, seed=9)
    rows.loc[0, "contract"] = "ten-year"
    rows.loc[1, "monthly_charges"] = None
    rows["notes"] = "free text"
    status, answer = service.call("POST", "/predict", as_json(rows))
    assert status == 200 and len(answer) == 3
    assert all(value is not None for row in answer for value in row.values())


BAD_REQUESTS = [
    # (what, method, path, body, content type) -> (status, the message's start)
    ("a missing feature column", "POST", "/predict", b'[{"contract": "monthly"}]', "application/json",
     422, "the request lacks the feature column(s) "),
    ("a list inside a row", "POST", "/predict", b'[{"tenure_months": [1, 2]}]', "application/json",
     422, "row 0, column 'tenure_months': a list is not a value"),
    ("an object instead of a list", "POST", "/predict", b'{"tenure_months": 3}', "application/json",
     422, "the body is a JSON dict, not a list"),
    ("a list of numbers", "POST", "/predict", b"[1, 2]", "application/json", 422, "row 0 is a JSON int"),
    ("no rows", "POST", "/predict", b"[]", "application/json", 422, "the list holds no rows"),
    ("an empty body", "POST", "/predict", b"", "application/json", 400, "the body is empty"),
    ("not JSON", "POST", "/predict", b"tenure_months=3", "application/json", 400, "the body is not valid JSON"),
    ("another content type", "POST", "/predict", b"<rows/>", "application/xml", 415,
     "Content-Type application/xml is not served"),
    ("an unknown route", "GET", "/score", None, None, 404, "no route GET /score: this service answers POST /predict"),
    ("the wrong method", "GET", "/predict", None, None, 405, "GET is not allowed on /predict"),
]


def test_bad_requests_get_one_clear_message_and_the_server_keeps_serving(service):
    for what, method, path, body, content_type, status, message in BAD_REQUESTS:
        got, answer = service.call(method, path, body, content_type)
        assert (got, answer["detail"][:len(message)]) == (status, message), what
    assert service.call("GET", "/health") == (200, {"status": "ok"})


def test_an_oversized_body_is_refused_before_it_is_read(service, monkeypatch):
    monkeypatch.setattr(serve, "MAX_BYTES", 1000)
    status, answer = service.call("POST", "/predict", as_json(sample_frame(50, seed=1)))
    assert status == 413 and "over the limit of 1000 bytes (SERVE_MAX_BYTES): send fewer rows" in answer["detail"]


def test_the_openapi_page_lists_the_feature_columns_and_their_kinds(service):
    status, spec = service.call("GET", "/openapi.json")
    assert status == 200
    schema = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    columns = schema["items"]["properties"]
    assert set(schema["items"]["required"]) == set(service.encoding["features"])
    for column in service.encoding["features"]:
        kind = "categorical" if column in service.encoding["categorical"] else "numeric"
        assert columns[column]["description"].startswith(kind)
        assert f"`{column}`: {kind}" in spec["info"]["description"]
