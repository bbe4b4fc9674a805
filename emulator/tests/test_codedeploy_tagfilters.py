"""Which instances a group's tag filters select, and the filters CreateDeploymentGroup refuses."""

from __future__ import annotations

import pytest

from xrdeploy_local_cloud.codedeploy import tagfilters
from xrdeploy_local_cloud.kit.errors import ServiceError

TAGS = {"Stage": "alpha", "Role": "web"}


@pytest.mark.parametrize(
    ("tag_filter", "selected"),
    [
        ({"Key": "Stage", "Value": "alpha", "Type": "KEY_AND_VALUE"}, True),
        ({"Key": "Stage", "Value": "beta"}, False),
        ({"Key": "Missing", "Value": None}, False),
        ({"Key": "Role", "Type": "KEY_ONLY"}, True),
        ({"Value": "web", "Type": "VALUE_ONLY"}, True),
        ({"Value": "Stage", "Type": "VALUE_ONLY"}, False),
    ],
)
def test_a_filter_matches_as_its_type_says(tag_filter: dict[str, str], selected: bool) -> None:
    assert tagfilters.matches(tag_filter, TAGS) is selected


def test_lists_need_one_match_and_sets_one_per_group_for_each_kind_of_instance() -> None:
    alpha = {"Key": "Stage", "Value": "alpha"}
    db = {"Key": "Role", "Value": "db"}
    assert tagfilters.selects_ec2({"ec2TagFilters": [db, alpha]}, TAGS)
    assert not tagfilters.selects_ec2({"ec2TagSet": {"ec2TagSetList": [[alpha], [db]]}}, TAGS)
    assert tagfilters.selects_on_premises(
        {"onPremisesTagSet": {"onPremisesTagSetList": [[alpha], [db, alpha]]}}, TAGS
    )
    assert not tagfilters.selects_on_premises({"ec2TagFilters": [alpha]}, TAGS)
    assert not tagfilters.selects_ec2({}, TAGS)


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        (
            {"ec2TagFilters": [{"Key": "k"}], "ec2TagSet": {"ec2TagSetList": [[{"Key": "k"}]]}},
            "InvalidEC2TagCombinationException",
        ),
        (
            {
                "onPremisesInstanceTagFilters": [{"Key": "k"}],
                "onPremisesTagSet": {"onPremisesTagSetList": [[{"Key": "k"}]]},
            },
            "InvalidOnPremisesTagCombinationException",
        ),
        (
            {"onPremisesTagSet": {"onPremisesTagSetList": [[{"Key": "k"}]] * 4}},
            "TagSetListLimitExceededException",
        ),
        ({"ec2TagFilters": [{"Key": "k", "Type": "ANY"}]}, "InvalidEC2TagException"),
        ({"onPremisesInstanceTagFilters": [{"Key": "k", "Type": "ANY"}]}, "InvalidTagException"),
    ],
)
def test_a_group_with_conflicting_or_invalid_filters_is_refused(
    settings: dict[str, object], code: str
) -> None:
    with pytest.raises(ServiceError) as raised:
        tagfilters.check(settings)
    assert raised.value.code == code
