"""Bake every option combination and check what comes out."""

import configparser
import tomllib

import pytest
import yaml

from conftest import METRICS, MODELS, bake, commit_count, run

PACKAGE = "churn_model"
RENDERED_FILES = {
    ".dvc/.gitignore", ".dvc/config", ".dvcignore", ".gitignore", ".gitlab-ci.yml", "Makefile", "README.md",
    "baseline.txt", "dvc.yaml", "params.yaml", "pyproject.toml", "requirements.in", "requirements.txt",
    *(f"src/{PACKAGE}/{module}.py" for module in (
        "__init__", "baseline", "ci_promote", "ci_report", "config", "data_io", "data_push", "errors",
        "evaluate", "git_cli", "metrics", "model_store", "preprocess", "project_setup", "promote", "s3_local",
        "sample_data", "sanity", "storage", "train")),
    *(f"tests/{module}.py" for module in (
        "conftest", "test_evaluate", "test_preprocess", "test_promote_and_sample_data", "test_sanity",
        "test_train")),
}
SAMPLE_FILES = {"data/raw/batch_001.csv", "data/holdout/holdout.csv"}
DVC_TRACKING_FILES = {"data/raw.dvc", "data/holdout.dvc", "data/.gitignore"}
CHANCE = {"roc_auc": 0.5, "accuracy": 0.5, "f1": 0.0, "average_precision": 0.0, "log_loss": 0.6931471805599453}
# Git's and DVC's own state, not files of the project.
STATE_DIRS = (".git/", ".dvc/cache/", ".dvc/tmp/")


def project_files(project):
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    return {f for f in files if not f.startswith(STATE_DIRS)}


def expected_files(sample_data, init_git):
    files = set(RENDERED_FILES)
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
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text and "{%" not in text and "{#" not in text, relative


@pytest.mark.parametrize("init_git", ["yes", "no"])
@pytest.mark.parametrize("sample_data", ["yes", "no"])
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("model", MODELS)
def test_bake_matrix(cookies, model, metric, sample_data, init_git):
    result = bake(cookies, model=model, metric=metric, sample_data=sample_data, init_git=init_git)
    project = result.project_path
    assert project.name == "churn-model"
    assert project_files(project) == expected_files(sample_data, init_git)
    assert (project / "data/raw").is_dir() and (project / "data/holdout").is_dir()
    assert_no_jinja_left(project)

    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["train"]["model"] == model
    assert params["evaluate"]["metric"] == metric
    assert params["evaluate"]["min_improvement"] == 0.001
    assert set(yaml.safe_load((project / "dvc.yaml").read_text())["stages"]) == {
        "preprocess", "train", "evaluate", "sanity"}
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == "churn-model"
    assert float((project / "baseline.txt").read_text()) == CHANCE[metric]

    assert (project / ".git").is_dir() is (init_git == "yes")
    assert commit_count(project) == (1 if init_git == "yes" else 0)
    if init_git == "yes":
        code, status = run("git status --porcelain", project)
        assert status == ""  # everything committed, data only through DVC
        tracked = run("git ls-files", project)[1].split()
        assert not any(name.endswith((".csv", ".parquet")) for name in tracked)


def test_derived_names_follow_the_project_name(cookies):
    result = bake(cookies, project_name="Fraud Détection 2")
    assert result.context["project_slug"] == "fraud-detection-2"
    assert result.context["package_name"] == "fraud_detection_2"
    assert (result.project_path / "src/fraud_detection_2/train.py").is_file()
    dvc_yaml = (result.project_path / "dvc.yaml").read_text()
    assert "python -m fraud_detection_2.train" in dvc_yaml


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
    code, out = run("dvc remote list", result.project_path)
    assert out.split() == ["storage", "s3://team-bucket/models/churn", "(default)"]


def test_remote_without_region_or_endpoint(cookies):
    remote = remote_section(bake(cookies, aws_region="", s3_endpoint_url="").project_path)
    assert dict(remote) == {"url": "s3://my-ml-artifacts/churn-model"}


def test_quotes_in_free_text_keep_pyproject_valid(cookies):
    result = bake(cookies, description='A "quoted" \\ description', author_name='O"Brien')
    project = tomllib.loads((result.project_path / "pyproject.toml").read_text())["project"]
    assert project["description"] == 'A "quoted" \\ description'
    assert project["authors"] == [{"name": 'O"Brien'}]


def local_imports(module_path):
    """Modules of the same package that a module imports (`from . import x`, `from .x import y`)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(module_path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
    return found


def test_each_stage_depends_on_exactly_the_source_files_it_imports(cookies):
    project = bake(cookies, init_git="no", sample_data="no").project_path
    package = project / "src" / PACKAGE
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        needed, todo = set(), [name]
        while todo:
            module = todo.pop()
            if module not in needed:
                needed.add(module)
                todo.extend(local_imports(package / f"{module}.py"))
        declared = {dep for dep in stage["deps"] if dep.startswith("src/")}
        assert declared == {f"src/{PACKAGE}/{module}.py" for module in needed}, name
