"""Reject bad answers before cookiecutter writes anything.

Answers are read through ``tojson`` into raw strings, so no answer can inject Python code here.
Every rule prints one line naming the value and how to fix it; the exit code is 1. Choice
variables (model, metric, sample_data, init_git, ci) need no rule: cookiecutter itself refuses a value
that is not one of the choices in cookiecutter.json.
"""

import ipaddress
import json
import keyword
import math
import re
import sys
from urllib.parse import urlparse

ANSWERS = {
    "project_name": json.loads(r'''{{ cookiecutter.project_name | tojson }}'''),
    "project_slug": json.loads(r'''{{ cookiecutter.project_slug | tojson }}'''),
    "package_name": json.loads(r'''{{ cookiecutter.package_name | tojson }}'''),
    "s3_bucket": json.loads(r'''{{ cookiecutter.s3_bucket | tojson }}'''),
    "s3_prefix": json.loads(r'''{{ cookiecutter.s3_prefix | tojson }}'''),
    "aws_region": json.loads(r'''{{ cookiecutter.aws_region | tojson }}'''),
    "s3_endpoint_url": json.loads(r'''{{ cookiecutter.s3_endpoint_url | tojson }}'''),
    "min_improvement": json.loads(r'''{{ cookiecutter.min_improvement | tojson }}'''),
}

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# AWS reserves these bucket-name prefixes and suffixes for its own features.
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def check_project_name(value):
    # The directory and package names are made from it: without a letter or digit they are empty.
    if not any(character.isalnum() for character in value):
        return (f"project_name {value!r} has no letter or digit: give the project a name such as "
                "'Fraud Detector 2' (its directory and package names are made from it)")


def check_project_slug(value):
    if not SLUG.match(value) or ".." in value:
        return (f"project_slug {value!r} is not a valid directory name: use letters, digits, "
                "'-', '_' and '.', starting with a letter or digit (at most 100 characters)")


def check_package_name(value):
    if not PACKAGE.match(value) or keyword.iskeyword(value):
        return (f"package_name {value!r} is not a valid Python package name: use lowercase "
                "letters, digits and '_', not starting with a digit, and not a Python keyword")
    if value in sys.stdlib_module_names:
        return (f"package_name {value!r} would shadow Python's standard library module "
                "of the same name: choose another name")


def _is_ip_address(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def check_s3_bucket(value):
    rule = ("use 3-63 characters: lowercase letters, digits, '.' and '-', starting and ending "
            "with a letter or digit, no '..', not an IP address")
    if not BUCKET.match(value) or ".." in value or _is_ip_address(value):
        return f"s3_bucket {value!r} is not a valid S3 bucket name: {rule}"
    if value.startswith(BUCKET_RESERVED_PREFIXES) or value.endswith(BUCKET_RESERVED_SUFFIXES):
        return f"s3_bucket {value!r} uses a prefix or suffix that AWS reserves: choose another name"


def check_s3_prefix(value):
    if value.startswith("/") or ".." in value or not PREFIX.match(value):
        return (f"s3_prefix {value!r} is not a valid key prefix: use letters, digits and "
                "!_.*'()-/, without a leading '/' or '..'")


def check_aws_region(value):
    if value and not REGION.match(value):
        return (f"aws_region {value!r} is not an AWS region code: use a code such as "
                "'us-east-1' or 'eu-central-1', or leave it empty")


def check_s3_endpoint_url(value):
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in value):
        return (f"s3_endpoint_url {value!r} is not an http(s) URL: use e.g. "
                "'http://localhost:9000', or leave it empty for AWS")


def check_min_improvement(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not math.isfinite(number) or number < 0:
        return f"min_improvement {value!r} is not a non-negative number: use e.g. 0.001 or 0"


CHECKS = {
    "project_name": check_project_name,
    "project_slug": check_project_slug,
    "package_name": check_package_name,
    "s3_bucket": check_s3_bucket,
    "s3_prefix": check_s3_prefix,
    "aws_region": check_aws_region,
    "s3_endpoint_url": check_s3_endpoint_url,
    "min_improvement": check_min_improvement,
}


def validate(answers):
    """Return one error line per bad answer (empty when all are good)."""
    return [error for name, check in CHECKS.items() if (error := check(answers[name]))]


def main():
    errors = validate(ANSWERS)
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
