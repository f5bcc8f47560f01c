"""Which training rows fit a model and which score it: the cross-validation's sample and early
stopping's inner validation share. Both are drawn from each class in proportion and seeded, and
both come from the training rows only."""

import numpy as np


def cv_sample(y, max_rows, seed):
    """Row indices for the cross-validation: all rows, or about ``max_rows`` of them drawn from
    each class in proportion (a stratified sample).

    The folds feed the sanity stage's consistency check and the CV summary; on large data a sample
    answers the same question for a fraction of the cost of cv_folds full-size fits.
    """
    if max_rows is None or len(y) <= max_rows:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    rows = [rng.choice(members, max(1, round(len(members) * max_rows / len(y))), replace=False)
            for members in (np.flatnonzero(y == label) for label in np.unique(y))]
    return np.sort(np.concatenate(rows))


def inner_split(y, share, seed):
    """(fitting rows, validation rows) of the training rows: about ``share`` of them for validation,
    drawn from each class in proportion (seeded). A class with a single row stays in the fitting
    rows, so that the model still learns every class."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    splittable = np.bincount(y)[y] >= 2 if len(y) else np.zeros(0, dtype=bool)
    classes = len(np.unique(y[splittable]))
    size = min(max(round(share * splittable.sum()), classes), splittable.sum() - classes)
    if size < max(classes, 1):  # too few rows to set any aside
        return rows, rows[:0]
    fitting, validation = train_test_split(rows[splittable], test_size=size, random_state=seed,
                                           stratify=y[splittable])
    return np.sort(np.concatenate([fitting, rows[~splittable]])), np.sort(validation)
