"""CodeCommit's operations on one account and region, over real bare repositories
(``codecommit.repositories``, ``codecommit.git_reads``, ``codecommit.events``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.tests.git_world import WorkingCopy
from xrdeploy_local_cloud.codecommit import events, git_reads, repositories
from xrdeploy_local_cloud.codecommit.model import RegionState
from xrdeploy_local_cloud.git import pushes, repos
from xrdeploy_local_cloud.kit.errors import ServiceError

ACCOUNT, REGION = "111111111111", "eu-west-1"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RegionState:
    monkeypatch.setattr(repos, "root", lambda: tmp_path / "git")
    monkeypatch.setattr(repositories, "gateway_url", "http://127.0.0.1:4566")
    return RegionState(ACCOUNT, REGION)


def _code(error: pytest.ExceptionInfo[ServiceError]) -> str:
    return str(error.value.code)


def test_create_makes_a_repository_cloned_from_the_local_cloud(state: RegionState) -> None:
    metadata = repositories.create_repository(
        state, {"repositoryName": "app", "repositoryDescription": "web", "tags": {"t": "1"}}
    )["repositoryMetadata"]
    assert metadata["cloneUrlHttp"] == (
        f"http://127.0.0.1:4566/_xrdeploy/git/codecommit/{ACCOUNT}/{REGION}/app"
    )
    assert metadata["Arn"] == f"arn:aws:codecommit:{REGION}:{ACCOUNT}:app"
    assert metadata["repositoryDescription"] == "web"
    assert "defaultBranch" not in metadata  # nothing pushed yet
    assert repos.exists(repositories.directory_of(state, "app"))
    assert repositories.list_tags_for_resource(state, {"resourceArn": metadata["Arn"]}) == {
        "tags": {"t": "1"}
    }


def test_names_are_checked_and_unique(state: RegionState) -> None:
    repositories.create_repository(state, {"repositoryName": "app"})
    with pytest.raises(ServiceError) as taken:
        repositories.create_repository(state, {"repositoryName": "app"})
    assert _code(taken) == "RepositoryNameExistsException"
    for bad in ("a b", "app.git", "x" * 101):
        with pytest.raises(ServiceError) as invalid:
            repositories.create_repository(state, {"repositoryName": bad})
        assert _code(invalid) == "InvalidRepositoryNameException"
    with pytest.raises(ServiceError) as missing:
        repositories.get_repository(state, {"repositoryName": "nope"})
    assert _code(missing) == "RepositoryDoesNotExistException"


def test_list_sorts_and_delete_removes_the_git_data(state: RegionState) -> None:
    for name in ("b", "a", "c"):
        repositories.create_repository(state, {"repositoryName": name})
    listed = repositories.list_repositories(state, {"order": "descending"})["repositories"]
    assert [r["repositoryName"] for r in listed] == ["c", "b", "a"]
    deleted = repositories.delete_repository(state, {"repositoryName": "b"})
    assert deleted["repositoryId"]
    assert not repos.exists(repositories.directory_of(state, "b"))
    assert repositories.delete_repository(state, {"repositoryName": "b"}) == {}


def test_branches_and_commits_after_a_push(state: RegionState, tmp_path: Path) -> None:
    # GIVEN a repository with one commit pushed to main
    repositories.create_repository(state, {"repositoryName": "app"})
    work = WorkingCopy(tmp_path / "work")
    commit_id = work.commit("Add app", {"app.py": "print(1)\n"})
    work.push(repositories.directory_of(state, "app"), "main")
    # THEN CodeCommit reads the branch, the commit and the default branch
    branch = git_reads.get_branch(state, {"repositoryName": "app", "branchName": "main"})
    assert branch == {"branch": {"branchName": "main", "commitId": commit_id}}
    commit = git_reads.get_commit(state, {"repositoryName": "app", "commitId": commit_id})
    assert commit["commit"]["message"] == "Add app\n"
    assert commit["commit"]["author"]["name"] == "Ada"
    metadata = repositories.get_repository(state, {"repositoryName": "app"})
    assert metadata["repositoryMetadata"]["defaultBranch"] == "main"
    assert git_reads.list_branches(state, {"repositoryName": "app"}) == {"branches": ["main"]}


def test_missing_branches_and_commits_are_refused(state: RegionState) -> None:
    repositories.create_repository(state, {"repositoryName": "app"})
    with pytest.raises(ServiceError) as branch:
        git_reads.get_branch(state, {"repositoryName": "app", "branchName": "main"})
    assert _code(branch) == "BranchDoesNotExistException"
    with pytest.raises(ServiceError) as invalid:
        git_reads.get_commit(state, {"repositoryName": "app", "commitId": "xyz"})
    assert _code(invalid) == "InvalidCommitIdException"
    with pytest.raises(ServiceError) as missing:
        git_reads.get_commit(state, {"repositoryName": "app", "commitId": "a" * 40})
    assert _code(missing) == "CommitIdDoesNotExistException"


def test_a_push_becomes_repository_state_change_events(state: RegionState) -> None:
    repositories.create_repository(state, {"repositoryName": "app"})
    update = pushes.RefUpdate("refs/heads/main", "a" * 40, "b" * 40)
    (entry,) = events.entries(state, "app", (update,))
    detail = json.loads(entry["Detail"])
    assert entry["Source"] == "aws.codecommit"
    assert entry["DetailType"] == "CodeCommit Repository State Change"
    assert entry["Resources"] == [f"arn:aws:codecommit:{REGION}:{ACCOUNT}:app"]
    assert detail["event"] == "referenceUpdated"
    assert (detail["referenceName"], detail["referenceType"]) == ("main", "branch")
    assert (detail["commitId"], detail["oldCommitId"]) == ("b" * 40, "a" * 40)
    created = events.entries(
        state, "app", (pushes.RefUpdate("refs/tags/v1", repos.ZERO_ID, "c" * 40),)
    )
    assert json.loads(created[0]["Detail"])["event"] == "referenceCreated"
    assert events.entries(state, "gone", (update,)) == []
