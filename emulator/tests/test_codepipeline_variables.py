"""CodePipeline variable resolution (`#{namespace.name}`) of the local cloud's engine."""

from __future__ import annotations

import pytest

from xrdeploy_local_cloud.codepipeline import settings
from xrdeploy_local_cloud.codepipeline.variables import (
    UnresolvedVariable,
    resolve,
    resolve_configuration,
)

NAMESPACES = {
    "codepipeline": {"PipelineExecutionId": "e-1"},
    "SourceVariables": {"VersionId": "v.1", "ETag": "abc"},
}


def test_references_of_every_namespace_are_replaced() -> None:
    text = (
        '{"execution": "#{codepipeline.PipelineExecutionId}", "v": "#{SourceVariables.VersionId}"}'
    )
    assert resolve(text, NAMESPACES) == '{"execution": "e-1", "v": "v.1"}'


def test_text_without_references_is_unchanged() -> None:
    assert resolve("#{not a reference} and #plain", NAMESPACES) == "#{not a reference} and #plain"


@pytest.mark.parametrize("text", ["#{SourceVariables.Missing}", "#{Other.VersionId}"])
def test_an_unknown_reference_fails_with_its_name(text: str) -> None:
    with pytest.raises(UnresolvedVariable, match=text.replace("{", r"\{").replace("}", r"\}")):
        resolve(text, NAMESPACES)


def test_every_configuration_value_is_resolved() -> None:
    configuration = {"FunctionName": "copy", "UserParameters": "#{SourceVariables.ETag}"}
    assert resolve_configuration(configuration, NAMESPACES) == {
        "FunctionName": "copy",
        "UserParameters": "abc",
    }


@pytest.mark.parametrize(
    ("value", "expected"), [("", 3600.0), ("5", 5.0), ("0.5", 0.5), ("-1", 3600.0), ("x", 3600.0)]
)
def test_the_job_timeout_setting(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: float
) -> None:
    monkeypatch.setenv(settings.JOB_TIMEOUT_ENV, value)
    assert settings.job_timeout() == expected


def test_the_approval_timeout_defaults_to_seven_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.APPROVAL_TIMEOUT_ENV, raising=False)
    assert settings.approval_timeout() == 7 * 24 * 3600
