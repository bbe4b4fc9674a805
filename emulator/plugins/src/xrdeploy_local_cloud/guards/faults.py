"""Fault injection: rules that make matching AWS requests fail or slow down.

Rules are managed over HTTP on LocalStack's gateway (``FAULTS_PATH``):

* ``POST`` a JSON rule, answered with the stored rule (``id``, ``hits``, ``remaining``), 201;
* ``GET`` lists ``{"faults": [...]}`` in the order they are tried, exhausted ones included;
* ``DELETE`` removes all rules, answered with ``{"cleared": n}``.

A rule::

    {"service": "s3",                 # boto3's client name: s3, sts, kms, lambda, logs, ...
     "operation": "PutObject",        # optional, the API operation name
     "account_id": "111111111111",    # optional, the account the request is made from
     "region": "eu-west-1",           # optional, the region the request is made to
     "resource": "my-bucket/builds/", # optional, substring of the request's resource (below)
     "error": {"code": "SlowDown", "message": "Please reduce your request rate.", "status": 503},
     "delay_seconds": 2.5,            # sleep before answering (then the error, if any)
     "times": 1,                      # how many matching requests to affect; null = until cleared
     "probability": 0.5}              # optional chance that a matching request is affected

``error`` or ``delay_seconds`` (or both) must be given. The error is raised as LocalStack's
``CommonServiceException``, so the service's own serializer writes it in that service's wire
format and SDKs parse ``code`` as the error code. SDK retries count: boto3 retries 5xx and
throttling codes, and each retry is a request that can match again.

The resource of a request is ``<Bucket>/<Key>`` for S3 (the bucket alone for bucket operations;
for copies followed by a space and the ``CopySource``) and otherwise the first of the request
parameters ``RESOURCE_PARAMETERS`` present (``RoleArn`` for STS, ``KeyId`` for KMS,
``FunctionName`` for Lambda, ...). Requests LocalStack makes to itself are never affected: a fault
on ``sts:AssumeRole`` hits callers, not the credentials LocalStack issues to a Lambda function.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

from localstack.aws.api import CommonServiceException, RequestContext
from localstack.http import Request, Response, route
from rolo import Response as RoloResponse

FAULTS_PATH = "/_xrdeploy/faults"
RESOURCE_PARAMETERS = (
    "RoleArn",
    "KeyId",
    "SourceKeyId",
    "FunctionName",
    "LogGroupName",
    "Name",
    "Arn",
)
MAX_DELAY_SECONDS = 300.0
_RULE_FIELDS = frozenset(
    {
        "service",
        "operation",
        "account_id",
        "region",
        "resource",
        "error",
        "delay_seconds",
        "times",
        "probability",
    }
)
_ERROR_FIELDS = frozenset({"code", "message", "status"})


class InvalidFaultRule(ValueError):
    """A rule posted to the fault API that cannot be used; the message says which field."""


@dataclasses.dataclass(frozen=True)
class FaultError:
    code: str
    message: str
    status: int

    def exception(self) -> CommonServiceException:
        return CommonServiceException(
            self.code, self.message, status_code=self.status, sender_fault=self.status < 500
        )


@dataclasses.dataclass(frozen=True)
class FaultRule:
    """What to match and what to do; validated from the posted JSON by :meth:`from_json`."""

    service: str  # boto3's client name: s3, sts, kms, lambda, logs, ...
    operation: str | None
    account_id: str | None
    region: str | None
    resource: str | None
    error: FaultError | None
    delay_seconds: float | None
    times: int | None
    probability: float | None

    @classmethod
    def from_json(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict):
            raise InvalidFaultRule("a fault rule is a JSON object")
        unknown = sorted(set(data) - _RULE_FIELDS)
        if unknown:
            raise InvalidFaultRule(
                f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_RULE_FIELDS))}"
            )
        service = _text(data, "service", required=True)
        assert service is not None
        error = _error(data.get("error"))
        delay = data.get("delay_seconds")
        if delay is not None and (
            isinstance(delay, bool)
            or not isinstance(delay, int | float)
            or not 0 <= delay <= MAX_DELAY_SECONDS
        ):
            raise InvalidFaultRule(f"delay_seconds must be a number from 0 to {MAX_DELAY_SECONDS}")
        if error is None and delay is None:
            raise InvalidFaultRule("give error {code, message, status} or delay_seconds, or both")
        times = data.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise InvalidFaultRule("times must be a positive integer or null")
        if times is not None and times < 1:
            raise InvalidFaultRule("times must be a positive integer or null")
        probability = data.get("probability")
        if probability is not None and (
            isinstance(probability, bool)
            or not isinstance(probability, int | float)
            or not 0 < probability <= 1
        ):
            raise InvalidFaultRule("probability must be a number in (0, 1]")
        return cls(
            service=service,
            operation=_text(data, "operation"),
            account_id=_text(data, "account_id"),
            region=_text(data, "region"),
            resource=_text(data, "resource"),
            error=error,
            delay_seconds=None if delay is None else float(delay),
            times=times,
            probability=None if probability is None else float(probability),
        )

    def matches(
        self, service: str, operation: str, account_id: str, region: str, resource: str
    ) -> bool:
        return (
            self.service == service
            and self.operation in (None, operation)
            and self.account_id in (None, account_id)
            and self.region in (None, region)
            and (self.resource is None or self.resource in resource)
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _text(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidFaultRule(f"{name} must be a non-empty string")
    return value


def _error(data: Any) -> FaultError | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InvalidFaultRule("error must be an object {code, message, status}")
    unknown = sorted(set(data) - _ERROR_FIELDS)
    if unknown:
        raise InvalidFaultRule(f"unknown error field(s) {', '.join(unknown)}")
    code = _text(data, "code", required=True)
    assert code is not None
    message = data.get("message", code)
    if not isinstance(message, str):
        raise InvalidFaultRule("error.message must be a string")
    status = data.get("status", 400)
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise InvalidFaultRule("error.status must be an HTTP error status from 400 to 599")
    return FaultError(code=code, message=message, status=status)


@dataclasses.dataclass
class _Entry:
    id: str
    rule: FaultRule
    hits: int = 0

    @property
    def remaining(self) -> int | None:
        return None if self.rule.times is None else self.rule.times - self.hits

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.rule.to_json(),
            "hits": self.hits,
            "remaining": self.remaining,
        }


class FaultRegistry:
    """The rules of one LocalStack process; thread-safe (the gateway serves requests in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        self._ids = itertools.count(1)

    def add(self, rule: FaultRule) -> dict[str, Any]:
        with self._lock:
            entry = _Entry(id=f"fault-{next(self._ids)}", rule=rule)
            self._entries.append(entry)
            return entry.to_json()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry.to_json() for entry in self._entries]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count

    def take(self, context: RequestContext) -> FaultRule | None:
        """The first live rule matching the request, with its hit counted; None if none applies.

        A rule that matches but loses its probability draw is not counted and the next rule is
        tried.
        """
        if context.service is None or context.operation is None:
            return None
        args = (
            context.service.service_name,
            context.operation.name,
            context.account_id,
            context.region,
            request_resource(context),
        )
        with self._lock:
            for entry in self._entries:
                if entry.remaining == 0 or not entry.rule.matches(*args):
                    continue
                if entry.rule.probability is not None and random.random() >= entry.rule.probability:
                    continue
                entry.hits += 1
                return entry.rule
        return None

    def apply(self, context: RequestContext) -> None:
        """Sleep and/or raise for the request, as the first applicable rule says."""
        rule = self.take(context)
        if rule is None:
            return
        if rule.delay_seconds:
            time.sleep(rule.delay_seconds)
        if rule.error is not None:
            raise rule.error.exception()


