"""`make s3-local` / `make s3-local-stop`: a local S3 API server for trying the project offline.

The server is moto in server mode, bound to 127.0.0.1. Starting it creates the remote's bucket and
points the default remote at it through the git-ignored .dvc/config.local, with dummy
credentials. Objects live in the server's memory until it stops: it is a sandbox, not storage.
Running `start` twice is harmless; a port held by another program is refused.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from ..cli import UserError, command, parser

STATE_DIR = Path(".dvc/tmp/s3-local")
STATE_FILE = STATE_DIR / "server.json"
LOG_FILE = STATE_DIR / "server.log"
DUMMY_CREDENTIALS = {"access_key_id": "local-s3-dummy-key", "secret_access_key": "local-s3-dummy-secret"}


def is_moto(url):
    try:
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def port_in_use(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def read_state():
    try:
        state = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return None
    return state if pid_alive(state["pid"]) and is_moto(state["url"]) else None


def edit_remote(update):
    """Apply ``update(remote_settings)`` to the default remote in .dvc/config.local."""
    from dvc.config import Config

    config = Config.from_cwd()
    name = config["core"]["remote"]
    with config.edit("local") as local:
        update(local.setdefault("remote", {}).setdefault(name, {}))
    return name, config["remote"][name]["url"]


def create_bucket(url, bucket, region):
    import boto3

    client = boto3.client("s3", endpoint_url=url, region_name=region or "us-east-1",
                          aws_access_key_id=DUMMY_CREDENTIALS["access_key_id"],
                          aws_secret_access_key=DUMMY_CREDENTIALS["secret_access_key"])
    existing = {b["Name"] for b in client.list_buckets()["Buckets"]}
    if bucket not in existing:
        extra = {} if client.meta.region_name == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": client.meta.region_name}}
        client.create_bucket(Bucket=bucket, **extra)


def launch(port):
    import importlib.util

    if importlib.util.find_spec("moto") is None:
        raise UserError("s3-local: moto is not installed here; it is a development tool: run `make install`")
    url = f"http://127.0.0.1:{port}"
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while not is_moto(url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise UserError(f"s3-local: the server did not start; its log is {LOG_FILE}")
        time.sleep(0.2)
    STATE_FILE.write_text(json.dumps({"pid": process.pid, "port": port, "url": url}))
    return url


def start(port):
    state = read_state()
    if state and state["port"] != port:
        raise UserError(f"s3-local: already running at {state['url']}: stop it first (make s3-local-stop)")
    if state:
        url = state["url"]
        print(f"s3-local: already running at {url}")
    elif port_in_use(port):
        raise UserError(f"s3-local: port {port} on 127.0.0.1 is in use by another program: stop it, "
                         f"or choose another port: make s3-local S3_LOCAL_PORT={port + 1}")
    else:
        url = launch(port)
        print(f"s3-local: started a local S3 server at {url} (log: {LOG_FILE})")

    def point_at_server(remote):
        remote.update(endpointurl=url, **DUMMY_CREDENTIALS)

    name, remote_url = edit_remote(point_at_server)
    bucket = urlparse(remote_url).netloc
    create_bucket(url, bucket, None)
    print(f"s3-local: bucket '{bucket}' ready; remote '{name}' ({remote_url}) now uses it "
          "through .dvc/config.local. Objects stay in memory until `make s3-local-stop`.")


def stop():
    state = read_state()
    if state:
        os.killpg(state["pid"], signal.SIGTERM)
        for _ in range(50):
            if not pid_alive(state["pid"]):
                break
            time.sleep(0.1)
        print(f"s3-local: stopped the server at {state['url']}")
    else:
        print("s3-local: no local S3 server is running")
    STATE_FILE.unlink(missing_ok=True)

    def forget_server(remote):
        # Only settings that `start` wrote (recognised by the dummy key) are removed; a real
        # endpoint or real keys of yours in .dvc/config.local stay.
        if remote.get("access_key_id") == DUMMY_CREDENTIALS["access_key_id"]:
            for key in ("endpointurl", *DUMMY_CREDENTIALS):
                remote.pop(key, None)

    name, _ = edit_remote(forget_server)
    print(f"s3-local: remote '{name}' is back to its settings in .dvc/config")


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("action", choices=("start", "stop"))
    arguments.add_argument("--port", type=int, default=5555)
    args = arguments.parse_args(argv)
    start(args.port) if args.action == "start" else stop()


if __name__ == "__main__":
    sys.exit(main())
