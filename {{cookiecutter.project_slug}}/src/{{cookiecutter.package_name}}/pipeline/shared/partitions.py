"""Read data one partition at a time, never the whole of it (preprocess, validate and predict).

A partition's values are the ones a whole-file read (data_io.read_csv) gives. pyarrow's streaming
CSV reader fixes each column's type from the file's first block and fails on a later block that
does not fit; the whole-file reader widens the column instead (whole numbers to decimals, anything
else to text). So a read that meets such a block widens the column, remembers it for the file and
raises TypesWidened: the caller reads again from the start (``read_again_if_types_widen``), once
per widened column. Most files need no second read. Parquet files are read by row groups with
their own types.
"""

import re

from ...cli import UserError
from .data_io import csv_convert_options, data_files, refuse_empty

# Rows of a partition: a small share of a worker's memory, yet enough that the per-partition
# overhead stays small. The CSV reader parses blocks far ahead of the one being read (about a
# hundred of them), so its blocks are small and several make a partition.
PARTITION_ROWS = 250_000
CSV_BLOCK_BYTES = 2 * 2**20

# The column types a whole read of a CSV file proved (or a widening found), by path, size and
# modification time: every later read of the file in this process starts from them.
_column_types = {}


class TypesWidened(Exception):  # noqa: N818 - a signal to read again, not a failure
    """A CSV column holds values wider than its first block showed; its type is now widened."""


def read_again_if_types_widen(read):
    """``read()``, called again each time it meets a widened column (see the module's docstring)."""
    while True:
        try:
            return read()
        except TypesWidened as widened:
            print(f"{widened}; reading again", flush=True)


def _csv_batches(path):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    stat = path.stat()
    key = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    column_types = _column_types.get(key)
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                            convert_options=csv_convert_options(column_types=column_types or {}))
    column_types = column_types or {field.name: field.type for field in reader.schema}
    try:
        yield from reader
    except pa.ArrowInvalid as error:
        # On one thread (a one-core runner) pyarrow names the row too: "#3: Row #3002: CSV ...".
        found = re.search(r"CSV column #(\d+): (?:Row #\d+: )?CSV conversion error", str(error))
        if not found:
            raise
        name = list(column_types)[int(found.group(1))]
        wider = pa.float64() if pa.types.is_integer(column_types[name]) else pa.string()
        _column_types[key] = {**column_types, name: wider}
        raise TypesWidened(f"{path}: column {name!r} holds {wider} values past its first rows") from error
    _column_types[key] = column_types


def batches(path):
    """pyarrow RecordBatches of one data file, about a partition each (CSV: smaller blocks)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).iter_batches(batch_size=PARTITION_ROWS)
    return _csv_batches(path)


def tables(path):
    """pyarrow Tables of one data file, a partition each (the last one smaller)."""
    import pyarrow as pa

    pending, rows = [], 0
    try:
        for batch in batches(path):
            pending.append(batch)
            rows += batch.num_rows
            if rows >= PARTITION_ROWS:
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
    except (UserError, TypesWidened):
        raise
    except Exception as error:  # noqa: BLE001 - any reader failure means the same to the user
        raise UserError(f"cannot read {path}: {error}") from error
    if rows:
        yield pa.Table.from_batches(pending)


def file_frames(path):
    """One data file's rows as DataFrames of about a partition each."""
    refuse_empty(path)
    rows = 0
    for table in tables(path):
        rows += table.num_rows
        yield table.to_pandas(split_blocks=True, self_destruct=True)
    if not rows:
        raise UserError(f"{path} has no data rows: remove it or add rows")


def frames(directory):
    """The data folder's rows as DataFrames of about a partition each, columns in the first
    file's order (as data_io.read_data_dir concatenates them)."""
    files = data_files(directory)
    columns = None
    for path in files:
        for frame in file_frames(path):
            if columns is None:
                columns = list(frame.columns)
            elif set(frame.columns) != set(columns):
                raise UserError(
                    f"{path} has columns {sorted(frame.columns)} but {files[0]} has {sorted(columns)}: "
                    f"every file in {directory} needs the same columns"
                )
            yield frame[columns]


def sample(directory, max_rows, seed):
    """A uniform random sample of ``max_rows`` rows of a data folder in their order (every row when
    it has no more, or ``max_rows`` is None) and its row count, in one pass: each row draws a random
    key and the rows of the ``max_rows`` smallest keys are kept, so at most about 1.5 ``max_rows``
    rows are held at any time."""
    return read_again_if_types_widen(lambda: _sample(directory, max_rows, seed))


def _sample(directory, max_rows, seed):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def smallest(frame, keys):
        if max_rows is None or len(frame) <= max_rows:
            return frame, keys
        rows = np.sort(np.argpartition(keys, max_rows - 1)[:max_rows])
        return frame.iloc[rows].reset_index(drop=True), keys[rows]

    parts, part_keys, total = [], [], 0
    for frame in frames(directory):
        total += len(frame)
        parts.append(frame)
        part_keys.append(rng.random(len(frame)))
        if max_rows is not None and sum(map(len, parts)) > 1.5 * max_rows:
            kept, keys = smallest(pd.concat(parts, ignore_index=True), np.concatenate(part_keys))
            parts, part_keys = [kept], [keys]
    whole = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return smallest(whole, np.concatenate(part_keys))[0], total
