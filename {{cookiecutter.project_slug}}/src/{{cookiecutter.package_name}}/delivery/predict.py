"""`make predict INPUT=new.csv OUTPUT=predictions.csv`: score new rows with the delivered model.

Uses the model of the current dvc.lock and the encoding saved with it (pulled from the remote
when the workspace has no model) and writes one row per input row: the id column when
`data.id_column` is set, `prediction` (the class label as in the training data) and
`probability_<class>` per class.
Input is CSV or Parquet with the training data's feature columns: a missing one is an error,
extra ones (the target among them) are ignored, unseen categories and missing values are fine.
Output is CSV or Parquet by its suffix, written whole or not at all. The input is read and scored
a partition (250,000 rows) at a time, so it may be larger than memory.
"""

import sys
from pathlib import Path

from .. import config
from ..cli import UserError, command, dvc, parser
from ..pipeline.shared import model_store, partitions
from ..pipeline.shared.data_io import DATA_SUFFIXES, write_atomically, write_parquet_parts
from ..pipeline.shared.encoding import encode_features
from ..pipeline.shared.params import check


def load_delivered_model():
    """The model of dvc.lock and its encoding, pulled when the workspace lacks them."""
    if not (config.MODEL_DIR / "model.json").exists():
        print("predict: pulling the model of dvc.lock from the remote", flush=True)
        dvc("pull", "--quiet", str(config.MODEL_DIR), check=False)
        if not (config.MODEL_DIR / "model.json").exists():
            raise UserError("no trained model here or on the remote: run `make repro` (or `make pull`) first")
    return model_store.load(config.MODEL_DIR)


def predict(frame, model, encoding, source="the input"):
    """A DataFrame with one row of predictions per row of ``frame``."""
    import numpy as np
    import pandas as pd

    needed = encoding["features"]
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise UserError(f"{source} lacks the feature column(s) {', '.join(missing)}: the model was trained with them")
    known = {*needed, encoding["target"], encoding.get("id_column")}
    extra = [column for column in frame.columns if column not in known]
    if extra:
        print(f"predict: ignoring {len(extra)} column(s) the model does not use: {', '.join(map(str, extra))}")
    proba = np.asarray(model.predict_proba(encode_features(frame, encoding)), dtype="float64")
    classes = encoding["classes"]
    out = pd.DataFrame(index=range(len(frame)))
    id_column = encoding.get("id_column")
    if id_column:
        if id_column not in frame.columns:
            raise UserError(f"{source} lacks the id column {id_column!r} (data.id_column)")
        out[id_column] = frame[id_column].to_numpy()
    out["prediction"] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    for index, label in enumerate(classes):
        out[f"probability_{label}"] = proba[:, index]
    return out


def predict_file(source, destination, model, encoding):
    """Score the rows of the data file ``source`` a partition at a time into ``destination``
    (.csv or .parquet), which appears whole or not at all; the number of rows."""
    return partitions.read_again_if_types_widen(lambda: _predict_file(Path(source), Path(destination), model, encoding))


def _predict_file(source, destination, model, encoding):
    import pyarrow as pa

    def scored():
        rows = 0
        for frame in partitions.file_frames(source):
            out = predict(frame, model, encoding, str(source))
            rows += len(out)
            if rows >= partitions.PARTITION_ROWS:
                print(f"predict: {rows:,} rows scored", flush=True)
            yield out

    if destination.suffix.lower() == ".parquet":
        with write_parquet_parts(destination) as write:
            return sum(write(pa.Table.from_pandas(out, preserve_index=False)) for out in scored())
    rows = 0

    def write_csv(tmp):
        nonlocal rows
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            for out in scored():
                out.to_csv(handle, header=rows == 0, index=False)
                rows += len(out)

    write_atomically(destination, write_csv)
    return rows


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("input", type=Path, help="CSV or Parquet file of rows to score")
    arguments.add_argument("output", type=Path, help="where to write the predictions (.csv or .parquet)")
    args = arguments.parse_args(argv)
    for role, path in (("INPUT", args.input), ("OUTPUT", args.output)):
        if path.suffix.lower() not in DATA_SUFFIXES:
            raise UserError(f"{role} {path} is not a .csv or .parquet file: e.g. make predict INPUT=new.csv "
                            "OUTPUT=predictions.csv")
    if not args.input.is_file():
        raise UserError(f"INPUT {args.input} does not exist")
    check(config.load_params())
    model, encoding = load_delivered_model()
    rows = predict_file(args.input, args.output, model, encoding)
    print(f"predict: wrote {rows:,} predictions to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
