"""Benchmarks of the generated project, written to docs/benchmarks.md.

Model quality (bench/quality.py): the default pipeline against the plain scripts a user would
write, on synthetic and bundled datasets. Checks (bench/false_alarms.py): the data and model
checks on clean real datasets (false alarms) and with injected defects (caught). Engines
(--parts engines): train.engine local against dask, wall time, peak memory per process and
score, and the largest row count each fits. Serving (bench/serving.py): `make serve` against
MLflow's model server on the same model and load. AutoML (bench/automl.py): the default model
against FLAML at a fixed wall budget on real datasets.

Every figure is whole processes timed from outside, the median of --repeat runs with the spread
(min-max). Workloads: bake; no-op `make repro` against a one-stage DVC project's no-op; cold
`make repro` against a single script doing the same work; incremental re-runs; peak memory of
each stage against the training DataFrame's in-memory size. The raw figures are saved beside the
report (docs/benchmarks.json), so the report can be written again without re-running.

    python bench/run.py --sizes 100000 1000000 --repeat 3
    python bench/run.py --parts quality      # keeps the saved speed figures
    python bench/run.py --parts engines --engine-sizes 1000000 5000000
    python bench/run.py --parts checks
    python bench/run.py --parts serving
    python bench/run.py --parts automl --automl-budget 60 --automl-seeds 3
    python bench/run.py --report-only
"""

import argparse
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import automl  # noqa: E402
import false_alarms  # noqa: E402
import quality  # noqa: E402
import serving  # noqa: E402
import synthetic  # noqa: E402
from report import STAGES, write_report  # noqa: E402

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SINGLE_SCRIPT = f"python {Path(__file__).parent / 'single_script.py'}"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def timed(command, cwd):
    """Wall time and output of a shell command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, shell=True, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    output = process.stdout.read()
    process.wait()
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"`{command}` exited {process.returncode}:\n{output[-3000:]}")
    return elapsed, output


def bake(workdir, name):
    """Bake (timed), then install the package as `make install` does, into this environment,
    which already holds the project's pinned dependencies."""
    out = workdir / name
    out.mkdir()
    seconds = timed(f"cookiecutter --no-input --output-dir {out} {TEMPLATE_DIR}", workdir)[0]
    project = out / "churn-model"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--editable", "."], cwd=project, check=True)
    return seconds, project


def dvc_floor_project(workdir):
    """The least a no-op costs: `dvc repro` of a one-stage project with nothing to do."""
    project = workdir / "floor"
    project.mkdir()
    (project / "in.txt").write_text("x\n")
    (project / "dvc.yaml").write_text("stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n"
                                      "    outs: [out.txt]\n")
    timed("git init -q && dvc init -q && dvc repro -q && git add -A && git commit -qm floor", project)
    return project


def use_synthetic_data(project, rows):
    for folder in ("data/raw", "data/holdout"):
        shutil.rmtree(project / folder)
        (project / folder).mkdir()
    synthetic.write_csv(project / "data/raw/train.csv", rows, seed=1)
    synthetic.write_csv(project / "data/holdout/holdout.csv", max(rows // 10, 1000), seed=2)
    params = (project / "params.yaml").read_text().replace("target: churned", f"target: {synthetic.TARGET}")
    (project / "params.yaml").write_text(params)
    timed("dvc add -q data/raw data/holdout", project)


def ran_stages(output):
    return [s for s in STAGES if f"Running stage '{s}'" in output]


def training_frame_mib(project, rows=None):
    """The training CSV's size as a pandas DataFrame; with ``rows`` (the file's row count),
    scaled up from its first 200,000 rows, for files too large to read whole."""
    import pandas as pd

    path = next((project / "data/raw").iterdir())
    if rows is None:
        return pd.read_csv(path, engine="pyarrow").memory_usage(deep=True).sum() / 2**20
    head = pd.read_csv(path, nrows=200_000)
    return head.memory_usage(deep=True).sum() / len(head) * rows / 2**20


# A process started by this (large) one inherits its peak RSS as a starting value, so the stages
# are started by a small launcher and their peak is read from the launcher's own wait4.
PEAK_RSS_LAUNCHER = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1], shell=True); "
                     "status, usage = os.wait4(p.pid, 0)[1:]; print(usage.ru_maxrss); "
                     "sys.exit(os.waitstatus_to_exitcode(status))")


def peak_rss_mib(command, cwd):
    output = subprocess.run([sys.executable, "-S", "-c", PEAK_RSS_LAUNCHER, command], cwd=cwd, check=True,
                            stdout=subprocess.PIPE, text=True).stdout
    return int(output.split()[-1]) / 1024


# The floor for preprocess: nothing but reading the training CSV the way the pipeline reads it.
READ_CSV = 'import sys, pandas; pandas.read_csv(sys.argv[1], engine="pyarrow")'


