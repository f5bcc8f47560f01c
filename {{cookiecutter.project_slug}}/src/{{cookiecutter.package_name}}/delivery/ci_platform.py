"""What differs between GitLab CI and GitHub Actions, and nothing else: where the default branch,
the commit, the merge or pull request and the pipeline are named, where a promotion commit is
pushed and as whom. The delivery logic (promotion, the report, tracking) is one implementation that
asks `current()` for these; the code that posts the report lives beside it (mr_note for GitLab,
pr_comment for GitHub), as the two APIs have nothing in common.

The platform is read from the environment each CI sets: GITHUB_ACTIONS=true on GitHub, else GitLab
(also outside CI, where every value falls back to the local Git checkout).
"""

import os
from urllib.parse import urlsplit, urlunsplit

GITLAB_PUSH_HELP = (
    "check the push credentials: GITLAB_PUSH_TOKEN, a project or group access token (Premium on "
    "GitLab.com) with the write_repository scope, a role allowed to push to the protected default "
    "branch (Maintainer, or as set under Settings > Repository > Protected branches) and no expiry in "
    "the past; or, without it, the job token: GitLab 18.4+ with Settings > CI/CD > Job token "
    "permissions > Allow Git push requests to the repository, and a pipeline user allowed to push there")
GITHUB_PUSH_HELP = (
    "check that the promote job has `permissions: contents: write`, and that no branch protection rule or "
    "ruleset of the default branch refuses the push (let GitHub Actions bypass it, or set the secret "
    "PROMOTION_PUSH_TOKEN to a fine-grained token with Contents: write that may)")


class Platform:
    def __init__(self, env):
        self.env = env


class GitLab(Platform):
    name = "GitLab"
    push_help = GITLAB_PUSH_HELP

    def default_branch(self):
        return self.env.get("CI_DEFAULT_BRANCH", "main")

    def commit(self):
        return self.env.get("CI_COMMIT_SHA")

    def branch(self):
        return self.env.get("CI_COMMIT_REF_NAME") or self.env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")

    def target_branch(self):
        """The branch a merge request goes into; None outside one."""
        return self.env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")

    def push_token(self):
        return self.env.get("GITLAB_PUSH_TOKEN")

    def push_target(self):
        """With GITLAB_PUSH_TOKEN, the project's URL (CI_PROJECT_URL keeps the scheme, port and
        relative root of a self-managed GitLab) with that token; without it, origin as the runner
        cloned it, which carries the job token."""
        token, project_url = self.push_token(), self.env.get("CI_PROJECT_URL")
        if not (token and project_url):
            return "origin"
        parts = urlsplit(project_url)
        return urlunsplit(parts._replace(netloc=f"oauth2:{token}@{parts.netloc}", path=f"{parts.path}.git"))

    def author(self):
        """(name, e-mail) of the user who ran the pipeline: push rules accept their verified e-mail."""
        return self.env.get("GITLAB_USER_NAME"), self.env.get("GITLAB_USER_EMAIL")

    def run_tags(self):
        """Tracking tags linking a run to its job (GitLab links it through gitlab.CI_JOB_ID), its
        pipeline and its merge request."""
        env, tags = self.env, {}
        if env.get("CI_JOB_ID"):
            tags["gitlab.CI_JOB_ID"] = env["CI_JOB_ID"]
        if env.get("CI_PIPELINE_URL"):
            tags["ci.pipeline"] = env["CI_PIPELINE_URL"]
        if env.get("CI_MERGE_REQUEST_IID"):
            tags["ci.merge_request"] = (f"{env.get('CI_MERGE_REQUEST_PROJECT_URL', '')}/-/merge_requests/"
                                        f"{env['CI_MERGE_REQUEST_IID']}")
        return tags


class GitHub(Platform):
    name = "GitHub"
    push_help = GITHUB_PUSH_HELP

    def default_branch(self):
        # The workflow passes it (github.event.repository.default_branch): Actions sets no variable for it.
        return self.env.get("DEFAULT_BRANCH") or "main"

    def commit(self):
        return self.env.get("GITHUB_SHA")

    def branch(self):
        # GITHUB_HEAD_REF is the pull request's branch; GITHUB_REF_NAME there is "<number>/merge".
        return self.env.get("GITHUB_HEAD_REF") or self.env.get("GITHUB_REF_NAME")

    def target_branch(self):
        return self.env.get("GITHUB_BASE_REF") or None

    def pull_request(self):
        """The pull request's number, from its ref (refs/pull/<number>/merge); None outside one."""
        parts = self.env.get("GITHUB_REF", "").split("/")
        return int(parts[2]) if len(parts) == 4 and parts[:2] == ["refs", "pull"] and parts[2].isdigit() else None

    def push_token(self):
        return self.env.get("PROMOTION_PUSH_TOKEN") or self.env.get("GITHUB_TOKEN")

    def push_target(self):
        """The repository's URL with the token: checkout keeps no credentials (persist-credentials: false)."""
        token, repository = self.push_token(), self.env.get("GITHUB_REPOSITORY")
        if not (token and repository):
            return "origin"
        parts = urlsplit(self.env.get("GITHUB_SERVER_URL", "https://github.com"))
        return urlunsplit(parts._replace(netloc=f"x-access-token:{token}@{parts.netloc}",
                                         path=f"/{repository}.git"))

    def author(self):
        """GitHub's own bot, the author GitHub documents for commits made by a workflow."""
        return "github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"

    def repository_url(self):
        return f"{self.env.get('GITHUB_SERVER_URL', 'https://github.com')}/{self.env.get('GITHUB_REPOSITORY', '')}"

    def run_url(self):
        if not (self.env.get("GITHUB_REPOSITORY") and self.env.get("GITHUB_RUN_ID")):
            return None
        return f"{self.repository_url()}/actions/runs/{self.env['GITHUB_RUN_ID']}"

    def run_tags(self):
        tags = {}
        if url := self.run_url():
            tags["ci.pipeline"] = url
        if number := self.pull_request():
            tags["ci.pull_request"] = f"{self.repository_url()}/pull/{number}"
        return tags


def current(env=None):
    env = os.environ if env is None else env
    return GitHub(env) if env.get("GITHUB_ACTIONS") == "true" else GitLab(env)
