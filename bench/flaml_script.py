"""FLAML on the benchmark's files, the way a user calls it to "just get a good model". Runs in the
FLAML environment (.venv-flaml), not the project's.

    python bench/flaml_script.py TRAIN_CSV HOLDOUT_CSV TARGET METRIC BUDGET_S SEED THREADS

Prints one JSON line: the holdout score (METRIC: roc_auc or accuracy) and the wall seconds from
reading the files to the fitted model, FLAML's final refit on all training rows included.
"""

import json
import sys
import time


def main(train_csv, holdout_csv, target, metric, budget, seed, threads):
    start = time.perf_counter()
    import pandas as pd
    from flaml import AutoML
    from sklearn.metrics import accuracy_score, roc_auc_score

    train, holdout = pd.read_csv(train_csv), pd.read_csv(holdout_csv)
    automl = AutoML()
    automl.fit(train.drop(columns=[target]), train[target], task="classification", metric=metric,
               time_budget=float(budget), seed=int(seed), n_jobs=int(threads), verbose=0)
    seconds = time.perf_counter() - start
    proba = automl.predict_proba(holdout.drop(columns=[target]))
    classes = list(automl.classes_)
    y = holdout[target].map({label: index for index, label in enumerate(classes)}).to_numpy()
    score = roc_auc_score(y, proba[:, 1]) if metric == "roc_auc" else accuracy_score(y, proba.argmax(axis=1))
    print(json.dumps({"score": float(score), "seconds": seconds, "best": automl.best_estimator}))


if __name__ == "__main__":
    main(*sys.argv[1:])
