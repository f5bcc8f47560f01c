"""Read a data folder one partition at a time (train.engine: dask), never the whole of it.

A partition's values are the ones a whole-file read (data_io.read_csv) gives, so both engines see
the same data. pyarrow's streaming CSV reader fixes each column's type from the file's first block
and fails on a later block that does not fit: a first pass over the file finds each column's type
by widening the column that failed (whole numbers to decimals, anything else to text, as the
whole-file reader does) and reading again. Parquet files are read by row groups with their own types.
"""

import re

from ...cli import UserError
from .data_io import csv_convert_options, data_files

# Rows of a partition: a small share of a worker's memory, yet enough that the per-partition
# overhead stays small. The CSV reader parses blocks far ahead of the one being read (about a
# hundred of them), so its blocks are small and several make a partition.
PARTITION_ROWS = 250_000
CSV_BLOCK_BYTES = 2 * 2**20


def _open_csv(path, column_types):
    import pyarrow.csv as pacsv

    return pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                          convert_options=csv_convert_options(column_types=column_types))


def csv_column_types(path):
    """Each column's type as a whole-file read infers it, found by reading the file through."""
    import pyarrow as pa

    column_types = None
    while True:  # once more per widened column; most files need one pass
        try:
            reader = _open_csv(path, column_types or {})
            if column_types is None:
                column_types = {field.name: field.type for field in reader.schema}
            for _ in reader:
                pass
            return column_types
        except pa.ArrowInvalid as error:
            # On one thread (a one-core runner) pyarrow names the row too: "#3: Row #3002: CSV ...".
            found = re.search(r"CSV column #(\d+): (?:Row #\d+: )?CSV conversion error", str(error))
            if not found or column_types is None:
                raise UserError(f"cannot read {path}: {error}") from error
            name = list(column_types)[int(found.group(1))]
            column_types[name] = pa.float64() if pa.types.is_integer(column_types[name]) else pa.string()


def batches(path):
    """pyarrow RecordBatches of one data file, about a partition each."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).iter_batches(batch_size=PARTITION_ROWS)
    return _open_csv(path, csv_column_types(path))


def tables(path):
    """pyarrow Tables of one data file, a partition each (the last one smaller)."""
    import pyarrow as pa

    pending, rows = [], 0
    for batch in batches(path):
        pending.append(batch)
        rows += batch.num_rows
        if rows >= PARTITION_ROWS:
            yield pa.Table.from_batches(pending)
            pending, rows = [], 0
    if rows:
        yield pa.Table.from_batches(pending)


def frames(directory):
    """The data folder's rows as DataFrames of about a partition each, columns in the first
    file's order (as data_io.read_data_dir concatenates them)."""
    files = data_files(directory)
    columns = None
    for path in files:
        rows = 0
        for table in tables(path):
            rows += table.num_rows
            if columns is None:
                columns = table.schema.names
            elif set(table.schema.names) != set(columns):
                raise UserError(
                    f"{path} has columns {sorted(table.schema.names)} but {files[0]} has {sorted(columns)}: "
                    f"every file in {directory} needs the same columns"
                )
            yield table.to_pandas(split_blocks=True, self_destruct=True)[columns]
        if not rows:
            raise UserError(f"{path} has no data rows: remove it or add rows")


def sample(directory, max_rows, seed):
    """A uniform random sample of about ``max_rows`` rows of a data folder (every row when it has
    no more, or ``max_rows`` is None), read partition by partition: one pass counts, one draws."""
    import numpy as np
    import pandas as pd

    total = sum(len(frame) for frame in frames(directory))
    rate = 1.0 if max_rows is None or total <= max_rows else max_rows / total
    rng = np.random.default_rng(seed)
    parts = [frame if rate == 1.0 else frame[rng.random(len(frame)) < rate] for frame in frames(directory)]
    return pd.concat(parts, ignore_index=True), total
