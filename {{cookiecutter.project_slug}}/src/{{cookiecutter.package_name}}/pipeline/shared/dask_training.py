"""train.engine: dask. The final model is fitted by XGBoost's own Dask interface on a Dask cluster:
the one whose scheduler DASK_SCHEDULER_ADDRESS names (tcp://host:8786), else a local cluster of
worker processes on this machine. Each worker reads and holds only its share of the processed
Parquet (one partition per row group), so no process holds the whole training frame.

The workers read the data where they can reach it: the local file when the cluster shares this
machine's disk (a local cluster, or a cluster on one host), else a copy the train stage uploads to
DASK_DATA_URL (s3://bucket/prefix; the workers need read access to it). The model is XGBoost's
usual model file: every other stage, and make predict, read it as they read a local one.
"""

import contextlib
import hashlib
import logging
import os
import sys
from pathlib import Path

from ... import config
from ...cli import UserError
from . import encoding as encoding_module
from . import splits
from .encoding import decode

SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
DATA_URL_VARIABLE = "DASK_DATA_URL"
CONNECT_TIMEOUT = "30s"
WORKER_ENVIRONMENT = {"MALLOC_TRIM_THRESHOLD_": 0, "ARROW_DEFAULT_MEMORY_POOL": "system"}
VALIDATION_COLUMN = "__validation__"  # marks the rows early stopping scores on


@contextlib.contextmanager
def connected():
    """A Dask client: to the scheduler at DASK_SCHEDULER_ADDRESS, else to a new local cluster."""
    import dask
    from distributed import Client, LocalCluster

    address = os.environ.get(SCHEDULER_VARIABLE)
    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except OSError as error:
            raise UserError(f"cannot reach the Dask scheduler at {SCHEDULER_VARIABLE}={address}: {error}; "
                            f"check the address, or unset {SCHEDULER_VARIABLE} to train on a local cluster") from None
        with client:
            print(f"train: Dask cluster at {address}, {len(client.scheduler_info()['workers'])} workers", flush=True)
            yield client
        return
    # The local scheduler runs in this process: its notes on the shuffle XGBoost asks for (to find
    # the classes) are routine, not warnings for the user.
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    # One single-threaded worker process per core (XGBoost runs one thread in each). Workers
    # return freed memory to the system at once (glibc's trim threshold, Arrow's system allocator):
    # about 15 % lower peaks, as for any cluster (docs/scaling.md).
    environment = {**dask.config.get("distributed.nanny.pre-spawn-environ"), **WORKER_ENVIRONMENT}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environment}), \
            LocalCluster(threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        print(f"train: local Dask cluster, {len(cluster.workers)} workers (set {SCHEDULER_VARIABLE} to use "
              "another cluster)", flush=True)
        yield client


def peak_memory_mib():
    """This process's peak resident memory (Linux's VmHWM, which, unlike getrusage, does not start
    from the peak of the process that spawned it); run on each worker."""
    import re

    status = Path("/proc/self/status")
    found = re.search(r"VmHWM:\s+(\d+) kB", status.read_text()) if status.exists() else None
    return int(found.group(1)) / 1024 if found else float("nan")


def data_location(train_file):
    """Where the workers read the processed training data: the local file, or its copy under
    DASK_DATA_URL (uploaded once per content, named by its MD5)."""
    base = os.environ.get(DATA_URL_VARIABLE)
    if not base:
        return str(Path(train_file).resolve())
    import fsspec

    digest = hashlib.md5()
    with open(train_file, "rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    url = f"{base.rstrip('/')}/{digest.hexdigest()}/{Path(train_file).name}"
    try:
        filesystem, path = fsspec.core.url_to_fs(url)
        if filesystem.exists(path):
            print(f"train: the training data is already at {url}", flush=True)
        else:
            print(f"train: uploading the training data to {url}", flush=True)
            filesystem.put_file(str(train_file), path)
    except Exception as error:  # noqa: BLE001 - any storage failure means the same to the user
        raise UserError(f"cannot upload the training data to {DATA_URL_VARIABLE}={base}: {error}") from None
    return url


def fit(train_file, encoding, hyperparameters, seed, device, validation_share=0.1, refit=False):
    """The fitted DaskXGBClassifier (saved like any XGBoost model). With early_stopping_rounds, each
    partition sets aside its own stratified ``validation_share`` (as model_store.fit does for the
    local engine), so the validation rows are spread over the workers like the rest; ``refit``
    then fits again on every row with the number of trees found (model_store.fit's refit_max_rows)."""
    import cloudpickle
    import dask.dataframe as dd
    import numpy as np
    from xgboost import dask as dxgb

    location = data_location(train_file)
    target, categorical = config.TARGET_COLUMN, encoding["categorical"]
    names = [*encoding["features"], target]

    early_stopping = hyperparameters.get("early_stopping_rounds") is not None

    def decoded(part, partition_info=None):
        columns = {name: np.asarray(part[name]) for name in names}
        frame = decode(columns, encoding).assign(**{target: columns[target]})
        if early_stopping:
            number = partition_info["number"] if partition_info else 0
            validation = splits.inner_split(columns[target], validation_share, seed + number)[1]
            frame[VALIDATION_COLUMN] = np.isin(np.arange(len(frame)), validation)
        return frame

    empty = {name: np.array([], dtype="int32" if name in categorical else "float32") for name in names}
    # The scheduler and the workers unpickle ``decoded`` and what it calls: by value, so a cluster
    # needs the project's dependencies but not this package.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cloudpickle.register_pickle_by_value(encoding_module)
    cloudpickle.register_pickle_by_value(splits)
    with connected() as client:
        # One partition per row group (preprocess writes them of at most 250,000 rows). Features and
        # target come out of the same partitions, so XGBoost finds them aligned.
        frame = dd.read_parquet(location, columns=names, split_row_groups=True)
        frame = frame.map_partitions(decoded, meta=decoded(empty))
        print(f"train: fitting the final model on the Dask cluster, {frame.npartitions} partitions", flush=True)
        model = dxgb.DaskXGBClassifier(**{"enable_categorical": True, **hyperparameters, "device": device},
                                       random_state=seed)
        model.client = client
        if early_stopping:
            fitting, validation = frame[~frame[VALIDATION_COLUMN]], frame[frame[VALIDATION_COLUMN]]
            features = [name for name in names if name != target]
            model.fit(fitting[features], fitting[target], eval_set=[(validation[features], validation[target])],
                      verbose=False)
            if refit:
                model.set_params(n_estimators=int(model.best_iteration) + 1, early_stopping_rounds=None)
                model.fit(frame[features], frame[target])
        else:
            model.fit(frame.drop(columns=[target]), frame[target])
        peaks = client.run(peak_memory_mib)
        print(f"train: peak memory: this process {peak_memory_mib():.0f} MiB; each Dask worker: "
              + ", ".join(f"{mib:.0f} MiB" for mib in peaks.values()), flush=True)
    return model
