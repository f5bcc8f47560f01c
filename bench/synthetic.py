"""Deterministic synthetic tabular data for the benchmarks.

- ``make_table``: 30 columns (21 numeric, 8 low-cardinality text), about 5 % missing values in a
  third of them, an interaction, and a learnable binary target (the speed and memory benchmarks).
- ``streaming_frame``: a music-streaming task with high-cardinality id columns (the quality benchmark).
"""

import numpy as np
import pandas as pd
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


CHUNK_ROWS = 5_000_000  # larger tables are made and written a chunk at a time (each its own seed)


def write_csv(path, rows, seed):
    tables = (make_table(min(CHUNK_ROWS, rows - start), seed + 1000 * number)
              for number, start in enumerate(range(0, rows, CHUNK_ROWS)))
    first = next(tables)
    with pacsv.CSVWriter(path, first.schema) as writer:
        writer.write_table(first)
        for table in tables:
            writer.write_table(table)


GENRES = 12


def _skewed(rng, n_values, rows, power=0.8):
    """Draws from 0..n_values-1 where a few values are frequent and most are rare, as with users
    and songs."""
    weights = 1 / np.arange(1, n_values + 1) ** power
    return rng.choice(n_values, rows, p=weights / weights.sum())


def streaming_frame(rows, seed, users=20_000, songs=60_000):
    """A music-streaming task shaped like real ones: does a user play a song again within a month?

    User and song ids with tens of thousands of distinct values (each user's and song's own
    propensity is most of the signal), a user-genre affinity (an interaction), ten low-cardinality
    categoricals, dirty numbers (a length column stored as text with stray "?" values, ages with
    zeros and outliers), missing values, and about 30 % positives.
    """
    rng = np.random.default_rng(seed)
    user_bias, song_bias = rng.normal(0, 1.0, users), rng.normal(0, 0.9, songs)
    favourite, song_genre = rng.integers(0, GENRES, users), rng.integers(0, GENRES, songs)
    city, language = rng.integers(0, 21, users), rng.integers(0, 10, songs)
    user, song = _skewed(rng, users, rows), _skewed(rng, songs, rows)
    source_type = rng.integers(0, 10, rows)
    tab = rng.integers(0, 8, rows)
    length = rng.gamma(9, 27_000, rows)
    age = rng.normal(29, 9, rows).round()
    age[rng.random(rows) < 0.3] = 0  # "not given" recorded as 0
    outlier = rng.random(rows) < 0.01
    age[outlier] = rng.integers(100, 1000, outlier.sum())
    logit = (-1.6 + user_bias[user] + song_bias[song] + 0.9 * (favourite[user] == song_genre[song])
             + np.array([0.6, 0.3, 0, 0, -0.2, -0.4, 0.1, 0, 0.2, -0.6])[source_type]
             + 0.4 * (tab == 0) - 0.5 * (length > 400_000) + 0.01 * np.clip(age - 29, -10, 10))
    frame = pd.DataFrame({
        "msno": [f"user{u:05d}" for u in user],
        "song_id": [f"song{s:05d}" for s in song],
        "source_system_tab": [f"tab{t}" for t in tab],
        "source_screen_name": [f"screen{(t * 3 + s) % 15}" for t, s in zip(tab, source_type, strict=True)],
        "source_type": [f"type{t}" for t in source_type],
        "genre_ids": [f"genre{g}" for g in song_genre[song]],
        "language": [f"lang{x}" for x in language[song]],
        "city": [f"city{c}" for c in city[user]],
        "gender": rng.choice(["female", "male", None], rows, p=[0.4, 0.35, 0.25]),
        "registered_via": [f"via{v}" for v in rng.integers(0, 5, rows)],
        "membership_days": np.where(rng.random(rows) < 0.1, np.nan, rng.integers(1, 4000, rows)),
        "bd": age,
        "song_length": np.where(rng.random(rows) < 0.002, "?", length.round().astype(int).astype(str)),
        "target": (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int),
    })
    for column in ("source_screen_name", "source_system_tab"):
        frame.loc[rng.random(rows) < 0.05, column] = None
    return frame
