"""XGBoost with its high-cardinality columns target-encoded.

XGBoost splits a categorical column by sorting its categories on the node's gradients. Over an id
column (thousands of tail numbers, users, zip codes) each node sorts categories seen a few times
each, so the splits fit noise, and early stopping halts the whole model after a few hundred trees:
on 120,000 rows of flights, ROC AUC 0.715 against 0.749 with the two id-like columns target-encoded
(the template's docs/benchmarks.md). So columns with more categories than
``train.one_hot_max_categories`` reach XGBoost as the mean target of their category instead
(one column per class when multiclass), as they already do for the scikit-learn models; columns
with fewer stay native categoricals.

The training rows' means are cross-fitted by scikit-learn's TargetEncoder, so a row's own label
never reaches its value; every other row (the early-stopping share, the holdout, make predict) is
looked up in the tables learnt from all the training rows, saved beside the model. A missing or
unseen category is one category of its own (code -1), as XGBoost treats it natively.
"""

import numpy as np
import pandas as pd
from xgboost import XGBClassifier

FOLDS = 5


class TargetEncodedXGBClassifier(XGBClassifier):
    """An XGBClassifier that target-encodes ``columns`` of its input first. ``tables``, set by
    ``fit`` (or read back by model_store.load), holds per column the category codes and, per class
    column, the mean target of each code and the overall mean (for codes never seen)."""

    columns: list = []
    tables: dict = {}

    def fit(self, X, y, *, eval_set=None, **kwargs):
        from sklearn.model_selection import StratifiedKFold
        from sklearn.preprocessing import TargetEncoder

        encoder = TargetEncoder(cv=StratifiedKFold(FOLDS, shuffle=True, random_state=self.random_state))
        cross_fitted = encoder.fit_transform(_codes(X, self.columns), y)
        per_class = len(encoder.encodings_) // len(self.columns)
        self.tables = {
            column: {"codes": encoder.categories_[i].tolist(),
                     "means": [encoder.encodings_[i * per_class + k].tolist() for k in range(per_class)],
                     "prior": np.atleast_1d(encoder.target_mean_).tolist()}
            for i, column in enumerate(self.columns)}
        X = _with_means(X, self.columns, cross_fitted, per_class)
        if eval_set:
            eval_set = [(self.encode(features), target) for features, target in eval_set]
        return super().fit(X, y, eval_set=eval_set, **kwargs)

    def encode(self, X):
        """XGBoost's input for the rows of ``X`` (the decoded features), through the learnt tables."""
        codes = _codes(X, self.columns)
        means = []
        for column in self.columns:
            table = self.tables[column]
            position = pd.Index(table["codes"]).get_indexer(codes[column])
            for class_means, prior in zip(table["means"], table["prior"], strict=True):
                means.append(np.where(position >= 0, np.asarray(class_means)[position], prior))
        return _with_means(X, self.columns, np.column_stack(means), len(self.tables[self.columns[0]]["means"]))

    def predict_proba(self, X, **kwargs):
        return super().predict_proba(self.encode(X), **kwargs)

    def predict(self, X, **kwargs):
        return super().predict(self.encode(X), **kwargs)


def _codes(X, columns):
    return pd.DataFrame({column: X[column].cat.codes.to_numpy() for column in columns})


def _with_means(X, columns, means, per_class):
    """``X`` with each of ``columns`` replaced in place by its mean column(s) (float32): one, named
    as the column, when binary; ``<column>__<class index>`` for each class when multiclass."""
    replaced, i = {}, 0
    for name in X.columns:
        if name not in columns:
            replaced[name] = X[name]
            continue
        for k in range(per_class):
            replaced[name if per_class == 1 else f"{name}__{k}"] = means[:, i].astype("float32")
            i += 1
    return pd.DataFrame(replaced, index=X.index)
