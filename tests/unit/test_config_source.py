"""`app.source`: S3 by default, a GitHub repository through a connection, or CodeCommit; every
mistake refused in one line that names the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import CONFIGS
from tests.unit.test_config import BASE, assert_refused, write_case
from xrdeploy.cli.main import run
from xrdeploy.config.model import load_config

ARN = "arn:aws:codeconnections:us-west-2:111111111111:connection/0f1e2d3c-aaaa-bbbb-cccc-1234567890"
GITHUB: dict[str, Any] = {
    "type": "github",
    "repository": "octo-org/shop",
    "branch": "main",
    "connection": "shop-github",
}


def with_source(source: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["app"]["source"] = source
    return data


def test_s3_is_the_default(tmp_path):
    chain = load_config(write_case(tmp_path, BASE))
    assert chain.app.source.type == "s3"
    assert not chain.app.source.is_git


def test_github_with_a_name_creates_a_connection(tmp_path):
    source = load_config(write_case(tmp_path, with_source(GITHUB))).app.source
    assert (source.repository, source.branch, source.connection) == (
        "octo-org/shop",
        "main",
        "shop-github",
    )
    assert source.connection_arn is None


def test_github_with_an_arn_uses_that_connection(tmp_path):
    source = load_config(write_case(tmp_path, with_source({**GITHUB, "connection": ARN})))
    assert source.app.source.connection_arn == ARN


def test_push_filters_and_codecommit_load(tmp_path):
    push = {
        "branches": {"includes": ["main", "release/**"], "excludes": ["release/old"]},
        "file_paths": {"excludes": ["docs/**"]},
    }
    github = load_config(write_case(tmp_path, with_source({**GITHUB, "push": push}))).app.source
    assert github.push is not None and github.push.branches is not None
    assert github.push.branches.includes == ("main", "release/**")
    assert github.push.file_paths is not None and github.push.file_paths.includes is None
    codecommit = {"type": "codecommit", "repository": "shop"}
    source = load_config(write_case(tmp_path, with_source(codecommit))).app.source
    assert (source.type, source.repository, source.branch) == ("codecommit", "shop", "main")


BAD_SOURCES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown type", {"type": "svn"}, "app.source.type"),
    ("s3 with repository", {"repository": "shop"}, "app.source: repository: applies to a Git"),
    (
        "github without repository",
        {**GITHUB, "repository": None},
        "app.source: repository: required for type github",
    ),
    (
        "github repository without owner",
        {**GITHUB, "repository": "shop"},
        "app.source: repository: 'shop' is not a GitHub owner/name",
    ),
    (
        "github without connection",
        {k: v for k, v in GITHUB.items() if k != "connection"},
        "app.source: connection: required for type github",
    ),
    (
        "connection neither arn nor name",
        {**GITHUB, "connection": "arn:aws:s3:::bucket"},
        "app.source: connection: 'arn:aws:s3:::bucket' is neither",
    ),
    (
        "connection in another account",
        {**GITHUB, "connection": ARN.replace("111111111111", "999999999999")},
        "app.source.connection: the connection is in account 999999999999",
    ),
    ("branch with space", {**GITHUB, "branch": "my branch"}, "app.source.branch"),
    ("branch with dots", {**GITHUB, "branch": "a..b"}, "app.source.branch"),
    ("branch unquoted number", {**GITHUB, "branch": 7}, "app.source.branch"),
    (
        "full clone",
        {**GITHUB, "full_clone": True},
        "app.source: full_clone: a full clone (CODEBUILD_CLONE_REF) can only be read by a "
        "CodeBuild action",
    ),
    (
        "empty filter",
        {**GITHUB, "push": {"branches": {}}},
        "app.source.push.branches: give includes, excludes or both",
    ),
    (
        "nine patterns",
        {**GITHUB, "push": {"file_paths": {"includes": [f"d{i}/**" for i in range(9)]}}},
        "app.source.push.file_paths.includes",
    ),
    (
        "empty pattern list",
        {**GITHUB, "push": {"branches": {"excludes": []}}},
        "app.source.push.branches.excludes",
    ),
    ("filter unknown key", {**GITHUB, "push": {"tags": {}}}, "app.source.push.tags: unknown key"),
    (
        "codecommit with push filter",
        {"type": "codecommit", "repository": "shop", "push": {"branches": {"includes": ["x"]}}},
        "app.source: push: push filters are a V2 trigger",
    ),
    (
        "codecommit with connection",
        {"type": "codecommit", "repository": "shop", "connection": "c"},
        "app.source: connection: applies to type github",
    ),
    (
        "codecommit bad repository",
        {"type": "codecommit", "repository": "my shop"},
        "app.source: repository: 'my shop' is not a CodeCommit repository name",
    ),
]


@pytest.mark.parametrize(
    ("source", "must_name"), [pytest.param(s, n, id=i) for i, s, n in BAD_SOURCES]
)
def test_bad_source_is_refused_with_one_line_naming_the_field(tmp_path, capsys, source, must_name):
    # GIVEN a config whose app.source has one mistake
    path = write_case(tmp_path, with_source(source))
    # WHEN it is validated
    code = run(["validate", "--config", str(path)])
    # THEN one line names the field
    lines = assert_refused(capsys, code, must_name)
    assert len(lines) == 1, lines


def test_several_source_mistakes_give_one_line_each(tmp_path, capsys):
    source = {"type": "github", "full_clone": True}
    code = run(["validate", "--config", str(write_case(tmp_path, with_source(source)))])
    lines = assert_refused(capsys, code, "app.source: repository: required")
    assert len(lines) == 3, lines


def test_the_demo_refuses_a_git_sourced_chain_in_one_line(capsys):
    # GIVEN the GitHub-sourced config: its first stage has no bucket to upload into
    code = run(["demo", "--approve", "--config", str(CONFIGS / "github_source.yaml")])
    # THEN the demo says so before starting anything
    lines = assert_refused(capsys, code, "demo: it uploads a build into the first stage's")
    assert len(lines) == 1 and "start it with a push to main" in lines[0]


def test_validate_names_the_git_source(capsys):
    assert run(["validate", "--config", str(CONFIGS / "github_source.yaml")]) == 0
    assert "  source: github octo-org/shop, branch main" in capsys.readouterr().out.splitlines()
