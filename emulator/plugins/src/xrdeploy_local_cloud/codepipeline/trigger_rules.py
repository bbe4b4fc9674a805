"""The structure rules of a V2 pipeline's ``triggers`` (pure), as the API reference states them:
triggers belong to V2 pipelines, at most 50; each has ``providerType``
``CodeStarSourceConnection`` and a ``gitConfiguration`` naming a source action of that type;
``push`` and ``pullRequest`` have 1 to 3 filters; a push filter filters either branches or
tags, and file paths only with branches; every includes/excludes list has 1 to 8 patterns.
The messages are ours (the reference words none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_TRIGGERS = 50
MAX_FILTERS = 3
MAX_PATTERNS = 8
PROVIDER = "CodeStarSourceConnection"


def problem(pipeline: Mapping[str, Any]) -> str | None:
    """What is wrong with the pipeline's triggers, or None."""
    triggers = pipeline.get("triggers") or []
    if not triggers:
        return None
    if pipeline.get("pipelineType") != "V2":
        return "Triggers are only supported for pipelines of type V2"
    if len(triggers) > MAX_TRIGGERS:
        return f"A pipeline can have at most {MAX_TRIGGERS} triggers"
    sources = {
        action["name"]: action["actionTypeId"]["provider"]
        for action in pipeline["stages"][0]["actions"]
    }
    for trigger in triggers:
        found = _trigger_problem(trigger, sources)
        if found:
            return found
    return None


def _trigger_problem(trigger: Mapping[str, Any], sources: Mapping[str, str]) -> str | None:
    if trigger.get("providerType") != PROVIDER:
        return f"Trigger provider type must be {PROVIDER}"
    git = trigger.get("gitConfiguration") or {}
    action = str(git.get("sourceActionName", ""))
    if sources.get(action) != PROVIDER:
        return f"Trigger source action {action} must be a {PROVIDER} action of the source stage"
    for kind in ("push", "pullRequest"):
        filters = git.get(kind)
        if filters is not None and not 1 <= len(filters) <= MAX_FILTERS:
            return f"Trigger of {action}: {kind} must have 1 to {MAX_FILTERS} filters"
        for item in filters or []:
            found = _filter_problem(kind, item)
            if found:
                return f"Trigger of {action}: {found}"
    return None


def _filter_problem(kind: str, item: Mapping[str, Any]) -> str | None:
    if kind == "push" and ("branches" in item) == ("tags" in item):
        return "a push filter filters either branches or tags"
    if "tags" in item and "filePaths" in item:
        return "file paths can only be filtered with branches"
    for criteria_name, criteria in item.items():
        if not isinstance(criteria, Mapping):
            continue
        for side in ("includes", "excludes"):
            patterns = criteria.get(side)
            if patterns is not None and not 1 <= len(patterns) <= MAX_PATTERNS:
                return f"{criteria_name}.{side} must have 1 to {MAX_PATTERNS} patterns"
    return None
