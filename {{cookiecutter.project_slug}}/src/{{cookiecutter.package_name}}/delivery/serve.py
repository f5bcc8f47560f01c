"""`make serve` (HOST, default 127.0.0.1; PORT, default 8000): the delivered model over HTTP.

    POST /predict  a JSON list of row objects ({column: value}), or CSV with `Content-Type: text/csv`;
                   answered with a JSON list holding, per row, the fields of a `make predict` row
    GET  /model    which model this is: its hash in dvc.lock, metric and score, promotion commit
                   and registry version when known
    GET  /health   {"status": "ok"} once the model is loaded
    GET  /docs     the OpenAPI page, listing the feature columns and their kinds

Rows are scored by `make predict`'s own code (delivery/predict.py): the same encoding and the same
checks. A missing feature column is a 422 naming it; unseen categories and gaps are fine; the id
column (data.id_column) is echoed back. The model is loaded once, at start; each request's rows
are scored as one batch. A body over SERVE_MAX_BYTES (default 8 MiB) is refused with 413.
"""

import io
import json
import os
import sys
from pathlib import Path

from .. import config
from ..cli import UserError, command, parser
from ..pipeline.shared import gate
from ..pipeline.shared.data_io import read_csv, read_json
from . import ci_promote, predict, tracking

MAX_BYTES = int(os.environ.get("SERVE_MAX_BYTES", 8 * 2**20))
# Written by the CI image job next to the model (the image has no Git history to read it from).
MODEL_CARD_FILE = Path("model-card.json")
ROUTES = "POST /predict, GET /model, GET /health, GET /docs"


class BadRequest(Exception):
    """A request the service refuses: its HTTP status and one line saying what to send instead."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def describe_model(encoding):
    """Which model the workspace holds: the card the image was built with, else what dvc.lock,
    the metrics and Git history say (fields left null when unknown)."""
    if MODEL_CARD_FILE.exists():
        return read_json(MODEL_CARD_FILE)
    metric = config.load_params()["evaluate"]["metric"]
    scores = read_json(config.METRICS_FILE) if config.METRICS_FILE.exists() else {}
    commit, registered_model, version = ci_promote.last_promotion()
    return {
        "model": read_json(config.MODEL_DIR / "model.json")["model"],
        "model_md5": tracking.model_hash(),
        "metric": metric,
        "score": scores.get(metric),
        "baseline": gate.read_baseline() if config.BASELINE_FILE.exists() else None,
        "promotion_commit": commit,
        "registered_model": registered_model,
        "registry_version": version,
        "target": encoding["target"],
        "classes": encoding["classes"],
    }


def request_schema(encoding):
    """The JSON schema of /predict's body, for the OpenAPI page: one property per feature column."""
    properties = {}
    for column in encoding["features"]:
        if column in encoding["categorical"]:
            categories = encoding["categorical"][column]
            shown = ", ".join(map(str, categories[:10])) + (", ..." if len(categories) > 10 else "")
            properties[column] = {"type": ["string", "null"],
                                  "description": f"categorical, {len(categories)} categories: {shown}"}
        else:
            properties[column] = {"type": ["number", "null"], "description": "numeric"}
    if encoding.get("id_column"):
        properties[encoding["id_column"]] = {"description": "id column: echoed back, not a feature"}
    return {"type": "array", "minItems": 1,
            "items": {"type": "object", "properties": properties, "required": list(encoding["features"])}}


def rows_from_json(body):
    """A DataFrame from a JSON list of row objects, or BadRequest saying what is wrong."""
    import pandas as pd

    try:
        rows = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(400, f"the body is not valid JSON ({error}): send a JSON list of row objects") from error
    if not isinstance(rows, list):
        raise BadRequest(422, f"the body is a JSON {type(rows).__name__}, not a list: send a list of row objects, "
                              'e.g. [{"column": value, ...}]')
    if not rows:
        raise BadRequest(422, "the list holds no rows: send at least one row object")
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BadRequest(422, f"row {number} is a JSON {type(row).__name__}, not an object of column: value")
        for column, value in row.items():
            if isinstance(value, (list, dict)):
                raise BadRequest(422, f"row {number}, column {column!r}: a {type(value).__name__} is not a value; "
                                      "values are numbers, strings, booleans or null")
    return pd.DataFrame.from_records(rows)


def rows_from_csv(body):
    try:
        frame = read_csv(io.BytesIO(body))
    except Exception as error:  # noqa: BLE001 - any reader failure means the same to the caller
        raise BadRequest(400, f"the body is not readable CSV ({error})") from error
    if frame.empty:
        raise BadRequest(422, "the CSV holds no rows: send a header line and at least one row")
    return frame


