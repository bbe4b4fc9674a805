"""The iam-simulate input for one check, and the statements its answer names."""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.iam.checks import Check, NamedPolicy, Principal

Statement = dict[str, Any]


def simulation(
    principal: Principal,
    check: Check,
    identity: list[NamedPolicy],
    boundary: list[NamedPolicy],
    base: dict[str, Any],
) -> dict[str, Any]:
    """The iam-simulate ``Simulation`` for one check."""
    result: dict[str, Any] = {
        "request": {
            "principal": principal.arn,
            "action": check.action,
            "resource": {"resource": check.resource, "accountId": check.resource_account},
            "contextVariables": {**base, **check.context},
        },
        "identityPolicies": [{"name": p.name, "policy": p.document} for p in identity],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    if boundary:
        result["permissionBoundaryPolicies"] = [
            {"name": p.name, "policy": p.document} for p in boundary
        ]
    if check.resource_policy is not None:
        result["resourcePolicy"] = check.resource_policy.document
    return result


def statements_of(policies: list[NamedPolicy]) -> list[Statement]:
    """Every statement of the policies, named by policy, Sid and 1-based index."""
    named: list[Statement] = []
    for policy in policies:
        statements = policy.document.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        for index, statement in enumerate(statements, start=1):
            if isinstance(statement, dict):
                named.append(_statement(policy.name, statement.get("Sid"), index, statement))
    return named


def _statement(policy: str, sid: Any, index: int, statement: dict[str, Any]) -> Statement:
    # What it grants too, so that a report can show the statements nothing used.
    return {
        "policy": policy,
        "sid": sid,
        "index": index,
        "effect": statement.get("Effect"),
        "actions": _listed(statement.get("Action") or statement.get("NotAction")),
        "resources": _listed(statement.get("Resource") or statement.get("NotResource")),
    }


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def grants(answer: dict[str, Any], check: Check) -> list[Statement]:
    return [_decisive(reason, check, "Allow") for reason in answer.get("grants") or []]


def denials(answer: dict[str, Any], check: Check) -> list[Statement]:
    return [
        _decisive(reason, check, "Deny")
        for reason in answer.get("denials") or []
        if reason.get("denialType") == "Explicit"
    ]


def _decisive(reason: dict[str, Any], check: Check, effect: str) -> Statement:
    if reason.get("policyType") == "resource":
        name = check.resource_policy.name if check.resource_policy else "resource-policy"
    else:
        name = str(reason.get("policyIdentifier") or reason.get("policyType"))
    return {
        "policy": name,
        "sid": reason.get("statementId"),
        "index": reason.get("statementIndex"),
        "effect": effect,
    }
