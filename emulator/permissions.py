"""Client of the permission ledger on the local cloud's gateway (``/_xrdeploy/permissions``).

The IAM guard records, per principal, each (action, resource) it allowed, denied or could not
judge; the ledger exists only while IAM is enforced (``XRDEPLOY_ENFORCE_IAM``), so the guards'
switches are asked first to tell "enforcement off" from "nothing recorded yet".
"""

from __future__ import annotations

from typing import Any

from emulator.gateway import call, guards
from emulator.home import EmulatorError

LEDGER_PATH = "/_xrdeploy/permissions"  # served by xrdeploy_local_cloud.iam.api


def fetch_permissions(endpoint: str) -> dict[str, Any]:
    """The ledger's answer as served (``principals``, ``evaluator``, and any later fields)."""
    switches = guards(endpoint)
    if switches is None:
        raise EmulatorError(
            f"no local cloud answers at {endpoint} (start one with: python -m emulator up)"
        )
    if not switches.get("enforce_iam"):
        raise EmulatorError(
            f"IAM is not enforced in the local cloud at {endpoint} (XRDEPLOY_ENFORCE_IAM is off in"
            " LocalStack's environment), so it records no permissions"
        )
    answer = call(endpoint, "GET", LEDGER_PATH)
    if not isinstance(answer, dict):
        raise EmulatorError(f"GET {LEDGER_PATH} on {endpoint}: not a JSON object")
    return answer


def decision_lines(ledger: dict[str, Any]) -> list[str]:
    """One line per recorded decision: principal, decision, action, resource, count."""
    lines: list[str] = []
    for principal in ledger.get("principals") or []:
        for decision in principal.get("decisions") or []:
            lines.append(
                "{principal} {decision} {action} {resource} x{count}".format(
                    principal=principal.get("principal", "?"),
                    decision=decision.get("decision", "?"),
                    action=decision.get("action", "?"),
                    resource=decision.get("resource", "?"),
                    count=decision.get("count", 0),
                )
            )
    return lines
