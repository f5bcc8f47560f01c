"""A `ci=github` bake: the chosen CI's files only, docs that speak of it alone, workflows that
pass GitHub's schema, actionlint and zizmor (offline), and the security points GitHub users expect,
checked on the baked YAML."""

import re

import pytest
import yaml
from test_bake import GITHUB_FILES, assert_no_jinja_left, expected_files, project_files

from conftest import bake, run

# A remote action pinned by a full commit SHA, with its version in a comment.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")
CURRENT_MAJORS = {"actions/checkout": 7, "actions/setup-python": 7, "actions/upload-artifact": 7,
                  "actions/download-artifact": 8, "aws-actions/configure-aws-credentials": 6}


@pytest.fixture(scope="module")
def github_project(cookies_session):
    return bake(cookies_session, project_name="Ünïcode 2 Gh", ci="github", init_git="no",
                sample_data="no").project_path


def workflows(project):
    # PyYAML reads the key `on` as True (YAML 1.1).
    return {path.name: yaml.safe_load(path.read_text()) for path in (project / ".github/workflows").glob("*.yml")}


def test_a_github_bake_has_the_workflows_and_no_gitlab_file(github_project):
    assert github_project.name == "unicode-2-gh"
    files = project_files(github_project)
    assert files == {name.replace("churn_model", "unicode_2_gh") for name in expected_files("no", "no", ci="github")}
    assert GITHUB_FILES <= files
    assert_no_jinja_left(github_project)


def test_a_gitlab_bake_has_no_github_file(cookies):
    project = bake(cookies, init_git="no", sample_data="no").project_path
    assert not (project / ".github").exists() and not (project / "docs/ci-github.md").exists()
    for page in [project / "README.md", *(project / "docs").glob("*.md")]:
        assert "GitHub Actions" not in page.read_text(), page.name


def test_the_readme_and_docs_speak_only_of_github(github_project):
    for page in [github_project / "README.md", *(github_project / "docs").glob("*.md")]:
        text = page.read_text()
        assert "GitLab" not in text and "merge request" not in text and ".gitlab-ci.yml" not in text, page.name
    assert "GitHub Actions" in (github_project / "README.md").read_text()
    assert (github_project / "docs/ci.md").read_text().startswith("# CI setup: continuous delivery on GitHub Actions")


def test_the_workflows_pass_the_schema_actionlint_and_zizmor_offline(github_project):
    assert "ok -- validation done" in run("check-jsonschema --builtin-schema vendor.github-workflows "
                                          ".github/workflows/model.yml .github/workflows/scheduled.yml", github_project)
    run("git init -q", github_project)  # actionlint finds the workflows from the repository's root
    assert run("actionlint -no-color", github_project).strip() == ""
    assert "No findings to report" in run("zizmor --offline --no-progress .github/workflows 2>&1", github_project)


def test_the_generated_lint_target_runs_the_three_checks(github_project):
    dry_run = run("make -n lint", github_project)
    assert "vendor.github-workflows" in dry_run and "actionlint" in dry_run and "zizmor --offline" in dry_run
    assert "gitlab" not in dry_run


def test_least_privilege_and_pinned_actions(github_project):
    model = workflows(github_project)["model.yml"]
    assert model["permissions"] == {}
    granted = {name: job["permissions"] for name, job in model["jobs"].items()}
    assert granted == {
        "checks": {"contents": "read"},
        "repro": {"contents": "read", "id-token": "write"},
        "report": {"contents": "read", "pull-requests": "write"},
        "promote": {"contents": "write", "id-token": "write"},
        "image": {"contents": "read", "packages": "write"},
    }
    for name, job in model["jobs"].items():
        for step in job["steps"]:
            if "uses" not in step:
                continue
            action, _, sha = step["uses"].partition("@")
            assert PINNED.match(step["uses"]), (name, step["uses"])
            assert sha != "main" and action in CURRENT_MAJORS, step["uses"]
            if action == "actions/checkout":
                assert step["with"]["persist-credentials"] is False, name
    text = (github_project / ".github/workflows/model.yml").read_text()
    for action, major in CURRENT_MAJORS.items():
        assert re.search(rf"uses: {re.escape(action)}@[0-9a-f]{{40}}  # v{major}\.\d+\.\d+\n", text), action


def test_promotion_runs_alone_in_the_production_environment_on_the_default_branch(github_project):
    model = workflows(github_project)["model.yml"]
    promote = model["jobs"]["promote"]
    assert promote["environment"] == "production"
    assert promote["concurrency"] == {"group": "promote", "cancel-in-progress": False}
    assert promote["needs"] == "repro"
    assert "github.event_name != 'pull_request'" in promote["if"]
    assert "default_branch" in promote["if"]
    assert model[True]["push"]["branches"] == ["main"]  # the default branch of a baked repository


def test_forks_get_no_secrets_and_no_red_cross(github_project):
    model = workflows(github_project)["model.yml"]
    text = (github_project / ".github/workflows/model.yml").read_text()
    assert "pull_request_target" not in text and "secrets: inherit" not in text
    repro = model["jobs"]["repro"]
    access = next(step for step in repro["steps"] if step.get("id") == "access")
    assert "gets no secrets" in access["run"] and "data=no" in access["run"]
    # Every step that touches data or credentials waits for that decision.
    for step in repro["steps"]:
        if any(word in (step.get("run", "") + step.get("uses", "")) for word in ("dvc", "make report", "aws-actions",
                                                                                  "KEY_ID")):
            assert "steps.access.outputs.data == 'yes'" in step["if"], step.get("name", step.get("run"))
    assert "head.repo.full_name == github.repository" in model["jobs"]["report"]["if"]


def test_pull_requests_never_see_the_read_write_keys_or_role(github_project):
    repro = workflows(github_project)["model.yml"]["jobs"]["repro"]
    keys = next(step for step in repro["steps"] if step.get("name") == "AWS credentials (stored keys)")
    for value in keys["env"].values():
        write_key = re.search(r"github.event_name (==|!=) 'pull_request' && secrets.AWS_(ACCESS_KEY_ID|SECRET)", value)
        assert write_key and write_key.group(1) == "!=", value
    role = next(step for step in repro["steps"] if step.get("name") == "AWS credentials (OIDC role)")
    assert role["with"]["role-to-assume"].startswith(
        "${{ github.event_name == 'pull_request' && vars.AWS_READONLY_ROLE_ARN || ")


def test_the_schedule_is_in_a_file_of_its_own_that_calls_the_model_workflow(github_project):
    found = workflows(github_project)
    scheduled, model = found["scheduled.yml"], found["model.yml"]
    assert set(scheduled[True]) == {"schedule"} and "schedule" not in model[True]
    [job] = scheduled["jobs"].values()
    assert job["uses"].endswith(".github/workflows/model.yml")
    assert set(job["secrets"]) == set(model[True]["workflow_call"]["secrets"])
    # A called workflow's jobs get at most what the caller's job grants.
    needed = {}
    for called in model["jobs"].values():
        for scope, level in called["permissions"].items():
            needed[scope] = "write" if "write" in (level, needed.get(scope)) else level
    assert job["permissions"] == needed
