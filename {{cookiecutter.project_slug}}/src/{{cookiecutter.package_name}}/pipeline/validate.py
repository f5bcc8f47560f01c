"""Validate stage: check the data before a model is trained on it: integrity, leakage and drift.

Each check is `fail` (the stage exits 1 and training does not run) or `warn` (reported only), as
params.yaml -> validate sets it. Writes reports/validate/summary.json, drift.json, junit.xml
(GitLab's test tab) and report.md (a section of the merge-request report).

Drift compares the new training data with the holdout, and with the accepted training data:
data/raw as of the last commit that changed baseline.txt (the last promotion), read through DVC.
The statistic is the population stability index (PSI) of each feature: over ten quantile bins of
the reference for numbers, over its 20 most frequent categories for text, missing values a bin of
their own. Rule of thumb: under 0.1 stable, 0.1-0.25 a shift, over 0.25 a large one.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..cli import command, parser
from .shared import chance, partitions
from .shared.accepted import accepted_commit, changed_since, fetched, tracked_at
from .shared.data_io import write_atomically, write_json, write_junit
from .shared.encoding import NUMERIC_SHARE, fit_encoding, is_numeric, validate_frames
from .shared.metrics import roc_auc
from .shared.params import check

DRIFT_BINS = 10
DRIFT_CATEGORIES = 20
LEAKAGE_SAMPLE_ROWS = 20_000  # enough to see a near-perfect predictor; keeps the stage fast at millions of rows


def duplicate_rows(train):
    duplicated = int(pd.util.hash_pandas_object(train, index=False).duplicated().sum())
    return duplicated == 0, f"{duplicated} of {len(train)} rows in data/raw repeat an earlier row exactly"


def conflicting_labels(train, features, target):
    keys = pd.util.hash_pandas_object(train[features], index=False).to_numpy()
    labels_per_key = pd.Series(train[target].to_numpy()).groupby(keys).nunique()
    conflicted = int(np.isin(keys, labels_per_key.index[labels_per_key > 1]).sum())
    return conflicted == 0, f"{conflicted} rows share identical features with a row of another {target!r}"


def is_constant(values):
    """One value in every row (missing counts as a value): each row against the first, which is
    much quicker than counting distinct values on millions of text rows."""
    if values.empty or pd.isna(values.iloc[0]):
        return bool(values.isna().all())
    return bool(values.eq(values.iloc[0]).fillna(False).all())


def constant_columns(train, features):
    constant = [c for c in features if is_constant(train[c])]
    return not constant, (f"one value only: {', '.join(constant)}" if constant else "every feature has 2+ values")


def kind_changed(train_values, values, train_kind):
    """Whether ``values`` (a column of another dataset) show that the column changed kind, beyond
    what a small sample of an unchanged column shows. Text columns may hold numbers: a column read
    as numbers changed only if it has a number the training column never had. A numeric column
    may hold stray text (counted as missing): it changed only if its share of text is, with 99.9 %
    confidence, above what the training rows allow for a numeric column."""
    present = values.dropna()
    if train_kind == "categorical":
        known = pd.to_numeric(train_values.dropna(), errors="coerce").dropna().unique()
        return not bool(pd.to_numeric(present, errors="coerce").isin(known).all())
    text = int(pd.to_numeric(present, errors="coerce").isna().sum())
    low, _ = chance.wilson_interval(text, len(present))
    return bool(low > 1 - NUMERIC_SHARE)


def type_changes(train, other, kinds, other_name):
    changed = []
    for column, kind in kinds.items():
        if column not in other.columns or not other[column].notna().any():
            continue
        other_kind = "numeric" if is_numeric(other[column]) else "categorical"
        if other_kind != kind and kind_changed(train[column], other[column], kind):
            changed.append(f"{column} ({kind} here, {other_kind} in {other_name} of {len(other)} rows)")
    return not changed, (f"type changed: {'; '.join(changed)}" if changed else f"same types as {other_name}")


def missing_rate_jumps(new, old, comparison, features, max_jump):
    """Columns whose share of missing values is higher in ``new`` than in ``old`` by more than ``max_jump``."""
    jumps = []
    for column in features:
        if column in new.columns and column in old.columns:
            now, before = new[column].isna().mean(), old[column].isna().mean()
            if now - before > max_jump:
                jumps.append(f"{column} {before:.1%} -> {now:.1%}")
    return not jumps, (f"{comparison}: missing share up by more than {max_jump:.0%}: {', '.join(jumps)}"
                       if jumps else f"{comparison}: no missing share up by more than {max_jump:.0%}")


def single_feature_scores(train, encoding, seed):
    """How well each feature alone predicts the target: cross-validated ROC AUC (one-vs-rest for
    multiclass) of a shallow tree on a number, of its category's class shares (target encoding,
    cross-fitted, so an id column does not look predictive by memorising its rows) on text. The
    class shares score a copy of the target perfectly whatever the number of classes, which a
    shallow tree over them cannot."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.preprocessing import TargetEncoder
    from sklearn.tree import DecisionTreeClassifier

    target = encoding["target"]
    rows = train[train[target].notna()]
    if len(rows) > LEAKAGE_SAMPLE_ROWS:
        rows = rows.sample(LEAKAGE_SAMPLE_ROWS, random_state=seed)
    y = pd.factorize(rows[target], sort=True)[0]
    if np.bincount(y).min() < 3:  # too few rows of a class for three folds
        return {}, len(y)
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    binary = y.max() == 1
    scores = {}
    for column in encoding["features"]:
        if column in encoding["categorical"]:
            x = rows[[column]].astype("string").fillna("(missing)")
            shares = TargetEncoder(cv=folds, target_type="binary" if binary else "multiclass").fit_transform(x, y)
            proba = np.column_stack([1 - shares[:, 0], shares[:, 0]]) if binary else shares
        else:
            x = pd.to_numeric(rows[column], errors="coerce").to_frame()
            tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=10, random_state=seed)
            proba = cross_val_predict(tree, x, y, cv=folds, method="predict_proba")
        auc = roc_auc(y, proba if binary else proba / proba.sum(axis=1, keepdims=True))
        scores[column] = (auc, chance.auc_lower_bound(auc, y))
    return scores, len(y)


