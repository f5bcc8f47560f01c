"""What differs between GitLab CI and GitHub Actions: read from each CI's own variables."""

import pytest

from {{ cookiecutter.package_name }}.delivery import ci_platform


@pytest.mark.parametrize("project_url, expected", [
    ("https://gitlab.com/team/churn", "https://oauth2:tok@gitlab.com/team/churn.git"),
    # Self-managed: plain http, a port and a relative URL root all survive.
    ("http://git.example.com:8080/gitlab/team/churn", "http://oauth2:tok@git.example.com:8080/gitlab/team/churn.git"),
])
def test_a_gitlab_access_token_pushes_to_the_projects_own_url(project_url, expected):
    env = {"GITLAB_PUSH_TOKEN": "tok", "CI_PROJECT_URL": project_url}
    assert ci_platform.current(env).push_target() == expected


def test_without_an_access_token_the_runners_origin_and_its_job_token_are_used():
    assert ci_platform.current({"CI_PROJECT_URL": "https://gitlab.com/team/churn"}).push_target() == "origin"


def test_github_is_recognised_and_read_from_its_own_variables():
    env = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "abc", "DEFAULT_BRANCH": "trunk", "GITHUB_REF": "refs/pull/17/merge",
           "GITHUB_HEAD_REF": "more-data", "GITHUB_BASE_REF": "trunk", "GITHUB_REPOSITORY": "team/churn",
           "GITHUB_RUN_ID": "99", "GITHUB_SERVER_URL": "https://github.example.com", "GITHUB_TOKEN": "tok"}
    github = ci_platform.current(env)
    assert github.name == "GitHub"
    assert (github.commit(), github.default_branch(), github.branch(), github.target_branch()) == \
        ("abc", "trunk", "more-data", "trunk")
    assert github.pull_request() == 17
    assert github.push_target() == "https://x-access-token:tok@github.example.com/team/churn.git"
    assert github.run_tags() == {"ci.pipeline": "https://github.example.com/team/churn/actions/runs/99",
                                 "ci.pull_request": "https://github.example.com/team/churn/pull/17"}


def test_a_push_on_github_is_no_pull_request_and_a_push_token_wins_over_the_workflows():
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_BASE_REF": "",
           "GITHUB_REPOSITORY": "team/churn", "GITHUB_TOKEN": "workflow", "PROMOTION_PUSH_TOKEN": "admin"}
    github = ci_platform.current(env)
    assert (github.pull_request(), github.target_branch()) == (None, None)
    assert github.push_target() == "https://x-access-token:admin@github.com/team/churn.git"
