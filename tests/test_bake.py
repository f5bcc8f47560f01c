"""Bake every option combination and check what comes out."""

import ast
import configparser
import subprocess
import sys
import tomllib

import pytest
import yaml

from conftest import CHOICES, METRICS, MODELS, TEMPLATE_DIR, bake, commit_count, install, project_python, run

PACKAGE = "churn_model"
MODULES = {
    "": ["__init__", "cli", "config"],
    "pipeline": ["__init__", "validate", "preprocess", "train", "evaluate", "sanity", "tune"],
    "pipeline/shared": ["__init__", "accepted", "calibrated_forest", "chance", "dask_training", "data_io", "encoding",
                        "external_memory", "gate", "metrics", "model_checks", "model_store", "params", "partitions",
                        "splits", "target_encoding"],
    "delivery": ["__init__", "promote", "ci_platform", "ci_promote", "mr_note", "pr_comment", "data_push", "figures",
                 "predict", "report", "serve", "tracking"],
    "storage": ["__init__", "remote", "s3_local"],
    "bake": ["__init__", "project_setup", "sample_data"],
}
RENDERED_FILES = {
    ".dvc/.gitignore", ".dvc/config", ".dvcignore", ".dockerignore", ".gitignore", ".gitlab-ci.yml",
    ".gitlab/ci/train-runner.yml", "Dockerfile", "Makefile", "README.md", "sky/train-gpu.yaml",
    *(f"docs/{page}.md" for page in ("pipeline", "storage", "ci", "serving", "tracking", "scaling", "design")),
    "baseline.txt", "docs/sample-report.png", "dvc.yaml", "params.yaml", "tuned.yaml", "pyproject.toml",
    "requirements.txt",
    "requirements-dev.txt", "requirements-serve.txt",
    *(f"src/{PACKAGE}/{folder + '/' if folder else ''}{module}.py" for folder, names in MODULES.items()
      for module in names),
    *(f"tests/{module}.py" for module in (
        "conftest", "test_bake_setup", "test_ci_platform", "test_ci_promote", "test_cli", "test_data_push",
        "test_engines", "test_evaluate", "test_gate", "test_metrics", "test_model_checks", "test_model_store",
        "test_params", "test_predict", "test_mr_note", "test_pr_comment", "test_preprocess", "test_promote",
        "test_report", "test_report_sections",
        "test_sanity", "test_serve", "test_storage", "test_tracking", "test_train", "test_tune", "test_validate")),
}
SAMPLE_FILES = {"data/raw/batch_001.csv", "data/holdout/holdout.csv"}
DVC_TRACKING_FILES = {"data/raw.dvc", "data/holdout.dvc", "data/.gitignore"}
CHANCE = {"roc_auc": 0.5, "accuracy": 0.5, "f1": 0.0, "average_precision": 0.0, "log_loss": 0.6931471805599453}
# Git's and DVC's own state, not files of the project.
STATE_DIRS = (".git/", ".dvc/cache/", ".dvc/tmp/")


def project_files(project):
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    return {f for f in files if not f.startswith(STATE_DIRS)}


GITLAB_FILES = {".gitlab-ci.yml", ".gitlab/ci/train-runner.yml"}
GITHUB_FILES = {".github/workflows/model.yml", ".github/workflows/scheduled.yml"}


def expected_files(sample_data, init_git, ci="gitlab"):
    files = set(RENDERED_FILES) if ci == "gitlab" else (set(RENDERED_FILES) - GITLAB_FILES) | GITHUB_FILES
    if sample_data == "yes":
        files |= SAMPLE_FILES
        if init_git == "yes":
            files |= DVC_TRACKING_FILES
    return files


def assert_no_jinja_left(project):
    for path in project.rglob("*"):
        relative = str(path.relative_to(project))
        if relative.startswith(STATE_DIRS):
            continue
        assert "{{" not in relative and "{%" not in relative, relative
        if path.is_file() and path.suffix != ".png":  # pictures are copied as they are
            # GitHub's own expressions, ${{ ... }}, are meant to be there.
            text = path.read_text(encoding="utf-8").replace("${{", "$")
            assert "{{" not in text and "{%" not in text and "{#" not in text, relative


def default_names():
    """The default project's name, slug and package, derived as cookiecutter derives them."""
    from slugify import slugify

    name = CHOICES["project_name"]
    return {name, slugify(name), slugify(name).replace("-", "_")}


