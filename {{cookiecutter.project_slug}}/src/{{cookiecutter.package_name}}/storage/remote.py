"""`make push` / `make pull`: DVC push and pull (data, models and run-cache) with a diagnosis.

DVC's own output (progress included) is shown as it is. When DVC fails, one more line names the
remote, says what is wrong with it (no credentials, unreachable endpoint, rejected credentials,
missing bucket) and how to fix it: DVC itself reports these as "unexpected error". An endpoint
that refuses connections (a local S3 server not started) gets that line at once, without DVC.
"""

import os
import sys
from urllib.parse import urlparse

from ..cli import UserError, command, dvc, parser

TRANSFER_FLAGS = {
    "push": ["--run-cache"],
    # --allow-missing: outputs of stages that never ran (or never got pushed) are skipped, not
    # fatal; `dvc repro` makes them. Data that is missing still shows up in `dvc status`.
    "pull": ["--run-cache", "--allow-missing"],
}


def remote_config():
    """Name and settings of the default remote, with .dvc/config.local merged in."""
    from dvc.config import Config

    config = Config.from_cwd()
    name = config["core"].get("remote")
    if not name:
        return None, {}
    return name, dict(config["remote"].get(name, {}))


def diagnose(name, settings):
    """One line saying what is wrong with the remote, or None if it looks healthy."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, ProfileNotFound

    if not name:
        return "no default DVC remote: run `dvc remote add -d storage s3://<bucket>/<prefix>`"
    url = settings.get("url", "")
    label = f"remote '{name}' ({url})"
    if urlparse(url).scheme != "s3":
        return None
    bucket, prefix = urlparse(url).netloc, urlparse(url).path.strip("/")
    listed = f"s3://{bucket}/{prefix + '/' if prefix else ''}"
    endpoint = settings.get("endpointurl")
    where = endpoint or "AWS S3"
    try:
        session = boto3.Session(
            profile_name=settings.get("profile"),
            aws_access_key_id=settings.get("access_key_id"),
            aws_secret_access_key=settings.get("secret_access_key"),
            aws_session_token=settings.get("session_token"),
            region_name=settings.get("region"),
        )
    except ProfileNotFound:
        return (f"AWS profile '{settings.get('profile')}' of {label} is not in your AWS config: add it "
                f"(aws configure --profile ...) or remove it: `dvc remote modify --local --unset {name} profile`")
    if session.get_credentials() is None:
        if os.environ.get("GITLAB_CI"):
            return (f"no AWS credentials for {label}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (masked, "
                    "protected), and for pipelines of unprotected branches AWS_READONLY_ACCESS_KEY_ID and "
                    "AWS_READONLY_SECRET_ACCESS_KEY (masked, not protected) in Settings > CI/CD > Variables")
        if os.environ.get("GITHUB_ACTIONS") == "true":
            return (f"no AWS credentials for {label}: give the job AWS credentials, through the repository "
                    "variable AWS_ROLE_ARN (OIDC) or the secrets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                    "(docs/ci.md); pull requests from forks get neither")
        return (f"no AWS credentials for {label}: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                f"(or AWS_PROFILE), or run `dvc remote modify --local {name} access_key_id ...` and "
                f"`... secret_access_key ...`; for a local test server run `make s3-local`")
    client = session.client("s3", endpoint_url=endpoint, config=Config(
        connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}))
    try:
        # A listing under the project's prefix, not HeadBucket: HeadBucket is authorised as
        # s3:ListBucket without an s3:prefix, which a prefix-scoped IAM policy denies.
        client.list_objects_v2(Bucket=bucket, Prefix=listed.removeprefix(f"s3://{bucket}/"), MaxKeys=1)
    except EndpointConnectionError:
        return (f"cannot reach {where} for {label}: check the endpoint URL "
                f"(`dvc remote modify --local {name} endpointurl ...`) and that the server is running "
                "(`make s3-local` starts a local one)")
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code"))
        if code in ("404", "NoSuchBucket"):
            return (f"bucket '{bucket}' does not exist at {where} for {label}: create it, or point "
                    f"the remote at an existing bucket with `dvc remote modify {name} url s3://<bucket>/<prefix>`")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"):
            return (f"{where} rejected the credentials for {label} ({code}): check AWS_ACCESS_KEY_ID / "
                    "AWS_SECRET_ACCESS_KEY or the keys in .dvc/config.local")
        if code in ("403", "AccessDenied"):
            return (f"{where} accepted the credentials but denied listing {listed} for {label} ({code}): "
                    f"their IAM policy needs s3:ListBucket on arn:aws:s3:::{bucket} for the prefix "
                    f"'{prefix}/*' (see the policies in docs/storage.md)")
        return f"{where} answered {code} for {label}: {error}"
    except BotoCoreError as error:
        return f"cannot use {label}: {error}"
    return None


def check():
    """Raise the diagnosis when the remote is unusable; used first thing in CI."""
    name, settings = remote_config()
    problem = diagnose(name, settings)
    if problem:
        raise UserError(f"storage: {problem}")
    print(f"storage: remote '{name}' ({settings.get('url')}) is reachable and may be listed")


def refuses_connections(endpoint):
    """True when nothing listens at the endpoint's host and port (a local S3 server not started).
    DVC retries a refused connection for about 10 s before it fails; this is known at once."""
    import socket

    address = urlparse(endpoint or "")
    if not address.hostname:
        return False  # AWS itself: no endpoint to probe
    port = address.port or (443 if address.scheme == "https" else 80)
    try:
        socket.create_connection((address.hostname, port), timeout=3).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False  # a name that does not resolve, a timeout: DVC and the diagnosis say more
    return False


def transfer(action, *targets):
    """`dvc push` or `dvc pull` (everything, or ``targets`` alone); when it fails, print the
    one-line diagnosis after DVC's own output. Returns DVC's exit code, or 1 without running DVC
    when the remote's endpoint refuses connections."""
    name, settings = remote_config()
    if refuses_connections(settings.get("endpointurl")) and (problem := diagnose(name, settings)):
        print(f"storage: {problem}", file=sys.stderr)
        return 1
    flags = TRANSFER_FLAGS[action] if not targets else []
    code = dvc(action, *flags, *targets, check=False).returncode
    if code != 0:
        problem = diagnose(name, settings)
        if problem is None:
            problem = (f"remote '{name}' is reachable and may be listed, so the error above comes "
                       "from DVC itself" + (": files missing from the remote were never pushed (run "
                                            "`make push` where they were made)" if action == "pull" else ""))
        print(f"storage: {problem}", file=sys.stderr)
    return code


@command
def main(argv=None):
    arguments = parser(__doc__)
    arguments.add_argument("action", choices=("push", "pull", "check"),
                        help="push or pull data, models and run-cache; check: is the remote usable?")
    args = arguments.parse_args(argv)
    if args.action == "check":
        return check()
    return transfer(args.action)


if __name__ == "__main__":
    sys.exit(main())
