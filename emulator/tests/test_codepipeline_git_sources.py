"""Which commit a Git source action's execution runs, and what is pinned with it
(``codepipeline.git_sources``), over real bare repositories and the connection store."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from emulator.tests.git_world import WorkingCopy
from xrdeploy_local_cloud.codeconnections import api
from xrdeploy_local_cloud.codeconnections.model import PENDING
from xrdeploy_local_cloud.codeconnections.store import connection_of, region_state
from xrdeploy_local_cloud.codepipeline import git_sources, models
from xrdeploy_local_cloud.git import repos, urls

ACCOUNT, REGION = "121212121212", "eu-west-1"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(repos, "root", lambda: tmp_path / "git")
    return tmp_path / "git"


def _connection() -> str:
    request = {"ConnectionName": "app", "ProviderType": "GitHub"}
    state = region_state(ACCOUNT, REGION)
    return str(api.create_connection("codeconnections", state, request)["ConnectionArn"])


def _action(arn: str, repository: str) -> dict[str, Any]:
    return {
        "name": "Source",
        "actionTypeId": {
            "category": "Source",
            "owner": "AWS",
            "provider": "CodeStarSourceConnection",
            "version": "1",
        },
        "configuration": {
            "ConnectionArn": arn,
            "FullRepositoryId": repository,
            "BranchName": "main",
        },
    }


def _execution(action: dict[str, Any]) -> models.Execution:
    declaration = {"stages": [{"name": "Source", "actions": [action]}]}
    return models.Execution(
        id=str(uuid.uuid4()),
        account_id=ACCOUNT,
        region=REGION,
        pipeline_name="p",
        pipeline_version=1,
        declaration=declaration,
        trigger={},
        variables={},
        source_revisions={},
    )


def _pushed(root: Path, tmp_path: Path, repository: str) -> WorkingCopy:
    address = urls.connection_repository("GitHub", repository)
    assert address is not None
    directory = address.directory(root)
    repos.init_bare(directory)
    work = WorkingCopy(tmp_path / "work")
    work.commit("First", {"app.py": "1\n"})
    work.push(directory, "main")
    return work


def test_the_branch_head_is_pinned_with_awss_summary_and_the_commit_page(
    root: Path, tmp_path: Path
) -> None:
    # GIVEN a connection and its repository with main pushed
    work = _pushed(root, tmp_path, "octo/app")
    action = _action(_connection(), "octo/app")
    execution = _execution(action)
    # WHEN an execution starts
    git_sources.pin_revisions(execution, {})
    # THEN it runs main's head
    pinned = execution.source_revisions["Source"]
    head = work.git("rev-parse", "HEAD")
    assert pinned["revisionId"] == head
    assert json.loads(pinned["summary"]) == {"ProviderType": "GitHub", "CommitMessage": "First"}
    assert pinned["url"] == f"https://github.com/octo/app/commit/{head}"
    assert (pinned["branch"], pinned["repository"]) == ("main", "octo/app")


def test_a_pushed_commit_of_another_branch_is_pinned_with_that_branch(
    root: Path, tmp_path: Path
) -> None:
    work = _pushed(root, tmp_path, "octo/other")
    work.git("checkout", "--quiet", "-b", "release/1")
    commit_id = work.commit("Release", {"app.py": "2\n"})
    address = urls.connection_repository("GitHub", "octo/other")
    assert address is not None
    work.push(address.directory(root), "release/1")
    execution = _execution(_action(_connection(), "octo/other"))
    git_sources.pin_revisions(execution, {"Source": commit_id})
    assert execution.source_revisions["Source"]["revisionId"] == commit_id
    assert execution.source_revisions["Source"]["branch"] == "release/1"


def test_a_pending_connection_or_a_missing_branch_is_an_error_the_action_reports(
    root: Path, tmp_path: Path
) -> None:
    arn = _connection()
    execution = _execution(_action(arn, "octo/empty"))
    git_sources.pin_revisions(execution, {})
    assert "does not exist" in execution.source_revisions["Source"]["error"]
    connection = connection_of(arn)
    assert connection is not None
    connection.status = PENDING
    git_sources.pin_revisions(execution, {})
    assert execution.source_revisions["Source"]["error"] == (
        f"Connection {arn} is not available: it is PENDING"
    )


def test_codecommits_revision_url_is_its_console_page() -> None:
    address = urls.codecommit_repository(ACCOUNT, REGION, "app")
    assert git_sources.commit_page(address, "abc") == (
        f"https://{REGION}.console.aws.amazon.com/codesuite/codecommit/repositories/app/commit/"
        f"abc?region={REGION}"
    )
