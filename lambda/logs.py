"""Structured JSON logs on stdout (CloudWatch) with the standard library only.

Fields go in `extra={"fields": {...}}`; JobLog adds the job id to every record.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "xrdeploy"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            doc.update(fields)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def get_logger() -> logging.Logger:
    """The function's logger, configured once per runtime (warm starts reuse it)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # The Lambda runtime puts its own text handler on the root logger: don't log twice.
        logger.propagate = False
    return logger


class JobLog(logging.LoggerAdapter[logging.Logger]):
    """Adds job_id (and any other bound fields) to each record's fields."""

    def __init__(self, logger: logging.Logger, **bound: Any) -> None:
        super().__init__(logger, bound)

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(kwargs.get("extra") or {})
        extra["fields"] = {**(self.extra or {}), **extra.get("fields", {})}
        kwargs["extra"] = extra
        return msg, kwargs