def leakage(scores, rows, max_auc):
    """A leak is a feature whose ROC AUC alone is at least ``max_auc`` beyond chance: its lower
    confidence bound at this many rows. A copied target scores 1.000 at any size; an honest strong
    feature of a small table (iris's petal length: 0.986 on 150 rows) does not stop the pipeline."""
    leaks = sorted(((bound, auc, c) for c, (auc, bound) in scores.items() if bound >= max_auc), reverse=True)
    if leaks:
        return False, ("alone predicts the target almost perfectly: " + ", ".join(
            f"{c} (ROC AUC {auc:.3f}, at least {bound:.3f} on {rows} rows)" for bound, auc, c in leaks)
            + f"; fails when that lower bound reaches leakage_max_auc {max_auc}")
    best = max(scores.items(), key=lambda item: item[1][0], default=None)
    return True, (f"strongest single feature: {best[0]} (ROC AUC {best[1][0]:.3f}, at least {best[1][1]:.3f} on "
                  f"{rows} rows; fails when that lower bound reaches {max_auc})" if best else "not enough rows")


def _shares(values, edges=None, categories=None):
    """Share of rows per bin: numeric bins by ``edges`` or the given ``categories`` plus "other",
    and a last bin for missing values."""
    if edges is not None:
        # A value that is no number counts as missing, like preprocess treats it.
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(numbers)
        counts = np.bincount(np.searchsorted(edges, numbers[~missing], side="right"), minlength=len(edges) + 1)
    else:
        # Each distinct value is looked up once, not each row: a sixth of the time on a million rows.
        codes, distinct = pd.factorize(values)  # a missing value's code is -1
        missing = codes < 0
        index = pd.Index(categories).get_indexer(pd.Index(distinct).astype("string"))
        rows_per_value = np.bincount(codes[~missing], minlength=len(distinct))
        counts = np.bincount(np.where(index < 0, len(categories), index), weights=rows_per_value,
                             minlength=len(categories) + 1)
    counts = np.append(counts, missing.sum())
    return counts / max(len(values), 1)


