"""Out-of-core training for the local engine: when the train stage would need more memory than
train.memory_budget_mib, XGBoost's final fit reads the processed Parquet a row group at a time
through its external-memory interface (ExtMemQuantileDMatrix). XGBoost keeps the quantised rows in
cache files on disk beside the data, so memory holds one row group and early stopping's validation
rows, whatever the number of rows. Every categorical is read natively, as with the dask engine
(no target encoding: that needs every row of a category at once).
"""

import os
import tempfile

import numpy as np

from . import splits
from .data_io import row_groups

# The in-memory train stage's peak, measured on 30-column tables (docs/benchmarks.md): a fixed
# part (the interpreter, pandas, XGBoost) plus about 3.5 times the features as float32.
FIXED_MIB = 250
PEAK_PER_FEATURE_BYTES = 4 * 3.5


def budget_mib(setting):
    """train.memory_budget_mib, or half of this machine's memory when it is null."""
    if setting is not None:
        return setting
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 / 2


def in_memory_peak_mib(train_file, encoding):
    """About what the train stage would hold to fit the model in memory."""
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(train_file).metadata.num_rows
    return FIXED_MIB + rows * len(encoding["features"]) * PEAK_PER_FEATURE_BYTES / 2**20


def _xgboost():
    import xgboost

    class RowGroups(xgboost.DataIter):
        """The fitting rows of each row group of the processed Parquet file, decoded as the model
        reads them (the same categories in every batch, as XGBoost requires)."""

        def __init__(self, train_file, encoding, held_out, cache_prefix):
            super().__init__(cache_prefix=cache_prefix, release_data=True)
            self.train_file, self.encoding, self.held_out = train_file, encoding, held_out
            self.reset()

        def next(self, input_data):
            found = next(self.groups, None)
            if found is None:
                return False
            group, (X, y) = found
            keep = np.ones(len(y), dtype=bool)
            keep[self.held_out(y, group)] = False
            input_data(data=X[keep].reset_index(drop=True), label=y[keep])
            return True

        def reset(self):
            self.groups = enumerate(row_groups(self.train_file, self.encoding))

    return xgboost, RowGroups


def fit(train_file, encoding, hyperparameters, seed, device, validation_share):
    """The fitted XGBClassifier, trained out of core; early stopping (when the hyperparameters ask
    for it) scores on each row group's validation share, held in memory."""
    import pandas as pd

    xgboost, RowGroups = _xgboost()
    settings = {"enable_categorical": True, **hyperparameters, "device": device, "random_state": seed}
    rounds, patience = settings.get("n_estimators") or 100, settings.get("early_stopping_rounds")
    classes = len(encoding["classes"])
    # The booster's own parameters as the scikit-learn wrapper passes them (those it leaves unset dropped).
    params = {name: value for name, value in xgboost.XGBClassifier(**settings).get_xgb_params().items()
              if value is not None}
    params["objective"] = "binary:logistic" if classes == 2 else "multi:softprob"
    if classes > 2:
        params["num_class"] = classes

    def held_out(y, group):
        """Early stopping's rows of a row group: its own stratified share, as each partition sets
        aside on the dask engine."""
        return splits.inner_split(y, validation_share, seed + group)[1] if patience else np.zeros(0, dtype=int)

    evals = []
    if patience:  # the validation rows, one row group in memory at a time
        X_parts, y_parts = [], []
        for group, (X, y) in enumerate(row_groups(train_file, encoding)):
            rows = held_out(y, group)
            X_parts.append(X.iloc[rows])
            y_parts.append(y[rows])
        validation = (pd.concat(X_parts, ignore_index=True), np.concatenate(y_parts))
        del X, y, X_parts, y_parts
    with tempfile.TemporaryDirectory(prefix=".xgboost-cache-", dir=os.path.dirname(train_file)) as cache:
        fitting = xgboost.ExtMemQuantileDMatrix(RowGroups(train_file, encoding, held_out, os.path.join(cache, "rows")),
                                                enable_categorical=True, max_bin=params.get("max_bin"))
        if patience:
            evals = [(xgboost.QuantileDMatrix(*validation, ref=fitting, enable_categorical=True), "validation")]
        booster = xgboost.train(params, fitting, num_boost_round=rounds, evals=evals,
                                early_stopping_rounds=patience, verbose_eval=False)
        del fitting, evals  # XGBoost removes its cache files itself, before the folder goes
    model = xgboost.XGBClassifier(**settings)
    model.load_model(bytearray(booster.save_raw("ubj")))
    return model
