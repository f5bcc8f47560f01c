"""train.engine: dask on a real dask.distributed cluster: a LocalCluster of 2 worker processes, each
with a memory limit, reached the way a user reaches any cluster (DASK_SCHEDULER_ADDRESS). The stages
run as dvc.yaml runs them, each its own process, in a baked project.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import BUCKET, TEMPLATE_DIR, baked_project, iam_user, project_python, read_metrics, set_params

pytestmark = pytest.mark.slow
sys.path.insert(0, str(TEMPLATE_DIR / "bench"))
import synthetic  # noqa: E402 - the benchmarks' synthetic data: 30 columns, gaps, text categories

STAGES = ("preprocess", "train", "evaluate")
LIMIT_MIB = 550
# Settings docs/scaling.md recommends for a cluster's workers (the engine's own local cluster uses them).
WORKER_ENVIRONMENT = {"MALLOC_TRIM_THRESHOLD_": "0", "ARROW_DEFAULT_MEMORY_POOL": "system"}
PEAK_LAUNCHER = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:]); status, usage = os.wait4(p.pid, 0)"
                 "[1:]; print('peak', usage.ru_maxrss); sys.exit(os.waitstatus_to_exitcode(status))")


@pytest.fixture
def cluster():
    """A new LocalCluster for each test (fresh workers: a peak measured is this test's), 2 worker
    processes of 1 thread each limited to LIMIT_MIB; the nanny restarts a worker past 95 % of it."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENVIRONMENT}), \
            LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=f"{LIMIT_MIB}MiB",
                         dashboard_address=None) as local, Client(local) as client:
        yield local, client


def run_stages(project, env=None):
    """Each stage as dvc.yaml runs it; returns {stage: peak MiB of its process} and the output."""
    peaks, output = {}, ""
    for stage in STAGES:
        result = subprocess.run([sys.executable, "-S", "-c", PEAK_LAUNCHER, project_python(project), "-m",
                                 f"churn_model.pipeline.{stage}"], cwd=project, text=True, capture_output=True,
                                env={**os.environ, **(env or {})})
        assert result.returncode == 0, result.stdout + result.stderr
        output += result.stdout
        peaks[stage] = int(result.stdout.split("peak")[-1]) / 1024
    return peaks, output


def roc_auc(project):
    return read_metrics(project)["roc_auc"]


def use_engine(project, engine):
    set_params(project, lambda p: p["train"].update(engine=engine))


def worker_peaks(client):
    """Each worker's peak resident memory (VmHWM: its own, not the peak of the process that
    spawned it); the lambda travels to the workers by value."""
    return client.run(lambda: int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024)


def test_the_sample_data_trains_on_a_cluster_reading_its_copy_on_s3(cookies, cluster, s3):
    """A cluster that does not share the runner's disk: the train stage uploads the processed
    data to DASK_DATA_URL and the workers read it there with their own read-only keys."""
    local, client = cluster
    project = baked_project(cookies, init_git="no")
    run_stages(project)
    local_score = roc_auc(project)
    use_engine(project, "dask")
    writer = iam_user(s3, "dask-stage", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"], "Resource": "*"}]})
    reader = iam_user(s3, "dask-workers", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]})
    # The workers' own credentials, as a real cluster's would be (set in their environment).
    worker_environment = {"AWS_ENDPOINT_URL": s3.endpoint, **reader}
    client.run(lambda environment=worker_environment: os.environ.update(environment))
    url = f"s3://{BUCKET}/dask-staging"
    env = {"DASK_SCHEDULER_ADDRESS": local.scheduler_address, "DASK_DATA_URL": url, "AWS_ENDPOINT_URL": s3.endpoint,
           **writer}
    _, output = run_stages(project, env)
    assert f"train: uploading the training data to {url}/" in output
    assert f"Dask cluster at {local.scheduler_address}, 2 workers" in output
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=BUCKET, Prefix="dask-staging/")["Contents"]]
    assert len(keys) == 1 and keys[0].endswith("/train.parquet")
    assert abs(roc_auc(project) - local_score) <= 0.005
    # The same data again: no second upload.
    assert "already at" in run_stages(project, env)[1]


def test_a_larger_set_trains_within_each_workers_memory_limit(cookies, cluster):
    """600,000 rows: on the cluster no worker passes its limit (none restarted), each holds less
    than the local engine's train stage, and the holdout score matches the local engine's. (The
    other stages read a partition at a time with either engine.)"""
    local, client = cluster
    project = baked_project(cookies, init_git="no", sample_data="no")
    rows = 600_000
    synthetic.write_csv(project / "data/raw/train.csv", rows, seed=1)
    synthetic.write_csv(project / "data/holdout/holdout.csv", 60_000, seed=2)

    def quick(params):
        params["data"]["target"] = synthetic.TARGET
        params["train"].update(cv_folds=2, cv_max_rows=20_000)
        # Depth 4, not auto's 8 at this size: memory is the premise here, and depth 8 trees take longer.
        params["train"]["xgboost"].update(n_estimators=100, max_depth=4)

    set_params(project, quick)
    local_peaks, _ = run_stages(project)
    local_score = roc_auc(project)
    workers_before = sorted(client.scheduler_info()["workers"])
    use_engine(project, "dask")
    dask_peaks, output = run_stages(project, {"DASK_SCHEDULER_ADDRESS": local.scheduler_address})
    peaks = worker_peaks(client)
    print(f"local engine peaks {local_peaks}; dask engine {dask_peaks}; workers {peaks} (limit {LIMIT_MIB} MiB)")
    assert sorted(client.scheduler_info()["workers"]) == workers_before  # no worker was restarted
    assert all(mib < LIMIT_MIB for mib in peaks.values())
    # The local engine's train stage holds every row; a worker, its share of the partitions.
    assert local_peaks["train"] > max(peaks.values())
    assert f"train: xgboost on {rows} rows (dask engine, cpu)" in output
    assert abs(roc_auc(project) - local_score) <= 0.005
