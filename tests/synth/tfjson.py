"""Reading synthesized HCL-JSON by resource type and properties, never by logical id."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]


def resources(doc: Doc, kind: str) -> list[dict[str, Any]]:
    return list(doc.get("resource", {}).get(kind, {}).values())


def data_sources(doc: Doc, kind: str) -> list[dict[str, Any]]:
    return list(doc.get("data", {}).get(kind, {}).values())


def all_blocks(doc: Doc) -> list[tuple[str, str, dict[str, Any]]]:
    """(section, type, body) for every resource and data source."""
    return [
        (section, kind, body)
        for section in ("resource", "data")
        for kind, items in doc.get(section, {}).items()
        for body in items.values()
    ]


def one(items: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [item for item in items if all(item.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one block matching {match}, found {len(found)}"
    return found[0]


def statements(doc: Doc) -> list[dict[str, Any]]:
    return [s for body in data_sources(doc, "aws_iam_policy_document") for s in body["statement"]]
