"""The kit's tag helpers, in both spellings our services' APIs use."""

from __future__ import annotations

from xrdeploy_local_cloud.kit.tags import CODEDEPLOY, CODEPIPELINE, tag_list, tags_of


def test_a_request_list_becomes_a_dict_and_a_missing_value_is_empty() -> None:
    entries = [{"Key": "Stage", "Value": "beta"}, {"Key": "Owner"}]
    assert tags_of(entries, CODEDEPLOY) == {"Stage": "beta", "Owner": ""}
    assert tags_of(None, CODEPIPELINE) == {}


def test_tags_are_listed_by_key_in_each_apis_spelling() -> None:
    tags = {"b": "2", "a": "1"}
    assert tag_list(tags, CODEPIPELINE) == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    assert tag_list(tags, CODEDEPLOY) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
