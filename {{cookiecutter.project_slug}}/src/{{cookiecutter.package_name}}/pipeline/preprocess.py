"""Stage 1: validate raw and holdout data, learn the column types and categories on the training
data, write Parquet.

Numeric columns stay numbers (float32), missing values kept as such. Every other column is
categorical over the categories the training data has, however many (ids with 100,000 values
included); a missing or unseen value is a missing category. Each model decides how to use them
(see model_store): XGBoost natively, scikit-learn models through an encoding pipeline. A text
column whose values are nearly all numbers is numeric, its few stray strings missing. The target
is encoded as 0..k-1 over the sorted training classes.
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


def _native(value):
    return value.item() if isinstance(value, np.generic) else value


# A text column counts as numeric when at least this share of its values are numbers ("n/a", "?"
# and typos then become missing values); below it, it is categorical.
NUMERIC_SHARE = 0.95


def is_numeric(series):
    """Numbers, or text that is nearly all numbers."""
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    present = series.dropna()
    # A cheap look at the first values spares the full conversion of real text columns.
    if pd.to_numeric(present.head(1000), errors="coerce").notna().mean() < NUMERIC_SHARE:
        return False
    return pd.to_numeric(present, errors="coerce").notna().mean() >= NUMERIC_SHARE


def fit_encoding(train, target, id_column=None):
    """Learn the feature columns, their types and categories, and the classes, from the training
    data only. The id column, when there is one, is no feature: it identifies rows."""
    numeric, categorical, notes = [], {}, []
    for column in train.columns:
        if column in (target, id_column):
            continue
        series = train[column]
        if series.isna().all():
            notes.append(f"{column} has no values in data/raw: it is no feature")
        elif is_numeric(series):
            numeric.append(column)
            stray = int(pd.to_numeric(series.dropna(), errors="coerce").isna().sum())
            if stray:
                notes.append(f"{column} is numeric; its {stray} value(s) that are not numbers count as missing")
        else:
            categorical[column] = sorted(series.dropna().astype("string").unique().tolist())
    classes = sorted(_native(value) for value in train[target].dropna().unique())
    features = [c for c in train.columns if c in categorical or c in numeric]
    return {"target": target, "id_column": id_column, "classes": classes, "features": features,
            "numeric": numeric, "categorical": categorical, "notes": notes}


def encode_features(frame, encoding):
    """The model's input for the rows of ``frame``: a DataFrame of the feature columns in training
    order, float32 numbers and categoricals over the training categories (unseen values missing).
    No target is needed, so the delivered model reads new rows through the same code (make predict)."""
    columns = {}
    for column in encoding["features"]:
        if column in encoding["categorical"]:
            values = frame[column]
            if not pd.api.types.is_string_dtype(values):
                values = values.astype("string")
            categories = pd.Index(encoding["categorical"][column])
            # -1, a missing value, for gaps and for categories the training data did not have.
            columns[column] = pd.Categorical.from_codes(categories.get_indexer(values), categories=categories)
        else:
            columns[column] = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float32", na_value=np.nan)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def to_table(features, target=None):
    """A pyarrow Table of encoded features (categoricals as their int32 codes, -1 for missing)
    and, when given, the encoded target. ``data_io.load_xy`` turns it back into the model's input."""
    columns = {name: (features[name].cat.codes.to_numpy().astype("int32")
                      if isinstance(features[name].dtype, pd.CategoricalDtype) else features[name].to_numpy())
               for name in features.columns}
    if target is not None:
        columns[config.TARGET_COLUMN] = target
    return pa.table(columns)


def apply_encoding(frame, encoding):
    """Return a pyarrow Table: the encoded features and the encoded target. Rows without a target
    are dropped."""
    has_target = frame[encoding["target"]].notna().to_numpy()
    if not has_target.all():
        frame = frame[has_target]
    class_index = {label: index for index, label in enumerate(encoding["classes"])}
    target = frame[encoding["target"]].map(class_index).to_numpy().astype("int32")
    return to_table(encode_features(frame, encoding), target)


def run(params, raw_dir=config.RAW_DIR, holdout_dir=config.HOLDOUT_DIR, out_dir=config.PROCESSED_DIR):
    check(params)
    target = params["data"]["target"]
    train = read_data_dir(raw_dir)
    holdout = read_data_dir(holdout_dir)
    validate(train, holdout, target)
    id_column = params["data"].get("id_column")
    if id_column is not None and id_column not in train.columns:
        raise UserError(f"data.id_column {id_column!r} is not a column of data/raw: set it to one, or to null")
    encoding = fit_encoding(train, target, id_column)
    holdout_out = apply_encoding(holdout, encoding)
    train_out = apply_encoding(train, encoding)
    del train, holdout  # the raw frames are the largest objects here; free them before writing
    # Everything is computed before the first write, so a failure leaves no partial output.
    write_parquet(out_dir / "train.parquet", train_out)
    write_parquet(out_dir / "holdout.parquet", holdout_out)
    write_json(out_dir / "encoding.json", encoding)
    for note in encoding["notes"]:
        print(f"preprocess: {note}")
    print(
        f"preprocess: {train_out.num_rows} training rows, {holdout_out.num_rows} holdout rows, "
        f"{len(encoding['numeric'])} numeric and {len(encoding['categorical'])} categorical features, "
        f"{len(encoding['classes'])} classes"
    )
    return encoding


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    run(config.load_params())


if __name__ == "__main__":
    sys.exit(main())
