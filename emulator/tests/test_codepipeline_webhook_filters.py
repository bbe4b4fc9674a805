"""Which webhook calls start a pipeline: authentication and filters (``webhook_filters``)."""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline.webhook_filters import authentic, matches, signature

PUSH = {"ref": "refs/heads/main", "repository": {"name": "app"}, "commits": [{"id": "abc"}]}
SOURCE = {"Branch": "main", "Repo": "app"}


def _definition(kind: str, **config: str) -> dict[str, Any]:
    return {"authentication": kind, "authenticationConfiguration": config}


def test_github_hmac_checks_the_body_signature() -> None:
    definition = _definition("GITHUB_HMAC", SecretToken="s3cret")
    body = b'{"ref": "refs/heads/main"}'
    good = {"X-Hub-Signature-256": signature("s3cret", body)}
    assert authentic(definition, body, good, "10.0.0.1")
    assert not authentic(definition, body, {"X-Hub-Signature-256": signature("other", body)}, "")
    assert not authentic(definition, body, {}, "10.0.0.1")


def test_ip_authentication_checks_the_callers_range() -> None:
    definition = _definition("IP", AllowedIPRange="10.0.0.0/24")
    assert authentic(definition, b"", {}, "10.0.0.7")
    assert not authentic(definition, b"", {}, "10.0.1.7")


def test_unauthenticated_takes_any_call() -> None:
    assert authentic(_definition("UNAUTHENTICATED"), b"", {}, "")


def test_a_filter_with_a_placeholder_takes_the_source_configuration() -> None:
    rule = [{"jsonPath": "$.ref", "matchEquals": "refs/heads/{Branch}"}]
    assert matches(rule, PUSH, SOURCE)
    assert not matches(rule, PUSH, {"Branch": "release"})


def test_every_filter_must_match_and_a_path_alone_must_find_a_value() -> None:
    rules = [
        {"jsonPath": "$.repository.name", "matchEquals": "app"},
        {"jsonPath": "$.commits[0].id"},
    ]
    assert matches(rules, PUSH, SOURCE)
    assert not matches([*rules, {"jsonPath": "$.deleted"}], PUSH, SOURCE)
    assert not matches([{"jsonPath": "$[[["}], PUSH, SOURCE)
