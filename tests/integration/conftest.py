"""Integration tier: one LocalStack per test session, with real Lambda execution.

Run with ``python3 -m pytest -m integration`` (or ``python3 -m pytest tests/integration``).

``localstack_endpoint`` uses ``$LOCALSTACK_ENDPOINT`` / ``$AWS_ENDPOINT_URL`` when one answers
LocalStack's health check (that LocalStack must run ``LAMBDA_RUNTIME_EXECUTOR=local-process`` for
Lambda tests, and is given no endpoint overrides). Otherwise it builds LocalStack's venv
(``<repo>/.localstack/venv``; about 35 s the first time, instant afterwards), starts LocalStack on
a free loopback port and stops it when the session ends. Needs a Python 3.13 interpreter, see
emulator/README.md.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from emulator.launcher import LocalStackServer, ensure_environment, existing_endpoint


def _reserve_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def lambda_endpoint_overrides() -> dict[str, str]:
    """Service endpoints that Lambda functions get instead of LocalStack's (SDK service ids).

    CodePipeline is paid-only in LocalStack, so functions reach a fake of it at this URL; the
    fixture that serves the fake binds the port reserved here. Empty when the session uses an
    already running LocalStack, whose environment it cannot change.
    """
    if existing_endpoint() is not None:
        return {}
    return {"codepipeline": f"http://127.0.0.1:{_reserve_loopback_port()}"}


@pytest.fixture(scope="session")
def localstack_endpoint(lambda_endpoint_overrides: dict[str, str]) -> Iterator[str]:
    """Base URL of a healthy LocalStack, e.g. ``http://127.0.0.1:45123``."""
    endpoint = existing_endpoint()
    if endpoint is not None:
        yield endpoint
        return
    overrides = ",".join(f"{service}={url}" for service, url in lambda_endpoint_overrides.items())
    server = LocalStackServer(
        ensure_environment(),
        extra_env={"XRDEPLOY_LAMBDA_ENDPOINT_OVERRIDES": overrides},
    )
    server.start()
    try:
        yield server.endpoint
    finally:
        server.stop()
