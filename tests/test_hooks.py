"""The hooks, rendered as cookiecutter renders them and imported; plus bakes that must be refused."""

import importlib.util
import subprocess
import sys

import pytest
from cookiecutter.environment import StrictEnvironment

from conftest import TEMPLATE_DIR

GOOD_ANSWERS = {
    "project_name": "Churn Model", "project_slug": "churn-model", "package_name": "churn_model",
    "s3_bucket": "my-ml-artifacts", "s3_prefix": "churn-model", "aws_region": "us-east-1",
    "s3_endpoint_url": "", "model": "xgboost", "metric": "roc_auc", "min_improvement": "0.001",
    "sample_data": "yes", "init_git": "yes", "ci": "gitlab",
}


def render_hook(name, tmp_path, **answers):
    """Render hooks/<name>.py with Jinja exactly like cookiecutter does, then import it."""
    context = {"cookiecutter": {**GOOD_ANSWERS, **answers}}
    source = (TEMPLATE_DIR / "hooks" / f"{name}.py").read_text()
    rendered = StrictEnvironment(context=context, keep_trailing_newline=True).from_string(source).render(**context)
    path = tmp_path / f"{name}.py"
    path.write_text(rendered)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_answers_pass(tmp_path):
    hook = render_hook("pre_gen_project", tmp_path)
    assert hook.validate(hook.ANSWERS) == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("project_name", "   "), ("project_name", ""), ("project_name", "--- !"),
        ("project_slug", "bad/slug"), ("project_slug", "../escape"), ("project_slug", "-dash-first"),
        ("project_slug", "with space"),
        ("package_name", "1abc"), ("package_name", "class"), ("package_name", "my-pkg"),
        ("package_name", "json"), ("package_name", "CamelCase"),
        ("s3_bucket", "ab"), ("s3_bucket", "a" * 64), ("s3_bucket", "My_Bucket"),
        ("s3_bucket", "192.168.1.1"), ("s3_bucket", "my..bucket"), ("s3_bucket", "-bucket"),
        ("s3_bucket", "bucket-"), ("s3_bucket", "xn--bucket"), ("s3_bucket", "bucket-s3alias"),
        ("s3_prefix", "/absolute"), ("s3_prefix", "a/../b"), ("s3_prefix", "has space"),
        ("aws_region", "US-EAST-1"), ("aws_region", "mars"), ("aws_region", "us_east_1"),
        ("s3_endpoint_url", "ftp://example.com"), ("s3_endpoint_url", "localhost:9000"),
        ("s3_endpoint_url", "http://"),
        ("min_improvement", "-0.1"), ("min_improvement", "abc"), ("min_improvement", "nan"),
        ("min_improvement", "inf"),
    ],
)
def test_each_rule_rejects_with_one_line_naming_the_value(tmp_path, name, value):
    hook = render_hook("pre_gen_project", tmp_path, **{name: value})
    errors = hook.validate(hook.ANSWERS)
    assert len(errors) == 1, errors
    assert errors[0].startswith(name)
    assert repr(value) in errors[0] or not value.strip()


@pytest.mark.parametrize(
    "name, value",
    [
        ("aws_region", "eu-central-1"), ("aws_region", "us-gov-west-1"), ("aws_region", "cn-north-1"),
        ("aws_region", ""), ("s3_endpoint_url", "http://127.0.0.1:9000"),
        ("s3_endpoint_url", "https://minio.example.com"), ("s3_bucket", "my.bucket-1"),
        ("s3_prefix", ""), ("s3_prefix", "team/models"), ("min_improvement", "0"),
        ("package_name", "_private_pkg"),
    ],
)
def test_good_values_are_accepted(tmp_path, name, value):
    hook = render_hook("pre_gen_project", tmp_path, **{name: value})
    assert hook.validate(hook.ANSWERS) == []


MALICIOUS = "'''+__import__('pathlib').Path('PWNED').touch()+'''\"\"\"+exit(3)"


def test_malicious_answer_is_read_as_text_not_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hook = render_hook("pre_gen_project", tmp_path, s3_bucket=MALICIOUS)
    assert hook.ANSWERS["s3_bucket"] == MALICIOUS
    assert not (tmp_path / "PWNED").exists()
    [error] = hook.validate(hook.ANSWERS)
    assert error.startswith("s3_bucket")


def cookiecutter_cli(tmp_path, *answers):
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path / "out"),
         str(TEMPLATE_DIR), *answers],
        cwd=tmp_path, capture_output=True, text=True,
    )


@pytest.mark.parametrize(
    "answer, message",
    [
        ("s3_bucket=My_Bucket", "ERROR: s3_bucket 'My_Bucket' is not a valid S3 bucket name"),
        ("min_improvement=-1", "ERROR: min_improvement '-1' is not a non-negative number"),
        ("project_name=9 Lives", "ERROR: package_name '9_lives' is not a valid Python package name"),
        # Empty, blank or without letters: the names made from it would be empty.
        ("project_name=", "ERROR: project_name '' has no letter or digit"),
        ("project_name=   ", "ERROR: project_name '   ' has no letter or digit"),
        ("project_name=!!!", "ERROR: project_name '!!!' has no letter or digit"),
        (f"s3_bucket={MALICIOUS}", "ERROR: s3_bucket"),
    ],
)
def test_a_refused_bake_exits_non_zero_and_writes_nothing(tmp_path, answer, message):
    (tmp_path / "out").mkdir()
    result = cookiecutter_cli(tmp_path, answer)
    assert result.returncode != 0
    assert message in result.stderr
    assert list((tmp_path / "out").iterdir()) == []
    assert not list(tmp_path.rglob("PWNED"))


@pytest.mark.parametrize("answer", ["model=svm", "metric=mse", "sample_data=maybe", "init_git=y"])
def test_cookiecutter_itself_refuses_a_value_that_is_not_a_choice(tmp_path, answer):
    (tmp_path / "out").mkdir()
    result = cookiecutter_cli(tmp_path, answer)
    assert result.returncode != 0
    assert f"{answer.split('=')[1]} provided for choice variable {answer.split('=')[0]}" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("sample_data, init_git, under_cruft, flags", [
    ("yes", "yes", False, ["--sample-data", "--init-git"]),
    ("no", "yes", False, ["--init-git"]),
    ("yes", "no", False, ["--sample-data"]),
    ("no", "no", False, []),
    # cruft writes .cruft.json after the hook and re-runs the hook in throw-away folders: no Git.
    ("yes", "yes", True, ["--sample-data"]),
])
def test_post_gen_hook_passes_the_answers_on(tmp_path, sample_data, init_git, under_cruft, flags):
    extra = {"_commit": "0123abcd"} if under_cruft else {}
    hook = render_hook("post_gen_project", tmp_path, sample_data=sample_data, init_git=init_git, **extra)
    command = hook.setup_command()
    assert command[1:3] == ["-m", "churn_model.bake.project_setup"]
    assert command[3:] == flags
