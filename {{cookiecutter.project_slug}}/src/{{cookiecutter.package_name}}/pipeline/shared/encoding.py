"""The encoding: what the feature columns are and how a row becomes the model's input, learnt on
the training data only and applied the same way everywhere (preprocess, train, evaluate, validate,
make predict and the Dask workers).

Numeric columns stay numbers (float32), missing values kept as such. Every other column is
categorical over the categories the training data has, however many (ids with 100,000 values
included); a missing or unseen value is a missing category. A text column whose values are nearly
all numbers is numeric, its few stray strings missing. The target is encoded as 0..k-1 over the
sorted training classes. Processed Parquet holds categoricals as int32 codes; ``decode`` turns
them back into the model's input.
"""

import collections

import numpy as np
import pandas as pd
import pyarrow as pa

from ... import config
from ...cli import UserError


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
        self.read_as = collections.defaultdict(set)  # column -> {"numbers", "strings"}: how its parts were read
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
        read_as = "numbers" if pd.api.types.is_numeric_dtype(present) and not booleans else "strings"
        self.read_as[column].add(read_as)
        self.present[column] += len(present)
        looked, numbers = self.head.setdefault(column, [0, 0])
        if read_as == "numbers":
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
        return [c for c, read_as in self.read_as.items() if len(read_as) > 1 and not self.is_numeric(c)]

    def add_number_categories(self, frame, columns):
        for column in columns:
            present = frame[column].dropna()
            if pd.api.types.is_numeric_dtype(present) and not _holds_booleans(present):
                self.categories[column].update(present.astype("string").unique())

    def _head_says_text(self, column):
        looked, numbers = self.head[column]
        return looked >= min(HEAD_VALUES, self.present[column]) and numbers < NUMERIC_SHARE * looked

    def is_numeric(self, column):
        if self.read_as[column] == {"numbers"}:
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
    return series.name in fit.read_as and fit.is_numeric(series.name)


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
    and, when given, the encoded target. ``decode`` turns it back into the model's input."""
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
    return to_table(encode_features(frame, encoding), encode_target(frame, encoding))


def encode_target(frame, encoding):
    """The target of ``frame`` as 0..k-1 over the training classes (int32); every row's class must be one of them."""
    class_index = {label: index for index, label in enumerate(encoding["classes"])}
    return frame[encoding["target"]].map(class_index).to_numpy().astype("int32")


def check_id_column(id_column, columns):
    if id_column is not None and id_column not in columns:
        raise UserError(f"data.id_column {id_column!r} is not a column of data/raw: set it to one, or to null")


def decode(columns, encoding):
    """The model's input (as ``encode_features`` makes it) from processed columns ({name: numpy
    array})."""
    return pd.DataFrame({name: decode_column(name, columns[name], encoding) for name in encoding["features"]},
                        copy=False)


def decode_column(name, values, encoding):
    """One processed column as the model reads it: a categorical rebuilt from its codes over the
    training categories, a number as it is."""
    if name in encoding["categorical"]:
        return pd.Categorical.from_codes(values, categories=encoding["categorical"][name])
    return values
