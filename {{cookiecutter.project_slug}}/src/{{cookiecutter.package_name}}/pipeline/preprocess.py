"""Stage 1: validate raw and holdout data, learn the column types and categories on the training
data, write Parquet.

Numeric columns stay numbers (float32), missing values kept as such. Every other column is
categorical over the categories the training data has, however many (ids with 100,000 values
included); a missing or unseen value is a missing category. Each model decides how to use them
(see model_store): XGBoost natively, scikit-learn models through an encoding pipeline. A text
column whose values are nearly all numbers is numeric, its few stray strings missing. The target
is encoded as 0..k-1 over the sorted training classes.

With train.engine: dask the stage never holds a whole dataset: it reads partition by partition
(see partitions), learns the encoding from what each partition contributes, then encodes and
writes partition by partition. The outputs are the same as the one-process path's.
"""

import collections
import sys

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import config
from ..cli import UserError, command, parser
from . import partitions
from .data_io import read_data_dir, write_json, write_parquet, write_parquet_parts
from .params import check


def require_target(columns, target, name):
    if target not in columns:
        raise UserError(
            f"target column {target!r} is not in {name} (columns: {', '.join(map(str, columns))}): "
            "set data.target in params.yaml"
        )


def validate(train_columns, holdout_columns, train_classes, holdout_classes, target):
    require_target(train_columns, target, "data/raw")
    require_target(holdout_columns, target, "data/holdout")
    missing = sorted(set(train_columns) - set(holdout_columns))
    extra = sorted(set(holdout_columns) - set(train_columns))
    if missing or extra:
        raise UserError(
            f"data/holdout columns differ from data/raw: missing {missing}, unexpected {extra}; "
            "both need the same columns"
        )
    if len(train_classes) < 2:
        raise UserError(
            f"target {target!r} has {len(train_classes)} class(es) in data/raw: a classifier needs at least 2"
        )
    unknown = set(holdout_classes) - set(train_classes)
    if unknown:
        raise UserError(
            f"data/holdout has target values never seen in data/raw: {sorted(map(str, unknown))}"
        )


def validate_frames(train, holdout, target):
    """``validate`` for whole DataFrames."""
    require_target(train.columns, target, "data/raw")
    require_target(holdout.columns, target, "data/holdout")
    validate(train.columns, holdout.columns, classes_of(train, target), classes_of(holdout, target), target)


def _native(value):
    return value.item() if isinstance(value, np.generic) else value


def classes_of(frame, target):
    return {_native(value) for value in frame[target].dropna().unique()}


# A text column counts as numeric when at least this share of its values are numbers ("n/a", "?"
# and typos then become missing values); below it, it is categorical. Its first HEAD_VALUES values
# are looked at first: when they fail, the costly conversion of the whole column is skipped.
NUMERIC_SHARE = 0.95
HEAD_VALUES = 1000


def _holds_booleans(series):
    return pd.api.types.is_bool_dtype(series) or (
        series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "boolean")


class EncodingFit:
    """The feature columns, their types and categories, and the classes, learnt from the training
    rows given to ``add`` in one or more parts. The result does not depend on how the rows are split:
    the local engine gives the whole frame at once, the dask engine a partition at a time.

    A column is numeric when its values are numbers, or text that is nearly all numbers; anything
    else (booleans included) is categorical over the text forms of its values. The id column, when
    there is one, is no feature: it identifies rows.
    """

    def __init__(self, target, id_column=None):
        self.target, self.id_column = target, id_column
        self.columns = None
        self.classes = set()
        self.kinds = collections.defaultdict(set)  # column -> {"numbers", "text"}: how its parts were read
        self.present = collections.Counter()
        self.numbers = collections.Counter()  # present values that are numbers
        self.head = {}  # column -> [values looked at, numbers among them], the first HEAD_VALUES
        self.categories = collections.defaultdict(set)

    def add(self, frame):
        if self.columns is None:
            self.columns = list(frame.columns)
            require_target(self.columns, self.target, "data/raw")
        self.classes |= classes_of(frame, self.target)
        for column in self.columns:
            if column not in (self.target, self.id_column):
                self.add_column(column, frame[column])

    def add_column(self, column, series):
        present = series.dropna()
        if not len(present):
            return
        booleans = _holds_booleans(present)
        kind = "numbers" if pd.api.types.is_numeric_dtype(present) and not booleans else "text"
        self.kinds[column].add(kind)
        self.present[column] += len(present)
        looked, numbers = self.head.setdefault(column, [0, 0])
        if kind == "numbers":
            self.numbers[column] += len(present)
            taken = min(HEAD_VALUES - looked, len(present))
            self.head[column] = [looked + taken, numbers + taken]
            return
        self.categories[column].update(present.astype("string").unique())
        if booleans:
            return
        if looked < HEAD_VALUES:
            part = present.head(HEAD_VALUES - looked)
            self.head[column] = [looked + len(part), numbers + int(pd.to_numeric(part, errors="coerce").notna().sum())]
        if not self._head_says_text(column):
            self.numbers[column] += int(pd.to_numeric(present, errors="coerce").notna().sum())

    def columns_to_look_at_again(self):
        """Categorical columns read as numbers in some parts (a file whose values were all numbers,
        others with text): the text forms of those parts' numbers are categories too."""
        return [c for c, kinds in self.kinds.items() if len(kinds) > 1 and not self.is_numeric(c)]

    def add_number_categories(self, frame, columns):
        for column in columns:
            present = frame[column].dropna()
            if pd.api.types.is_numeric_dtype(present) and not _holds_booleans(present):
                self.categories[column].update(present.astype("string").unique())

    def _head_says_text(self, column):
        looked, numbers = self.head[column]
        return looked >= min(HEAD_VALUES, self.present[column]) and numbers < NUMERIC_SHARE * looked

    def is_numeric(self, column):
        if self.kinds[column] == {"numbers"}:
            return True
        if self._head_says_text(column) or self.numbers[column] == 0:
            return False
        return self.numbers[column] >= NUMERIC_SHARE * self.present[column]

    def encoding(self):
        numeric, categorical, notes = [], {}, []
        for column in self.columns:
            if column in (self.target, self.id_column):
                continue
            if not self.present[column]:
                notes.append(f"{column} has no values in data/raw: it is no feature")
            elif self.is_numeric(column):
                numeric.append(column)
                stray = self.present[column] - self.numbers[column]
                if stray:
                    notes.append(f"{column} is numeric; its {stray} value(s) that are not numbers count as missing")
            else:
                categorical[column] = sorted(self.categories[column])
        features = [c for c in self.columns if c in categorical or c in numeric]
        return {"target": self.target, "id_column": self.id_column, "classes": sorted(self.classes),
                "features": features, "numeric": numeric, "categorical": categorical, "notes": notes}