def psi(reference, current, numeric):
    """Population stability index of ``current`` against ``reference``."""
    if numeric:
        numbers = pd.to_numeric(reference, errors="coerce").dropna()
        edges = np.unique(np.quantile(numbers, np.linspace(0, 1, DRIFT_BINS + 1)[1:-1])) if len(numbers) else []
        expected, actual = _shares(reference, edges=edges), _shares(current, edges=edges)
    else:
        top = reference.dropna().astype("string").value_counts().index[:DRIFT_CATEGORIES].tolist()
        expected, actual = _shares(reference, categories=top), _shares(current, categories=top)
    expected, actual = np.clip(expected, 1e-4, None), np.clip(actual, 1e-4, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def drift(reference, current, encoding, max_psi):
    """One entry per feature, most shifted first."""
    entries = [{"feature": c, "statistic": "psi",
                "score": round(psi(reference[c], current[c], c in encoding["numeric"]), 4)}
               for c in encoding["features"] if c in reference.columns]
    for entry in entries:
        entry["drifted"] = entry["score"] > max_psi
    return sorted(entries, key=lambda entry: -entry["score"])


def drift_check(comparisons, max_psi):
    drifted = [f"{e['feature']} (PSI {e['score']:.2f}, {name})" for name, entries in comparisons.items()
               for e in entries if e["drifted"]]
    compared = ", ".join(comparisons) or "nothing to compare with"
    return not drifted, (f"PSI over {max_psi}: {'; '.join(drifted)}" if drifted
                         else f"no feature's PSI over {max_psi} ({compared})")


def accepted_training_data(raw_dir, read):
    """data/raw of the last promotion (read with ``read``), or (None, why not). Any failure to read
    it only means there is nothing to compare with."""
    commit = accepted_commit()
    if commit is None:
        return None, "no commit of baseline.txt yet"
    if not tracked_at(commit, raw_dir):
        return None, f"no accepted data: data/raw was not tracked by DVC at commit {commit[:8]}"
    if not changed_since(commit, raw_dir):
        return None, f"data/raw is the accepted data (commit {commit[:8]})"
    try:
        with fetched(commit, raw_dir) as copy:
            return read(copy), f"accepted data of commit {commit[:8]}"
    except Exception as error:  # noqa: BLE001 - a missing remote or cache only means no comparison
        return None, f"accepted data of {commit[:8]} unavailable ({type(error).__name__}: {error})"


def markdown(results, comparisons, accepted_note, top=5):
    mark = {True: "passed", False: "**failed**"}
    lines = ["### Data checks", "", "| check | result | severity | detail |", "|---|---|---|---|"]
    lines += [f"| {name} | {mark[r['passed']] if r['passed'] or r['severity'] == 'fail' else 'warning'} | "
              f"{r['severity']} | {r['detail']} |" for name, r in results.items()]
    lines += ["", f"### Drift (PSI; accepted data: {accepted_note})", ""]
    for name, entries in comparisons.items():
        lines += [f"{name}: " + ", ".join(f"{e['feature']} {e['score']:.3f}{' (drifted)' if e['drifted'] else ''}"
                                          for e in entries[:top])]
    return "\n".join(lines) + "\n"


def run(params, raw_dir=config.RAW_DIR, holdout_dir=config.HOLDOUT_DIR, out_dir=config.VALIDATE_DIR):
    """Run every check, write the reports, and return the names of the failed `fail` checks."""
    settings = check(params)["validate"]
    target = params["data"]["target"]

    def read(directory):
        """Every row, or on larger data a random sample of validate.max_rows (memory stays bounded)."""
        frame, total = partitions.sample(directory, settings.get("max_rows"), params["train"]["seed"])
        if len(frame) < total:
            print(f"validate: {directory}: a random sample of {len(frame)} of its {total} rows "
                  "(validate.max_rows)", flush=True)
        return frame

    train, holdout = read(raw_dir), read(holdout_dir)
    validate_frames(train, holdout, target)
    encoding = fit_encoding(train, target, params["data"].get("id_column"))
    features = encoding["features"]
    kinds = {c: "numeric" if c in encoding["numeric"] else "categorical" for c in features}
    accepted, accepted_note = accepted_training_data(raw_dir, read)
    if accepted is not None and target not in accepted.columns:
        accepted, accepted_note = None, f"the accepted data has no column {target!r}: another dataset, not compared"
    print(f"validate: {accepted_note}", flush=True)

    checks = {
        "duplicate_rows": duplicate_rows(train),
        "conflicting_labels": conflicting_labels(train, features, target),
        "constant_columns": constant_columns(train, features),
        "type_changes": type_changes(train, holdout, kinds, "data/holdout"),
        "missing_rate_jump": missing_rate_jumps(holdout, train, "data/holdout against data/raw", features,
                                                settings["max_missing_jump"]),
        "leakage": leakage(*single_feature_scores(train, encoding, params["train"]["seed"]),
                           settings["leakage_max_auc"]),
    }
    comparisons = {"train_vs_holdout": drift(train, holdout, encoding, settings["drift_max_psi"])}
    if accepted is not None:
        comparisons["train_vs_accepted"] = drift(accepted, train, encoding, settings["drift_max_psi"])
        checks["type_changes_since_accepted"] = type_changes(train, accepted, kinds, "the accepted data")
        checks["missing_rate_jump_since_accepted"] = missing_rate_jumps(
            train, accepted, "data/raw against the accepted data", features, settings["max_missing_jump"])
    checks["drift"] = drift_check(comparisons, settings["drift_max_psi"])
    severity_of = {"type_changes_since_accepted": "type_changes", "missing_rate_jump_since_accepted":
                   "missing_rate_jump"}
    results = {name: {"passed": bool(passed), "severity": settings[severity_of.get(name, name)], "detail": detail}
               for name, (passed, detail) in checks.items()}
    failed = [name for name, r in results.items() if not r["passed"] and r["severity"] == "fail"]
    # Everything is computed before the first write, so a crash leaves no partial report.
    write_json(out_dir / "summary.json", {"passed": not failed, "checks": results})
    write_json(out_dir / "drift.json", {"train_vs_accepted": comparisons.get("train_vs_accepted", []),
                                        "train_vs_holdout": comparisons["train_vs_holdout"]})
    write_junit(out_dir / "junit.xml", "validate", results)
    write_atomically(out_dir / "report.md",
                     lambda tmp: Path(tmp).write_text(markdown(results, comparisons, accepted_note), encoding="utf-8"))
    # train waits for this marker; its content never changes, so a new drift figure never re-runs train.
    if failed:
        (out_dir / "passed").unlink(missing_ok=True)
    else:
        write_atomically(out_dir / "passed", lambda tmp: Path(tmp).write_text("passed\n", encoding="utf-8"))
    for name, r in results.items():
        state = "ok  " if r["passed"] else ("FAIL" if r["severity"] == "fail" else "warn")
        print(f"validate: {state} {name}: {r['detail']}")
    return failed


@command
def main(argv=None):
    parser(__doc__).parse_args(argv)
    failed = run(config.load_params())
    if failed:
        print(f"validate: checks failed: {', '.join(failed)} (set them to warn in params.yaml -> validate "
              "to train anyway)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
