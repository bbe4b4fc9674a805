"""Small JSON client for the local cloud's gateway: health, and the routes of our plugins."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from emulator.home import EmulatorError

HEALTH_PATH = "/_localstack/health"
GUARDS_PATH = "/_xrdeploy/guards"  # answered once the xrdeploy-guards extension is loaded
HEALTHY_STATES = ("available", "running")
# LocalStack is on loopback: a proxy from the host's environment must not be asked for it.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def health(endpoint: str, timeout: float = 2.0) -> dict[str, str] | None:
    """Service states from LocalStack's health endpoint, or None if it does not answer."""
    try:
        with _NO_PROXY.open(endpoint.rstrip("/") + HEALTH_PATH, timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    services = body.get("services") if isinstance(body, dict) else None
    return services if isinstance(services, dict) else None


def guards(endpoint: str) -> dict[str, bool] | None:
    """Switches of the xrdeploy-guards extension, or None if it does not answer."""
    try:
        body = call(endpoint, "GET", GUARDS_PATH, timeout=2.0)
    except EmulatorError:
        return None
    return body if isinstance(body, dict) else None


def call(
    endpoint: str, method: str, path: str, body: object = None, timeout: float = 10.0
) -> object:
    """One JSON request to LocalStack's gateway; an HTTP error becomes an EmulatorError."""
    request = urllib.request.Request(
        endpoint.rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace").strip()
        raise EmulatorError(f"{method} {path} on {endpoint}: HTTP {e.code} {detail}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise EmulatorError(f"{method} {path} on {endpoint} failed: {e}") from e
