"""Policy statements read from a synthesized stack, whichever way they were written: an
``aws_iam_policy_document`` data source (HCL-JSON) or literal IAM JSON. The rules of
``tests/security/rules.py`` judge what this reads; a value it cannot read is None, never a pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]

_REFERENCE = re.compile(
    r"^\$\{(?:(?P<data>data)\.)?(?P<type>\w+)\.(?P<name>[\w-]+)\.(?P<attr>\w+)\}$"
)


@dataclass(frozen=True)
class Statement:
    """One policy statement, whichever way it was written (HCL-JSON data source or IAM JSON)."""

    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[tuple[str, str], ...]  # (type, identifier); ("*", "*") is anyone
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (test, variable, values)
    negated: tuple[str, ...]  # NotAction / NotResource / NotPrincipal used, which widen an Allow


def blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block as cdktf writes it: one object, or a list of them."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


def strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _from_data_source(body: dict[str, Any]) -> list[Statement]:
    return [
        Statement(
            sid=s.get("sid", ""),
            effect=s.get("effect", "Allow"),
            actions=strings(s.get("actions")),
            resources=strings(s.get("resources")),
            principals=tuple(
                (p["type"], identifier)
                for p in blocks(s.get("principals"))
                for identifier in strings(p["identifiers"])
            ),
            conditions=tuple(
                (c["test"], c["variable"], strings(c["values"])) for c in blocks(s.get("condition"))
            ),
            negated=tuple(
                key for key in ("not_actions", "not_resources", "not_principals") if s.get(key)
            ),
        )
        for s in blocks(body.get("statement"))
    ] + (
        # Merged documents are not followed: say so rather than judge half a policy.
        [Statement("", "Unreadable", (), (), (), (), ("source_policy_documents",))]
        if body.get("source_policy_documents") or body.get("override_policy_documents")
        else []
    )


def _from_iam_json(text: str) -> list[Statement]:
    document = json.loads(text)
    statements = []
    for s in blocks(document.get("Statement")):
        principal = s.get("Principal")
        if principal == "*":
            principals: tuple[tuple[str, str], ...] = (("*", "*"),)
        else:
            principals = tuple(
                (kind, identifier)
                for kind, identifiers in (principal or {}).items()
                for identifier in strings(identifiers)
            )
        statements.append(
            Statement(
                sid=s.get("Sid", ""),
                effect=s.get("Effect", ""),
                actions=strings(s.get("Action")),
                resources=strings(s.get("Resource")),
                principals=principals,
                conditions=tuple(
                    (test, variable, strings(values))
                    for test, variables in (s.get("Condition") or {}).items()
                    for variable, values in variables.items()
                ),
                negated=tuple(k for k in ("NotAction", "NotResource", "NotPrincipal") if k in s),
            )
        )
    return statements


def policy_statements(doc: Doc, value: Any) -> list[Statement] | None:
    """The statements of a policy attribute: a reference to an aws_iam_policy_document's `json`,
    or literal IAM JSON. None when the value is neither (the rule then reports it)."""
    if not isinstance(value, str):
        return None
    match = _REFERENCE.match(value)
    if match:
        if not (match["data"] and match["type"] == "aws_iam_policy_document"):
            return None
        body = doc.get("data", {}).get("aws_iam_policy_document", {}).get(match["name"])
        return _from_data_source(body) if body is not None else None
    if "${" in value:
        return None
    try:
        return _from_iam_json(value)
    except (ValueError, AttributeError):
        return None
