"""Serving: `make serve` against MLflow's model server, the same model under the same load.

The sample project is baked and trained. Its model is saved as an MLflow pyfunc model whose
predict calls the project's own predict code (bench/mlflow_pyfunc.py), and served by `mlflow
models serve --env-manager local` from the MLflow environment (`.venv-mlflow-server`: mlflow needs
an older pyarrow than the project pins). Both run as one process with one worker on 127.0.0.1;
before the timing they answer the same 100 holdout rows and must agree on every prediction and
probability. The load: single rows and 100-row batches of holdout rows as JSON (a list of row
objects for `make serve`, MLflow's `dataframe_records` for MLflow), one request at a time and 8
at a time, each client thread on its own keep-alive connection; after a warm-up, each load runs
on one server, then the other, three rounds over, so a slow spell of the machine falls on both.
Latency is a request's whole round trip, measured by the client on the same 2 cores as the server.
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
MLFLOW_BIN = TEMPLATE_DIR / ".venv-mlflow-server" / "bin"
# (rows per request, requests at once, requests per round): the loads, full size and for the tests.
LOADS = [(1, 1, 500), (1, 8, 1000), (100, 1, 300), (100, 8, 300)]
SMALL_LOADS = [(1, 1, 20), (1, 8, 40), (100, 1, 10), (100, 8, 20)]
ROUNDS = 3
WARM_UP = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A scoring server as a process group: started, waited for, called, stopped."""

    def __init__(self, name, command, cwd, port, route, health, wrap):
        self.name, self.port, self.route, self.wrap = name, port, route, wrap
        self.log = open(Path(cwd) / f"{name.split()[0].lower()}-serve.log", "w")
        self.process = subprocess.Popen(command, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 180
        while not self.answers(health):  # a condition, not a fixed sleep
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start:\n{Path(self.log.name).read_text()[-3000:]}")
            time.sleep(0.2)

    def answers(self, path):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", path)
            return connection.getresponse().status == 200
        except OSError:
            return False

    def predict(self, connection, rows):
        """The parsed answer to one scoring request on ``connection`` (raises on anything but 200)."""
        connection.request("POST", self.route, body=json.dumps(self.wrap(rows)),
                           headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{self.name} answered {answer.status}: {body[:500]!r}")
        return json.loads(body)

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(60)
        self.log.close()


def predictions(answer):
    """The list of prediction rows in either server's answer."""
    return answer["predictions"] if isinstance(answer, dict) else answer


def load(server, bodies, at_once):
    """Send every body, ``at_once`` at a time; the latencies (s) and the wall time."""
    local = threading.local()

    def one(rows):
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        start = time.perf_counter()
        answer = predictions(server.predict(local.connection, rows))
        elapsed = time.perf_counter() - start
        if len(answer) != len(rows):
            raise RuntimeError(f"{server.name} answered {len(answer)} rows for {len(rows)}")
        return elapsed

    start = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        latencies = list(pool.map(one, bodies))
    return latencies, time.perf_counter() - start


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(servers, rows, loads, rounds, log):
    """Each load on each server in turn, ``rounds`` times over (so a slow spell of the machine
    falls on both); latencies pooled over the rounds, throughput over their summed wall time."""
    results = []
    for size, at_once, count in loads:
        bodies = [rows[(i * size) % (len(rows) - size):][:size] for i in range(count)]
        log(f"serving: {count} requests of {size} row(s), {at_once} at a time, {rounds} rounds on each server")
        latencies = {server.name: [] for server in servers}
        wall = dict.fromkeys(latencies, 0.0)
        for server in servers:
            load(server, bodies[:WARM_UP], at_once)
        for _ in range(rounds):
            for server in servers:
                taken, seconds = load(server, bodies, at_once)
                latencies[server.name] += taken
                wall[server.name] += seconds
        results += [{"server": name, "rows": size, "at_once": at_once, "requests": len(taken),
                     "per_second": len(taken) / wall[name], "p50_ms": 1000 * percentile(taken, 0.5),
                     "p99_ms": 1000 * percentile(taken, 0.99)} for name, taken in latencies.items()]
    return results


def same_answers(ours, theirs):
    """Both servers' rows agree: the same labels, the same probabilities (to float precision)."""
    if len(ours) != len(theirs):
        return False
    for a, b in zip(ours, theirs, strict=True):
        if a.keys() != b.keys():
            return False
        for key, value in a.items():
            if isinstance(value, float) and abs(value - b[key]) > 1e-12 * max(1.0, abs(value)):
                return False
            if not isinstance(value, float) and str(value) != str(b[key]):
                return False
    return True


def run(bake, workdir, log, small=False):
    import pandas as pd

    mlflow = MLFLOW_BIN / "mlflow"
    if not mlflow.exists():
        raise SystemExit("the MLflow environment is missing: `make bench` installs it (.venv-mlflow-server)")
    log("serving: baking and training the sample project")
    project = bake(workdir, "serving")[1]
    subprocess.run(["make", "repro"], cwd=project, check=True, stdout=subprocess.DEVNULL)
    pyfunc = workdir / "serving-pyfunc"
    subprocess.run([MLFLOW_BIN / "python", Path(__file__).with_name("mlflow_pyfunc.py"), project, pyfunc],
                   check=True)
    holdout = pd.read_csv(next((project / "data" / "holdout").glob("*.csv")))
    target = json.loads((project / "models" / "encoding.json").read_text())["target"]
    rows = json.loads(holdout.drop(columns=[target]).to_json(orient="records"))
    servers = {
        "make serve": lambda port: Server("make serve", ["make", "serve", f"PORT={port}"], project, port,
                                          "/predict", "/health", lambda rows: rows),
        "MLflow": lambda port: Server("MLflow", [mlflow, "models", "serve", "-m", pyfunc, "--env-manager", "local",
                                                 "-h", "127.0.0.1", "-p", str(port)], workdir, port,
                                      "/invocations", "/ping", lambda rows: {"dataframe_records": rows}),
    }
    with contextlib.ExitStack() as running:
        started = []
        for name, start in servers.items():
            log(f"serving: starting {name}")
            started.append(start(free_port()))
            running.callback(started[-1].stop)
        answers = {server.name: predictions(server.predict(
            http.client.HTTPConnection("127.0.0.1", server.port, timeout=120), rows[:100])) for server in started}
        if not same_answers(answers["make serve"], answers["MLflow"]):
            raise RuntimeError("make serve and MLflow answered the same rows differently:\n"
                               f"{answers['make serve'][:2]}\n{answers['MLflow'][:2]}")
        results = measure(started, rows, SMALL_LOADS if small else LOADS, 1 if small else ROUNDS, log)
    return {"loads": results, "model": "xgboost (the sample project's defaults)"}


def table(serving):
    lines = ["| rows per request | at once | server | requests | requests/s | rows/s | p50 | p99 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in serving["loads"]:
        lines.append(f"| {r['rows']} | {r['at_once']} | {r['server']} | {r['requests']:,} | {r['per_second']:.0f} | "
                     f"{r['per_second'] * r['rows']:,.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms |")
    return lines


def goals(serving):
    """(text, met) per goal: p99 no worse than MLflow's on every load, more rows/s on batches."""
    by_load = {}
    for r in serving["loads"]:
        by_load.setdefault((r["rows"], r["at_once"]), {})[r["server"]] = r
    out = []
    for (size, at_once), pair in sorted(by_load.items()):
        ours, theirs = pair["make serve"], pair["MLflow"]
        load_name = f"{size} row(s), {at_once} at a time"
        out.append((f"serving p99, {load_name}: make serve {ours['p99_ms']:.1f} ms against MLflow "
                    f"{theirs['p99_ms']:.1f} ms (target: no slower)", ours["p99_ms"] <= theirs["p99_ms"]))
        if size > 1:
            out.append((f"serving throughput, {load_name}: make serve {ours['per_second']:.0f} requests/s against "
                        f"MLflow {theirs['per_second']:.0f} (target: faster)",
                        ours["per_second"] > theirs["per_second"]))
    return out
