"""How a service we emulate answers its API: one handler per operation, ``(state, request) ->
response``, given the state of the caller's account and region.

:func:`create_service` builds LocalStack's service from a service's handlers. Every operation of
botocore's model gets one: an operation we have not built answers as LocalStack answers its own
unimplemented operations (HTTP 501, "Sorry, the <operation> operation on the <service> service is
not currently supported by LocalStack.") but under AWS's ``NotImplemented`` code, so a client sees
which operation is missing instead of LocalStack's catch-all ``InternalFailure``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from localstack.aws.api import RequestContext
from localstack.aws.catalog_exceptions import ServiceOrOperationNotSupportedException

from xrdeploy_local_cloud.kit.errors import ServiceError

if TYPE_CHECKING:
    from localstack.services.plugins import Service

# Written for ruff's Python 3.11 target, which has no ``type`` statement.
State = TypeVar("State")
Handler = Callable[[State, dict[str, Any]], dict[str, Any]]
Dispatch = Callable[[RequestContext, Any], dict[str, Any]]


def not_implemented(service: str, operation: str) -> ServiceError:
    message = ServiceOrOperationNotSupportedException(service, operation).message
    return ServiceError("NotImplemented", message, status=501)


def dispatch_table(
    service: str,
    operations: list[str],
    handlers: Mapping[str, Handler[State]],
    state_of: Callable[[RequestContext], State],
) -> dict[str, Dispatch]:
    """LocalStack's dispatch table: each operation's handler called with the caller's state."""

    def bind(operation: str) -> Dispatch:
        handler = handlers.get(operation)

        def answer(context: RequestContext, request: Any) -> dict[str, Any]:
            if handler is None:
                raise not_implemented(service, operation)
            # A ServiceError a handler raises reaches LocalStack's serializer as it is.
            return handler(state_of(context), dict(request or {}))

        return answer

    return {operation: bind(operation) for operation in operations}


def create_service(
    service: str,
    handlers: Mapping[str, Handler[State]],
    state_of: Callable[[RequestContext], State],
) -> Service:
    from localstack.aws.skeleton import Skeleton
    from localstack.aws.spec import load_service
    from localstack.services.plugins import Service

    spec = load_service(service)
    table = dispatch_table(service, list(spec.operation_names), handlers, state_of)
    return Service(service, skeleton=Skeleton(spec, table))
