"""The local cloud's bare repositories read through ``git`` (``git.repos``, ``git.pushes``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from emulator.tests.git_world import WorkingCopy
from xrdeploy_local_cloud.git import pushes, repos


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "github" / "octo" / "app.git"
    repos.init_bare(path)
    return path


def test_a_new_repository_is_empty_and_accepts_pushes_over_http(bare: Path) -> None:
    assert repos.exists(bare)
    assert repos.refs(bare) == {}
    assert repos.git(bare, "config", "http.receivepack").decode().strip() == "true"


def test_commits_and_branches_are_read_back(bare: Path, tmp_path: Path) -> None:
    # GIVEN two commits pushed to main and a tag
    work = WorkingCopy(tmp_path / "work")
    first = work.commit("First\n\nbody", {"app/run.py": "print(1)\n"})
    second = work.commit("Second", {"README.md": "hi\n"})
    work.git("tag", "-a", "v1", "-m", "v1", first)
    work.push(bare, "main", "v1")
    # THEN the branch head, the peeled tag and the commits' fields are read
    assert repos.branch_head(bare, "main") == second
    assert repos.refs(bare) == {"refs/heads/main": second, "refs/tags/v1": first}
    commit = repos.commit(bare, second)
    assert (commit.message, commit.parents, commit.author.name) == ("Second", (first,), "Ada")
    assert repos.commit(bare, first).message == "First\n\nbody"
    with pytest.raises(repos.GitError):
        repos.commit(bare, "0" * 40)


def test_changed_paths_of_an_update_a_new_branch_and_a_root_commit(
    bare: Path, tmp_path: Path
) -> None:
    work = WorkingCopy(tmp_path / "work")
    first = work.commit("one", {"a.txt": "1", "d/b.txt": "2"})
    second = work.commit("two", {"d/b.txt": "3", "c.txt": "4"})
    work.push(bare, "main")
    assert repos.changed_paths(bare, first, second) == ("c.txt", "d/b.txt")
    assert repos.changed_paths(bare, repos.ZERO_ID, second) == ("c.txt", "d/b.txt")
    assert repos.changed_paths(bare, repos.ZERO_ID, first) == ("a.txt", "d/b.txt")


def test_the_archive_is_a_zip_of_the_commits_tree(bare: Path, tmp_path: Path) -> None:
    work = WorkingCopy(tmp_path / "work")
    commit_id = work.commit("one", {"appspec.yml": "version: 0.0\n", "scripts/go.sh": "true\n"})
    work.push(bare, "main")
    archive = zipfile.ZipFile(io.BytesIO(repos.archive_zip(bare, commit_id)))
    assert sorted(n for n in archive.namelist() if not n.endswith("/")) == [
        "appspec.yml",
        "scripts/go.sh",
    ]
    assert archive.read("appspec.yml") == b"version: 0.0\n"


def test_updates_name_created_moved_and_deleted_references() -> None:
    before = {"refs/heads/main": "a" * 40, "refs/heads/old": "b" * 40}
    after = {"refs/heads/main": "c" * 40, "refs/heads/new": "d" * 40}
    assert pushes.updates(before, after) == (
        pushes.RefUpdate("refs/heads/main", "a" * 40, "c" * 40),
        pushes.RefUpdate("refs/heads/new", repos.ZERO_ID, "d" * 40),
        pushes.RefUpdate("refs/heads/old", "b" * 40, repos.ZERO_ID),
    )
