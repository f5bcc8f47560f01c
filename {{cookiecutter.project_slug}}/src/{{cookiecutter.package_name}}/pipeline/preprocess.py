"""Stage 1: validate raw and holdout data, fit the encoding on training data, write Parquet.

Numeric columns: missing values take the training median (plus a 0/1 "missing" column when the
training data had gaps). Other columns: one-hot over the most frequent training categories;
unseen or missing categories encode as all zeros. The target is encoded as 0..k-1 over the
sorted training classes.
"""

import sys

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import config
from ..cli import UserError, command, parser
from .data_io import read_data_dir, write_json, write_parquet
from .params import check


def validate(train, holdout, target):
    for name, frame in (("data/raw", train), ("data/holdout", holdout)):
        if target not in frame.columns:
            raise UserError(
                f"target column {target!r} is not in {name} (columns: {', '.join(map(str, frame.columns))}): "
                "set data.target in params.yaml"
            )
    missing = sorted(set(train.columns) - set(holdout.columns))
    extra = sorted(set(holdout.columns) - set(train.columns))
    if missing or extra:
        raise UserError(
            f"data/holdout columns differ from data/raw: missing {missing}, unexpected {extra}; "
            "both need the same columns"
        )
    classes = train[target].dropna().unique()
    if len(classes) < 2:
        raise UserError(
            f"target {target!r} has {len(classes)} class(es) in data/raw: a classifier needs at least 2"
        )
    unknown = set(holdout[target].dropna().unique()) - set(classes)
    if unknown:
        raise UserError(
            f"data/holdout has target values never seen in data/raw: {sorted(map(str, unknown))}"
        )


def _is_numeric(series):
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _native(value):
    return value.item() if isinstance(value, np.generic) else value


def fit_encoding(train, target, max_categories, id_column=None):
    """Learn everything the encoding needs from the training data only. The id column, when
    there is one, is no feature: it identifies rows."""
    numeric, categorical = {}, {}
    for column in train.columns:
        if column in (target, id_column):
            continue
        series = train[column]
        if _is_numeric(series):
            median = series.median()
            numeric[column] = {
                "median": 0.0 if pd.isna(median) else float(median),
                "missing_indicator": bool(series.isna().any()),
            }
        else:
            counts = series.dropna().astype("string").value_counts(sort=False)
            # Most frequent first, ties broken by name, so the encoding is deterministic.
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            categorical[column] = [category for category, _ in ranked[:max_categories]]
    classes = sorted(_native(value) for value in train[target].dropna().unique())
    return {"target": target, "id_column": id_column, "classes": classes, "numeric": numeric,
            "categorical": categorical}


def encode_features(frame, encoding, keep=slice(None)):
    """The encoded feature columns of ``frame`` (rows ``keep``), as {name: numpy array}: float32
    numbers with the training median for gaps, 0/1 uint8 indicators. No target is needed, so the
    delivered model encodes new rows with the same code (`make predict`)."""
    columns = {}
    for column, spec in encoding["numeric"].items():
        numbers = pd.to_numeric(frame[column], errors="coerce")
        values = numbers.to_numpy(dtype="float32", na_value=np.nan, copy=True)[keep]
        missing = np.isnan(values)
        if spec["missing_indicator"]:
            columns[f"{column}__missing"] = missing.astype("uint8")
        values[missing] = spec["median"]
        columns[column] = values
    for column, categories in encoding["categorical"].items():
        # -1 for missing values and for categories the training data did not have.
        codes = pd.Index(categories).get_indexer(frame[column].astype("string"))[keep]
        for index, category in enumerate(categories):
            columns[f"{column}={category}"] = (codes == index).astype("uint8")
    return columns


def apply_encoding(frame, encoding):
    """Return a pyarrow Table: the encoded features and the encoded target.

    Rows without a target are dropped. Columns are built one at a time and the indicators take
    one byte, so the encoded data stays smaller than the frame it comes from.
    """
    has_target = frame[encoding["target"]].notna().to_numpy()
    keep = slice(None) if has_target.all() else has_target  # no filtered copy of the frame when none is dropped
    columns = encode_features(frame, encoding, keep)
    class_index = {label: index for index, label in enumerate(encoding["classes"])}
    columns[config.TARGET_COLUMN] = frame[encoding["target"]].map(class_index).to_numpy()[keep].astype("int32")
    return pa.table(columns)


def run(params, raw_dir=config.RAW_DIR, holdout_dir=config.HOLDOUT_DIR, out_dir=config.PROCESSED_DIR):
    check(params)
    target = params["data"]["target"]
    train = read_data_dir(raw_dir)
    holdout = read_data_dir(holdout_dir)
    validate(train, holdout, target)
    id_column = params["data"].get("id_column")
    if id_column is not None and id_column not in train.columns:
        raise UserError(f"data.id_column {id_column!r} is not a column of data/raw: set it to one, or to null")
    encoding = fit_encoding(train, target, params["preprocess"]["max_categories"], id_column)
    holdout_out = apply_encoding(holdout, encoding)
    train_out = apply_encoding(train, encoding)
    del train, holdout  # the raw frames are the largest objects here; free them before writing
    encoding["features"] = [c for c in train_out.column_names if c != config.TARGET_COLUMN]
    # Everything is computed before the first write, so a failure leaves no partial output.
    write_parquet(out_dir / "train.parquet", train_out)
    write_parquet(out_dir / "holdout.parquet", holdout_out)
    write_json(out_dir / "encoding.json", encoding)
    print(
        f"preprocess: {train_out.num_rows} training rows, {holdout_out.num_rows} holdout rows, "
        f"{len(encoding['features'])} features, {len(encoding['classes'])} classes"
    )
    return encoding


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    run(config.load_params())


if __name__ == "__main__":
    sys.exit(main())
