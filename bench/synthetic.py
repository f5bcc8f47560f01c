"""Deterministic synthetic tabular data for the benchmarks: 30 columns (21 numeric, 8 text),
about 5 % missing values in a third of them, and a learnable binary target."""

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

N_NUMERIC = 21
CATEGORIES = {f"cat_{i}": [f"level_{j}" for j in range(levels)]
              for i, levels in enumerate((3, 4, 5, 6, 8, 10, 12, 20))}
TARGET = "label"


def make_table(rows, seed):
    rng = np.random.default_rng(seed)
    columns = {}
    logit = np.full(rows, -0.8)
    for i in range(N_NUMERIC):
        values = rng.normal(0, 1, rows).astype("float32")
        if i < 8:
            logit += (0.6 if i % 2 else -0.4) * values
        if i % 3 == 0:
            values[rng.random(rows) < 0.05] = np.nan
        columns[f"num_{i}"] = values
    logit += 0.5 * np.nan_to_num(columns["num_0"]) * np.nan_to_num(columns["num_1"])  # an interaction
    for name, levels in CATEGORIES.items():
        codes = rng.integers(0, len(levels), rows)
        logit += (codes % 3 - 1) * 0.3
        values = np.array(levels, dtype=object)[codes]
        if name in ("cat_1", "cat_4"):
            values[rng.random(rows) < 0.05] = None
        columns[name] = values
    columns[TARGET] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("int8")
    return pa.table(columns)


def write_csv(path, rows, seed):
    pacsv.write_csv(make_table(rows, seed), path)
