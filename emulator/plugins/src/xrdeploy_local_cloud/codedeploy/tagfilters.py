"""Which instances a deployment group's tag filters select, as CodeDeploy reads them.

EC2 instances by ``ec2TagFilters`` or ``ec2TagSet``, on-premises instances by
``onPremisesInstanceTagFilters`` or ``onPremisesTagSet``: a flat filter list selects an instance
that any filter matches; a tag set selects one for which every group of the set has a matching
filter. A filter is KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE (the default). A group takes a list or
a set of each kind, not both, and a set has at most 3 groups (:func:`check`). Pure: no LocalStack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xrdeploy_local_cloud.kit.errors import ServiceError

FILTER_TYPES = ("KEY_ONLY", "VALUE_ONLY", "KEY_AND_VALUE")
TAG_SET_LIMIT = 3  # groups in an ec2TagSetList or onPremisesTagSetList
# (filters field, set field, list field in the set, error for both, error for a bad filter)
_KINDS = (
    (
        "ec2TagFilters",
        "ec2TagSet",
        "ec2TagSetList",
        "InvalidEC2TagCombinationException",
        "InvalidEC2TagException",
    ),
    (
        "onPremisesInstanceTagFilters",
        "onPremisesTagSet",
        "onPremisesTagSetList",
        "InvalidOnPremisesTagCombinationException",
        "InvalidTagException",
    ),
)


def check(settings: Mapping[str, Any]) -> None:
    """Refuse the tag filters of a group as CreateDeploymentGroup/UpdateDeploymentGroup do."""
    for filters_field, set_field, list_field, both_error, filter_error in _KINDS:
        filters = settings.get(filters_field) or []
        tag_sets = (settings.get(set_field) or {}).get(list_field) or []
        if filters and tag_sets:
            raise ServiceError(
                both_error, f"Only one of {filters_field} and {set_field} can be specified."
            )
        if len(tag_sets) > TAG_SET_LIMIT:
            raise ServiceError(
                "TagSetListLimitExceededException",
                f"The number of tag groups included in the tag set list exceeded the maximum "
                f"allowed limit of {TAG_SET_LIMIT}.",
            )
        for tag_filter in [*filters, *(f for group in tag_sets for f in group)]:
            if (tag_filter.get("Type") or "KEY_AND_VALUE") not in FILTER_TYPES:
                raise ServiceError(
                    filter_error, f"The tag filter type {tag_filter.get('Type')} is not valid."
                )


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