def score(frame, model, encoding):
    """The JSON text of `make predict`'s output rows for ``frame`` (one model call for all of them)."""
    try:
        out = predict.predict(frame, model, encoding, source="the request")
    except UserError as error:
        raise BadRequest(422, str(error)) from error
    # Column by column to Python values, then rows: a few times faster than pandas' own record
    # conversion on small requests, which is where a service's latency lives. Missing ids become
    # null (JSON has no NaN); every other field is a finite number or a label.
    import pandas as pd

    columns = {name: out[name].tolist() for name in out.columns}
    if id_column := encoding.get("id_column"):
        columns[id_column] = [None if pd.isna(value) else value for value in columns[id_column]]
    return json.dumps([dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)])


def create_app(model, encoding, card):
    """The FastAPI application over a loaded model, its encoding and its description."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException

    features = "\n".join(
        f"- `{column}`: " + ("categorical" if column in encoding["categorical"] else "numeric")
        for column in encoding["features"])
    app = FastAPI(
        title=f"{tracking.MODEL} scoring service",
        description=f"Predicts `{encoding['target']}` (classes: {', '.join(map(str, encoding['classes']))}) "
                    f"with the {card['model']} model in `models/`.\n\nFeature columns:\n{features}",
        version=str(card.get("registry_version") or card.get("model_md5") or "workspace"),
    )

    @app.exception_handler(BadRequest)
    def bad_request(request, error):
        return JSONResponse({"detail": str(error)}, status_code=error.status)

    @app.exception_handler(HTTPException)
    def no_such_route(request, error):
        if error.status_code == 404:
            detail = f"no route {request.method} {request.url.path}: this service answers {ROUTES}"
        elif error.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}: this service answers {ROUTES}"
        else:
            detail = error.detail
        return JSONResponse({"detail": detail}, status_code=error.status_code)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/model")
    def model_card():
        return card

    @app.post("/predict", openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": request_schema(encoding)},
        "text/csv": {"schema": {"type": "string", "description": "a header line with the feature columns, "
                                                                 "then one line per row"}}}}})
    async def predict_rows(request: Request):
        body = await read_body(request)
        kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if kind == "text/csv":
            frame = rows_from_csv(body)
        elif kind in ("application/json", ""):
            frame = rows_from_json(body)
        else:
            raise BadRequest(415, f"Content-Type {kind} is not served: send application/json or text/csv")
        # Sent as it is: FastAPI would otherwise walk the rows again to make them JSON-ready.
        return Response(score(frame, model, encoding), media_type="application/json")

    return app


async def read_body(request):
    """The body, refused with 413 as soon as it passes MAX_BYTES (whether or not it says its length)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise BadRequest(413, f"the body has {int(declared)} bytes, over the limit of {MAX_BYTES} bytes "
                              "(SERVE_MAX_BYTES): send fewer rows per request")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise BadRequest(413, f"the body is over the limit of {MAX_BYTES} bytes (SERVE_MAX_BYTES): "
                                  "send fewer rows per request")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise BadRequest(400, "the body is empty: send a JSON list of row objects")
    return body


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("--host", default="127.0.0.1", help="address to listen on (HOST)")
    arguments.add_argument("--port", type=int, default=8000, help="port to listen on (PORT)")
    arguments.add_argument("--write-card", type=Path, metavar="FILE",
                           help="write what GET /model will say to FILE and exit (the CI image job)")
    args = arguments.parse_args(argv)
    model, encoding = predict.load_delivered_model()
    card = describe_model(encoding)
    if card["model"] == "xgboost":
        # Requests are small: a thread pool gains little on them, and its barrier waits for its
        # slowest thread, late whenever other work shares the cores; one thread halved the p99
        # latency of 100-row requests (docs/benchmarks.md of the template). The scikit-learn models
        # already predict on one thread (model_store.serial_prediction); the numbers do not change.
        model.set_params(n_jobs=1)
    if args.write_card:
        args.write_card.write_text(json.dumps(card, indent=2) + "\n")
        print(f"serve: wrote {args.write_card}")
        return 0
    import uvicorn

    shown = f"{card['score']:.4f}" if card["score"] is not None else "not evaluated"
    print(f"serve: the {card['model']} model {card['model_md5'] or ''} ({card['metric']} {shown}) "
          f"on http://{args.host}:{args.port}, docs at /docs", flush=True)
    uvicorn.run(create_app(model, encoding, card), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
