"""Where the local cloud serves its Git repositories (``git.urls``)."""

from __future__ import annotations

from pathlib import Path

from xrdeploy_local_cloud.git.urls import (
    codecommit_repository,
    connection_repository,
    parse,
)


def test_a_connections_repository_is_owner_and_name_on_its_providers_host() -> None:
    address = connection_repository("GitHub", "octo/app")
    assert address is not None
    assert address.url_path == "/_xrdeploy/git/github/octo/app.git"
    assert address.directory(Path("/r")) == Path("/r/github/octo/app.git")
    assert address.full_repository_id == "octo/app"


def test_malformed_repository_ids_and_unknown_providers_name_nothing() -> None:
    assert connection_repository("GitHub", "app") is None
    assert connection_repository("GitHub", "octo/../x") is None
    assert connection_repository("GitHub", "octo/a/b") is None
    assert connection_repository("Perforce", "octo/app") is None


def test_a_codecommit_repository_is_unique_per_account_and_region() -> None:
    address = codecommit_repository("111111111111", "eu-west-1", "app")
    assert address.url_path == "/_xrdeploy/git/codecommit/111111111111/eu-west-1/app"
    assert address.directory(Path("/r")) == Path("/r/codecommit/111111111111/eu-west-1/app.git")


def test_parse_finds_the_repository_and_the_git_service_path() -> None:
    assert parse("/_xrdeploy/git/github/octo/app.git/info/refs") == (
        connection_repository("GitHub", "octo/app"),
        "/info/refs",
    )
    assert parse("/_xrdeploy/git/codecommit/111111111111/eu-west-1/app/git-receive-pack") == (
        codecommit_repository("111111111111", "eu-west-1", "app"),
        "/git-receive-pack",
    )


def test_parse_refuses_paths_outside_the_scheme() -> None:
    assert parse("/_xrdeploy/git/github/octo/app.git/objects/info/packs") is None
    assert parse("/_xrdeploy/git/svn/octo/app.git/info/refs") is None
    assert parse("/_xrdeploy/git/codecommit/111111111111/app/info/refs") is None
    assert parse("/_xrdeploy/git/github/../../etc/info/refs") is None