def test_no_template_file_names_the_default_project():
    """Generated files take every name from the answers: a literal default name works for the
    default bake only (a project baked as anything else would import a package it does not have)."""
    names = default_names()
    found = []
    for path in [*(TEMPLATE_DIR / "{{cookiecutter.project_slug}}").rglob("*"), *(TEMPLATE_DIR / "hooks").rglob("*")]:
        if path.is_file() and path.suffix != ".png":
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if any(name.lower() in line.lower() for name in names):
                    found.append(f"{path.relative_to(TEMPLATE_DIR)}:{number}: {line.strip()}")
    assert names == {"Churn Model", "churn-model", "churn_model"}  # what the scan looks for
    assert not found, "\n".join(found)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_metric_bakes(cookies, model, metric):
    """Without Git, DVC or data: what the model and metric change is rendered text only."""
    project = bake(cookies, model=model, metric=metric, sample_data="no", init_git="no").project_path
    assert project.name == "churn-model"
    assert project_files(project) == expected_files("no", "no")
    assert_no_jinja_left(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["train"]["model"] == model
    assert params["evaluate"]["metric"] == metric
    assert params["evaluate"]["min_improvement"] == 0.001
    assert set(yaml.safe_load((project / "dvc.yaml").read_text())["stages"]) == {
        "validate", "preprocess", "train", "evaluate", "sanity"}
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == "churn-model"
    assert float((project / "baseline.txt").read_text()) == CHANCE[metric]


@pytest.mark.parametrize("sample_data, init_git", [("yes", "yes"), ("yes", "no"), ("no", "yes"), ("no", "no")])
def test_git_dvc_and_sample_data_combinations(cookies, sample_data, init_git):
    project = bake(cookies, sample_data=sample_data, init_git=init_git).project_path
    assert project_files(project) == expected_files(sample_data, init_git)
    assert (project / "data/raw").is_dir() and (project / "data/holdout").is_dir()
    assert_no_jinja_left(project)
    assert (project / ".git").is_dir() is (init_git == "yes")
    assert commit_count(project) == (1 if init_git == "yes" else 0)
    if init_git == "yes":
        status = run("git status --porcelain", project)
        assert status == ""  # everything committed, data only through DVC
        tracked = run("git ls-files", project).split()
        assert not any(name.endswith((".csv", ".parquet")) for name in tracked)


def test_the_generated_code_knows_the_same_choices_as_the_prompts(cookies):
    package = bake(cookies, init_git="no", sample_data="no").project_path / "src" / PACKAGE / "pipeline" / "shared"

    def constant(module, name):
        tree = ast.parse((package / module).read_text())
        [value] = [node.value for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == name]
        return ast.literal_eval(value)

    assert constant("model_store.py", "MODELS") == MODELS
    assert constant("metrics.py", "METRICS") == METRICS


def test_derived_names_follow_the_project_name(cookies):
    result = bake(cookies, project_name="Fraud Détection 2")
    assert result.context["project_slug"] == "fraud-detection-2"
    assert result.context["package_name"] == "fraud_detection_2"
    assert (result.project_path / "src/fraud_detection_2/pipeline/train.py").is_file()
    dvc_yaml = (result.project_path / "dvc.yaml").read_text()
    assert "python -m fraud_detection_2.pipeline.train" in dvc_yaml


def remote_section(project):
    config = configparser.ConfigParser()
    config.read(project / ".dvc/config")
    assert config["core"]["remote"] == "storage"
    return config['\'remote "storage"\'']


def test_remote_storage_from_the_prompts(cookies):
    result = bake(cookies, s3_bucket="team-bucket", s3_prefix="models/churn", aws_region="eu-west-3",
                  s3_endpoint_url="http://127.0.0.1:9000")
    remote = remote_section(result.project_path)
    assert dict(remote) == {"url": "s3://team-bucket/models/churn", "region": "eu-west-3",
                            "endpointurl": "http://127.0.0.1:9000"}
    out = run("dvc remote list", result.project_path)
    assert out.split() == ["storage", "s3://team-bucket/models/churn", "(default)"]


def test_remote_without_region_or_endpoint(cookies):
    remote = remote_section(bake(cookies, aws_region="", s3_endpoint_url="").project_path)
    assert dict(remote) == {"url": "s3://my-ml-artifacts/churn-model"}


FREE_TEXT = {
    "description": 'Predicts "churn" \\ for the café, "quoted"; ends with a backslash \\',
    "author_name": "O'Brien \"the data\" Team \\",
    "project_name": 'Churn "Model" Zoë',
}


def test_free_text_answers_bake_install_and_run(cookies):
    """Quotes, backslashes, a trailing backslash and non-ASCII text in every free-text answer."""
    result = bake(cookies, **FREE_TEXT, project_slug="churn-model", package_name="churn_model")
    project = install(result.project_path)
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["description"] == FREE_TEXT["description"]
    assert meta["authors"] == [{"name": FREE_TEXT["author_name"]}]
    readme = (project / "README.md").read_text()
    assert readme.startswith(f"# {FREE_TEXT['project_name']}\n") and FREE_TEXT["description"] in readme
    installed = subprocess.run(
        [project_python(project), "-c", "import importlib.metadata as m, churn_model.pipeline.train; "
                               "print(m.metadata('churn-model')['Summary'])"],
        cwd=project, capture_output=True, text=True, check=True)
    assert installed.stdout.strip() == FREE_TEXT["description"]
    out = run("make repro", project)
    assert "beat baseline 0.5000" in out


def test_jinja_braces_typed_at_the_prompt_bake_as_text(tmp_path):
    """cookiecutter renders --no-input answers as templates (so `{{` must be typed at the prompt,
    or written `{{ '{{' }}`); typed answers are kept as they are."""
    answers = ["Braces", "", "", "", "Uses {{ braces }} and {% tags %}"] + [""] * 20
    result = subprocess.run([sys.executable, "-m", "cookiecutter", "--output-dir", str(tmp_path), str(TEMPLATE_DIR),
                             "sample_data=no", "init_git=no"], input="\n".join(answers) + "\n",
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    meta = tomllib.loads((tmp_path / "braces" / "pyproject.toml").read_text())["project"]
    assert meta["description"] == "Uses {{ braces }} and {% tags %}"
