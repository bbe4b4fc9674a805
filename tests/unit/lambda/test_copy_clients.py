"""The client factory: endpoints, addressing style and retries come from the environment."""

from __future__ import annotations

import pytest
from clients import ClientFactory
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
    assert raised.value.message == (
        "environment variable AWS_S3_ADDRESSING_STYLE='paths' is not one of auto, path, "
        "virtual: fix the function's environment"
    )
    assert factory.codepipeline() is not None
