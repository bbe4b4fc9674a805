"""Client of the fault injector (``/_xrdeploy/faults``) of the ``xrdeploy-guards`` extension."""

from __future__ import annotations

from emulator.gateway import call
from emulator.home import EmulatorError

FAULTS_PATH = "/_xrdeploy/faults"


def add_fault(endpoint: str, **rule: object) -> str:
    """Add a fault rule to the LocalStack at ``endpoint`` and return its id.

    ``rule`` holds the fields of the rule as the extension documents them
    (``emulator/plugins/src/xrdeploy_local_cloud/guards/faults.py``), e.g.
    ``add_fault(url, service="s3", operation="PutObject", error={"code": "SlowDown",
    "message": "Please reduce your request rate.", "status": 503}, times=1)``.
    """
    added = call(endpoint, "POST", FAULTS_PATH, rule)
    fault_id = added.get("id") if isinstance(added, dict) else None
    if not isinstance(fault_id, str):
        raise EmulatorError(f"POST {FAULTS_PATH} on {endpoint} answered {added!r}")
    return fault_id


def list_faults(endpoint: str) -> list[dict[str, object]]:
    """The fault rules in the order they are tried, each with ``id``, ``hits``, ``remaining``."""
    listed = call(endpoint, "GET", FAULTS_PATH)
    faults = listed.get("faults") if isinstance(listed, dict) else None
    if not isinstance(faults, list):
        raise EmulatorError(f"GET {FAULTS_PATH} on {endpoint} answered {listed!r}")
    return faults


def clear_faults(endpoint: str) -> int:
    """Remove all fault rules; return how many there were."""
    cleared = call(endpoint, "DELETE", FAULTS_PATH)
    count = cleared.get("cleared") if isinstance(cleared, dict) else None
    if not isinstance(count, int):
        raise EmulatorError(f"DELETE {FAULTS_PATH} on {endpoint} answered {cleared!r}")
    return count