def is_numeric(series):
    """Whether a column's values count as numbers (as EncodingFit decides for a training column)."""
    fit = EncodingFit(target=None)
    fit.add_column(series.name, series)
    return series.name in fit.kinds and fit.is_numeric(series.name)


def fit_encoding(train, target, id_column=None):
    """The encoding learnt from the training data only (see EncodingFit)."""
    fit = EncodingFit(target, id_column)
    fit.add(train)
    return fit.encoding()


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


def check_id_column(id_column, columns):
    if id_column is not None and id_column not in columns:
        raise UserError(f"data.id_column {id_column!r} is not a column of data/raw: set it to one, or to null")


def run(params, raw_dir=config.RAW_DIR, holdout_dir=config.HOLDOUT_DIR, out_dir=config.PROCESSED_DIR):
    check(params)
    if params["train"]["engine"] == "dask":
        return run_by_partition(params, raw_dir, holdout_dir, out_dir)
    target, id_column = params["data"]["target"], params["data"].get("id_column")
    train = read_data_dir(raw_dir)
    holdout = read_data_dir(holdout_dir)
    validate_frames(train, holdout, target)
    check_id_column(id_column, train.columns)
    encoding = fit_encoding(train, target, id_column)
    holdout_out = apply_encoding(holdout, encoding)
    train_out = apply_encoding(train, encoding)
    del train, holdout  # the raw frames are the largest objects here; free them before writing
    # Everything is computed before the first write, so a failure leaves no partial output.
    write_parquet(out_dir / "train.parquet", train_out)
    write_parquet(out_dir / "holdout.parquet", holdout_out)
    write_json(out_dir / "encoding.json", encoding)
    return report(encoding, train_out.num_rows, holdout_out.num_rows)


def run_by_partition(params, raw_dir, holdout_dir, out_dir):
    """The same outputs, one partition in memory at a time (train.engine: dask): a pass over the
    training data learns the encoding, a second one encodes and writes it partition by partition."""
    target, id_column = params["data"]["target"], params["data"].get("id_column")
    fit = EncodingFit(target, id_column)
    for frame in partitions.frames(raw_dir):
        fit.add(frame)
    if again := fit.columns_to_look_at_again():
        for frame in partitions.frames(raw_dir):
            fit.add_number_categories(frame, again)
    holdout_columns, holdout_classes = None, set()
    for frame in partitions.frames(holdout_dir):
        if holdout_columns is None:
            holdout_columns = list(frame.columns)
            require_target(holdout_columns, target, "data/holdout")
        holdout_classes |= classes_of(frame, target)
    validate(fit.columns, holdout_columns, fit.classes, holdout_classes, target)
    check_id_column(id_column, fit.columns)
    encoding = fit.encoding()
    print("preprocess: encoding learnt; writing the encoded data partition by partition", flush=True)
    with write_parquet_parts(out_dir / "train.parquet") as write_train, \
            write_parquet_parts(out_dir / "holdout.parquet") as write_holdout:
        rows = {"train": sum(write_train(apply_encoding(frame, encoding)) for frame in partitions.frames(raw_dir)),
                "holdout": sum(write_holdout(apply_encoding(frame, encoding))
                               for frame in partitions.frames(holdout_dir))}
        write_json(out_dir / "encoding.json", encoding)
    return report(encoding, rows["train"], rows["holdout"])


def report(encoding, train_rows, holdout_rows):
    for note in encoding["notes"]:
        print(f"preprocess: {note}")
    print(
        f"preprocess: {train_rows} training rows, {holdout_rows} holdout rows, "
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
