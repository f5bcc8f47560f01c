"""Read every CSV/Parquet file of a data folder; write outputs atomically.

pandas, numpy and pyarrow are imported where they are used: the delivery steps read and write
JSON through this module without paying for them.
"""

import contextlib
import json
import os
from pathlib import Path

from ... import config
from ...cli import UserError

DATA_SUFFIXES = (".csv", ".parquet")


def data_files(directory):
    """The CSV and Parquet files of a data folder, sorted by name; at least one."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory} does not exist: put CSV or Parquet files there (see README.md)")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in DATA_SUFFIXES)
    if not files:
        raise UserError(f"no CSV or Parquet files in {directory}: put your data there (see README.md)")
    for path in files:
        refuse_empty(path)
    return files


def refuse_empty(path):
    """A zero-byte data file is a user error, named, before any reader sees it."""
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty: remove it or fill it with data")


def read_data_dir(directory):
    """Concatenate every CSV or Parquet file in ``directory`` (sorted by name)."""
    files = data_files(directory)
    frames = [read_data_file(path) for path in files]
    columns = list(frames[0].columns)
    for path, frame in zip(files[1:], frames[1:], strict=True):
        if set(frame.columns) != set(columns):
            raise UserError(
                f"{path} has columns {sorted(frame.columns)} but {files[0]} has {sorted(columns)}: "
                f"every file in {directory} needs the same columns"
            )
    if len(frames) == 1:
        return frames[0]
    import pandas as pd

    return pd.concat([frame[columns] for frame in frames], ignore_index=True)


def read_data_file(path):
    import pandas as pd

    refuse_empty(path)
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = read_csv(path)
    except Exception as error:  # noqa: BLE001 - any reader failure means the same to the user
        raise UserError(f"cannot read {path}: {error}") from error
    if frame.empty:
        raise UserError(f"{path} has no data rows: remove it or add rows")
    return frame


def read_csv(path):
    """A CSV file as a DataFrame, as ``pandas.read_csv(path, engine="pyarrow")`` reads it (the same
    missing-value markers, empty text cells missing) but with about 15 % less peak memory.

    pyarrow's multithreaded reader is several times faster than pandas' default engine. Converting
    its table column by column, freeing each as it goes (self_destruct), avoids holding the whole
    table and the whole DataFrame at once, which would set the peak memory of preprocess.
    """
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path, convert_options=csv_convert_options())
    return table.to_pandas(self_destruct=True, split_blocks=True)


def csv_convert_options(**options):
    """How a CSV cell becomes a value: pandas' missing-value markers (pyarrow's own plus "None" and
    "<NA>"), empty text cells missing."""
    import pyarrow.csv as pacsv

    markers = [*pacsv.ConvertOptions().null_values, "None", "<NA>"]
    return pacsv.ConvertOptions(null_values=markers, strings_can_be_null=True, **options)


def write_atomically(path, write):
    """Call ``write(tmp_path)`` and move the result into place, so no half-written file remains."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_junit(path, suite_name, results):
    """A JUnit XML report (GitLab's test tab) of ``results``: {check: {"passed", "detail"} and an
    optional "severity"}. A failed check of severity "warn" is reported as skipped: it shows
    without counting as a failure."""
    import xml.etree.ElementTree as ET

    def failing(result):
        return not result["passed"] and result.get("severity", "fail") == "fail"

    suite = ET.Element("testsuite", name=suite_name, tests=str(len(results)),
                       failures=str(sum(map(failing, results.values()))))
    for name, result in results.items():
        case = ET.SubElement(suite, "testcase", classname=suite_name, name=name)
        if result["passed"]:
            ET.SubElement(case, "system-out").text = result["detail"]
        elif failing(result):
            ET.SubElement(case, "failure", message=result["detail"]).text = result["detail"]
        else:
            ET.SubElement(case, "skipped", message=f"warning: {result['detail']}")
    tree = ET.ElementTree(suite)
    write_atomically(path, lambda tmp: tree.write(tmp, encoding="utf-8", xml_declaration=True))


def write_json(path, data):
    def write(tmp):
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    write_atomically(path, write)


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


@contextlib.contextmanager
def write_parquet_parts(path, row_group_rows=250_000):
    """Write a Parquet file a pyarrow Table at a time: the block gets ``write(table) -> rows``.
    Row groups hold at most ``row_group_rows`` rows (the dask engine's partitions). The file
    appears when the block ends without an error, never half-written."""
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    writer = None

    def write(table):
        nonlocal writer
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        elif not table.schema.equals(writer.schema):
            table = table.cast(writer.schema)  # a column all missing in one table and typed in another
        writer.write_table(table, row_group_size=row_group_rows)
        return table.num_rows

    try:
        yield write
        if writer is not None:
            writer.close()
            os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)


def load_target(parquet_path):
    """The encoded target of a processed Parquet file."""
    import pyarrow.parquet as pq

    return pq.read_table(parquet_path, columns=[config.TARGET_COLUMN]).column(0).to_numpy()


def load_xy(parquet_path, encoding, rows=None):
    """The model's input and the encoded target from a processed Parquet file: every row, or the
    rows at the sorted positions ``rows``, read a row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(parquet_path)
    names = [*encoding["features"], config.TARGET_COLUMN]
    if rows is None:
        # One column at a time: reading the whole file first would hold a second full copy of the data.
        columns = {name: parquet.read(columns=[name]).column(0).to_numpy() for name in names}
    else:
        parts, start = [], 0
        for group in range(parquet.num_row_groups):
            size = parquet.metadata.row_group(group).num_rows
            wanted = rows[(rows >= start) & (rows < start + size)] - start
            if len(wanted):
                parts.append(parquet.read_row_group(group, columns=names).take(wanted))
            start += size
        table = pa.concat_tables(parts)
        columns = {name: table.column(name).to_numpy() for name in names}
    from .encoding import decode

    return decode(columns, encoding), columns[config.TARGET_COLUMN]


class ProcessedColumns:
    """A processed Parquet file's features, read and decoded one whole column at a time
    (``columns[name]``, as from a DataFrame): what is held grows with the rows, not the columns."""

    def __init__(self, parquet_path, encoding):
        self.parquet_path, self.encoding = parquet_path, encoding

    def __getitem__(self, name):
        import pandas as pd
        import pyarrow.parquet as pq

        from .encoding import decode_column

        values = pq.read_table(self.parquet_path, columns=[name]).column(name).to_numpy()
        return pd.Series(decode_column(name, values, self.encoding), name=name)


def row_groups(parquet_path, encoding):
    """(model input, encoded target) of a processed Parquet file, a row group at a time."""
    import pyarrow.parquet as pq

    from .encoding import decode

    parquet = pq.ParquetFile(parquet_path)
    names = [*encoding["features"], config.TARGET_COLUMN]
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group, columns=names)
        columns = {name: table.column(name).to_numpy() for name in names}
        yield decode(columns, encoding), columns[config.TARGET_COLUMN]
