"""The client factory: endpoints, addressing style and retries come from the environment."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from clients import ClientFactory
from deadline import Stop
from errors import FailureType, PromotionFailure
from job import Credentials

CREDENTIALS = Credentials("ASIAEXAMPLE", "secret", "token")


def test_clients_honour_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN LocalStack's endpoint, and a separate fake for CodePipeline
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_CODEPIPELINE", "http://127.0.0.1:9999")

    # WHEN clients are made, including one with explicit (artifact) credentials
    factory = ClientFactory.from_environment()
    s3 = factory.s3(region="us-east-1", credentials=CREDENTIALS)

    # THEN botocore points each at its endpoint
    assert s3.meta.endpoint_url == "http://localhost:4566"
    assert factory.codepipeline().meta.endpoint_url == "http://127.0.0.1:9999"
    assert factory.codepipeline().meta.region_name == "eu-west-1"


def test_addressing_style_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN path-style addressing requested
    monkeypatch.setenv("AWS_S3_ADDRESSING_STYLE", "path")

    # WHEN an S3 client is made
    s3 = ClientFactory.from_environment().s3(region=None, credentials=None)

    # THEN it uses path style, with adaptive retries
    assert s3.meta.config.s3 == {"addressing_style": "path"}
    assert s3.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 10}


def test_a_bad_addressing_style_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a misspelt addressing style
    monkeypatch.setenv("AWS_S3_ADDRESSING_STYLE", "paths")
    factory = ClientFactory.from_environment()

    # WHEN S3 is needed
    with pytest.raises(PromotionFailure) as raised:
        factory.s3(region=None, credentials=None)

    # THEN ConfigurationError names the variable, while CodePipeline can still be told
    assert raised.value.failure_type is FailureType.CONFIGURATION_ERROR
    assert "AWS_S3_ADDRESSING_STYLE='paths'" in raised.value.message
    assert factory.codepipeline() is not None


def test_every_attempt_is_bounded_in_time() -> None:
    # GIVEN the factory
    factory = ClientFactory.from_environment()

    # WHEN S3 and CodePipeline clients are made
    clients = [factory.s3(region=None, credentials=None), factory.codepipeline()]

    # THEN connecting and each silence on the socket are bounded well inside the deadline guard
    for client in clients:
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (5.0, 15.0)


def test_the_attempt_hook_runs_before_every_attempt_and_can_end_the_retries() -> None:
    # GIVEN an S3 client whose hook refuses the second attempt, over a network that drops
    # every connection (so botocore would retry up to ten times)
    seen: list[str] = []

    def before_attempt(operation: str) -> None:
        seen.append(operation)
        if len(seen) == 2:
            raise Stop("out of time")

    s3 = ClientFactory.from_environment().s3(
        region="us-east-1", credentials=CREDENTIALS, before_attempt=before_attempt
    )
    sent: list[str] = []

    def connection_lost(event_name: str, **_: Any) -> None:
        sent.append(event_name)
        raise EndpointConnectionError(endpoint_url="https://s3.test")

    s3.meta.events.register("before-send", connection_lost)

    # WHEN a request is made
    with pytest.raises(Stop):
        s3.head_bucket(Bucket="xrdeploy-test")

    # THEN the hook saw both attempts, and only the first went out
    assert seen == ["HeadBucket", "HeadBucket"]
    assert sent == ["before-send.s3.HeadBucket"]


def test_assumed_role_sessions_are_gated_too() -> None:
    # GIVEN a hook that refuses every attempt
    def refuse(operation: str) -> None:
        raise Stop(f"refused {operation}")

    # WHEN a role is assumed THEN STS is not called
    with pytest.raises(Stop, match="refused AssumeRole"):
        ClientFactory.from_environment().assume_role(
            "arn:aws:iam::000000000002:role/x", "xrdeploy-test", before_attempt=refuse
        )