def peak_rss_and_output(command, cwd):
    """Wall time, peak RSS (MiB, the process and the children it waited for) and output."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-S", "-c", PEAK_RSS_LAUNCHER, command], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"`{command}` exited {result.returncode}:\n{result.stdout[-5000:]}")
    return time.perf_counter() - start, int(result.stdout.split()[-1]) / 1024, result.stdout


ENGINES = {"local": "local", "local, out of core": "local", "dask": "dask"}
# Time goes into boosting rounds, memory into the data: the engines run a shorter search than the
# defaults (early stopping's cap and the folds), so that millions of rows take minutes, not hours.
QUICK_MODEL = (("    n_estimators: 3000", "    n_estimators: 300"), ("  cv_folds: 5", "  cv_folds: 2"))


def bench_engine(workdir, rows, engine):
    """One cold pipeline run of an ``ENGINES`` entry (out of core: a memory budget of 1 MiB) with
    QUICK_MODEL: each stage alone, timed, with its peak memory; with dask also each worker's peak,
    as the train stage reports it."""
    import yaml

    log(f"{rows} rows, {engine} engine")
    project = bake(workdir, f"engine-{engine.replace(', ', '-').replace(' ', '-')}-{rows}")[1]
    use_synthetic_data(project, rows)
    set_param(project, "  engine: local", f"  engine: {ENGINES[engine]}")
    if engine.endswith("out of core"):
        set_param(project, "  memory_budget_mib: null", "  memory_budget_mib: 1")
    for old, new in QUICK_MODEL:
        set_param(project, old, new)
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    result = {"rows": rows, "engine": engine, "seconds": {}, "memory": {}, "workers": [],
              "frame_mib": training_frame_mib(project, rows)}
    for name, stage in stages.items():
        seconds, peak, output = peak_rss_and_output(stage["cmd"], project)
        result["seconds"][name], result["memory"][name] = seconds, peak
        if found := re.search(r"peak memory: this process ([\d.]+) MiB; each Dask worker: (.*)", output):
            result["client"] = float(found.group(1))
            result["workers"] = [float(mib) for mib in re.findall(r"([\d.]+) MiB", found.group(2))]
    metrics = json.loads((project / "reports/evaluate/metrics.json").read_text())
    result["score"] = metrics["roc_auc"]
    shutil.rmtree(project.parent)
    return result


def stage_memory(project):
    """Peak RSS of each stage, run alone with the command dvc.yaml gives it."""
    import yaml

    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    return {name: peak_rss_mib(stage["cmd"], project) for name, stage in stages.items()}


def set_param(project, old, new):
    path = project / "params.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def bench_size(workdir, rows, repeat):
    log(f"{rows} rows: baking and generating data")
    project = bake(workdir, f"size-{rows}")[1]
    use_synthetic_data(project, rows)
    result = {"rows": rows, "frame_mib": training_frame_mib(project), "date": time.strftime("%Y-%m-%d")}
    cold, script, evaluate_only, train_only = [], [], [], []
    for i in range(repeat):
        log(f"{rows} rows: run {i + 1}/{repeat}")
        if i:  # back to cold: no outputs, no lock file, no run-cache
            timed("rm -rf data/processed models reports .dvc/cache/runs dvc.lock", project)
        cold.append(timed("make repro", project)[0])
        script.append(timed(f"{SINGLE_SCRIPT} {project}", project)[0])
        set_param(project, "min_improvement: 0.001", "min_improvement: 0.0005")
        elapsed, output = timed("make repro", project)
        evaluate_only.append(elapsed)
        result["evaluate_only_ran"] = ran_stages(output)
        set_param(project, "    learning_rate: 0.05", "    learning_rate: 0.06")
        elapsed, output = timed("make repro", project)
        train_only.append(elapsed)
        result["train_only_ran"] = ran_stages(output)
        set_param(project, "min_improvement: 0.0005", "min_improvement: 0.001")
        set_param(project, "    learning_rate: 0.06", "    learning_rate: 0.05")
    result.update(cold=cold, script=script, evaluate_only=evaluate_only, train_only=train_only)
    log(f"{rows} rows: peak memory per stage")
    result["memory"] = stage_memory(project)  # the stages' inputs are there from the last run
    result["read_csv_memory"] = peak_rss_mib(f"python -c '{READ_CSV}' data/raw/train.csv", project)
    result["script_memory"] = peak_rss_mib(f"{SINGLE_SCRIPT} {project}", project)
    return result


def machine():
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}"
                         for name in ("dvc", "dvclive", "xgboost-cpu", "scikit-learn", "pandas", "pyarrow", "numpy"))
    gib = int(re.findall(r"\d+", memory)[0]) / 2**20
    return (f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {gib:.0f} GiB memory, "
            f"Python {platform.python_version()} on {platform.system()}; {versions}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(TEMPLATE_DIR / "docs" / "benchmarks.md"))
    parser.add_argument("--parts", nargs="+", choices=("speed", "quality", "engines", "checks", "serving", "automl"),
                        default=["speed", "quality"],
                        help="what to measure; the saved figures of the other part are kept")
    parser.add_argument("--engine-sizes", type=int, nargs="+", default=[1_000_000, 5_000_000],
                        help="row counts of the engines part")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES),
                        help="what the engines part runs at each size; the other runs keep their saved figures")
    parser.add_argument("--small-quality", action="store_true", help="one tiny quality dataset (for the tests)")
    parser.add_argument("--small-checks", action="store_true",
                        help="one small dataset and one model in the checks part (for the tests)")
    parser.add_argument("--small-serving", action="store_true", help="a few requests per load (for the tests)")
    parser.add_argument("--small-automl", action="store_true",
                        help="one small dataset in the automl part (for the tests)")
    parser.add_argument("--automl-budget", type=int, default=60, help="FLAML's wall budget per run, in seconds")
    parser.add_argument("--automl-seeds", type=int, default=3, help="splits per dataset in the automl part")
    parser.add_argument("--datasets", nargs="+", metavar="NAME",
                        help="only these datasets in the quality and automl parts; the others keep their saved rows")
    parser.add_argument("--report-only", action="store_true",
                        help="only write the report again, from the raw results the last run saved beside it")
    args = parser.parse_args(argv)
    unknown = set(args.datasets or ()) - set(quality.datasets()) - set(automl.datasets())
    if unknown:
        parser.error(f"--datasets: no dataset named {', '.join(sorted(unknown))} in the quality or automl part")
    results_file = Path(args.output).with_suffix(".json")
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    previous_file = Path(args.output).with_name("benchmarks-previous.json")
    previous = json.loads(previous_file.read_text()) if previous_file.exists() else None
    if args.report_only:
        write_report(args.output, **results, previous=previous)
        return
    os.environ["DVC_NO_ANALYTICS"] = "1"
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        if "speed" in args.parts:
            measured = speed(workdir, args.sizes, args.repeat)
            # Sizes not measured this time keep their saved figures.
            by_rows = {r["rows"]: r for r in results.get("sizes", [])} | {r["rows"]: r for r in measured["sizes"]}
            results.update(measured, sizes=[by_rows[rows] for rows in sorted(by_rows)])
        if "engines" in args.parts:
            measured = [bench_engine(workdir, rows, engine) for rows in args.engine_sizes for engine in args.engines]
            # Runs not measured this time (other sizes or engines) keep their saved figures.
            by_run = {(r["rows"], r["engine"]): r for r in results.get("engines", []) + measured}
            order = sorted(by_run, key=lambda key: (key[0], list(ENGINES).index(key[1])))
            results.update(engines=[by_run[key] for key in order], engines_date=time.strftime("%Y-%m-%d"))
        if "quality" in args.parts:
            rows = quality.run(bake, workdir, log, small=args.small_quality, only=args.datasets)
            results.update(quality_rows=merged(results.get("quality_rows"), rows, args.datasets),
                           quality_date=time.strftime("%Y-%m-%d"))
        if "checks" in args.parts:
            results.update(checks=false_alarms.run(bake, workdir, log, small=args.small_checks),
                           checks_date=time.strftime("%Y-%m-%d"))
        if "automl" in args.parts:
            rows = automl.run(bake, workdir, log, small=args.small_automl, budget=args.automl_budget,
                              seeds=args.automl_seeds, only=args.datasets)
            results.update(automl=merged(results.get("automl"), rows, args.datasets),
                           automl_date=time.strftime("%Y-%m-%d"))
        if "serving" in args.parts:
            results.update(serving=serving.run(bake, workdir, log, small=args.small_serving),
                           serving_date=time.strftime("%Y-%m-%d"))
    if "bake_times" not in results:
        raise SystemExit("no speed figures saved yet: run with --parts speed first")
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=1) + "\n")
    write_report(args.output, **results, previous=previous)


def merged(saved, measured, only):
    """The rows of a part: all measured now, or with ``only`` the saved rows of the other datasets
    kept in their place (a change that affects a few datasets re-measures those alone)."""
    if not only:
        return measured
    by_name = {row["dataset"]: row for row in measured}
    return [by_name.get(row["dataset"], row) for row in saved or []] + [
        row for row in measured if row["dataset"] not in {r["dataset"] for r in saved or []}]


def speed(workdir, sizes, repeat):
    log("bake")
    bake_times = [bake(workdir, f"bake-{i}")[0] for i in range(repeat)]
    project = workdir / "bake-0" / "churn-model"
    timed("make repro", project)
    log("no-op runs")
    noop_runs = 2 * repeat + 1  # quick runs: more of them for a steadier median
    noop = [timed("make repro", project)[0] for _ in range(noop_runs)]
    floor_project = dvc_floor_project(workdir)
    floor = [timed("dvc repro", floor_project)[0] for _ in range(noop_runs)]
    return {"bake_times": bake_times, "noop": noop, "floor": floor,
            "sizes": [bench_size(workdir, rows, repeat) for rows in sizes], "repeat": repeat,
            "machine": machine(), "date": time.strftime("%Y-%m-%d")}


if __name__ == "__main__":
    main()
