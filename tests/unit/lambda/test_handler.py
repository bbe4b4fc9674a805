"""The handler: the one job result it reports for what the event and the promotion give it, and
the log lines it writes. moto in-process stands in for S3, STS and IAM."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import handler
import pytest

from .world import FakeContext, World, failed, run

SMALL = os.urandom(256 * 1024)


def test_an_event_without_a_job_id_is_logged_and_not_reported(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN an event that is not a CodePipeline job
    # WHEN it arrives
    run(world, {"Records": [{"eventSource": "aws:s3"}]})

    # THEN there is no job to report to: nothing is reported and the error is logged
    assert world.results.calls == []
    [record] = promoted_logs
    assert record.levelname == "ERROR"
    assert "CodePipeline.job.id" in record.getMessage()


def test_an_event_without_input_artifacts_is_a_configuration_error(world: World) -> None:
    # GIVEN a job whose action has no input artifact
    event = world.event()
    event["CodePipeline.job"]["data"]["inputArtifacts"] = []

    # WHEN it runs
    run(world, event)

    # THEN ConfigurationError says what to set
    failed(world, "ConfigurationError", "0 input artifacts")


def test_an_event_without_artifact_credentials_fails_the_job(world: World) -> None:
    # GIVEN a job event missing its artifact credentials
    event = world.event()
    del event["CodePipeline.job"]["data"]["artifactCredentials"]

    # WHEN it runs
    run(world, event)

    # THEN JobFailed names the missing field
    failed(world, "JobFailed", "data.artifactCredentials")


@pytest.mark.parametrize(
    ("user_parameters", "named"),
    [
        (None, ["UserParameters", "missing"]),
        ("{not json", ["UserParameters", "JSON", "char 1"]),
        ({"colour": "blue"}, ["UserParameters", "'colour'"]),
        ({"source_version_id": None}, ["UserParameters.source_version_id", "required"]),
        (
            {"source_version_id": "#{SourceVariables.VersionId}"},
            ["UserParameters.source_version_id", "#{SourceVariables.VersionId}", "namespace"],
        ),
    ],
    ids=["missing", "not-json", "unknown-field", "missing-field", "unresolved-variable"],
)
def test_bad_user_parameters_are_a_configuration_error(
    world: World, user_parameters: Any, named: list[str]
) -> None:
    # GIVEN an artifact and an action whose UserParameters are wrong
    world.put_artifact(SMALL)
    event = world.event()
    configuration = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    if user_parameters is None:
        del configuration["UserParameters"]
    elif isinstance(user_parameters, str):
        configuration["UserParameters"] = user_parameters
    else:
        configuration["UserParameters"] = json.dumps(
            {**json.loads(configuration["UserParameters"]), **user_parameters}
        )

    # WHEN the job runs
    run(world, event)

    # THEN ConfigurationError names the field, and nothing is written
    failed(world, "ConfigurationError", *named)
    assert world.versions(world.cross_account_bucket) == []


def test_an_unexpected_exception_is_reported_then_logged(
    world: World, monkeypatch: pytest.MonkeyPatch, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN a bug deep in the promotion
    def broken(*_: Any, **__: Any) -> None:
        raise KeyError("Body")

    monkeypatch.setattr(handler, "promote", broken)
    event = world.event()

    # WHEN the job runs
    run(world, event)

    # THEN JobFailed is reported, and the traceback is logged for the job
    job_id = event["CodePipeline.job"]["id"]
    failed(world, "JobFailed", "KeyError", "'Body'", job_id)
    record = promoted_logs[-1]
    assert record.getMessage() == "unexpected error"
    assert record.exc_info is not None
    assert record.fields["job_id"] == job_id  # type: ignore[attr-defined]


def test_a_refused_job_result_is_logged_not_raised(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN CodePipeline no longer accepts a result for the job (it timed out meanwhile)
    world.put_artifact(SMALL)
    world.results.refuse_with = "InvalidJobStateException"

    # WHEN the job runs
    run(world, world.event())

    # THEN the refusal is logged; the invocation itself succeeds (a retry cannot help)
    assert [r.getMessage() for r in promoted_logs if r.levelname == "ERROR"] == [
        "job result refused"
    ]


def test_logs_are_structured_and_free_of_credentials(
    world: World, promoted_logs: list[logging.LogRecord]
) -> None:
    # GIVEN an artifact
    world.put_artifact(SMALL)
    event = world.event()
    secret = event["CodePipeline.job"]["data"]["artifactCredentials"]["secretAccessKey"]

    # WHEN the job runs
    run(world, event)

    # THEN each record is one JSON document with the job id, the stages and the outcome
    formatted = [handler._LOG.handlers[0].format(record) for record in promoted_logs]
    documents = [json.loads(line) for line in formatted]
    assert {d["job_id"] for d in documents} == {event["CodePipeline.job"]["id"]}
    finished = documents[-1]
    assert finished["message"] == "promotion promoted"
    assert (finished["outcome"], finished["bytes_written"], finished["source_stage"]) == (
        "promoted",
        len(SMALL),
        "alpha",
    )
    assert finished["destination_stage"] == "beta" and finished["duration_ms"] >= 0
    # AND the artifact credentials appear nowhere
    assert not any(secret in line for line in formatted)


def test_lambda_handler_builds_its_clients_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the runtime's entry point, with the factory it builds from the environment
    built: list[object] = []

    def from_environment() -> Any:
        built.append(object())
        return world.factory()

    monkeypatch.setattr(handler, "_clients", None)
    monkeypatch.setattr(handler.ClientFactory, "from_environment", staticmethod(from_environment))
    world.put_artifact(SMALL)

    # WHEN two jobs arrive on the same warm runtime
    handler.lambda_handler(world.event(), FakeContext())
    handler.lambda_handler(world.event(), FakeContext())

    # THEN both are reported and the clients were built once
    assert [name for name, _ in world.results.calls] == ["PutJobSuccessResult"] * 2
    assert len(built) == 1
