"""Which instances a deployment group's tag filters select, as CodeDeploy reads them.

EC2 instances by ``ec2TagFilters`` or ``ec2TagSet``, on-premises instances by
``onPremisesInstanceTagFilters`` or ``onPremisesTagSet``: a flat filter list selects an instance
that any filter matches; a tag set selects one for which every group of the set has a matching
filter. A filter is KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE (the default). Pure: no LocalStack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FILTER_TYPES = ("KEY_ONLY", "VALUE_ONLY", "KEY_AND_VALUE")


def matches(tag_filter: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    key, value = tag_filter.get("Key"), tag_filter.get("Value")
    kind = tag_filter.get("Type") or "KEY_AND_VALUE"
    if kind == "KEY_ONLY":
        return key in tags
    if kind == "VALUE_ONLY":
        return value in tags.values()
    return isinstance(key, str) and key in tags and tags[key] == value


def _selects(filters: list[Any], tag_sets: list[Any], tags: Mapping[str, str]) -> bool:
    if filters:
        return any(matches(f, tags) for f in filters)
    if tag_sets:
        return all(any(matches(f, tags) for f in group) for group in tag_sets)
    return False


def selects_ec2(settings: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    """Whether a group's EC2 tag filters select an instance with these tags."""
    tag_sets = (settings.get("ec2TagSet") or {}).get("ec2TagSetList") or []
    return _selects(settings.get("ec2TagFilters") or [], tag_sets, tags)


def selects_on_premises(settings: Mapping[str, Any], tags: Mapping[str, str]) -> bool:
    """Whether a group's on-premises tag filters select an instance with these tags."""
    tag_sets = (settings.get("onPremisesTagSet") or {}).get("onPremisesTagSetList") or []
    return _selects(settings.get("onPremisesInstanceTagFilters") or [], tag_sets, tags)