def request_resource(context: RequestContext) -> str:
    """The text a rule's ``resource`` is searched in (see the module docstring)."""
    request: Mapping[str, object] = context.service_request or {}
    if context.service is not None and context.service.service_name == "s3":
        resource = "/".join(str(request[name]) for name in ("Bucket", "Key") if request.get(name))
        if request.get("CopySource"):
            resource += f" {request['CopySource']}"
        return resource
    for name in RESOURCE_PARAMETERS:
        if request.get(name):
            return str(request[name])
    return ""


class FaultsApi:
    """The HTTP API at ``FAULTS_PATH`` (see the module docstring), added to LocalStack's router."""

    def __init__(self, registry: FaultRegistry) -> None:
        self._registry = registry

    @route(FAULTS_PATH, methods=["GET"])
    def list_faults(self, request: Request) -> dict[str, Any]:
        return {"faults": self._registry.list()}

    @route(FAULTS_PATH, methods=["POST"])
    def add_fault(self, request: Request) -> RoloResponse:  # what for_json is typed to return
        try:
            rule = FaultRule.from_json(json.loads(request.get_data() or b"null"))
        except ValueError as e:  # InvalidFaultRule or malformed JSON
            return Response.for_json({"error": f"invalid fault rule: {e}"}, status=400)
        return Response.for_json(self._registry.add(rule), status=201)

    @route(FAULTS_PATH, methods=["DELETE"])
    def clear_faults(self, request: Request) -> dict[str, Any]:
        return {"cleared": self._registry.clear()}
