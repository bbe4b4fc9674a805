"""JSON log formatting (pure, no AWS)."""

from __future__ import annotations

import io
import json
import logging

import logs


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("xrdeploy.test")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_a_record_is_one_json_line_with_its_fields() -> None:
    # GIVEN a job-bound logger
    logger, stream = capture()
    log = logs.JobLog(logger, job_id="job-1", source_stage="alpha")

    # WHEN it logs with extra fields
    log.info("phase finished", extra={"fields": {"phase": "copy", "bytes": 42}})

    # THEN one line of JSON carries the message, the bound and the extra fields
    [line] = stream.getvalue().splitlines()
    doc = json.loads(line)
    assert {
        k: doc[k] for k in ("level", "message", "job_id", "source_stage", "phase", "bytes")
    } == {
        "level": "INFO",
        "message": "phase finished",
        "job_id": "job-1",
        "source_stage": "alpha",
        "phase": "copy",
        "bytes": 42,
    }


def test_an_exception_is_kept_in_the_same_line() -> None:
    # GIVEN a logger
    logger, stream = capture()

    # WHEN an exception is logged
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")

    # THEN the traceback is a field of the one JSON document
    [line] = stream.getvalue().splitlines()
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_the_function_logger_is_configured_once() -> None:
    # GIVEN / WHEN the logger is fetched on every (warm) invocation
    first = logs.get_logger()
    second = logs.get_logger()

    # THEN it keeps one JSON handler and does not also propagate to Lambda's root handler
    assert first is second
    assert sum(isinstance(h.formatter, logs.JsonFormatter) for h in first.handlers) == 1
    assert first.propagate is False
