import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package_name }}.pipeline.shared.metrics import roc_auc


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_roc_auc_is_scikit_learns_with_ties_and_imbalance(classes):
    rng = np.random.default_rng(classes)
    y = rng.choice(classes, 3000, p=np.r_[0.7, np.full(classes - 1, 0.3 / (classes - 1))])
    # Rounded scores: many ties, as a shallow tree or a target encoding gives.
    proba = np.round(rng.dirichlet(np.ones(classes), len(y)) + np.eye(classes)[y] * 0.3, 2)
    proba /= proba.sum(axis=1, keepdims=True)
    expected = roc_auc_score(y, proba[:, 1]) if classes == 2 else roc_auc_score(y, proba, multi_class="ovr")
    assert roc_auc(y, proba) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_of_one_class_only_is_an_error_as_in_scikit_learn():
    with pytest.raises(ValueError, match="every label is not 1"):
        roc_auc(np.zeros(5, dtype=int), np.full((5, 2), 0.5))
