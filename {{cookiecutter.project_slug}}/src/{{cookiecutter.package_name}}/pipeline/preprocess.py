"""Preprocess stage: check raw and holdout data, learn the encoding on the training data only
(see shared/encoding), write the encoded rows as Parquet.

The stage never holds a whole dataset, so data larger than memory goes through: it reads a
partition at a time (see shared/partitions), learns the encoding from what each partition
contributes, then encodes and writes partition by partition (a Parquet row group each). The
outputs are those of encoding the whole frames at once.
"""

import sys

from .. import config
from ..cli import command, parser
from .shared import partitions
from .shared.data_io import write_json, write_parquet_parts
from .shared.encoding import EncodingFit, apply_encoding, check_id_column, classes_of, require_target, validate
from .shared.params import check


def run(params, raw_dir=config.RAW_DIR, holdout_dir=config.HOLDOUT_DIR, out_dir=config.PROCESSED_DIR):
    check(params)
    return partitions.read_again_if_types_widen(lambda: encode(params, raw_dir, holdout_dir, out_dir))


def encode(params, raw_dir, holdout_dir, out_dir):
    """A pass over the training data learns the encoding, a second one encodes and writes it."""
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
    # The files appear when both are written, so a failure leaves no partial output.
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
