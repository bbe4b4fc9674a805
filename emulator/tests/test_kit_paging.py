"""``nextToken`` paging of the kit, as CodePipeline's list operations answer it."""

from __future__ import annotations

import pytest

from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.paging import page

ITEMS = list(range(7))


def test_pages_follow_the_token_until_it_is_absent() -> None:
    first, token = page(ITEMS, {"maxResults": 3})
    second, token2 = page(ITEMS, {"maxResults": 3, "nextToken": token})
    last, token3 = page(ITEMS, {"maxResults": 3, "nextToken": token2})
    assert (first, second, last, token3) == ([0, 1, 2], [3, 4, 5], [6], None)


def test_without_max_results_a_page_holds_the_default_size() -> None:
    assert page(ITEMS, {}) == (ITEMS, None)
    assert page(ITEMS, {}, default_size=5) == ([0, 1, 2, 3, 4], "5")


@pytest.mark.parametrize("token", ["abc", "-1", "7", "99"])  # past the last item too
def test_a_token_we_did_not_hand_out_is_refused_as_aws_refuses_it(token: str) -> None:
    with pytest.raises(ServiceError) as raised:
        page(ITEMS, {"nextToken": token})
    assert raised.value.code == "InvalidNextTokenException"


def test_the_request_fields_can_be_named_as_the_api_spells_them() -> None:
    request = {"MaxResults": 3, "NextToken": "3"}
    assert page(ITEMS, request, token_key="NextToken", size_key="MaxResults") == ([3, 4, 5], "6")


def test_an_empty_list_has_one_empty_page() -> None:
    assert page([], {}) == ([], None)
